"""The one protocol every backend implements (onnxruntime, torch, tensorrt, trtexec).

A backend module exposes ``BACKEND: Backend``. Heavy packages are imported inside methods only, so
importing a backend module is cheap and never fails when its package is missing; `available()`
says whether it can run, and `load()` raises `TrtbenchError` naming the install command if not.

The measurement method lives in `trtbench.measure.method`, not here: it calls a `Session`'s
``run_timed`` for the timing pass (no profiler attached) and ``profile`` for the separate
profiling pass, and builds the `RunRecord`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Protocol

from trtbench.models.source import ModelSource
from trtbench.results.record import LayerTime


@dataclass
class LoadOptions:
    device: str = "cpu"  # "cpu" or "cuda"
    precision: str = "fp32"  # "fp32", "fp16", "tf32"
    threads: Optional[int] = None  # CPU threads (None: the backend's default)
    cuda_graph: bool = False  # capture the inference in a CUDA graph (torch on CUDA)
    channels_last: bool = False  # torch: NHWC memory format
    data: Dict[str, Any] = field(default_factory=dict)  # input name -> the user's array (else random data)
    extra: Dict[str, Any] = field(default_factory=dict)


@dataclass
class ProfileResult:
    """What a profiling pass gives: per-layer mean ms per inference of one batch."""

    layers: List[LayerTime]
    iterations: int
    unknown: List[str] = field(default_factory=list)  # names that fell to "other"
    notes: List[str] = field(default_factory=list)
    per_run: Dict[str, List[float]] = field(default_factory=dict)  # layer name → its ms in each profiled run


class Session(Protocol):
    """A loaded model, ready to infer batches of its inputs."""

    backend: str
    device: str
    precision: str

    def set_batch(self, batch: int) -> None:
        """Prepare inputs (and device buffers) for this batch size; raise TrtbenchError if the
        model cannot take it."""

    def run_timed(self, iterations: int) -> List[float]:
        """Run `iterations` inferences with no profiler; return each one's time in ms, measured
        with the right clock (CUDA events on a GPU, a monotonic clock on the CPU)."""

    def profile(self, iterations: int) -> ProfileResult:
        """The separate profiling pass: per-layer times, averaged over `iterations`."""

    def info(self) -> Dict[str, Any]:
        """Versions and device description: backend_version, device_name, and anything else."""

    def close(self) -> None:
        """Free what the session holds."""


class Backend(Protocol):
    name: str

    def available(self) -> bool:
        """Whether the backend's packages import here."""

    def install_hint(self) -> str:
        """How to get it, e.g. ``pip install 'trtbench[ort]'``."""

    def load(self, model: ModelSource, options: LoadOptions) -> Session:
        """Load the model; raise TrtbenchError for bad files, missing packages, bad options."""
