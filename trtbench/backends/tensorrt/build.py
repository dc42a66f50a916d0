"""The API build driver: a TensorRT engine built in-process with the tensorrt Python package.

Which TensorRT call to make is a plain function of the version
(`trtbench.backends.tensorrt.versions.features_for`), tested without TensorRT; the code that
touches ``tensorrt`` (`build_with_api`) stays thin and follows shared/docs/tensorrt-api.md §2.
"""
from __future__ import annotations

import json
import time
from typing import Any, Dict, List, Tuple

from trtbench.backends.tensorrt.engine import TILE_DIMS, BuildRequest
from trtbench.backends.tensorrt.versions import TrtFeatures, features_for, precision_flags
from trtbench.errors import TrtbenchError
from trtbench.models.inputs import read_model_input


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


# ---- the model's input -------------------------------------------------------------------------


# ---- results and metadata ----------------------------------------------------------------------


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

