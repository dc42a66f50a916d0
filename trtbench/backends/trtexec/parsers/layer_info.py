"""``--exportLayerInfo`` files (names only or detailed), read with TensorRT's layer-info reader.

The fields trtbench reads (names, types, tactics, ONNX metadata, kernel sizes, tensor names and
dimensions) are checked first, so that a wrong type in the file is one error naming the file and
the field, not a TypeError in the categoriser."""
from __future__ import annotations

import math
from typing import Any, Dict

from trtbench.backends.tensorrt.layer_info import LayerInfo, layer_info_from_json
from trtbench.backends.trtexec.parsers.common import (
    Source,
    binary_note,
    is_number,
    kind_of,
    load_json,
    read_text,
    text,
)
from trtbench.errors import TrtbenchError

_TEXT_KEYS = ("Name", "LayerType", "ParameterType", "TacticName", "Metadata", "Origin")


def parse_layer_info(source: Source) -> LayerInfo:
    """Read an ``--exportLayerInfo`` file (names only or detailed)."""
    content = read_text(source, "layer info")
    try:
        data = load_json(content)
    except ValueError as exc:
        raise TrtbenchError(f"{source} is not JSON ({exc}){binary_note(content)}; "
                            "is it a trtexec --exportLayerInfo file?") from None
    _check(data, str(source))
    return layer_info_from_json(data, str(source))


def _check(data: Any, source: str) -> None:
    layers = data
    if isinstance(data, dict):
        layers = data.get("Layers")
        for key in ("Bindings", "I/O Tensors"):
            tensors = data.get(key)
            if tensors is None:
                continue
            if not isinstance(tensors, list):
                raise TrtbenchError(f'{source}: "{key}" is {kind_of(tensors)}; expected a list of tensor names')
            for i, tensor in enumerate(tensors):
                name = tensor.get("Name", "") if isinstance(tensor, dict) else tensor
                text(name, f'{source}: tensor {i + 1} of "{key}"')
    if not isinstance(layers, list):
        return  # layer_info_from_json says what is missing
    for i, layer in enumerate(layers):
        if isinstance(layer, dict):
            _check_layer(layer, f"{source}: layer {i + 1}")
        elif not isinstance(layer, str) and not is_number(layer):
            raise TrtbenchError(f"{source}: layer {i + 1} is {kind_of(layer)}; expected a layer record or name")


def _check_layer(layer: Dict[str, Any], where: str) -> None:
    for key in _TEXT_KEYS:
        if layer.get(key) is not None:
            text(layer[key], f'{where} "{key}"')
    if isinstance(layer.get("Name"), str):
        where = f"{where} ({layer['Name'][:60]!r})"
    _dims(layer.get("Kernel"), f'{where} "Kernel"')
    for key in ("Inputs", "Outputs"):
        tensors = layer.get(key)
        if tensors is None:
            continue
        if not isinstance(tensors, list):
            raise TrtbenchError(f'{where} "{key}" is {kind_of(tensors)}; expected a list of tensors')
        for j, tensor in enumerate(tensors):
            if not isinstance(tensor, dict):
                continue  # a bare name: nothing is read from it
            if tensor.get("Name") is not None:
                text(tensor["Name"], f'{where} "{key}" {j + 1} "Name"')
            _dims(tensor.get("Dimensions"), f'{where} "{key}" {j + 1} "Dimensions"')


def _dims(value: Any, where: str) -> None:
    """None, or a list of finite numbers (dimensions, kernel sizes; -1 for a dynamic one)."""
    if value is None:
        return
    if not isinstance(value, list):
        raise TrtbenchError(f"{where} is {kind_of(value)}; expected a list of whole numbers")
    for d in value:
        if not is_number(d) or not (isinstance(d, int) or math.isfinite(d)):
            raise TrtbenchError(f"{where} holds {kind_of(d)}; expected whole numbers")
