"""The measurement method: warm-up, an unprofiled timing pass, a separate profiling pass.

1. Warm-up: the first (cold) inference is timed on its own and kept (``validity.cold_ms``); then
   inferences until at least ``MIN_WARMUP`` ran and ``WARMUP_MS`` of inference time passed, or
   exactly ``warmup`` inferences when given.
2. Timing pass, no profiler attached: ``loops`` × ``iterations`` inferences of one batch, every
   per-iteration time kept. A loop's time is the sum of its iterations. With the median loop
   time T (ms): ``end_to_end_ms = T / iterations`` (ms per batch) and
   ``tiles_per_ms = batch × iterations / T`` (the study's equation 12).
3. Profiling pass: per-layer ms per batch from the backend's profiler, averaged over
   ``profile_iterations`` (default: `profiling_iterations`, at least 0.3 s of inference).
   Profiler overhead = (sum of layer ms − end_to_end_ms) / end_to_end_ms; the shares are of the
   layer sum, and the profiler_overhead check says how far they can be trusted (`trtbench
   ablate` checks them). Throughput never comes from this pass.
4. Validity checks (`trtbench.results.validity`) go into ``record.validity``.
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from trtbench.backends.base import Session
from trtbench.device.host import cpu_model, fingerprint
from trtbench.errors import TrtbenchError
from trtbench.models.source import ModelSource
from trtbench.results import validity
from trtbench.results.record import Check, RunRecord, Telemetry, Validity

MIN_WARMUP = 3
WARMUP_MS = 500.0
MAX_WARMUP = 10000


def warm_up(session: Session, warmup: Optional[int]) -> Dict[str, Any]:
    """Run the warm-up; return ``{"count": n, "cold_ms": first inference ms or None}``."""
    if warmup is not None and warmup <= 0:
        return {"count": 0, "cold_ms": None}
    cold = float(session.run_timed(1)[0])
    count, spent = 1, cold
    if warmup is not None:
        if warmup > 1:
            session.run_timed(warmup - 1)
        return {"count": warmup, "cold_ms": cold}
    while (count < MIN_WARMUP or spent < WARMUP_MS) and count < MAX_WARMUP:
        step = session.run_timed(1)[0]
        spent += float(step)
        count += 1
    return {"count": count, "cold_ms": cold}


# Bounds on the work asked for: every timed iteration is kept (8 bytes each), and past these a run
# is a typo (--loops 1000000000 would measure for years and fill the memory with its times).
MAX_TIMED = 10_000_000  # iterations x loops
MAX_WARMUP_ASKED = 1_000_000


def check_work(iterations: Optional[int], loops: Optional[int], warmup: Optional[int] = None,
               profile_iterations: Optional[int] = None) -> None:
    """Refuse, before anything runs, counts below 1 (warm-up below 0) or beyond the bounds."""
    for flag, value in (("--iterations", iterations), ("--loops", loops), ("--profile-iterations", profile_iterations)):
        if value is not None and value < 1:
            raise TrtbenchError(f"{flag} must be at least 1, got {value}")
        if value is not None and value > MAX_TIMED:
            raise TrtbenchError(f"{flag} {value:,} is more than the {MAX_TIMED:,} timed iterations trtbench keeps",
                                hint="a few hundred iterations in a few loops give a tight median")
    if iterations is not None and loops is not None and iterations * loops > MAX_TIMED:
        raise TrtbenchError(f"--iterations {iterations:,} x --loops {loops:,} is more than the {MAX_TIMED:,} "
                            "timed iterations trtbench keeps", hint="lower one of them")
    if warmup is not None and not 0 <= warmup <= MAX_WARMUP_ASKED:
        raise TrtbenchError(f"--warmup must be from 0 to {MAX_WARMUP_ASKED:,}, got {warmup}")


PROFILE_MS = 300.0  # the profiling pass averages over at least this much inference, by default
MAX_PROFILE_ITERATIONS = 200


def profiling_iterations(iterations: int, end_to_end_ms: float) -> int:
    """Inferences for the profiling pass when none are asked for: `iterations`, or more for a
    short inference (where the profiler's overhead is highest and per-node times are noisiest),
    up to `MAX_PROFILE_ITERATIONS`, to cover `PROFILE_MS` of inference."""
    if end_to_end_ms <= 0:
        return iterations
    return max(iterations, min(MAX_PROFILE_ITERATIONS, int(math.ceil(PROFILE_MS / end_to_end_ms))))


def timing_pass(session: Session, iterations: int, loops: int) -> List[List[float]]:
    """`loops` lists of `iterations` per-inference times (ms), no profiler attached."""
    return [[float(t) for t in session.run_timed(iterations)] for _ in range(loops)]


def measure(session: Session, model: ModelSource, batch: int, iterations: int = 20, loops: int = 3,
            warmup: Optional[int] = None, profile: bool = True, profile_iterations: Optional[int] = None,
            extra_checks: Sequence[Check] = (), telemetry: Any = "auto") -> RunRecord:
    """Measure one batch size on a loaded session and return the complete `RunRecord`.

    `telemetry`: "auto" samples the device during the timing pass where a source exists (NVML for
    CUDA, tegrastats on a Jetson; nothing on a plain CPU), None turns it off, or a telemetry source
    (tests). The samples go to ``record.telemetry`` and their checks (throttling, clock changes,
    unpinned Jetson clocks) into the record's verdict.
    """
    if iterations < 1 or loops < 1:
        raise TrtbenchError(f"--iterations and --loops must be at least 1 (got {iterations} and {loops})")
    session.set_batch(batch)
    warm = warm_up(session, warmup)
    from trtbench.measure.sampler import Sampler, auto_source

    source = auto_source(str(session.device)) if telemetry == "auto" else telemetry
    with Sampler(source) as sampler:
        iteration_ms = timing_pass(session, iterations, loops)
    samples = sampler.result()
    loop_ms = [sum(loop) for loop in iteration_ms]
    median_loop = float(np.median(loop_ms))
    if median_loop <= 0:
        raise TrtbenchError(f"the {session.backend} timer returned no time for batch {batch}")
    info = dict(session.info())
    record = RunRecord(
        backend=session.backend,
        device=session.device,
        batch=batch,
        precision=session.precision,
        model=model.to_dict(),
        iterations=iterations,
        loops=loops,
        loop_ms=loop_ms,
        iteration_ms=iteration_ms,
        end_to_end_ms=median_loop / iterations,
        tiles_per_ms=batch * iterations / median_loop,
        warmup=int(warm["count"]),
        backend_version=str(info.pop("backend_version", "")),
        device_name=str(info.pop("device_name", "") or (cpu_model() if session.device == "cpu" else "")),
        host=fingerprint(),
        session=info,
    )
    if profile:
        result = session.profile(profile_iterations or profiling_iterations(iterations, median_loop / iterations))
        record.layers = result.layers
        record.finish_layers()
        total = sum(layer.ms for layer in record.layers)
        record.overhead = (total - record.end_to_end_ms) / record.end_to_end_ms
        record.notes.extend(result.notes)
        if result.unknown:
            record.notes.append("names that fell to 'other': " + ", ".join(result.unknown))
    if warm["cold_ms"] is not None:
        record.validity = Validity(cold_ms=warm["cold_ms"])
    device_checks: List[Check] = []
    if samples:
        from trtbench.measure.telemetry import record_checks

        record.telemetry = Telemetry.from_dict(samples)
        device_checks = list(record_checks(samples))
    record.validity = validity.evaluate(record, [*extra_checks, *device_checks])
    return record
