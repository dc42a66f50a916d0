"""The API build driver: a TensorRT engine built in-process with the tensorrt Python package.

Which TensorRT call to make is a plain function of the version
(`trtbench.backends.tensorrt.versions.features_for`), tested without TensorRT; the code that
touches ``tensorrt`` (`build_with_api`) stays thin and follows shared/docs/tensorrt-api.md §2.
Every decision that needs no TensorRT object (features, precision flags, the model's inputs and
the optimization profile) is made before the builder exists, so a refused request costs nothing.
"""
from __future__ import annotations

import json
import time
from typing import Any, Dict, List, Tuple

from trtbench.backends.tensorrt.engine import BuildRequest, Shape, profile_shapes
from trtbench.backends.tensorrt.logger import keeping_logger
from trtbench.backends.tensorrt.versions import BuildChoice, TrtFeatures, build_choice, features_for
from trtbench.errors import TrtbenchError
from trtbench.models.inputs import read_model_inputs

ProfileShapes = Dict[str, Tuple[Shape, Shape, Shape]]


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


def build_with_api(req: BuildRequest) -> Tuple[str, float, List[Dict[str, Any]], bool, List[str]]:
    """Build `req.engine` in-process; return (TensorRT version, seconds, layer records, detailed?, notes).

    One optimization profile holds every input with a dynamic dimension (the batch axis takes
    `req.batch_range`); `req.precision` becomes the precision the engine is built as, and
    `req.inputs` the model's inputs when it was empty."""
    trt = import_tensorrt()
    from trtbench.device.targets import version_tuple

    feats = features_for(version_tuple(trt.__version__))
    choice = build_choice(feats, req.precision, given=req.precision_given, dla_core=req.dla_core)
    req.inputs = req.inputs or read_model_inputs(req.onnx)  # the metadata lists them
    shapes = profile_shapes(req.inputs, req.batch_range, req.onnx)
    model = req.onnx.read_bytes()
    cache_blob = req.timing_cache.read_bytes() if req.timing_cache and req.timing_cache.is_file() else b""
    req.precision = choice.precision
    log = keeping_logger(trt)
    plan, cache, seconds, notes = _build_plan(trt, feats, req, choice, shapes, model, cache_blob, log)
    req.engine.write_bytes(plan)
    if req.timing_cache:
        req.timing_cache.write_bytes(cache)
    layers, detailed = inspect_engine(trt, plan, log, feats, str(req.engine))
    return str(trt.__version__), seconds, layers, detailed, list(choice.notes) + notes


def _build_plan(trt: Any, feats: TrtFeatures, req: BuildRequest, choice: BuildChoice, shapes: ProfileShapes,
                model: bytes, cache_blob: bytes, log: Any) -> Tuple[bytes, bytes, float, List[str]]:
    """(plan, timing cache, build seconds, notes). The builder objects are released before this
    returns, in the order that leaves none pointing at a freed one: parser, network, config, builder."""
    builder: Any = None
    network: Any = None
    parser: Any = None
    config: Any = None
    try:
        builder = trt.Builder(log)
        flags = 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH) if feats.explicit_batch_flag else 0
        network = builder.create_network(flags)
        parser = trt.OnnxParser(network, log)
        if not parser.parse(model, str(req.onnx)):
            errors = [str(parser.get_error(i)) for i in range(parser.num_errors)] or log.errors
            reason = _one_line("; ".join(errors))[:500]
            raise TrtbenchError(f"TensorRT's ONNX parser rejects {req.onnx}: {reason}",
                                hint="check the export (opset, dynamic batch); `trtbench build --driver "
                                     "trtexec` shows trtexec's view")
        config = builder.create_builder_config()
        notes = _configure(trt, feats, builder, config, req, choice, shapes)
        config.set_timing_cache(config.create_timing_cache(cache_blob), False)
        start = time.perf_counter()
        serialized = builder.build_serialized_network(network, config)
        seconds = time.perf_counter() - start
        if serialized is None:
            raise TrtbenchError(f"TensorRT could not build {req.onnx}: {log.reason()}",
                                hint="try a larger --workspace or another --precision")
        plan = bytes(serialized)
        serialized = None
        cache = bytes(config.get_timing_cache().serialize()) if req.timing_cache else b""
        return plan, cache, seconds, notes
    finally:
        parser = None
        network = None
        config = None
        builder = None


def _configure(trt: Any, feats: TrtFeatures, builder: Any, config: Any, req: BuildRequest,
               choice: BuildChoice, shapes: ProfileShapes) -> List[str]:
    """Workspace, verbosity, precision flags, DLA and the optimization profile; the notes to show."""
    notes: List[str] = []
    workspace = int(req.workspace_mib) << 20
    if feats.memory_pool_api:
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace)
    else:
        config.max_workspace_size = workspace
    config.profiling_verbosity = getattr(trt.ProfilingVerbosity, feats.verbosity)
    if "FP16" in choice.set_flags and feats.platform_queries and not builder.platform_has_fast_fp16:
        notes.append("this GPU has no fast FP16; TensorRT may keep layers in FP32")
    for name in choice.set_flags:
        config.set_flag(getattr(trt.BuilderFlag, name))
    for name in choice.clear_flags:
        config.clear_flag(getattr(trt.BuilderFlag, name))
    if req.dla_core is not None:  # build_choice refused it where the version has no DLA
        config.default_device_type = trt.DeviceType.DLA
        config.DLA_core = int(req.dla_core)
        config.set_flag(trt.BuilderFlag.GPU_FALLBACK)
    if shapes:
        profile = builder.create_optimization_profile()
        for name, (lo, opt, hi) in shapes.items():
            profile.set_shape(name, lo, opt, hi)
        config.add_optimization_profile(profile)
    return notes


def inspect_engine(trt: Any, plan: bytes, log: Any, feats: TrtFeatures,
                   engine_path: str = "the engine") -> Tuple[List[Dict[str, Any]], bool]:
    """The engine inspector's layer records (8.2+); ([], False) where the version has no inspector."""
    from trtbench.backends.tensorrt.layer_info import layer_info_from_json

    if not feats.engine_inspector:
        return [], False
    runtime = trt.Runtime(log)
    engine = runtime.deserialize_cuda_engine(plan)
    if engine is None:
        raise TrtbenchError(f"TensorRT built {engine_path} but cannot load it back to inspect its layers: "
                            f"{log.reason()}",
                            hint="rebuild it; if it fails again, build with --driver trtexec")
    inspector = engine.create_engine_inspector()
    try:
        text = inspector.get_engine_information(trt.LayerInformationFormat.JSON)
    finally:
        inspector = None
        engine = None
        runtime = None
    info = layer_info_from_json(json.loads(text), "engine inspector")
    return info.layers, info.detailed


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
