"""trtexec versions and command lines: the right flags for each TensorRT release.

trtexec treats unknown flags as fatal (it prints its help and fails), and its flags changed
across releases (see the flag table in docs/trtexec.md; tests/data/tensorrt/trtexec holds each
release's options as read from its sampleOptions.cpp, and the tests check every flag made here
against them), so every command line is generated for one `TrtVersion`:

- 8.0: ``--workspace=N`` (MiB) and ``--explicitBatch`` (implied for ONNX since 7.2, so only
  passed where it is not yet a deprecated no-op: it already was one in 8.2).
- 8.2: ``--workspace=N``; its default workspace is 16 MiB, so trtbench asks for 1 GiB unless told.
- 8.4–11.x: ``--memPoolSize=workspace:N`` with a bare number, which means MiB in every one of
  them (a unit suffix is not used: 10.0.x applied the ``M`` suffix twice, 1024M became 1 PiB).
- 10.x: ``--workspace``, ``--buildOnly`` and ``--explicitBatch`` are unknown options;
  ``--skipInference`` replaces ``--buildOnly`` (from 8.6).
- 11.x: no ``--fp16``/``--int8`` (precision comes from the strongly typed ONNX model), and CUDA
  graphs, spin-wait and no-data-transfers are the defaults, so trtbench pins the 8.x behaviour
  with ``--noCudaGraph --noSpinWait --includeDataTransfers``.

Precision, TF32 and the DLA rules come from `trtbench.backends.tensorrt.versions.build_choice`, the
one rule the API driver follows too: fp32 means ``--noTF32`` on every version. Shape flags come
from the model (`trtbench.backends.tensorrt.engine.profile_shapes`): only inputs with a dynamic
dimension get them, and a static model none (trtexec refuses explicit shapes for it).

Versions are compared numerically (TREx compared strings, so "8.6.1" < "10.0" was False).
"""
from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from trtbench.backends.tensorrt.versions import PRECISIONS, TrtFeatures, build_choice, features_for
from trtbench.device.tensorrt_install import TrtVersion
from trtbench.errors import TrtbenchError

Shape = Tuple[int, ...]
ProfileShapes = Mapping[str, Tuple[Shape, Shape, Shape]]

__all__ = ["PRECISIONS", "build_args", "profile_args", "shape_spec", "version_notes", "format_command",
           "split_shape"]


# ---- flags ---------------------------------------------------------------------------------

def shape_spec(shapes: Mapping[str, Shape]) -> str:
    """``{"x": (4, 3, 224, 224), "y": (4, 8)}`` → ``x:4x3x224x224,y:4x8`` (trtexec's shape list)."""
    parts = []
    for name, dims in shapes.items():
        if "," in name or not name:
            raise TrtbenchError(f"input name {name!r} cannot be written in a trtexec shape list",
                                hint="rename the model's input (trtexec separates inputs with commas)")
        parts.append(f"{name}:{'x'.join(str(int(d)) for d in dims)}")
    return ",".join(parts)


def _workspace_args(version: TrtVersion, workspace_mib: Optional[int]) -> List[str]:
    if workspace_mib is not None and int(workspace_mib) < 1:
        raise TrtbenchError(f"workspace {workspace_mib} MiB must be at least 1")
    if not version.at_least(8, 4):
        # 8.2 defaults to 16 MiB, too small for many tactics; ask for 1 GiB unless told.
        return [f"--workspace={int(workspace_mib or 1024)}"]
    if workspace_mib is None:
        return []
    return [f"--memPoolSize=workspace:{int(workspace_mib)}"]  # a bare number is MiB in 8.4-11.x


def _features(version: TrtVersion) -> TrtFeatures:
    return features_for(version.parts)


def _precision_args(version: TrtVersion, precision: str, dla_core: Optional[int] = None) -> List[str]:
    """trtexec's flags for `precision` (asked for explicitly), from the rule both drivers share."""
    choice = build_choice(_features(version), precision, dla_core=dla_core)
    args = ["--best"] if precision == "best" else [f"--{f.lower()}" for f in choice.set_flags]
    if "TF32" in choice.clear_flags:
        args.append("--noTF32")
    return args


def build_args(version: TrtVersion, onnx: str, engine: str, *, shapes: Optional[ProfileShapes] = None,
               precision: str = "fp32", workspace_mib: Optional[int] = None,
               dla_core: Optional[int] = None, timing_cache: Optional[str] = None,
               layer_info: Optional[str] = None, trtexec: str = "trtexec") -> List[str]:
    """The argv (binary first) that builds `engine` from `onnx` with this trtexec version.

    `shapes`: min, opt and max shape of each input with a dynamic dimension (none for a static
    model). Detailed profiling verbosity is always requested (8.2+), so the engine's layer info
    carries layer types; `layer_info` (an --exportLayerInfo path) is dropped before 8.2.
    """
    args = [trtexec, f"--onnx={onnx}", f"--saveEngine={engine}"]
    if not version.at_least(8, 2):
        args.append("--explicitBatch")
    if shapes:
        for (name, (lo, opt, hi)) in shapes.items():
            if not all(int(a) <= int(b) <= int(c) for a, b, c in zip(lo, opt, hi)):
                raise TrtbenchError(f"shapes of {name!r} {lo}, {opt}, {hi} are not min <= opt <= max")
        for flag, index in (("--minShapes", 0), ("--optShapes", 1), ("--maxShapes", 2)):
            args.append(f"{flag}={shape_spec({n: s[index] for n, s in shapes.items()})}")
    args += _precision_args(version, precision, dla_core)
    args += _workspace_args(version, workspace_mib)
    if dla_core is not None:
        if int(dla_core) < 0:
            raise TrtbenchError(f"DLA core {dla_core} must be 0 or more")
        args += [f"--useDLACore={int(dla_core)}", "--allowGPUFallback"]
    if version.at_least(8, 2):
        args.append("--profilingVerbosity=detailed")
        if layer_info:
            args.append(f"--exportLayerInfo={layer_info}")
    if timing_cache:
        args.append(f"--timingCacheFile={timing_cache}")
    args.append("--skipInference" if version.at_least(8, 6) else "--buildOnly")
    return args


def profile_args(version: TrtVersion, engine: str, out_dir: str, *, shapes: Optional[Mapping[str, Shape]] = None,
                 iterations: Optional[int] = None, warmup_ms: Optional[int] = None,
                 dla_core: Optional[int] = None, trtexec: str = "trtexec") -> List[str]:
    """The argv (binary first) that times and profiles `engine`, writing ``profile.json``,
    ``times.json`` and (8.2+) ``layers.json`` into `out_dir`.

    `shapes`: the shape of each dynamic input at the batch to run (none for a static engine,
    which runs at its own batch). A timed run without the profiler comes first and the per-layer
    run separately (``--separateProfileRun``; implied from 11.0). The 8.x defaults are pinned on
    11.x. `dla_core`: an engine built for the DLA must be loaded with ``--useDLACore``.
    """
    out = Path(out_dir)
    args = [trtexec, f"--loadEngine={engine}"]
    if shapes:
        args.append(f"--shapes={shape_spec(shapes)}")
    if dla_core is not None:
        args.append(f"--useDLACore={int(dla_core)}")
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


def shapes_at(inputs: Sequence[Mapping[str, Any]], batch: int) -> Dict[str, Shape]:
    """The ``--shapes`` of an engine at `batch`, from the inputs in its build metadata
    (``[{"name": ..., "dims": [None, 3, 224, 224]}]``): only inputs whose batch is dynamic."""
    shapes: Dict[str, Shape] = {}
    for item in inputs:
        dims = list(item.get("dims") or [])
        if not dims or (isinstance(dims[0], int) and dims[0] > 0):
            continue
        rest = dims[1:]
        if not all(isinstance(d, int) and d > 0 for d in rest):
            raise TrtbenchError(f"input {item.get('name')!r} of the engine has open dimensions {dims}",
                                hint="rebuild it from a model whose only dynamic dimension is the batch")
        shapes[str(item.get("name"))] = (int(batch),) + tuple(int(d) for d in rest)
    return shapes


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
