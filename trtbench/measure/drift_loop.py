"""The live drift loop: the same inference loop many times, each part timed separately.

Per loop, with ``alloc``:

- ``per-run``: `Session.set_batch` allocates fresh input/output buffers every loop (as the study's
  framework did per call) and its time is the loop's **alloc** part;
- ``reuse``: buffers are allocated once, before the loops (alloc is then 0 every loop);
- ``fragment`` (CUDA only): as per-run, plus a deliberately fragmenting pattern of raw
  ``cudaMalloc``/``cudaFree`` calls of varying sizes, part of which stay alive across loops; their
  time is the **fragment** part. It shows whether the device allocator slows down as its heap
  fragments.

**compute** is the sum of the loop's per-iteration times (`Session.run_timed`), **transfer** is
reported when the session exposes ``last_transfer_ms`` after a timed run, and **total** is the
loop's wall time. `trtbench.analysis.drift.analyse_parts` then says which part drifted.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import numpy as np

from trtbench.errors import TrtbenchError

ALLOC_MODES = ("per-run", "reuse", "fragment")


@dataclass
class DriftSeries:
    """Per-loop times in ms, one list per part (``alloc``, ``compute``, ``transfer``, ``fragment``,
    ``total``), oldest loop first."""

    parts: Dict[str, List[float]]
    alloc: str
    batch: int
    iterations: int
    loops: int
    meta: Dict[str, Any] = field(default_factory=dict)  # backend, device, device_name, model
    notes: List[str] = field(default_factory=list)
    interrupted: bool = False  # Ctrl-C ended the loops early: `parts` holds the loops that finished

    def to_dict(self) -> Dict[str, Any]:
        return {
            "alloc": self.alloc,
            "batch": self.batch,
            "iterations": self.iterations,
            "loops": self.loops,
            **self.meta,
            "series": {k: list(v) for k, v in self.parts.items()},
            "notes": list(self.notes),
        }


def _synchronize(session: Any) -> None:
    """Wait for the device, so allocation time includes any asynchronous work it queued."""
    sync = getattr(session, "synchronize", None)
    if callable(sync):
        sync()
        return
    if str(getattr(session, "device", "cpu")).startswith("cuda") and "torch" in sys.modules:
        torch = sys.modules["torch"]
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.synchronize()


def run_drift(
    session: Any,
    batch: int,
    loops: int = 200,
    iterations: int = 10,
    alloc: str = "per-run",
    warmup: int = 1,
    seed: int = 0,
    clock: Callable[[], float] = time.perf_counter,
    progress: Optional[Callable[[int], None]] = None,
) -> DriftSeries:
    """Run `loops` loops of `iterations` inferences of `batch` tiles on a loaded `session`.

    `warmup` loops run first and are not recorded. `clock` returns seconds (a fake clock in
    tests). `progress(i)` is called after each recorded loop. Ctrl-C after at least one recorded
    loop ends the loops: the series holds those that finished and says so (``interrupted``), so
    the caller keeps them; before any, the KeyboardInterrupt goes on.
    """
    if alloc not in ALLOC_MODES:
        raise TrtbenchError(f"unknown --alloc '{alloc}'", hint=f"choose one of: {', '.join(ALLOC_MODES)}")
    if loops < 1 or iterations < 1:
        raise TrtbenchError("--loops and --iterations must be at least 1")
    device = str(getattr(session, "device", "cpu"))
    fragmenter: Optional[Fragmenter] = None
    if alloc == "fragment":
        if not device.startswith("cuda"):
            raise TrtbenchError(
                "--alloc fragment needs a CUDA GPU (it fragments the device heap with cudaMalloc/cudaFree)",
                hint="use --device cuda, or --alloc per-run on the CPU",
            )
        fragmenter = Fragmenter(CudaRuntime.load(), seed=seed)
    parts: Dict[str, List[float]] = {"alloc": [], "compute": [], "transfer": [], "total": []}
    if fragmenter is not None:
        parts["fragment"] = []
    free = getattr(session, "free_buffers", None)
    if alloc == "reuse":
        session.set_batch(batch)
    interrupted = False
    try:
        for i in range(warmup + loops):
            start = clock()
            alloc_ms = 0.0
            if alloc != "reuse":
                if callable(free):
                    free()
                session.set_batch(batch)
                _synchronize(session)
                alloc_ms = (clock() - start) * 1000.0
            frag_ms = fragmenter.step(clock) if fragmenter is not None else None
            times = session.run_timed(iterations)
            transfer = getattr(session, "last_transfer_ms", None)
            total_ms = (clock() - start) * 1000.0
            if i < warmup:
                continue
            parts["alloc"].append(alloc_ms)
            parts["compute"].append(float(sum(times)))
            if transfer is not None:
                parts["transfer"].append(float(transfer))
            if frag_ms is not None:
                parts["fragment"].append(frag_ms)
            parts["total"].append(total_ms)
            if progress is not None:
                progress(i - warmup)
    except KeyboardInterrupt:
        if not parts["total"]:
            raise
        interrupted = True
        for name in parts:  # a loop cut off midway may have some parts appended: keep whole loops only
            del parts[name][len(parts["total"]):]
    finally:
        if fragmenter is not None:
            fragmenter.release()
    if not parts["transfer"]:
        del parts["transfer"]
    series = DriftSeries(parts, alloc, batch, iterations, len(parts["total"]) if interrupted else loops,
                         interrupted=interrupted)
    if interrupted:
        series.notes.append(f"interrupted (Ctrl-C) after {len(parts['total'])} of {loops} loops: the loops "
                            "that finished are kept")
    if alloc == "reuse":
        series.notes.append("buffers allocated once before the loops (--alloc reuse): alloc is 0 per loop")
    if fragmenter is not None:
        series.notes.append(f"fragmenting pattern: {fragmenter.describe()}")
    return series


# ---- CUDA fragmentation -----------------------------------------------------------------------
class CudaRuntime:
    """cudaMalloc / cudaFree / cudaDeviceSynchronize from cuda-python, or libcudart via ctypes."""

    def __init__(
        self,
        malloc: Callable[[int], int],
        free: Callable[[int], None],
        synchronize: Callable[[], None],
        origin: str,
    ) -> None:
        self.malloc, self.free, self.synchronize, self.origin = malloc, free, synchronize, origin

    @classmethod
    def load(cls) -> "CudaRuntime":
        runtime = _cuda_python() or _ctypes_cudart()
        if runtime is None:
            raise TrtbenchError(
                "--alloc fragment needs the CUDA runtime: neither cuda-python nor libcudart could be loaded",
                hint="pip install cuda-python",
            )
        return runtime


def _cuda_python() -> Optional[CudaRuntime]:
    try:
        from cuda.bindings import runtime as cudart  # cuda-python >= 12.6
    except ImportError:
        try:
            from cuda import cudart  # type: ignore[no-redef]  # older cuda-python
        except ImportError:
            return None

    def check(result: Any) -> Any:
        err = result[0] if isinstance(result, tuple) else result
        if int(err) != 0:
            raise TrtbenchError(f"CUDA runtime error {int(err)} ({err}) in the fragmenting allocations")
        return result[1] if isinstance(result, tuple) and len(result) > 1 else None

    return CudaRuntime(
        lambda size: int(check(cudart.cudaMalloc(size))),
        lambda ptr: check(cudart.cudaFree(ptr)),
        lambda: check(cudart.cudaDeviceSynchronize()),
        "cuda-python",
    )


def _cudart_candidates() -> List[str]:
    names = ["libcudart.so", "libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0"]
    found = ctypes.util.find_library("cudart")
    if found:
        names.insert(0, found)
    for package in ("nvidia.cuda_runtime", "torch"):  # wheels that ship their own libcudart
        try:
            module = __import__(package, fromlist=["__file__"])
        except ImportError:
            continue
        for base in getattr(module, "__path__", []):
            names.extend(str(p) for p in sorted(Path(base).glob("lib/libcudart.so*")))
    return names


def _ctypes_cudart() -> Optional[CudaRuntime]:
    for name in _cudart_candidates():
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.cudaMalloc.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_size_t]
        lib.cudaFree.argtypes = [ctypes.c_void_p]

        def check(err: int, lib: Any = lib) -> None:
            if err != 0:
                raise TrtbenchError(f"CUDA runtime error {err} in the fragmenting allocations")

        def malloc(size: int, lib: Any = lib) -> int:
            ptr = ctypes.c_void_p()
            check(lib.cudaMalloc(ctypes.byref(ptr), size))
            return int(ptr.value or 0)

        def free(ptr: int, lib: Any = lib) -> None:
            check(lib.cudaFree(ctypes.c_void_p(ptr)))

        def synchronize(lib: Any = lib) -> None:
            check(lib.cudaDeviceSynchronize())

        return CudaRuntime(malloc, free, synchronize, f"ctypes {name}")
    return None


class Fragmenter:
    """Each step frees a random half of the live blocks and allocates `per_step` new blocks of
    log-uniform sizes (4 KiB to 64 MiB), keeping at most `max_live_bytes` alive. Freed holes of
    one size are refilled with other sizes, so the heap fragments as loops go on."""

    def __init__(
        self, runtime: CudaRuntime, seed: int = 0, per_step: int = 32, max_live_bytes: int = 2 << 30
    ) -> None:
        self.runtime = runtime
        self.rng = np.random.default_rng(seed)
        self.per_step = per_step
        self.max_live_bytes = max_live_bytes
        self.live: List[List[int]] = []  # [pointer, size]

    def describe(self) -> str:
        return (
            f"{self.per_step} cudaMalloc of 4 KiB-64 MiB and frees of half the live blocks per loop, "
            f"at most {self.max_live_bytes >> 20} MiB alive ({self.runtime.origin})"
        )

    def step(self, clock: Callable[[], float]) -> float:
        """One loop's allocations and frees; returns their time in ms."""
        self.runtime.synchronize()
        start = clock()
        if self.live:
            doomed = set(self.rng.choice(len(self.live), size=len(self.live) // 2, replace=False).tolist())
            for index in sorted(doomed, reverse=True):
                self.runtime.free(self.live.pop(index)[0])
        live_bytes = sum(size for _, size in self.live)
        sizes = np.exp(self.rng.uniform(np.log(4 << 10), np.log(64 << 20), self.per_step)).astype(np.int64)
        for size in sizes.tolist():
            if live_bytes + size > self.max_live_bytes:
                break
            self.live.append([self.runtime.malloc(int(size)), int(size)])
            live_bytes += int(size)
        self.runtime.synchronize()
        return (clock() - start) * 1000.0

    def release(self) -> None:
        while self.live:
            self.runtime.free(self.live.pop()[0])
