"""An engine's I/O tensors: what each is (name, direction, dimensions, storage type), read through
the binding API (8.0-8.4) or the tensor API (8.5+), and the host and device buffers of one batch.

Storage types go by TensorRT ``DataType`` member name: ``trt.nptype`` knows only the types NumPy
has and raises a bare TypeError for BF16, FP8, INT4, FP4 or E8M0. trtbench never computes on
these buffers, it only fills and copies them, so each type maps to a NumPy *storage* type and a
width: BF16 is held as uint16, the 8-bit floats as uint8 bytes, and the 4-bit types as uint8
bytes holding two elements each.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from trtbench.errors import TrtbenchError

Shape = Tuple[int, ...]

# DataType member name -> (numpy storage dtype, bits per element): every member of 8.0 to 11.4
# (tests/data/tensorrt/api); INT64 from 10.0, UINT8 8.5, FP8 8.6, BF16/INT4 10.0, FP4 10.8, E8M0 10.12
STORAGE: Dict[str, Tuple[str, int]] = {
    "FLOAT": ("float32", 32), "HALF": ("float16", 16), "BF16": ("uint16", 16),
    "INT8": ("int8", 8), "UINT8": ("uint8", 8), "INT32": ("int32", 32), "INT64": ("int64", 64),
    "BOOL": ("bool", 8), "FP8": ("uint8", 8), "E8M0": ("uint8", 8), "INT4": ("uint8", 4), "FP4": ("uint8", 4),
}
# The types NumPy has: trtbench.models.inputs.random_array fills them
NATIVE = ("FLOAT", "HALF", "INT8", "UINT8", "INT32", "INT64", "BOOL")


@dataclass(frozen=True)
class Storage:
    """The host storage of one I/O tensor."""

    type_name: str  # TensorRT's DataType member name: FLOAT, BF16, INT4 ...
    numpy_dtype: str  # the NumPy type the buffer holds
    bits: int  # bits per element (4 for INT4/FP4: two elements per byte)

    @property
    def native(self) -> bool:
        """Whether NumPy has the type itself (user data and `random_array` fit it)."""
        return self.type_name in NATIVE

    @property
    def packed(self) -> bool:
        return self.bits < 8

    def nbytes(self, shape: Tuple[int, ...]) -> int:
        count = 1
        for d in shape:
            count *= int(d)
        return -(-count * self.bits // 8)

    def host_shape(self, shape: Tuple[int, ...]) -> Tuple[int, ...]:
        """The host array's shape: the tensor's, or a flat run of bytes for packed types."""
        return (self.nbytes(shape),) if self.packed else tuple(shape)


def type_name(dtype: Any) -> str:
    """``trt.DataType.BF16`` → ``"BF16"`` (pybind11 enums print as ``DataType.BF16``)."""
    return str(dtype).split(".")[-1]


def storage_for(dtype: Any, tensor: str, engine: str) -> Storage:
    """The storage of `tensor` of `engine`; a one-line TrtbenchError for a type trtbench does not know."""
    name = type_name(dtype)
    if name not in STORAGE:
        raise TrtbenchError(f"{engine}: I/O tensor {tensor!r} has TensorRT type {name}, which trtbench "
                            "cannot allocate",
                            hint=f"it knows {', '.join(STORAGE)}; report the type with the model")
    numpy_dtype, bits = STORAGE[name]
    return Storage(name, numpy_dtype, bits)


def random_data(storage: Storage, shape: Tuple[int, ...], seed: int = 0) -> Any:
    """Random input data valid for the type, in the host array's shape: floats in [0, 1), small
    non-negative integers, bf16 as the top half of float32 randoms, finite FP8/E8M0 bytes, random
    4-bit pairs."""
    import numpy as np

    from trtbench.models.inputs import ModelInput, random_array

    if storage.native:
        spec = ModelInput("input", list(shape), storage.numpy_dtype)
        return random_array(spec, int(shape[0]) if shape else 1, seed=seed)
    rng = np.random.default_rng(seed)
    if storage.type_name == "BF16":
        return (rng.random(shape, dtype=np.float32).view(np.uint32) >> 16).astype(np.uint16)
    top = {"FP8": 0x7F, "E8M0": 0xFF}.get(storage.type_name, 0x100)  # FP8 E4M3 0x7F and E8M0 0xFF are NaN
    return rng.integers(0, top, storage.host_shape(shape), dtype=np.uint8)


# ---- the engine's I/O tensors ------------------------------------------------------------------

@dataclass(frozen=True)
class IoTensor:
    """One input or output as the engine declares it."""

    name: str
    index: int  # binding index (8.0-8.4), position among the I/O tensors (8.5+)
    is_input: bool
    dims: Shape  # -1 where the size is chosen at run time (inputs) or by the data (outputs)
    storage: Storage

    @property
    def dynamic(self) -> bool:
        return any(d < 0 for d in self.dims)


def dims_of(shape: Any) -> Shape:
    """TensorRT's ``Dims`` (or any sequence) as a tuple of ints."""
    return tuple(int(d) for d in shape)


def shown(dims: Sequence[int]) -> str:
    return "x".join(str(d) if d >= 0 else "?" for d in dims) or "scalar"


def read_io_tensors(trt: Any, engine: Any, tensor_api: bool, where: str) -> List[IoTensor]:
    """The engine's inputs and outputs, in the engine's order."""
    tensors = []
    if tensor_api:
        for i in range(engine.num_io_tensors):
            name = engine.get_tensor_name(i)
            is_input = engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT
            tensors.append(IoTensor(name, i, is_input, dims_of(engine.get_tensor_shape(name)),
                                    storage_for(engine.get_tensor_dtype(name), name, where)))
    else:
        # bindings repeat once per optimization profile; profile 0 (the context's) owns the first
        for i in range(engine.num_bindings // max(1, engine.num_optimization_profiles)):
            name = engine.get_binding_name(i)
            tensors.append(IoTensor(name, i, bool(engine.binding_is_input(i)),
                                    dims_of(engine.get_binding_shape(i)),
                                    storage_for(engine.get_binding_dtype(i), name, where)))
    return tensors


def fixed_batch(inputs: Sequence[IoTensor]) -> Optional[int]:
    """The engine's only batch when no input has a dynamic first dimension (scalars have none)."""
    batched = [t for t in inputs if t.dims]
    if not batched or any(t.dims[0] < 0 for t in batched):
        return None
    return batched[0].dims[0]


class Buffers:
    """Host (pinned) and device memory for one batch, through the CUDA layer."""

    def __init__(self, cuda: Any) -> None:
        self.cuda = cuda
        self.device: Dict[str, int] = {}
        self.host: Dict[str, Any] = {}  # name -> numpy array
        self._host_tokens: List[Any] = []

    def add(self, name: str, host_shape: Shape, dtype: str) -> Any:
        import numpy as np

        array, token = self.cuda.host_empty(tuple(host_shape), np.dtype(dtype))
        self._host_tokens.append(token)
        self.host[name] = array
        self.device[name] = self.cuda.malloc(array.nbytes)
        return array

    def free(self) -> None:
        device, tokens = list(self.device.values()), self._host_tokens
        self.device, self.host, self._host_tokens = {}, {}, []
        for ptr in device:
            self.cuda.free(ptr)
        for token in tokens:
            self.cuda.free_host(token)
