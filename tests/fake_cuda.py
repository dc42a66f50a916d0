"""A fake CUDA layer for the TensorRT backend's tests: the methods of
`trtbench.backends.tensorrt.cuda.CudaPython` / `PyCuda`, on host memory, recording every call.

It checks what a real driver would punish: a free of something never allocated (or freed
twice), a copy into a too-small buffer, a destroyed stream or event used again. `leaks()` lists
whatever is still alive; `calls` is the ordered log (name, argument) for order assertions.
"""
from __future__ import annotations

import itertools
from typing import Any, Dict, List, Optional, Tuple

import numpy as np


class FakeCudaError(AssertionError):
    """Misuse a real CUDA would punish (a crash, a leak, corrupted memory)."""


class FakeEvent:
    def __init__(self, ident: int) -> None:
        self.ident = ident
        self.time: Optional[float] = None


class FakeCuda:
    name = "fake-cuda"

    def __init__(self, ms_per_record: float = 0.25) -> None:
        self._ids = itertools.count(0x1000, 0x1000)
        self.device: Dict[int, int] = {}  # live device pointer -> size in bytes
        self.host: Dict[int, np.ndarray] = {}  # live pinned arrays by id()
        self.streams: Dict[int, Any] = {}
        self.events: Dict[int, FakeEvent] = {}
        self.calls: List[Tuple[str, Any]] = []
        self.clock = 0.0
        self.ms_per_record = ms_per_record
        self.fail_at: Dict[str, int] = {}  # call name -> the call (1 = first) that raises, like a CUDA error

    def _note(self, name: str, arg: Any) -> None:
        self.calls.append((name, arg))
        if self.fail_at.get(name) == self.count(name):
            raise RuntimeError(f"CUDA error cudaErrorMemoryAllocation (fake: {name} call {self.count(name)})")

    # ---- memory ----------------------------------------------------------------------------
    def malloc(self, nbytes: int) -> int:
        if int(nbytes) < 0:
            raise FakeCudaError(f"malloc of {nbytes} bytes")
        self._note("malloc", int(nbytes))
        ptr = next(self._ids)
        self.device[ptr] = max(1, int(nbytes))
        return ptr

    def free(self, ptr: int) -> None:
        self._note("free", ptr)
        if self.device.pop(int(ptr), None) is None:
            raise FakeCudaError(f"free of {ptr:#x}, which is not allocated (double free?)")

    def host_empty(self, shape: Tuple[int, ...], dtype: Any) -> Tuple[np.ndarray, Any]:
        if any(int(d) < 0 for d in shape):
            raise FakeCudaError(f"pinned array of shape {shape}")
        self._note("host_empty", (tuple(shape), np.dtype(dtype).name))
        array = np.zeros(tuple(int(d) for d in shape), dtype=dtype)
        self.host[id(array)] = array
        return array, array

    def free_host(self, token: Any) -> None:
        self._note("free_host", id(token))
        if self.host.pop(id(token), None) is None:
            raise FakeCudaError("free_host of an array that is not pinned here (double free?)")

    def size_of(self, ptr: int) -> int:
        """The size of the live allocation at `ptr` (for the fake TensorRT's checks)."""
        if int(ptr) not in self.device:
            raise FakeCudaError(f"{ptr:#x} is not a live device allocation")
        return self.device[int(ptr)]

    # ---- streams ---------------------------------------------------------------------------
    def stream(self) -> Any:
        handle = next(self._ids)
        self._note("stream", handle)
        self.streams[handle] = object()
        return handle

    def _live_stream(self, stream: Any) -> int:
        if stream not in self.streams:
            raise FakeCudaError(f"stream {stream!r} is not live")
        return int(stream)

    def stream_handle(self, stream: Any) -> int:
        return self._live_stream(stream)

    def synchronize(self, stream: Any) -> None:
        self._note("synchronize", self._live_stream(stream))

    def destroy_stream(self, stream: Any) -> None:
        self._note("destroy_stream", stream)
        self._live_stream(stream)
        del self.streams[stream]

    # ---- copies ----------------------------------------------------------------------------
    def htod(self, dst: int, src: np.ndarray, stream: Any) -> None:
        self._live_stream(stream)
        if src.nbytes > self.size_of(dst):
            raise FakeCudaError(f"htod of {src.nbytes} bytes into {self.size_of(dst)}")
        self._note("htod", (dst, src.nbytes))

    def dtoh(self, dst: np.ndarray, src: int, stream: Any) -> None:
        self._live_stream(stream)
        if dst.nbytes > self.size_of(src):
            raise FakeCudaError(f"dtoh of {dst.nbytes} bytes from {self.size_of(src)}")
        self._note("dtoh", (src, dst.nbytes))

    # ---- events ----------------------------------------------------------------------------
    def event(self) -> Any:
        ev = FakeEvent(next(self._ids))
        self._note("event", ev.ident)
        self.events[ev.ident] = ev
        return ev

    def _live_event(self, event: Any) -> FakeEvent:
        if not isinstance(event, FakeEvent) or event.ident not in self.events:
            raise FakeCudaError(f"event {event!r} is not live")
        return event

    def record(self, event: Any, stream: Any) -> None:
        self._live_stream(stream)
        self.clock += self.ms_per_record
        self._live_event(event).time = self.clock
        self._note("record", event.ident)

    def elapsed_ms(self, start: Any, end: Any) -> float:
        a, b = self._live_event(start), self._live_event(end)
        if a.time is None or b.time is None:
            raise FakeCudaError("elapsed time of an event never recorded")
        return b.time - a.time

    def destroy_event(self, event: Any) -> None:
        self._note("destroy_event", getattr(event, "ident", event))
        self._live_event(event)
        del self.events[event.ident]

    def device_name(self) -> str:
        return "Fake GPU"

    # ---- for assertions --------------------------------------------------------------------
    def count(self, name: str) -> int:
        return sum(1 for call, _ in self.calls if call == name)

    def leaks(self) -> List[str]:
        """What is still alive: device buffers, pinned arrays, streams, events."""
        return ([f"device {p:#x} ({n} bytes)" for p, n in self.device.items()]
                + [f"pinned array {a.shape}" for a in self.host.values()]
                + [f"stream {s:#x}" for s in self.streams] + [f"event {e:#x}" for e in self.events])
