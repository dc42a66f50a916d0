"""An engine build: the request, the checks made before building, and the metadata JSON.

Every engine gets ``<engine>.json`` beside it (`metadata_path`): target, host, whether the host
is the target, versions, compute capability, precision, batch range, build time and the engine
inspector's layer information (what `trtbench profile` uses to categorise layers). Both drivers
(the API one in `trtbench.backends.tensorrt.build`, trtexec in `trtbench.backends.trtexec.build`)
take a `BuildRequest` and their result is written the same way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from trtbench import __version__, jsonio
from trtbench.device.host import HostInfo
from trtbench.device.targets import Target
from trtbench.errors import TrtbenchError
from trtbench.models.inputs import ModelInput, fixed_batch

METADATA_SCHEMA = "trtbench-engine/1"

Shape = Tuple[int, ...]


def check_precision(target: Target, precision: str) -> None:
    """Refuse a precision the target has no fast path for (GTX 960 fp16, TX1 int8, ...)."""
    if precision == "fp32":
        return
    peak = target.peak(precision)
    field_ = target.fields.get("peak_fp16_tflops" if precision == "fp16" else "peak_int8_tops")
    slow = precision == "fp16" and peak is not None and target.peak_fp32_tflops and peak < target.peak_fp32_tflops
    if peak is None or slow:
        why = (field_.note if field_ and field_.note else f"{precision} is slower than fp32 there")
        raise TrtbenchError(f"{target.name} ({target.sm}) has no fast {precision}: {why}",
                            hint=f"use --precision {target.default_precision}")


def check_dla(target: Target, dla_core: Optional[int]) -> None:
    if dla_core is None:
        return
    if target.dla_cores == 0:
        raise TrtbenchError(f"{target.name} has no DLA", hint="drop --dla-core")
    if not 0 <= dla_core < target.dla_cores:
        raise TrtbenchError(f"{target.name} has DLA cores 0..{target.dla_cores - 1}, not {dla_core}")


def check_batch_range(inputs: Sequence[ModelInput], batch_range: Tuple[int, int, int], onnx_path: Path) -> None:
    fixed = fixed_batch(inputs)
    if fixed is not None and batch_range != (fixed, fixed, fixed):
        raise TrtbenchError(f"{onnx_path} has a fixed batch of {fixed}, so it cannot be built for batches "
                            f"{':'.join(map(str, batch_range))}",
                            hint=f"use --batch-range {fixed}, or make its batch dynamic first: trtbench export "
                                 f"{onnx_path.name} --dynamic-batch --out {onnx_path.stem}-dyn.onnx")


def profile_shapes(inputs: Sequence[ModelInput], batch_range: Sequence[int],
                   onnx_path: Path) -> Dict[str, Tuple[Shape, Shape, Shape]]:
    """Min, opt and max shapes of each input that has a dynamic dimension, for the optimization
    profile (API driver) and ``--minShapes/--optShapes/--maxShapes`` (trtexec): the batch axis
    takes `batch_range`. Inputs with static shapes get none (trtexec refuses explicit shapes for a
    static model). An open dimension after the batch is refused: an engine needs its size."""
    shapes: Dict[str, Tuple[Shape, Shape, Shape]] = {}
    for model_input in inputs:
        dims = list(model_input.dims)
        if not dims:
            continue  # a scalar input
        if all(isinstance(d, int) and d > 0 for d in dims):
            continue
        open_rest = [i for i, d in enumerate(dims) if i > 0 and not (isinstance(d, int) and d > 0)]
        if open_rest:
            shown = "x".join(str(d) if isinstance(d, int) and d > 0 else (str(d) if d else "?") for d in dims)
            raise TrtbenchError(f"{onnx_path}: input {model_input.name!r} ({shown}) leaves dimension"
                                f"{'s' if len(open_rest) > 1 else ''} {', '.join(map(str, open_rest))} open, "
                                "and an engine needs their sizes",
                                hint="export the model with those sizes fixed (e.g. the image height and width); "
                                     "only the batch may stay dynamic")
        rest = tuple(int(d) for d in dims[1:])
        lo, opt, hi = (int(b) for b in batch_range)
        shapes[model_input.name] = ((lo,) + rest, (opt,) + rest, (hi,) + rest)
    return shapes


@dataclass
class BuildRequest:
    onnx: Path
    engine: Path
    target: Target
    precision: str
    batch_range: Tuple[int, int, int]
    workspace_mib: int
    dla_core: Optional[int] = None
    timing_cache: Optional[Path] = None
    inputs: List[ModelInput] = field(default_factory=list)  # read from the model when empty
    precision_given: bool = True  # False: the target's default, which TensorRT 11 cannot honour


@dataclass
class BuildResult:
    engine: Path
    metadata: Dict[str, Any]
    log: Optional[Path] = None
    notes: List[str] = field(default_factory=list)


def metadata_path(engine: Path) -> Path:
    """``m.tx1.fp16.plan`` → ``m.tx1.fp16.plan.json``."""
    return engine.with_name(engine.name + ".json")


def build_metadata(req: BuildRequest, host: HostInfo, matches: Tuple[bool, str], *, driver: str,
                   tensorrt_version: str, build_seconds: float, layers: List[Dict[str, Any]],
                   detailed: bool, notes: List[str]) -> Dict[str, Any]:
    """The JSON written beside an engine."""
    from trtbench.models.source import sha256_of

    ok, reason = matches
    return {
        "schema": METADATA_SCHEMA,
        "engine": req.engine.name,
        "engine_sha256": sha256_of(req.engine) if req.engine.is_file() else "",
        "model": {"path": str(req.onnx), "sha256": sha256_of(req.onnx) if req.onnx.is_file() else "",
                  "input": req.inputs[0].name if req.inputs else None,
                  "input_dims": [d if isinstance(d, int) else None for d in (req.inputs[0].dims if req.inputs else [])],
                  "inputs": [{"name": i.name, "dims": [d if isinstance(d, int) else None for d in i.dims],
                              "dtype": i.dtype} for i in req.inputs]},
        "target": {"name": req.target.name, "title": req.target.title, "kind": req.target.kind,
                   "compute_capability": req.target.compute_capability},
        "host": host.to_dict(),
        "host_is_target": ok,
        "host_note": reason,
        "driver": driver,
        "versions": {"tensorrt": tensorrt_version, "trtbench": __version__, "jetpack": host.jetpack,
                     "l4t": host.l4t.release if host.l4t else None},
        "compute_capability": host.compute_capability,
        "device_name": host.jetson_model or host.gpu_name,
        "precision": req.precision,
        "batch_range": list(req.batch_range),
        "workspace_mib": req.workspace_mib,
        "dla_core": req.dla_core,
        "timing_cache": str(req.timing_cache) if req.timing_cache else None,
        "built": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "build_seconds": round(build_seconds, 3),
        "layer_info_detailed": detailed,
        "layers": layers,
        "notes": notes,
    }


def write_metadata(engine: Path, metadata: Dict[str, Any]) -> Path:
    path = metadata_path(engine)
    jsonio.write_json(metadata, path)
    return path


def read_metadata(engine: Path) -> Optional[Dict[str, Any]]:
    """The metadata beside `engine`, or None when there is none (an engine from elsewhere)."""
    path = metadata_path(engine)
    if not path.is_file():
        return None
    try:
        data = jsonio.read_json(path, "engine metadata")
    except TrtbenchError as exc:
        raise TrtbenchError(exc.message, hint="delete it or rebuild the engine") from None
    if not isinstance(data, dict):
        raise TrtbenchError(f"engine metadata {path} is not a JSON object", hint="delete it or rebuild the engine")
    return data
