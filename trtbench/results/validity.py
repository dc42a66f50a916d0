"""Is a measurement trustworthy? Named checks over a RunRecord, each with the fix.

Every check trtbench makes is listed in `CHECKS` (name → what it guards against), the way
hyperfine keeps all its warnings in one enum; each warning's message names the flag that fixes
it. The checks over a run's own times are here (`RULES`); those over the device's telemetry
(throttling, clock changes, temperature, Jetson clocks) are made by `trtbench.measure.telemetry.checks`
and an imported trtexec run's by the importer, under the names listed here, and come in as
``extra`` checks.

Verdict: INVALID if any check is invalid, WARN if any warns, else VALID.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

import numpy as np

from trtbench.results.record import Check, RunRecord, Validity

OK, WARN, INVALID = "ok", "warn", "invalid"
VERDICTS = {OK: "VALID", WARN: "WARN", INVALID: "INVALID"}

SPREAD = "spread"
FIRST_ITERATION = "first_iteration"
COLD_START = "cold_start"
PROFILER_OVERHEAD = "profiler_overhead"
TOO_FEW_ITERATIONS = "too_few_iterations"
THROTTLING = "throttling"
CLOCK_CHANGE = "clock-change"
TEMPERATURE = "temperature"
CLOCKS_PINNED = "clocks-pinned"
PROFILED_TIMING = "timing from the profiled run"

CHECKS: Dict[str, str] = {
    SPREAD: "per-iteration times vary too much (coefficient of variation over 5 %)",
    FIRST_ITERATION: "the first timed iteration is an outlier: the warm-up was too short",
    COLD_START: "the first (cold) inference, excluded by the warm-up; reported, never a warning",
    PROFILER_OVERHEAD: "the per-layer sum differs from the unprofiled end-to-end time by over 15 %",
    TOO_FEW_ITERATIONS: "the 95 % confidence interval of the median (over the loops) is wider than the target (±2 %)",
    THROTTLING: "the GPU slowed down (thermal or power slowdown reported by NVML) while timed",
    CLOCK_CHANGE: "the GPU clock moved by over 10 % while busy: clocks are not pinned",
    TEMPERATURE: "the device reached 85 °C: throttling is near",
    CLOCKS_PINNED: "Jetson clocks are not pinned (jetson_clocks) or their state is unknown",
    PROFILED_TIMING: "an imported trtexec run has no unprofiled timing: throughput includes profiler overhead",
}

CV_WARN = 0.05
CV_INVALID = 0.50
OUTLIER_SIGMAS = 10.0  # hyperfine: |x - median| / (1.4826 MAD) over 10 is an outlier
MAD_TO_SIGMA = 1.4826
OVERHEAD_WARN = 0.15
MEDIAN_CI_WARN = 0.02
MIN_SAMPLES = 10


def _samples(record: RunRecord) -> np.ndarray:
    return np.array([t for loop in record.iteration_ms for t in loop], dtype=float)


def check_spread(record: RunRecord) -> Optional[Check]:
    """Per-iteration spread: a warning about the machine (other programs, clocks, threads), never
    a verdict on the figure by itself; the median's interval (`check_sample_size`) says how well
    the figure is known despite it. Invalid only when the spread is huge and the interval wide too."""
    times = _samples(record)
    if times.size < 2 or times.mean() <= 0:
        return None
    cv = float(times.std(ddof=1) / times.mean())
    text = f"per-iteration times vary by {cv:.1%} (coefficient of variation)"
    if cv <= CV_WARN:
        return Check(SPREAD, OK, text)
    fix = "pin clocks, close other programs; on a small CPU --threads 1; a longer --budget narrows the median's interval"
    width = _interval_width(record)
    invalid = cv > CV_INVALID and (width is None or width > CI_INVALID)
    return Check(SPREAD, INVALID if invalid else WARN, f"{text}, over {CV_WARN:.0%}", fix)


def _robust_outlier(value: float, rest: np.ndarray) -> Optional[float]:
    """How many MAD-scaled sigmas `value` lies above the median of `rest` (None: no spread)."""
    median = float(np.median(rest))
    mad = float(np.median(np.abs(rest - median)))
    if mad <= 0:
        mad = max(1e-3 * median, 1e-9)
    return (value - median) / (MAD_TO_SIGMA * mad)


LONG_WARMUP = 1000  # warm-up inferences after which a slow first iteration is no cold start


def check_first_iteration(record: RunRecord) -> Optional[Check]:
    if not record.iteration_ms or len(record.iteration_ms[0]) < 2:
        return None
    first = float(record.iteration_ms[0][0])
    rest = _samples(record)[1:]
    sigmas = _robust_outlier(first, rest)
    median = float(np.median(rest))
    if sigmas is None or sigmas <= OUTLIER_SIGMAS or first <= 1.05 * median:
        return Check(FIRST_ITERATION, OK, "the first timed iteration is in line with the rest")
    if record.warmup >= LONG_WARMUP:  # thousands of warm-up inferences: not a cold start but a one-off
        return Check(FIRST_ITERATION, WARN,
                     f"the first timed iteration took {first:.3g} ms, {first / median:.2f}x the median "
                     f"({median:.3g} ms), after {record.warmup} warm-up inferences: a one-off (the OS, "
                     "another process), not a cold start", "the median ignores one; use --loops 5 to be sure")
    fix = (f"raise --warmup above {record.warmup}" if record.warmup
           else "give a warm-up, e.g. --warmup 10")
    return Check(FIRST_ITERATION, WARN,
                 f"the first timed iteration took {first:.3g} ms, {first / median:.2f}x the median "
                 f"({median:.3g} ms): the warm-up did not reach steady state", fix)


def check_cold_start(record: RunRecord) -> Optional[Check]:
    cold = record.validity.cold_ms
    if cold is None or record.end_to_end_ms <= 0:
        return None
    return Check(COLD_START, OK, f"first (cold) inference {float(cold):.3g} ms, "
                 f"{float(cold) / record.end_to_end_ms:.1f}x the steady state; excluded by the warm-up")


def check_overhead(record: RunRecord) -> Optional[Check]:
    """How far the per-layer shares can be trusted (`trtbench.results.shares.trust`)."""
    from trtbench.results.shares import trust

    if record.overhead is None:
        return None
    overhead = float(record.overhead)
    if abs(overhead) <= OVERHEAD_WARN:
        return Check(PROFILER_OVERHEAD, OK, f"per-layer sum is within {abs(overhead):.0%} of end-to-end: "
                     "shares hold to a few points")
    judged = trust([layer.ms for layer in record.layers], record.end_to_end_ms)
    level = judged.level if judged is not None else "approximate"
    if overhead > 0:
        message = (f"the per-layer sum is {overhead:.0%} above the unprofiled end-to-end time (the profiler "
                   f"slows what it measures): {overhead / (1 + overhead):.0%} of the profiled time is overhead, "
                   f"so the layer shares are {level}")
    else:
        message = (f"the per-layer sum is {-overhead:.0%} below the unprofiled end-to-end time (time outside "
                   f"the profiled layers: launch gaps, framework work): the shares are of the profiled time")
    model = record.model.get("source") or record.model.get("path") or record.model_name  # what resolves again
    fix = (f"trust the timing pass for totals; check the shares with: trtbench ablate {model} "
           f"--batch {record.batch} --backend {record.backend} --device {record.device}, or profile a larger batch")
    return Check(PROFILER_OVERHEAD, WARN, message, fix)


CI_INVALID = 0.10  # a median known only to ±10 % or worse is no figure to compare or fit


def _interval_width(record: RunRecord) -> Optional[float]:
    from trtbench.results.intervals import end_to_end

    found = end_to_end(record)
    return None if found is None else found.half_width(record.end_to_end_ms)


def check_sample_size(record: RunRecord) -> Optional[Check]:
    """How well the median is known: the half-width of its interval over the loops (one loop: over
    its iterations), against the sampling target (±2 % unless asked otherwise)."""
    from trtbench.results.intervals import end_to_end

    times = _samples(record)
    if times.size == 0:
        return None
    more = "drop --loops to sample until the target, or give more --loops" if record.sampling is None or \
        record.sampling.get("mode") != "adaptive" else "raise --budget, or pin clocks and use --threads 1"
    if times.size < MIN_SAMPLES and record.loops < MIN_SAMPLES:
        return Check(TOO_FEW_ITERATIONS, WARN, f"only {times.size} timed iterations; the spread is unknown", more)
    found = end_to_end(record)
    if found is None:
        return None
    width = found.half_width(record.end_to_end_ms)
    target = float((record.sampling or {}).get("target") or MEDIAN_CI_WARN)
    unit = "loops" if record.loops >= 2 else "iterations"
    text = (f"the median is known to ±{width:.1%} ({100 * found.level:.0f} % interval over {found.n} {unit})")
    if found.level < 0.95:
        return Check(TOO_FEW_ITERATIONS, WARN, f"{text}: fewer than 6 independent loops (neighbouring loops "
                     "alike count as fewer), so no 95 % interval exists", more)
    if width <= target + 1e-12:
        return Check(TOO_FEW_ITERATIONS, OK, text)
    status = INVALID if width > CI_INVALID else WARN
    return Check(TOO_FEW_ITERATIONS, status, f"{text}, wider than ±{target:.0%}", more)


RULES = (check_spread, check_first_iteration, check_cold_start, check_overhead, check_sample_size)


def evaluate(record: RunRecord, extra: Sequence[Check] = ()) -> Validity:
    """The record's verdict and checks: VALID, WARN (a check warns) or INVALID (a check is invalid).

    The cold-start time measure.py keeps in ``record.validity`` beforehand is carried over.
    """
    checks: List[Check] = [c for c in (rule(record) for rule in RULES) if c is not None]
    checks.extend(extra)
    statuses = {c.status for c in checks}
    verdict = VERDICTS[INVALID if INVALID in statuses else WARN if WARN in statuses else OK]
    return Validity(verdict, checks, record.validity.cold_ms)
