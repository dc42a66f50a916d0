"""A small CUDA memory layer for the TensorRT backend: device buffers, pinned host arrays, streams, events.

TensorRT needs only integer device pointers and an integer stream handle, so this layer hands out
ints. Two implementations, imported lazily: cuda-python (``cuda.bindings.runtime``, or the older
``cuda.cudart`` before cuda-python 12.6.1 / 11.8.4) where present, else pycuda (the practical
choice on JetPack 4.6, where cuda-python has no wheel). `load_cuda()` picks one.
"""
from __future__ import annotations

import ctypes
import importlib.util
from typing import Any, Callable, List, Optional, Tuple

import numpy as np

from trtbench.errors import TrtbenchError

INSTALL_HINT = ("pip install cuda-python (take the major version of your CUDA: 11.x on JetPack 5, 12.x on "
                "JetPack 6, 13.x on JetPack 7 / CUDA 13) or pip install pycuda (builds against nvcc; JetPack 4)")


def _find(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _text(value: Any) -> str:
    return str(value, "utf-8", "replace") if isinstance(value, bytes) else str(value)


class CudaPython:
    """cuda-python's runtime API; every call returns (error, *results)."""

    name = "cuda-python"

    def __init__(self) -> None:
        try:
            from cuda.bindings import runtime as cudart
        except ImportError:
            from cuda import cudart  # cuda-python < 12.6.1 / 11.8.4; removed in 13.0
        self.rt = cudart
        self._h2d = cudart.cudaMemcpyKind.cudaMemcpyHostToDevice
        self._d2h = cudart.cudaMemcpyKind.cudaMemcpyDeviceToHost

    def _ck(self, ret: Any) -> Any:
        err, rest = ret[0], ret[1:]
        if int(getattr(err, "value", err)) != 0:
            name = self.rt.cudaGetErrorName(err)[1]
            raise RuntimeError(f"CUDA error {_text(name)}")
        return rest[0] if len(rest) == 1 else (rest or None)

    def malloc(self, nbytes: int) -> int:
        return int(self._ck(self.rt.cudaMalloc(max(1, int(nbytes)))))

    def free(self, ptr: int) -> None:
        self._ck(self.rt.cudaFree(ptr))

    def host_empty(self, shape: Tuple[int, ...], dtype: Any) -> Tuple[np.ndarray, Any]:
        """A pinned host array and the token `free_host` needs."""
        nbytes = max(1, int(np.prod(shape)) * np.dtype(dtype).itemsize)
        ptr = int(self._ck(self.rt.cudaMallocHost(nbytes)))
        raw = (ctypes.c_byte * nbytes).from_address(ptr)
        array = np.frombuffer(raw, dtype=dtype, count=int(np.prod(shape))).reshape(shape)
        return array, ptr

    def free_host(self, token: Any) -> None:
        self._ck(self.rt.cudaFreeHost(token))

    def stream(self) -> Any:
        return self._ck(self.rt.cudaStreamCreate())

    def stream_handle(self, stream: Any) -> int:
        return int(stream)

    def synchronize(self, stream: Any) -> None:
        self._ck(self.rt.cudaStreamSynchronize(stream))

    def destroy_stream(self, stream: Any) -> None:
        self._ck(self.rt.cudaStreamDestroy(stream))

    def htod(self, dst: int, src: np.ndarray, stream: Any) -> None:
        self._ck(self.rt.cudaMemcpyAsync(dst, src.ctypes.data, src.nbytes, self._h2d, stream))

    def dtoh(self, dst: np.ndarray, src: int, stream: Any) -> None:
        self._ck(self.rt.cudaMemcpyAsync(dst.ctypes.data, src, dst.nbytes, self._d2h, stream))

    def event(self) -> Any:
        return self._ck(self.rt.cudaEventCreate())

    def record(self, event: Any, stream: Any) -> None:
        self._ck(self.rt.cudaEventRecord(event, stream))

    def elapsed_ms(self, start: Any, end: Any) -> float:
        self._ck(self.rt.cudaEventSynchronize(end))
        return float(self._ck(self.rt.cudaEventElapsedTime(start, end)))

    def destroy_event(self, event: Any) -> None:
        self._ck(self.rt.cudaEventDestroy(event))

    def device_name(self) -> str:
        props = self._ck(self.rt.cudaGetDeviceProperties(0))
        return _text(props.name).rstrip("\x00")


class PyCuda:
    """pycuda; shares the primary context (pycuda.autoprimaryctx) when this pycuda has it."""

    name = "pycuda"

    def __init__(self) -> None:
        try:
            import pycuda.autoprimaryctx  # noqa: F401  (pycuda >= 2021.1)
        except ImportError:
            import pycuda.autoinit  # noqa: F401
        import pycuda.driver as drv

        self.drv = drv
        self._keep: dict = {}

    def malloc(self, nbytes: int) -> int:
        alloc = self.drv.mem_alloc(max(1, int(nbytes)))
        self._keep[int(alloc)] = alloc
        return int(alloc)

    def free(self, ptr: int) -> None:
        alloc = self._keep.pop(int(ptr), None)
        if alloc is not None:
            alloc.free()

    def host_empty(self, shape: Tuple[int, ...], dtype: Any) -> Tuple[np.ndarray, Any]:
        array = self.drv.pagelocked_empty(shape, dtype)
        return array, array

    def free_host(self, token: Any) -> None:
        base = getattr(token, "base", None)
        if base is not None and hasattr(base, "free"):
            base.free()

    def stream(self) -> Any:
        return self.drv.Stream()

    def stream_handle(self, stream: Any) -> int:
        return int(stream.handle)

    def synchronize(self, stream: Any) -> None:
        stream.synchronize()

    def destroy_stream(self, stream: Any) -> None:
        pass  # pycuda destroys a Stream when the last reference to it goes

    def htod(self, dst: int, src: np.ndarray, stream: Any) -> None:
        self.drv.memcpy_htod_async(dst, src, stream)

    def dtoh(self, dst: np.ndarray, src: int, stream: Any) -> None:
        self.drv.memcpy_dtoh_async(dst, src, stream)

    def event(self) -> Any:
        return self.drv.Event()

    def record(self, event: Any, stream: Any) -> None:
        event.record(stream)

    def elapsed_ms(self, start: Any, end: Any) -> float:
        end.synchronize()
        return float(start.time_till(end))

    def destroy_event(self, event: Any) -> None:
        pass  # pycuda destroys an Event when the last reference to it goes

    def device_name(self) -> str:
        return str(self.drv.Context.get_device().name())


def available() -> Optional[str]:
    """Which CUDA package this layer would use here ("cuda-python", "pycuda"), or None."""
    if _find("cuda.bindings") or _find("cuda.cudart"):
        return CudaPython.name
    if _find("pycuda"):
        return PyCuda.name
    return None


def load_cuda(prefer: Optional[str] = None) -> Any:
    """The CUDA layer: cuda-python if it imports, else pycuda; TrtbenchError naming both otherwise."""
    order: List[Tuple[str, Callable[[], Any]]] = [(CudaPython.name, CudaPython), (PyCuda.name, PyCuda)]
    if prefer == PyCuda.name:
        order.reverse()
    errors = []
    for name, make in order:
        try:
            return make()
        except ImportError as exc:
            errors.append(f"{name}: {exc}")
    raise TrtbenchError("the TensorRT backend needs cuda-python or pycuda for device buffers; neither imports "
                        f"({'; '.join(errors)})", hint=INSTALL_HINT)
