"""The trtexec backend: engine plans timed and profiled by NVIDIA's trtexec binary.

For devices where the TensorRT Python bindings are missing or awkward (JetPack 4.x ships Python
3.6; trtexec is at /usr/src/tensorrt/bin/trtexec). `set_batch` runs trtexec once with
`flags.profile_args` (a timed run without the profiler, then a separate profiled run) into a
temporary folder; `run_timed` hands out the per-query GPU compute times of ``--exportTimes``
(running trtexec again when more are asked for than one run gave); `profile` reads
``--exportProfile`` joined with ``--exportLayerInfo`` and categorises each layer.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional

from trtbench.backends.base import LoadOptions, ProfileResult
from trtbench.backends.tensorrt.engine import read_metadata
from trtbench.backends.trtexec.flags import format_command, profile_args, shapes_at
from trtbench.backends.trtexec.parsers import parse_log, parse_times
from trtbench.backends.trtexec.profile import profile_result
from trtbench.device.tensorrt_install import TrtVersion
from trtbench.errors import TrtbenchError
from trtbench.models.source import ModelSource

RUN_TIMEOUT_S = 900
MAX_RUNS_PER_BATCH = 20


class TrtexecSession:
    backend = "trtexec"

    def __init__(self, model: ModelSource, options: LoadOptions, binary: str, version: TrtVersion) -> None:
        self.model = model
        self.device = options.device if options.device != "cpu" else "cuda"
        self.precision = options.precision
        self.binary = binary
        self.version = version
        self.metadata = read_metadata(Path(model.path)) or {}
        self.inputs = list((self.metadata.get("model") or {}).get("inputs") or [])
        if not self.inputs and (self.metadata.get("model") or {}).get("input"):  # metadata before inputs lists
            meta = self.metadata["model"]
            self.inputs = [{"name": meta["input"], "dims": meta.get("input_dims") or []}]
        dla = self.metadata.get("dla_core")
        self.dla_core: Optional[int] = int(dla) if isinstance(dla, int) else options.extra.get("dla_core")
        self.warmup_ms = options.extra.get("warmup_ms")
        self.workdir = Path(tempfile.mkdtemp(prefix="trtbench-trtexec-"))
        self.batch: Optional[int] = None
        self._last = self.workdir
        self.runs = 0
        self._times: List[float] = []
        self._cursor = 0
        self._device_name = ""

    # ---- one trtexec run -----------------------------------------------------------------
    def command(self, batch: int, out_dir: Path) -> List[str]:
        return profile_args(self.version, str(self.model.path), str(out_dir), shapes=shapes_at(self.inputs, batch),
                            warmup_ms=self.warmup_ms, dla_core=self.dla_core, trtexec=self.binary)

    def _run(self) -> Path:
        assert self.batch is not None
        self.runs += 1
        if self.runs > MAX_RUNS_PER_BATCH:
            raise TrtbenchError(f"trtexec ran {MAX_RUNS_PER_BATCH} times for batch {self.batch} without giving "
                                "enough timed queries", hint="lower --iterations or --loops")
        out = self.workdir / f"batch{self.batch}-run{self.runs}"
        out.mkdir(parents=True, exist_ok=True)
        args = self.command(self.batch, out)
        try:
            proc = subprocess.run(args, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise TrtbenchError(f"cannot run {format_command(args)}: {exc}") from None
        log = out / "run.log"
        log.write_text(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            tail = [line for line in (proc.stdout + proc.stderr).split("\n") if "[E]" in line][-1:]
            raise TrtbenchError(f"trtexec failed for batch {self.batch} (exit {proc.returncode})"
                                + (f": {tail[0].strip()}" if tail else ""), hint=f"see {log}")
        parsed = parse_log(log)
        if parsed.batch is not None and parsed.batch != self.batch:
            raise TrtbenchError(f"trtexec ran {self.model.path} at batch {parsed.batch}, not {self.batch}: "
                                + ("the engine has a fixed batch" if not shapes_at(self.inputs, self.batch) or
                                   not self.inputs else "it ignored the shapes"),
                                hint=f"use --batch {parsed.batch}" if self.inputs else
                                "build the engine with trtbench build (its metadata names the inputs), or "
                                f"use --batch {parsed.batch}")
        compute = parse_times(out / "times.json").compute_ms
        if not self.version.at_least(8, 5) and parsed.warmup_queries and parsed.warmup_queries < len(compute):
            compute = compute[parsed.warmup_queries:]  # up to 8.4 the file starts with the warm-up queries
        self._times.extend(compute)
        self._device_name = self._device_name or parsed.device.name
        return out

    # ---- Session protocol ----------------------------------------------------------------
    def set_batch(self, batch: int) -> None:
        if batch < 1:
            raise TrtbenchError(f"batch {batch} must be at least 1")
        self.batch, self.runs, self._times, self._cursor = batch, 0, [], 0
        self._last = self._run()

    def run_timed(self, iterations: int) -> List[float]:
        if self.batch is None:
            raise TrtbenchError("set_batch must come before run_timed")
        while len(self._times) - self._cursor < iterations:
            self._run()
        taken = self._times[self._cursor:self._cursor + iterations]
        self._cursor += iterations
        return taken

    def profile(self, iterations: int) -> ProfileResult:
        """The profiled run of the last trtexec call (trtexec chose its iteration count)."""
        if self.batch is None:
            raise TrtbenchError("set_batch must come before profile")
        return profile_result(self._last, on_dla=self.dla_core is not None)

    def info(self) -> Dict[str, Any]:
        return {"backend_version": str(self.version), "device_name": self._device_name, "trtexec": self.binary,
                "trtexec_runs": self.runs}

    def close(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)


