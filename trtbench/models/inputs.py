"""An ONNX model's input: its name and dimensions, read without loading the weights."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Optional

from trtbench.errors import TrtbenchError


@dataclass
class ModelInput:
    name: str
    dims: List[Any]  # the first is the batch: an int when fixed, a name/None when dynamic

    @property
    def fixed_batch(self) -> Optional[int]:
        first = self.dims[0] if self.dims else None
        return first if isinstance(first, int) and first > 0 else None


def read_model_input(onnx_path: Path) -> ModelInput:
    """The ONNX model's (single) input, without loading external weights."""
    import onnx

    try:
        model = onnx.load(str(onnx_path), load_external_data=False)
    except Exception as exc:
        raise TrtbenchError(f"{onnx_path} is not a readable ONNX model: {exc}") from None
    initializers = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise TrtbenchError(f"{onnx_path} has {len(inputs)} inputs; trtbench builds single-input classifiers")
    dims: List[Any] = []
    for d in inputs[0].type.tensor_type.shape.dim:
        dims.append(d.dim_value if d.HasField("dim_value") else (d.dim_param or None))
    return ModelInput(inputs[0].name, dims)
