"""The measurement method: warm-up, an unprofiled timing pass, a separate profiling pass.

1. Warm-up: the first (cold) inference is timed on its own and kept (``validity.cold_ms``); then
   inferences until at least ``MIN_WARMUP`` ran and ``WARMUP_MS`` of inference time passed, or
   exactly ``warmup`` inferences when given.
2. Timing pass, no profiler attached: loops of ``iterations`` inferences of one batch, every
   per-iteration time kept. A loop's time is the sum of its iterations. With the median loop
   time T (ms): ``end_to_end_ms = T / iterations`` (ms per batch) and
   ``tiles_per_ms = batch × iterations / T`` (the study's equation 12). The loops are the
   independent samples: the 95 % interval of the median over them (`trtbench.results.intervals`)
   is kept with the record. By default the pass is adaptive, as pyperf, hyperfine and
   ``torch.utils.benchmark``'s ``blocked_autorange`` decide: a loop lasts about `LOOP_MS`, and
   loops run until the interval's half-width is within `target` (2 %) after at least `MIN_LOOPS`,
   or the `budget_s` (8 s) is spent; ``record.sampling`` says which ended it. ``iterations``
   and ``loops``, when given, fix those counts instead.
3. Profiling pass: per-layer ms per batch from the backend's profiler, averaged over
   ``profile_iterations`` (default: `profiling_iterations`, at least 0.3 s of inference).
   Profiler overhead = (sum of layer ms − end_to_end_ms) / end_to_end_ms; the shares are of the
   layer sum, and the profiler_overhead check says how far they can be trusted (`trtbench
   ablate` checks them). Throughput never comes from this pass.
4. Validity checks (`trtbench.results.validity`) go into ``record.validity``.
"""
from __future__ import annotations

import math
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

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
    """Run the warm-up; return ``{"count": n, "cold_ms": first inference ms or None, "ms": the
    median of the last steady inferences, or None}``."""
    if warmup is not None and warmup <= 0:
        return {"count": 0, "cold_ms": None, "ms": None}
    cold = float(session.run_timed(1)[0])
    count, spent = 1, cold
    if warmup is not None:
        steady = [float(t) for t in session.run_timed(warmup - 1)] if warmup > 1 else []
        return {"count": warmup, "cold_ms": cold, "ms": float(np.median(steady[-50:])) if steady else None}
    last: List[float] = []
    while (count < MIN_WARMUP or spent < WARMUP_MS) and count < MAX_WARMUP:
        step = float(session.run_timed(1)[0])
        spent += step
        count += 1
        last = (last + [step])[-50:]
    return {"count": count, "cold_ms": cold, "ms": float(np.median(last)) if last else None}


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
PROFILE_BASE = 20  # with planned loops (thousands of short inferences) the profile starts from this many


def profiling_iterations(iterations: int, end_to_end_ms: float) -> int:
    """Inferences for the profiling pass when none are asked for: `iterations`, or more for a
    short inference (where the profiler's overhead is highest and per-node times are noisiest),
    up to `MAX_PROFILE_ITERATIONS`, to cover `PROFILE_MS` of inference."""
    if end_to_end_ms <= 0:
        return iterations
    return max(iterations, min(MAX_PROFILE_ITERATIONS, int(math.ceil(PROFILE_MS / end_to_end_ms))))


TARGET = 0.02  # half-width of the median's 95 % interval the adaptive pass aims at
LOOP_MS = 100.0  # a loop's planned length: long enough to average out scheduler blips
MIN_LOOPS = 10  # below 10 samples the interval is the range, too wide to end on
MIN_SECONDS = 4.0  # a machine's speed wanders over seconds: time at least this much inference before ending
MAX_LOOPS = 1000


def iterations_for(per_inference_ms: float, loop_ms: float = LOOP_MS) -> int:
    """Inferences in a loop of about `loop_ms`."""
    if per_inference_ms <= 0 or not math.isfinite(per_inference_ms):
        return 1
    return int(max(1, min(MAX_TIMED // MAX_LOOPS, round(loop_ms / per_inference_ms))))


def adaptive_pass(session: Session, iterations: int, loops: Optional[int] = None, target: float = TARGET,
                  budget_s: float = 8.0, clock: Callable[[], float] = time.perf_counter
                  ) -> "tuple[List[List[float]], Dict[str, Any]]":
    """Loops of `iterations` inferences until the median's interval (widened for the loops'
    autocorrelation) is a 95 % one within ±`target`, after at least `MIN_LOOPS` loops and
    `MIN_SECONDS` of inference; or until `budget_s` is spent, or `MAX_LOOPS` ran; exactly `loops`
    when given.
    Returns the per-iteration times and the sampling record (what ended it)."""
    from trtbench.results.intervals import loop_interval

    times: List[List[float]] = []
    start = clock()
    ended = "fixed" if loops is not None else "max-loops"
    while len(times) < (loops if loops is not None else MAX_LOOPS):
        times.append([float(t) for t in session.run_timed(iterations)])
        if loops is not None:
            continue
        per_loop = [sum(loop) for loop in times]
        if len(times) >= MIN_LOOPS and sum(per_loop) / 1000.0 >= min(MIN_SECONDS, budget_s / 2) and \
                len(times) % max(1, len(times) // 20) == 0:  # a check every ~5 % more loops: ~1 % of the time
            found, _ = loop_interval(per_loop)
            if found is not None and found.level >= 0.95 and \
                    found.half_width(float(np.median(per_loop))) <= target:
                ended = "precision"
                break
        if clock() - start >= budget_s and len(times) >= 2:
            ended = "budget"
            break
    seconds = clock() - start
    sampling = {"mode": "fixed" if loops is not None else "adaptive", "ended_by": ended,
                "target": None if loops is not None else target, "budget_s": None if loops is not None else budget_s,
                "seconds": round(seconds, 3), "loop_ms": None}
    return times, sampling


def measure(session: Session, model: ModelSource, batch: int, iterations: Optional[int] = None,
            loops: Optional[int] = None, warmup: Optional[int] = None, profile: bool = True,
            profile_iterations: Optional[int] = None, extra_checks: Sequence[Check] = (), telemetry: Any = "auto",
            target: float = TARGET, budget_s: Optional[float] = None) -> RunRecord:
    """Measure one batch size on a loaded session and return the complete `RunRecord`.

    `iterations` None: as many as make a loop of about `LOOP_MS`; `loops` None: adaptive, until
    the median is known to ±`target` or `budget_s` is spent (the module docstring; None:
    `trtbench.env.budget_s`, 8 s unless TRTBENCH_BUDGET says otherwise).

    `telemetry`: "auto" samples the device during the timing pass where a source exists (NVML for
    CUDA, tegrastats on a Jetson; nothing on a plain CPU), None turns it off, or a telemetry source
    (tests). The samples go to ``record.telemetry`` and their checks (throttling, clock changes,
    unpinned Jetson clocks) into the record's verdict.
    """
    if (iterations is not None and iterations < 1) or (loops is not None and loops < 1):
        raise TrtbenchError(f"--iterations and --loops must be at least 1 (got {iterations} and {loops})")
    if budget_s is None:
        from trtbench import env

        budget_s = env.budget_s()
    if not 0 < target < 1 or not budget_s > 0:
        raise TrtbenchError(f"the interval target must be above 0 % and below 100 % and the budget above 0 s "
                            f"(got {100 * target:g} % and {budget_s:g} s)")
    session.set_batch(batch)
    warm = warm_up(session, warmup)
    planned = iterations is None
    if iterations is None:
        iterations = iterations_for(warm["ms"] if warm["ms"] else float(session.run_timed(1)[0]))
    from trtbench.measure.sampler import Sampler, auto_source

    source = auto_source(str(session.device)) if telemetry == "auto" else telemetry
    with Sampler(source) as sampler:
        iteration_ms, sampling = adaptive_pass(session, iterations, loops, target, budget_s)
    if planned:
        sampling["loop_ms"] = LOOP_MS
    loops = len(iteration_ms)
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
        sampling=sampling,
    )
    from trtbench.results import intervals

    record.intervals = intervals.headline(loop_ms, iteration_ms, iterations, batch)
    if profile:
        base = min(iterations, PROFILE_BASE) if planned else iterations
        result = session.profile(profile_iterations or profiling_iterations(base, median_loop / iterations))
        record.layers = result.layers
        record.finish_layers()
        if result.per_run and record.intervals is not None:
            record.intervals.update(intervals.profiled(result.per_run, {x.name: x.category for x in record.layers}))
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
