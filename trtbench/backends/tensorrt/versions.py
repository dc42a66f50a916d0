"""What each TensorRT release offers, as plain functions of its version (no TensorRT needed).

The in-process builder (`trtbench.backends.tensorrt.build`) and runner (`trtbench.backends.tensorrt.session`) make
every version-dependent choice through `features_for`, following the matrix of
shared/docs/tensorrt-api.md §1; the tests cover 8.0, 8.2, 8.4, 8.5, 8.6, 10.x and 11.x here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

from trtbench.errors import TrtbenchError


@dataclass(frozen=True)
class TrtFeatures:
    """The API choices for one TensorRT release (shared/docs/tensorrt-api.md §1)."""

    version: Tuple[int, ...]
    explicit_batch_flag: bool  # create_network(1 << EXPLICIT_BATCH): needed before 10, gone in 11
    memory_pool_api: bool  # set_memory_pool_limit (8.4+) instead of max_workspace_size (removed in 10)
    verbosity: str  # ProfilingVerbosity member for per-layer detail: VERBOSE (8.0), DETAILED (8.2+)
    precision_flags: bool  # BuilderFlag.FP16/INT8 exist (removed in 11: strongly typed networks)
    platform_queries: bool  # builder.platform_has_fast_fp16/int8 (removed in 11)
    engine_inspector: bool  # engine.create_engine_inspector (8.2+)
    async_profile_report: bool  # ctx.enqueue_emits_profile / report_to_profiler (8.2+)
    tensor_api: bool  # num_io_tensors, set_input_shape, set_tensor_address (8.5+)
    execute: str  # "v3" (execute_async_v3, 8.5+) or "v2" (execute_async_v2 with bindings)
    profiler_exception_aborts: bool  # an exception in report_layer_time kills the process (8.0, 8.2)
    optimization_level: bool  # config.builder_optimization_level (8.6+)
    user_memory_context: str  # "strategy" (10+: USER_MANAGED) or "without_device_memory"
    dla: bool  # DLA builds possible (not in 11.0-11.3)


def features_for(version: Tuple[int, ...]) -> TrtFeatures:
    """The API choices for TensorRT `version` (a tuple like (8, 2, 1))."""
    v = tuple(version) + (0, 0)
    mm = (v[0], v[1])
    return TrtFeatures(
        version=tuple(version),
        explicit_batch_flag=mm < (10, 0),
        memory_pool_api=mm >= (8, 4),
        verbosity="DETAILED" if mm >= (8, 2) else "VERBOSE",
        precision_flags=mm < (11, 0),
        platform_queries=mm < (11, 0),
        engine_inspector=mm >= (8, 2),
        async_profile_report=mm >= (8, 2),
        tensor_api=mm >= (8, 5),
        execute="v3" if mm >= (8, 5) else "v2",
        profiler_exception_aborts=mm < (8, 4),
        optimization_level=mm >= (8, 6),
        user_memory_context="strategy" if mm >= (10, 0) else "without_device_memory",
        dla=not ((11, 0) <= mm < (11, 4)),
    )


PRECISIONS = ("fp32", "tf32", "fp16", "int8", "best")


@dataclass(frozen=True)
class BuildChoice:
    """What both build drivers (API and trtexec, and `--emit-script`) do for one request: the
    precision the engine is built and labelled as, the BuilderFlag names to set and clear (the
    trtexec flags follow from them), and what the user should know."""

    precision: str
    set_flags: Tuple[str, ...]
    clear_flags: Tuple[str, ...]
    notes: Tuple[str, ...] = ()


def _dotted(features: TrtFeatures) -> str:
    return ".".join(map(str, features.version))


def build_choice(features: TrtFeatures, precision: str, *, given: bool = True,
                 dla_core: Optional[int] = None) -> BuildChoice:
    """The precision, flags and DLA rules for one build, the same for every driver.

    - fp32 clears TF32 (on by default; Ampere and newer would run "fp32" convolutions in TF32),
      also on 11.x, whose BuilderFlag.TF32 and trtexec --noTF32 remain; tf32 keeps it.
    - 11.x builds strongly typed networks (no FP16/INT8 flags): a reduced precision the user asked
      for is refused; the target's default one falls back to the model as exported, labelled fp32.
    - DLA: not on 11.0-11.3; with precision flags (before 11) it needs fp16 or int8, the only
      types the DLA runs; GPU fallback is always on.
    """
    if precision not in PRECISIONS:
        raise TrtbenchError(f"unknown precision {precision!r}", hint=f"use one of {', '.join(PRECISIONS)}")
    notes: List[str] = []
    if not features.precision_flags and precision not in ("fp32", "tf32"):
        if given:
            raise TrtbenchError(
                f"TensorRT {_dotted(features)} builds strongly typed networks only: {precision} must come "
                "from the ONNX model, not a builder flag",
                hint="export the model in that precision (e.g. with ModelOpt AutoCast), or use --precision fp32")
        notes.append(f"TensorRT {_dotted(features)} takes precision from the ONNX model: built as exported "
                     f"(labelled fp32; for {precision}, export the ONNX model in {precision})")
        precision = "fp32"
    if dla_core is not None:
        if not features.dla:
            raise TrtbenchError(f"TensorRT {_dotted(features)} cannot build for the DLA (11.0 to 11.3 have no "
                                "DLA support)", hint="build with TensorRT 10.x (JetPack 6) or 11.4 and later, "
                                                     "or drop --dla-core")
        if features.precision_flags and precision not in ("fp16", "int8", "best"):
            raise TrtbenchError(f"DLA core {dla_core} runs fp16 or int8 only, not {precision}",
                                hint="add --precision fp16 (or int8)")
        if not features.precision_flags:
            notes.append("DLA with a strongly typed network: layers whose types the DLA cannot run "
                         "(fp32) fall back to the GPU")
    if precision == "fp32":
        return BuildChoice("fp32", (), ("TF32",), tuple(notes))
    if precision == "tf32":
        return BuildChoice("tf32", (), (), tuple(notes))
    if precision == "int8":
        notes.append("int8 without a calibrator or Q/DQ nodes: layers without dynamic ranges stay in "
                     "fp16/fp32; timings are valid, accuracy is not")
    flags = {"fp16": ("FP16",), "int8": ("INT8", "FP16"), "best": ("FP16", "INT8")}[precision]
    return BuildChoice(precision, flags, (), tuple(notes))
