"""A background sampler: NVML polled from a thread, or a `tegrastats --interval` subprocess.

Usage::

    with Sampler(auto_source("cuda"), period_s=0.2) as sampler:
        ...  # the timed run
    record.telemetry = sampler.result()

Samples are plain dicts (JSON-ready) with ``t``, the seconds since `start()`. The sampler never
raises from its thread: a failing source ends sampling and leaves a note in `result()`.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Protocol

from trtbench.device import jetson_power as jetson
from trtbench.device import nvml, tegrastats
from trtbench.device.jetson import is_jetson


class Source(Protocol):
    kind: str

    def open(self) -> Dict[str, Any]: ...

    def sample(self) -> Dict[str, Any]: ...

    def close(self) -> None: ...


class TegrastatsProcess:
    """Runs ``tegrastats --interval MS`` and parses its lines as they come."""

    kind = "tegrastats"

    def __init__(self, command: str = "tegrastats") -> None:
        self.command = command
        self.process: Optional[subprocess.Popen] = None

    def start(self, period_s: float, on_sample: Callable[[Dict[str, Any]], None]) -> None:
        interval_ms = max(10, int(round(period_s * 1000)))
        self.process = subprocess.Popen(
            [self.command, "--interval", str(interval_ms)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        stream = self.process.stdout
        assert stream is not None
        for line in stream:
            if line.strip():
                on_sample(tegrastats.parse_line(line).to_dict())

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()


def auto_source(device: str = "cuda", index: int = 0) -> Any:
    """The best source here: tegrastats on a Jetson, NVML for a CUDA device, else None."""
    if is_jetson() and shutil.which("tegrastats"):
        return TegrastatsProcess()
    if device.startswith("cuda") and nvml.available():
        return nvml.NvmlSource(index)
    return None


class Sampler:
    """Collects samples from `source` every `period_s` seconds between start() and stop()."""

    def __init__(
        self, source: Any, period_s: float = 0.2, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.source = source
        self.period_s = period_s
        self.clock = clock
        self.samples: List[Dict[str, Any]] = []
        self.info: Dict[str, Any] = {}
        self.jetson_state: Dict[str, Any] = {}
        self.notes: List[str] = []
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._t0 = 0.0
        self._lock = threading.Lock()

    def __enter__(self) -> "Sampler":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> None:
        if self.source is None:
            return
        self._t0 = self.clock()
        if isinstance(self.source, TegrastatsProcess):
            self.info = {"source": "tegrastats"}
            self.jetson_state = jetson.read_state()
            target: Callable[[], None] = self._run_tegrastats
        else:
            try:
                self.info = self.source.open()
            except Exception as exc:  # NVML init failed: run without telemetry, say why
                self.notes.append(f"telemetry unavailable: {exc}")
                self.source = None
                return
            target = self._poll
        self._thread = threading.Thread(target=target, name="trtbench-telemetry", daemon=True)
        self._thread.start()

    def _add(self, sample: Dict[str, Any]) -> None:
        sample = {"t": round(self.clock() - self._t0, 4), **sample}
        with self._lock:
            self.samples.append(sample)

    def _poll(self) -> None:
        try:
            while True:  # at least one sample, however short the run
                self._add(self.source.sample())
                if self._stop.wait(self.period_s):
                    break
        except Exception as exc:
            self.notes.append(f"telemetry sampling stopped: {exc}")

    def _run_tegrastats(self) -> None:
        try:
            self.source.start(self.period_s, self._add)
        except Exception as exc:
            self.notes.append(f"tegrastats stopped: {exc}")

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        if isinstance(self.source, TegrastatsProcess):
            self.source.stop()
        self._thread.join(timeout=10)
        if not isinstance(self.source, TegrastatsProcess) and self.source is not None:
            self.source.close()
        self._thread = None

    def result(self) -> Dict[str, Any]:
        """What to store in ``record.telemetry``: source, period, device info, samples, notes."""
        if self.source is None and not self.notes:
            return {}
        with self._lock:
            samples = list(self.samples)
        data: Dict[str, Any] = {
            "source": self.info.get("source", getattr(self.source, "kind", None)),
            "period_s": self.period_s,
            "device": self.info,
            "samples": samples,
        }
        if self.jetson_state:
            data["jetson"] = dict(self.jetson_state)
        if self.notes:
            data["notes"] = list(self.notes)
        return data
