"""trtexec versions and command lines: the right flags for each TensorRT release.

trtexec treats unknown flags as fatal (it prints its help and fails), and its flags changed
across releases (see the flag table in docs/trtexec.md), so every command line is generated for
one `TrtVersion`:

- 7.x–8.2: ``--workspace=N`` (MiB) and ``--explicitBatch``; 8.2's default workspace is 16 MiB.
- 8.4–9.x: ``--memPoolSize=workspace:N`` (MiB); ``--explicitBatch`` is a deprecated no-op.
- 10.x: ``--workspace``, ``--buildOnly`` and ``--explicitBatch`` are unknown options;
  ``--skipInference`` replaces ``--buildOnly`` (from 8.6).
- 11.x: no ``--fp16``/``--int8`` (precision comes from the strongly typed ONNX model), and CUDA
  graphs, spin-wait and no-data-transfers are the defaults, so trtbench pins the 8.x behaviour
  with ``--noCudaGraph --noSpinWait --includeDataTransfers``.

Versions are compared numerically (TREx compared strings, so "8.6.1" < "10.0" was False).
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from trtbench.errors import TrtbenchError

JETSON_TRTEXEC = "/usr/src/tensorrt/bin/trtexec"
PRECISIONS = ("fp32", "tf32", "fp16", "int8", "best")

_DOTTED = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")
_BANNER = re.compile(r"TensorRT\s+v(\d{4,6})\b")
_VERSION_LINE = re.compile(r"TensorRT version:\s*([0-9.]+)")


@dataclass(frozen=True, order=True)
class TrtVersion:
    """A TensorRT release; ordered numerically, so ``TrtVersion(8, 6, 1) < TrtVersion(10, 0, 0)``."""

    major: int
    minor: int
    patch: int = 0

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    def at_least(self, major: int, minor: int = 0) -> bool:
        return (self.major, self.minor) >= (major, minor)

    @classmethod
    def from_code(cls, code: int) -> "TrtVersion":
        """The integer library version: 8001 → 8.0.1 (major·1000 + minor·100 + patch up to 9.x),
        101601 → 10.16.1 (major·10000 + minor·100 + patch from 10.0)."""
        if code >= 10000:
            return cls(code // 10000, (code // 100) % 100, code % 100)
        return cls(code // 1000, (code // 100) % 10, code % 100)

    @classmethod
    def parse(cls, text: str) -> "TrtVersion":
        """Read a version from "8.2.1", "10.16", "8001", "v8201", "v101601 [b11]",
        "TensorRT version: 10.16.1" or a whole trtexec banner line."""
        s = str(text).strip()
        m = _VERSION_LINE.search(s)
        if m:
            s = m.group(1)
        m = _BANNER.search(s)
        if m:
            return cls.from_code(int(m.group(1)))
        bare = s[1:] if s[:1] in ("v", "V") else s
        if bare.isdigit() and len(bare) >= 4:
            return cls.from_code(int(bare))
        m = _DOTTED.search(bare)
        if m:
            return cls(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))
        raise TrtbenchError(f"cannot read a TensorRT version from {text!r}",
                            hint="give it as MAJOR.MINOR[.PATCH], e.g. 8.2.1")


def find_trtexec(trtexec: str = "trtexec") -> Optional[str]:
    """The trtexec binary: `trtexec` as given (a path or a name on PATH), else JetPack's
    /usr/src/tensorrt/bin/trtexec, which is not on PATH by default. None when absent."""
    if os.sep in trtexec:
        return trtexec if os.access(trtexec, os.X_OK) else None
    found = shutil.which(trtexec)
    if found:
        return found
    if trtexec == "trtexec" and os.access(JETSON_TRTEXEC, os.X_OK):
        return JETSON_TRTEXEC
    return None


def missing_trtexec_hint() -> str:
    return (f"install TensorRT (JetPack ships it at {JETSON_TRTEXEC}; on a desktop it is in the "
            "TensorRT tar/deb package's bin/) and put trtexec on PATH")


def detect_version(trtexec: str = "trtexec") -> TrtVersion:
    """Run ``trtexec --help`` and read the version from its banner
    (``&&&& RUNNING TensorRT.trtexec [TensorRT v8201] ...``)."""
    binary = find_trtexec(trtexec)
    if binary is None:
        raise TrtbenchError(f"trtexec not found ({trtexec!r} is not on PATH nor at {JETSON_TRTEXEC})",
                            hint=missing_trtexec_hint())
    try:
        proc = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TrtbenchError(f"cannot run {binary} --help: {exc}") from None
    text = proc.stdout + "\n" + proc.stderr
    m = _BANNER.search(text) or _VERSION_LINE.search(text)
    if not m:
        raise TrtbenchError(f"{binary} --help printed no TensorRT version banner",
                            hint="check that this is NVIDIA's trtexec")
    return TrtVersion.parse(m.group(0))


# ---- flags ---------------------------------------------------------------------------------

def _shape(input_name: str, batch: int) -> str:
    return f"{input_name}:{int(batch)}x1x28x28"


def _workspace_args(version: TrtVersion, workspace_mib: Optional[int]) -> List[str]:
    if not version.at_least(8, 4):
        # 8.2 defaults to 16 MiB, too small for many tactics; ask for 1 GiB unless told.
        return [f"--workspace={int(workspace_mib or 1024)}"]
    if workspace_mib is None:
        return []
    if version.at_least(10):
        return [f"--memPoolSize=workspace:{int(workspace_mib)}M"]
    return [f"--memPoolSize=workspace:{int(workspace_mib)}"]  # MiB in 8.4–9.x


def _precision_args(version: TrtVersion, precision: str) -> List[str]:
    if precision not in PRECISIONS:
        raise TrtbenchError(f"unknown precision {precision!r}", hint=f"use one of {', '.join(PRECISIONS)}")
    if version.at_least(11):
        if precision in ("fp16", "int8", "best"):
            raise TrtbenchError(
                f"TensorRT {version} trtexec has no --{precision}: networks are strongly typed and "
                "take their precision from the ONNX model",
                hint="export the ONNX model in that precision, or build with TensorRT 10 or older")
        return []
    if precision == "fp32":
        # Ampere and later run "fp32" convolutions as TF32 unless told not to.
        return ["--noTF32"] if version.at_least(7, 2) else []
    if precision == "tf32":
        return []
    return [f"--{precision}"]


def build_args(version: TrtVersion, onnx: str, engine: str, *, input_name: str = "tiles",
               precision: str = "fp32", min_batch: int = 1, opt_batch: int = 1024,
               max_batch: int = 4096, workspace_mib: Optional[int] = None,
               dla_core: Optional[int] = None, timing_cache: Optional[str] = None,
               layer_info: Optional[str] = None, trtexec: str = "trtexec") -> List[str]:
    """The argv (binary first) that builds `engine` from `onnx` with this trtexec version.

    Detailed profiling verbosity is always requested (8.2+), so the engine's layer info carries
    layer types; `layer_info` (an --exportLayerInfo path) is dropped before 8.2, which has none.
    """
    if not (1 <= min_batch <= opt_batch <= max_batch):
        raise TrtbenchError(f"batch range {min_batch}:{opt_batch}:{max_batch} is not min <= opt <= max")
    args = [trtexec, f"--onnx={onnx}", f"--saveEngine={engine}"]
    if not version.at_least(8, 4):
        args.append("--explicitBatch")
    args += [f"--minShapes={_shape(input_name, min_batch)}",
             f"--optShapes={_shape(input_name, opt_batch)}",
             f"--maxShapes={_shape(input_name, max_batch)}"]
    args += _precision_args(version, precision)
    args += _workspace_args(version, workspace_mib)
    if dla_core is not None:
        if precision not in ("fp16", "int8", "best"):
            raise TrtbenchError(f"DLA core {dla_core} needs fp16 or int8, not {precision}",
                                hint="add --precision fp16")
        args += [f"--useDLACore={int(dla_core)}", "--allowGPUFallback"]
    if version.at_least(8, 2):
        args.append("--profilingVerbosity=detailed")
        if layer_info:
            args.append(f"--exportLayerInfo={layer_info}")
    if timing_cache and version.at_least(8, 0):
        args.append(f"--timingCacheFile={timing_cache}")
    args.append("--skipInference" if version.at_least(8, 6) else "--buildOnly")
    return args


def profile_args(version: TrtVersion, engine: str, batch: int, out_dir: str, *,
                 input_name: str = "tiles", iterations: Optional[int] = None,
                 warmup_ms: Optional[int] = None, trtexec: str = "trtexec") -> List[str]:
    """The argv (binary first) that times and profiles `engine` at `batch`, writing
    ``profile.json``, ``times.json`` and (8.2+) ``layers.json`` into `out_dir`.

    A timed run without the profiler comes first and the per-layer run separately
    (``--separateProfileRun``; implied from 11.0). The 8.x defaults are pinned on 11.x.
    """
    out = Path(out_dir)
    args = [trtexec, f"--loadEngine={engine}", f"--shapes={_shape(input_name, batch)}"]
    if iterations is not None:
        args += [f"--iterations={int(iterations)}", "--duration=0"]
    if warmup_ms is not None:
        args.append(f"--warmUp={int(warmup_ms)}")
    if version.at_least(11):
        args += ["--noCudaGraph", "--noSpinWait", "--includeDataTransfers"]
    else:
        args.append("--separateProfileRun")
    args += [f"--exportProfile={out / 'profile.json'}", f"--exportTimes={out / 'times.json'}"]
    if version.at_least(8, 2):
        args.append(f"--exportLayerInfo={out / 'layers.json'}")
    args.append("--dumpProfile")
    return args


def version_notes(version: TrtVersion) -> List[str]:
    """What to know about this version's numbers (for records and emitted scripts)."""
    notes: List[str] = []
    if not version.at_least(8, 4):
        notes.append(f"TensorRT {version}: without --separateProfileRun the performance summary is "
                     "distorted by the profiler's synchronisations; trtbench passes it")
    if not version.at_least(8, 2):
        notes.append(f"TensorRT {version}: no --exportLayerInfo, layers are categorised by name only")
    if version.at_least(11):
        notes.append(f"TensorRT {version}: CUDA graphs, spin-wait and no data transfers are trtexec's "
                     "defaults; trtbench pins them off to stay comparable with 8.x")
    return notes


def format_command(args: Sequence[str]) -> str:
    """A shell-quoted command line."""
    return " ".join(shlex.quote(str(a)) for a in args)


def split_shape(spec: str) -> Tuple[str, List[int]]:
    """``"x:0:4x1x28x28"`` (flag form) or ``"x:0=4x1x28x28"`` (log form) → ``("x:0", [4, 1, 28, 28])``."""
    text = spec.strip()
    name, _, dims = text.rpartition("=" if "=" in text else ":")
    try:
        return name, [int(d) for d in dims.split("x")]
    except ValueError:
        raise TrtbenchError(f"cannot read a shape from {spec!r}", hint="write it as NAME:BxCxHxW") from None
