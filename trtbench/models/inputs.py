"""A model's inputs as its ONNX graph declares them, and data to feed them.

Every input has a name, dimensions (the first is the batch: an int when the export fixed it, a
name or None when dynamic), an element type and, for images, a layout. What one item of the batch
is follows from the inputs: a *tile* (the 2016 study's 1x28x28 grey tile), an *image* (C x H x W
or H x W x C with 1, 3 or 4 channels) or a *sample* (anything else: a vector, a sequence).

Data: random values of the input's type and a plausible range (floats in [0, 1), uint8 pixels
0..255, small non-negative integers), or the user's own arrays (``--input NAME=file.npy``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from trtbench.errors import TrtbenchError

# ONNX TensorProto element types → numpy dtype names (the ones a CNN input can have)
ELEMENT_TYPES = {1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64",
                 9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64", 14: "complex64",
                 15: "complex128", 16: "bfloat16"}
TILE, IMAGE, SAMPLE = "tile", "image", "sample"
ITEMS = (TILE, IMAGE, SAMPLE)
TILE_SHAPE = [1, 28, 28]
CHANNELS = (1, 3, 4)


@dataclass
class ModelInput:
    name: str
    dims: List[Any]  # the first is the batch: an int when fixed, a name/None when dynamic
    dtype: str = "float32"

    @property
    def fixed_batch(self) -> Optional[int]:
        first = self.dims[0] if self.dims else None
        return first if isinstance(first, int) and first > 0 else None

    @property
    def item_dims(self) -> List[Any]:
        """The dimensions of one item of the batch."""
        return list(self.dims[1:])

    @property
    def layout(self) -> Optional[str]:
        """NCHW or NHWC for an image input (channels of 1, 3 or 4 first or last; height and width
        may be left open, as in detectors exported for any image size), else None."""
        dims = self.item_dims
        if len(dims) != 3:
            return None
        first, last = dims[0] in CHANNELS, dims[2] in CHANNELS
        if first and (not last or dims[1] not in CHANNELS):
            return "NCHW"
        if last:
            return "NHWC"
        return None

    def to_dict(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {"name": self.name, "shape": list(self.dims), "dtype": self.dtype}
        if self.layout:
            data["layout"] = self.layout
        return data

    def unknown_item_dims(self) -> List[int]:
        """Positions (after the batch) of dimensions the graph leaves open."""
        return [i + 1 for i, d in enumerate(self.item_dims) if not isinstance(d, int) or d < 1]


def graph_inputs(model: Any) -> List[ModelInput]:
    """The inputs of a loaded ``onnx.ModelProto`` (initializers listed as inputs are weights, not inputs)."""
    initializers = {i.name for i in model.graph.initializer}
    out = []
    for value in model.graph.input:
        if value.name in initializers:
            continue
        tensor = value.type.tensor_type
        dims: List[Any] = []
        for d in tensor.shape.dim:
            dims.append(d.dim_value if d.HasField("dim_value") else (d.dim_param or None))
        out.append(ModelInput(value.name, dims, ELEMENT_TYPES.get(tensor.elem_type, f"type {tensor.elem_type}")))
    return out


def load_graph(onnx_path: Path, weights: bool = False) -> Any:
    """An ONNX model (without its external weights unless `weights`); `TrtbenchError` when unreadable."""
    import onnx

    try:
        return onnx.load(str(onnx_path), load_external_data=weights)
    except Exception as exc:  # onnx raises DecodeError, ValueError, OSError... for bad files
        raise TrtbenchError(f"{onnx_path} is not a readable ONNX model ({exc.__class__.__name__})",
                            hint="check the file, or re-export it") from None


def metadata_json(model: Any, key: str) -> Any:
    """The JSON value trtbench stored under `key` in a model's metadata, or None (absent, not JSON)."""
    import json

    for prop in model.metadata_props:
        if prop.key == key:
            try:
                return json.loads(prop.value)
            except ValueError:
                return None
    return None


PREPARED_KEY = "trtbench.prepared"  # onnx_prepare.META_KEY (that module imports this one)


def read_model_inputs(onnx_path: Path) -> List[ModelInput]:
    """Every input of the ONNX model at `onnx_path`, without loading external weights."""
    model = load_graph(onnx_path)
    inputs = graph_inputs(model)
    if not inputs:
        require_inputs(inputs, _user_path(model, onnx_path))
    return inputs


def require_inputs(inputs: Sequence[ModelInput], path: Union[str, Path]) -> None:
    """A model that declares no inputs (a graph of constants, or one whose every input is a
    weight) cannot be timed per batch: one error naming `path`, the user's file."""
    if not inputs:
        raise TrtbenchError(f"{path} declares no inputs (nothing to feed, so no batch to time)",
                            hint="check the export: a graph of constants only, or inputs saved as weights")


def _user_path(model: Any, onnx_path: Path) -> Union[str, Path]:
    """The file the user named: a checked copy trtbench made (.trtbench/onnx/...) records its original."""
    prepared = metadata_json(model, PREPARED_KEY)
    original = prepared.get("original") if isinstance(prepared, dict) else None
    return original if isinstance(original, str) and original else onnx_path


def item_kind(inputs: Sequence[ModelInput]) -> str:
    """What one item of the batch is: ``tile``, ``image`` or ``sample``."""
    if len(inputs) == 1 and inputs[0].item_dims == TILE_SHAPE:
        return TILE
    if inputs and inputs[0].layout:
        return IMAGE
    return SAMPLE


def fixed_batch(inputs: Sequence[ModelInput]) -> Optional[int]:
    """The batch the export fixed (every input's first dimension), or None when it is dynamic."""
    batches = {i.fixed_batch for i in inputs if i.dims}  # a scalar input has no batch axis
    return batches.pop() if len(batches) == 1 else None


def check_feedable(inputs: Sequence[ModelInput], path: Path, given: Sequence[str] = ()) -> None:
    """Raise when an input cannot be fed: an open dimension after the batch, or an odd type
    (inputs in `given` come with the user's data)."""
    for i in inputs:
        if i.dtype.startswith("type "):
            raise TrtbenchError(f"{path}: input '{i.name}' has an element {i.dtype} trtbench cannot feed",
                                hint="profile a model whose inputs are tensors of numbers")
        open_dims = i.unknown_item_dims()
        if open_dims and i.name not in given:
            raise TrtbenchError(f"{path}: input '{i.name}' has shape {i.dims}; dimension(s) "
                                f"{', '.join(map(str, open_dims))} are not fixed, so trtbench cannot choose them",
                                hint=f"give data for it: --input {i.name}=file.npy")


def random_array(spec: ModelInput, batch: int, seed: int = 0) -> Any:
    """Random data for `spec` at `batch`: floats in [0, 1), uint8 0..255, int8 -128..127, small
    non-negative integers (indices, counts), random booleans."""
    import numpy as np

    rng = np.random.default_rng(seed)
    shape = (batch, *[int(d) for d in spec.item_dims]) if spec.dims else ()  # a scalar has no batch axis
    dtype = spec.dtype
    if dtype in ("float32", "float16", "float64", "bfloat16"):
        return rng.random(shape, dtype=np.float32).astype("float32" if dtype == "bfloat16" else dtype)
    if dtype == "uint8":
        return rng.integers(0, 256, shape, dtype=np.uint8)
    if dtype == "int8":
        return rng.integers(-128, 128, shape, dtype=np.int8)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    return rng.integers(0, 16, shape).astype(dtype)


def fit_to_batch(array: Any, spec: ModelInput, batch: int, source: str) -> Any:
    """The user's array for `spec` at `batch`: one item is repeated, a batch is cut or repeated."""
    import numpy as np

    item = [int(d) if isinstance(d, int) else None for d in spec.item_dims]
    data = np.asarray(array)
    if data.dtype.name != spec.dtype and spec.dtype in ELEMENT_TYPES.values():
        data = data.astype(spec.dtype)
    if not spec.dims:  # a scalar input (a threshold, say): as given
        return data.reshape(())

    def matches(shape: Sequence[int]) -> bool:
        return len(shape) == len(item) and all(w is None or w == s for w, s in zip(item, shape))

    if matches(data.shape):
        data = data[None]
    elif data.ndim and data.shape[0] == 0 and matches(data.shape[1:]):
        raise TrtbenchError(f"{source} holds no item (its first dimension is 0)", hint="save at least one item")
    elif not matches(data.shape[1:]):
        raise TrtbenchError(f"{source} has shape {list(data.shape)}; input '{spec.name}' takes "
                            f"[batch, {', '.join(str(d) for d in spec.item_dims)}]",
                            hint="save an array of one item or of a batch of items")
    reps = -(-batch // data.shape[0])
    return np.concatenate([data] * reps, axis=0)[:batch] if reps > 1 else data[:batch]


def load_user_arrays(specs: Mapping[str, Union[str, Path]], inputs: Sequence[ModelInput]) -> Dict[str, Any]:
    """``{input name: array}`` from ``{input name: .npy path}``; every name must be an input."""
    import io

    import numpy as np

    from trtbench.jsonio import read_file_bytes

    names = [i.name for i in inputs]
    out: Dict[str, Any] = {}
    for name, path in specs.items():
        if name not in names:
            raise TrtbenchError(f"--input {name}=...: the model has no input called '{name}'",
                                hint=f"its inputs: {', '.join(names)}")
        data = read_file_bytes(path, f"--input {name}:")  # a regular file only: a FIFO cannot block
        try:
            out[name] = np.load(io.BytesIO(data), allow_pickle=False)
        except (OSError, ValueError, EOFError) as exc:
            raise TrtbenchError(f"--input {name}={path}: not a readable .npy array ({exc.__class__.__name__})",
                                hint="save it with numpy.save") from None
    return out


def batch_arrays(inputs: Sequence[ModelInput], batch: int, user: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """``{input name: array}`` for one batch: the user's arrays where given, random data elsewhere."""
    user = user or {}
    out = {}
    for index, spec in enumerate(inputs):
        if spec.name in user:
            out[spec.name] = fit_to_batch(user[spec.name], spec, batch, f"--input {spec.name}")
        else:
            out[spec.name] = random_array(spec, batch, seed=index)
    return out
