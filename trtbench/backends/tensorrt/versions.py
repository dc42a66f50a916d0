"""What each TensorRT release offers, as plain functions of its version (no TensorRT needed).

The in-process builder (`trtbench.backends.tensorrt.build`) and runner (`trtbench.backends.tensorrt.session`) make
every version-dependent choice through `features_for`, following the matrix of
shared/docs/tensorrt-api.md §1; the tests cover 8.0, 8.2, 8.4, 8.5, 8.6, 10.x and 11.x here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Tuple

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


def precision_flags(features: TrtFeatures, precision: str) -> Tuple[List[str], List[str]]:
    """(BuilderFlag names to set, names to clear) for `precision`. fp32 clears TF32, which is on by
    default and would make Ampere-or-newer "fp32" convolutions run in TF32."""
    if precision == "fp32":
        return [], ["TF32"]
    if precision not in ("fp16", "int8"):
        raise TrtbenchError(f"unknown precision {precision!r}", hint="use fp32, fp16 or int8")
    if not features.precision_flags:
        raise TrtbenchError(
            f"TensorRT {'.'.join(map(str, features.version))} builds strongly typed networks only: "
            f"{precision} must come from the ONNX model, not a builder flag",
            hint="export the model in that precision (e.g. with ModelOpt AutoCast), or use --precision fp32")
    return (["FP16"] if precision == "fp16" else ["INT8", "FP16"]), []
