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

import shlex
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from trtbench.device.tensorrt_install import TrtVersion
from trtbench.errors import TrtbenchError

PRECISIONS = ("fp32", "tf32", "fp16", "int8", "best")


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
