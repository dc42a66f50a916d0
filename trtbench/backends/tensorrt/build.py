"""Building a TensorRT engine for a target: the API driver, the trtexec driver, the metadata JSON.

Which TensorRT call to make is a plain function of the version
(`trtbench.backends.tensorrt.versions.features_for`), tested here without TensorRT; the code that touches ``tensorrt`` (`build_with_api`) stays thin and follows
shared/docs/tensorrt-api.md §2. The trtexec driver runs the command line from
`trtbench.backends.trtexec.flags.build_args` for the version trtexec reports, and keeps its log.

Every engine gets ``<engine>.json`` beside it (`metadata_path`): target, host, whether the host
is the target, versions, compute capability, precision, batch range, build time and the engine
inspector's layer information (what `trtbench profile` uses to categorise layers).
"""
from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from trtbench import __version__
from trtbench.errors import TrtbenchError
from trtbench.device.host import HostInfo
from trtbench.device.targets import Target
from trtbench.backends.tensorrt.versions import TrtFeatures, features_for, precision_flags

METADATA_SCHEMA = "trtbench-engine/1"
TILE_DIMS = (1, 28, 28)


def tensorrt_missing(for_profile: bool = False) -> TrtbenchError:
    """The one-line error for a machine without the TensorRT Python package."""
    other = ("or profile through trtexec with --backend trtexec" if for_profile else
             "or use --driver trtexec, or --emit-script to get a trtexec script for the device")
    return TrtbenchError(
        "the TensorRT Python package is not installed here",
        hint="on a Jetson use JetPack's system package (sudo apt install python3-libnvinfer; a venv needs "
             f"--system-site-packages), on a desktop pip install tensorrt; {other}")


def import_tensorrt() -> Any:
    try:
        import tensorrt
    except ImportError:
        raise tensorrt_missing() from None
    return tensorrt


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


# ---- the model's input -------------------------------------------------------------------------

@dataclass
class ModelInput:
    name: str
    dims: List[Any]  # the first is the batch: an int when fixed, a name/None when dynamic

    @property
    def fixed_batch(self) -> Optional[int]:
        first = self.dims[0] if self.dims else None
        return first if isinstance(first, int) and first > 0 else None


def read_model_input(onnx_path: Path) -> ModelInput:
    """The ONNX model's (single) input, without loading external weights."""
    import onnx

    try:
        model = onnx.load(str(onnx_path), load_external_data=False)
    except Exception as exc:
        raise TrtbenchError(f"{onnx_path} is not a readable ONNX model: {exc}") from None
    initializers = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise TrtbenchError(f"{onnx_path} has {len(inputs)} inputs; trtbench builds single-input classifiers")
    dims: List[Any] = []
    for d in inputs[0].type.tensor_type.shape.dim:
        dims.append(d.dim_value if d.HasField("dim_value") else (d.dim_param or None))
    return ModelInput(inputs[0].name, dims)


def check_batch_range(model_input: ModelInput, batch_range: Tuple[int, int, int], onnx_path: Path) -> None:
    fixed = model_input.fixed_batch
    if fixed is not None and batch_range != (fixed, fixed, fixed):
        raise TrtbenchError(f"{onnx_path} has a fixed batch of {fixed}, so it cannot be built for batches "
                            f"{':'.join(map(str, batch_range))}",
                            hint=f"use --batch-range {fixed}, or export the model with a dynamic batch")


# ---- results and metadata ----------------------------------------------------------------------

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
    input: Optional[ModelInput] = None
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
                  "input": req.input.name if req.input else None,
                  "input_dims": [d if isinstance(d, int) else None for d in (req.input.dims if req.input else [])]},
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
    path.write_text(json.dumps(metadata, indent=2, default=str) + "\n")
    return path


def read_metadata(engine: Path) -> Optional[Dict[str, Any]]:
    """The metadata beside `engine`, or None when there is none (an engine from elsewhere)."""
    path = metadata_path(engine)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise TrtbenchError(f"{path} is not valid JSON ({exc})", hint="delete it or rebuild the engine") from None


# ---- the API driver ----------------------------------------------------------------------------

def build_with_api(req: BuildRequest) -> Tuple[str, float, List[Dict[str, Any]], bool, List[str]]:
    """Build `req.engine` in-process; return (TensorRT version, seconds, layer records, detailed?, notes)."""
    trt = import_tensorrt()
    from trtbench.device.targets import version_tuple

    feats = features_for(version_tuple(trt.__version__))
    log = _logger(trt)
    builder = trt.Builder(log)
    flags = 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH) if feats.explicit_batch_flag else 0
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, log)
    if not parser.parse(req.onnx.read_bytes(), str(req.onnx)):
        errors = [str(parser.get_error(i)) for i in range(parser.num_errors)]
        raise TrtbenchError(f"TensorRT's ONNX parser rejects {req.onnx}: {'; '.join(errors)[:500]}",
                            hint="check the export (opset, dynamic batch); `trtbench build --driver trtexec` "
                                 "shows trtexec's view")
    config = builder.create_builder_config()
    workspace = int(req.workspace_mib) << 20
    if feats.memory_pool_api:
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace)
    else:
        config.max_workspace_size = workspace
    config.profiling_verbosity = getattr(trt.ProfilingVerbosity, feats.verbosity)
    notes: List[str] = []
    if not feats.precision_flags and not req.precision_given and req.precision != "fp32":
        notes.append(f"TensorRT {trt.__version__} takes precision from the ONNX model; built as exported")
        req.precision = "fp32"
    to_set, to_clear = precision_flags(feats, req.precision)
    if req.precision == "int8":
        notes.append("int8 without a calibrator or Q/DQ nodes: layers without dynamic ranges stay in fp16/fp32; "
                     "timings are valid, accuracy is not")
    if "FP16" in to_set and feats.platform_queries and not builder.platform_has_fast_fp16:
        notes.append("this GPU has no fast FP16; TensorRT may keep layers in FP32")
    for name in to_set:
        config.set_flag(getattr(trt.BuilderFlag, name))
    for name in to_clear:
        config.clear_flag(getattr(trt.BuilderFlag, name))
    if req.dla_core is not None:
        config.default_device_type = trt.DeviceType.DLA
        config.DLA_core = int(req.dla_core)
        config.set_flag(trt.BuilderFlag.GPU_FALLBACK)
    model_input = req.input or read_model_input(req.onnx)
    if model_input.fixed_batch is None:
        rest = tuple(int(d) if isinstance(d, int) else TILE_DIMS[i] for i, d in enumerate(model_input.dims[1:]))
        shapes = [(b,) + rest for b in req.batch_range]
        profile = builder.create_optimization_profile()
        profile.set_shape(model_input.name, shapes[0], shapes[1], shapes[2])
        config.add_optimization_profile(profile)
    cache_blob = req.timing_cache.read_bytes() if req.timing_cache and req.timing_cache.is_file() else b""
    config.set_timing_cache(config.create_timing_cache(cache_blob), False)
    start = time.perf_counter()
    plan = builder.build_serialized_network(network, config)
    seconds = time.perf_counter() - start
    if plan is None:
        raise TrtbenchError(f"TensorRT could not build {req.onnx}: {' | '.join(log.errors[-3:]) or 'no error logged'}",
                            hint="try a larger --workspace or another --precision")
    req.engine.write_bytes(bytes(plan))
    if req.timing_cache:
        req.timing_cache.write_bytes(bytes(config.get_timing_cache().serialize()))
    layers, detailed = inspect_engine(trt, bytes(plan), log, feats)
    return str(trt.__version__), seconds, layers, detailed, notes


def inspect_engine(trt: Any, plan: bytes, log: Any, feats: TrtFeatures) -> Tuple[List[Dict[str, Any]], bool]:
    """The engine inspector's layer records (8.2+); ([], False) where there is no inspector."""
    from trtbench.backends.trtexec.parsers import layer_info_from_json

    if not feats.engine_inspector:
        return [], False
    engine = trt.Runtime(log).deserialize_cuda_engine(plan)
    if engine is None or not hasattr(engine, "create_engine_inspector"):
        return [], False
    text = engine.create_engine_inspector().get_engine_information(trt.LayerInformationFormat.JSON)
    info = layer_info_from_json(json.loads(text), "engine inspector")
    return info.layers, info.detailed


def _logger(trt: Any) -> Any:
    class _Log(trt.ILogger):  # type: ignore[misc,name-defined]
        """Keeps error messages for the one-line failure report; prints nothing."""

        def __init__(self) -> None:
            trt.ILogger.__init__(self)
            self.errors: List[str] = []

        def log(self, severity: Any, msg: str) -> None:
            if severity in (trt.ILogger.ERROR, trt.ILogger.INTERNAL_ERROR):
                self.errors.append(str(msg))

    return _Log()


# ---- the trtexec driver ------------------------------------------------------------------------

def build_with_trtexec(req: BuildRequest, trtexec: str = "trtexec") -> Tuple[str, float, List[Dict[str, Any]], bool, List[str], Path]:
    """Build with trtexec; return (version, seconds, layer records, detailed?, notes, log path)."""
    from trtbench.backends.trtexec.flags import build_args, detect_version, find_trtexec, missing_trtexec_hint, version_notes
    from trtbench.backends.trtexec.parsers import parse_layer_info, parse_log

    binary = find_trtexec(trtexec)
    if binary is None:
        raise TrtbenchError("trtexec not found", hint=missing_trtexec_hint())
    version = detect_version(binary)
    model_input = req.input or read_model_input(req.onnx)
    layer_file = req.engine.with_name(req.engine.name + ".layers.json")
    log_path = req.engine.with_name(req.engine.name + ".build.log")
    args = build_args(version, str(req.onnx), str(req.engine), input_name=model_input.name,
                      precision=req.precision, min_batch=req.batch_range[0], opt_batch=req.batch_range[1],
                      max_batch=req.batch_range[2], workspace_mib=req.workspace_mib, dla_core=req.dla_core,
                      timing_cache=str(req.timing_cache) if req.timing_cache else None,
                      layer_info=str(layer_file), trtexec=binary)
    start = time.perf_counter()
    with open(log_path, "w") as handle:
        proc = subprocess.run(args, stdout=handle, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tail = [line for line in log_path.read_text(errors="replace").splitlines() if "[E]" in line or "rror" in line]
        raise TrtbenchError(f"trtexec failed (exit {proc.returncode}): {(tail[-1] if tail else 'see the log')[:300]}",
                            hint=f"full log: {log_path}")
    notes = version_notes(version)
    try:
        parsed = parse_log(log_path)
        seconds = parsed.build_seconds or seconds
    except TrtbenchError:
        pass
    layers: List[Dict[str, Any]] = []
    detailed = False
    if layer_file.is_file():
        info = parse_layer_info(layer_file)
        layers, detailed = info.layers, info.detailed
    return str(version), seconds, layers, detailed, notes, log_path
