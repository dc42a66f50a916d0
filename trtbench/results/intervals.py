"""Confidence intervals of a median, and of a ratio of two medians, from raw samples.

The median's interval is distribution-free: the order statistics ``x(k)`` and ``x(n-k+1)`` bracket
the true median with probability ``1 - 2 P(B <= k-1)``, ``B ~ Binomial(n, 1/2)``, whatever the
distribution of the samples, as long as they are independent. The samples are therefore the
units of a measurement (its loops, each a block of inferences), not the iterations inside a
loop, which share the loop's conditions. Below 6 samples no pair reaches 95 %: the interval is
then the whole range, with the coverage it has (75 % for 3 loops), and says so. Loops are not
independent either where the machine's speed wanders over seconds (a VM's neighbours, a migrated
thread): their autocorrelation time τ, in time order, makes them count as n / τ samples, and
the ranks are those of that many (`loop_interval`).

A ratio of two medians (a speedup between two runs) has no such exact interval; it is
bootstrapped, resampling each run's samples on its own, with a fixed seed so a report is the same
every time it is rendered.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np

LEVEL = 0.95
RESAMPLES = 2000
EXACT_UP_TO = 2000  # sample counts above this use the normal approximation of the binomial


@dataclass(frozen=True)
class Interval:
    """``[low, high]`` around an estimate, covering the true value with probability `level`."""

    low: float
    high: float
    level: float
    n: int = 0  # the independent samples it came from

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def half_width(self, centre: float) -> float:
        """The larger distance from `centre` to an end, relative to `centre` (0.02: ±2 %)."""
        if centre == 0 or not math.isfinite(centre):
            return math.inf
        return max(centre - self.low, self.high - centre) / abs(centre)

    def to_list(self) -> List[float]:
        return [self.low, self.high]


def _binomial_cdf(k: int, n: int) -> float:
    """P(B <= k) for B ~ Binomial(n, 1/2)."""
    if k < 0:
        return 0.0
    if n > EXACT_UP_TO:  # normal approximation with continuity correction
        return 0.5 * (1.0 + math.erf((k + 0.5 - n / 2.0) / math.sqrt(n / 4.0) / math.sqrt(2.0)))
    return float(sum(math.comb(n, i) for i in range(k + 1))) / 2.0 ** n


def median_ranks(n: int, level: float = LEVEL) -> "tuple[int, int, float]":
    """0-based ranks ``(lo, hi)`` of the order statistics bracketing the median and their coverage:
    the narrowest symmetric pair covering at least `level`, or the whole range when none does."""
    if n < 1:
        raise ValueError("no samples")
    best = (0, n - 1, 1.0 - 2.0 * 0.5 ** n)  # the whole range
    if n > EXACT_UP_TO:  # start near the normal-theory rank and step outwards
        k = max(1, int(n / 2.0 - 1.96 * math.sqrt(n) / 2.0) - 2)
    else:
        k = 1
    while k <= n // 2:
        coverage = 1.0 - 2.0 * _binomial_cdf(k - 1, n)
        if coverage < level:
            break
        best = (k - 1, n - k, coverage)
        k += 1
    return best


MAX_RHO = 0.95  # beyond this a series is one slow wander: a handful of effective samples at most


def _autocorrelations(values: Sequence[float]) -> List[float]:
    """ρ_1, ρ_2, … (up to a quarter of the series) of finite values in time order; empty below 4
    values or without spread."""
    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data)]
    if data.size < 4:
        return []
    centred = data - data.mean()
    variance = float(np.dot(centred, centred))
    if variance <= 0:
        return []
    return [float(np.dot(centred[:-lag], centred[lag:])) / variance for lag in range(1, max(2, data.size // 4))]


def lag1_autocorrelation(values: Sequence[float]) -> float:
    """The lag-1 autocorrelation of a series in time order, clamped to [0, MAX_RHO] (0 below 4
    values): how much each loop resembles the one before."""
    rhos = _autocorrelations(values)
    return min(max(rhos[0], 0.0), MAX_RHO) if rhos else 0.0


def autocorrelation_time(values: Sequence[float]) -> float:
    """The integrated autocorrelation time τ = 1 + 2 Σ ρ_k of a series in time order, summed over
    lags until the autocorrelation falls below 0.05 (or a quarter of the series): how many
    neighbouring values are worth one independent one. 1 for independent values; (1+ρ)/(1-ρ)
    for an AR(1) series; more where a machine's speed wanders slowly (long memory)."""
    tau = 1.0
    for rho in _autocorrelations(values):
        if rho < 0.05:
            break
        tau += 2.0 * rho
    return tau


def effective_samples(n: int, tau: float) -> float:
    """Independent samples worth as much as `n` with autocorrelation time `tau`."""
    return max(1.0, n / max(tau, 1.0))


def median_interval(values: Sequence[float], level: float = LEVEL,
                    n_eff: Optional[float] = None) -> Optional[Interval]:
    """The distribution-free interval of the median of `values` (see the module docstring);
    None for no values. `n_eff` below the count (correlated samples): the ranks of `n_eff`
    independent samples, at the same quantiles of these."""
    data = np.sort(np.asarray(values, dtype=float))
    data = data[np.isfinite(data)]
    if data.size == 0:
        return None
    n = int(data.size)
    if n_eff is None or n_eff >= n:
        lo, hi, coverage = median_ranks(n, level)
        return Interval(float(data[lo]), float(data[hi]), coverage, n)
    m = max(1, int(math.floor(n_eff)))
    lo_m, hi_m, coverage = median_ranks(m, level)
    lo = int(math.floor(lo_m * n / m))
    hi = min(n - 1, int(math.ceil((hi_m + 1) * n / m)) - 1)
    return Interval(float(data[lo]), float(data[hi]), coverage, n)


def loop_interval(per_loop: Sequence[float], level: float = LEVEL) -> "tuple[Optional[Interval], float]":
    """The interval of the median over loops in time order, and their lag-1 autocorrelation.

    Loops are not independent where the machine's speed wanders over seconds (a VM's
    neighbours, a migrated thread): on the 2-core development VM, neighbouring 0.1 s loops
    correlate at 0.6-0.96, and loops 2 s apart still at 0.8. The loops then count as n / τ
    independent ones (τ: `autocorrelation_time`) and the ranks are those of that many, at the
    same quantiles: on an AR(1) series with ρ = 0.8 this keeps 95 % coverage where the plain
    ranks give about 60 % (and a moving-block bootstrap of the median, tried, 75 %).
    """
    return (median_interval(per_loop, level, effective_samples(len(per_loop), autocorrelation_time(per_loop))),
            lag1_autocorrelation(per_loop))


def _bootstrap_medians(values: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    picks = rng.integers(0, values.size, size=(resamples, values.size))
    return np.median(values[picks], axis=1)


def ratio_interval(numerator: Sequence[float], denominator: Sequence[float], level: float = LEVEL,
                   resamples: int = RESAMPLES, seed: int = 0) -> Optional[Interval]:
    """A percentile-bootstrap interval of median(numerator) / median(denominator), each resampled on
    its own; None when either side is empty or a median is not positive. With one sample on a side
    that side is fixed (its spread is unknown), so the interval is too narrow: callers say so."""
    a = np.asarray(numerator, dtype=float)
    b = np.asarray(denominator, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size == 0 or b.size == 0 or np.median(a) <= 0 or np.median(b) <= 0:
        return None
    rng = np.random.default_rng(seed)
    ratios = _bootstrap_medians(a, resamples, rng) / _bootstrap_medians(b, resamples, rng)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(ratios, [tail, 1.0 - tail])
    return Interval(float(low), float(high), level, int(min(a.size, b.size)))


def from_list(value: object, level: float = LEVEL) -> Optional[Interval]:
    """An interval stored in a record as ``[low, high]``; None for anything else."""
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value):
        low, high = float(value[0]), float(value[1])
        return Interval(min(low, high), max(low, high), level)
    return None


def mean_interval(values: Sequence[float], level: float = LEVEL, resamples: int = 1000,
                  seed: int = 0) -> Optional[Interval]:
    """A percentile-bootstrap interval of the mean of `values` (a layer's time over profiled runs,
    which is reported as a mean); None for no values."""
    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data)]
    if data.size == 0:
        return None
    if data.size == 1:
        return Interval(float(data[0]), float(data[0]), 0.0, 1)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(resamples, data.size))].mean(axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return Interval(float(low), float(high), level, int(data.size))


def _round(pair: List[float]) -> List[float]:
    return [float(f"{v:.6g}") for v in pair]


def headline(loop_ms: Sequence[float], iteration_ms: Sequence[Sequence[float]], iterations: int,
             batch: int, level: float = LEVEL) -> Optional[Dict[str, Any]]:
    """Intervals of a run's ms per batch and throughput: of the median over its loops (the figure
    reported), or, for a single loop, of the mean over its iterations; None without times."""
    rho = 0.0
    if len(loop_ms) >= 2 and iterations > 0:
        found, rho = loop_interval([t / iterations for t in loop_ms], level)
        unit = "loop"
    else:
        flat = [t for loop in iteration_ms for t in loop]
        found = mean_interval(flat, level) if len(flat) >= 2 else None
        unit = "iteration"
    if found is None or found.low <= 0:
        return None
    return {"level": round(found.level, 4), "n": found.n, "unit": unit, "autocorrelation": round(rho, 3),
            "end_to_end_ms": _round(found.to_list()),
            "tiles_per_ms": _round([batch / found.high, batch / found.low]),
            "images_per_s": _round([1000.0 * batch / found.high, 1000.0 * batch / found.low])}


def profiled(per_run: Mapping[str, Sequence[float]], categories: Mapping[str, str],
             level: float = LEVEL) -> Dict[str, Any]:
    """Intervals of each layer's and each category's mean ms over the profiled runs, from each
    layer's time in each run (`per_run`: layer name → ms per run; `categories`: layer → category)."""
    layers: Dict[str, List[float]] = {}
    sums: Dict[str, np.ndarray] = {}
    runs = 0
    for name, times in per_run.items():
        found = mean_interval(times, level)
        if found is not None:
            layers[name] = _round(found.to_list())
        category = categories.get(name)
        data = np.asarray(times, dtype=float)
        if category is None or data.size == 0:
            continue
        runs = max(runs, int(data.size))
        total = sums.get(category)
        if total is None or total.size != data.size:  # a layer seen in fewer runs: sum the common ones
            size = data.size if total is None else min(total.size, data.size)
            total = (np.zeros(size) if total is None else total[:size])
            data = data[:size]
        sums[category] = total + data
    cats = {c: _round(i.to_list()) for c, i in ((c, mean_interval(v.tolist(), level)) for c, v in sums.items())
            if i is not None}
    return {"profile_runs": runs, "categories": cats, "layers": layers}


def end_to_end(record: Any) -> Optional[Interval]:
    """The interval of a record's ms per batch: stored, or computed from its loops (older records)."""
    stored = record.intervals or {}
    found = from_list(stored.get("end_to_end_ms"), float(stored.get("level") or LEVEL))
    if found is not None:
        return Interval(found.low, found.high, found.level, int(stored.get("n") or 0))
    data = headline(record.loop_ms, record.iteration_ms, record.iterations, record.batch)
    if data is None:
        return None
    return Interval(data["end_to_end_ms"][0], data["end_to_end_ms"][1], data["level"], data["n"])


def samples_per_batch(record: Any) -> List[float]:
    """A record's independent samples of ms per batch: each loop's (or, with one loop, each
    iteration's), for intervals of ratios between runs."""
    if len(record.loop_ms) >= 2 and record.iterations > 0:
        return [t / record.iterations for t in record.loop_ms]
    flat = [t for loop in record.iteration_ms for t in loop]
    return flat or ([record.end_to_end_ms] if record.end_to_end_ms > 0 else [])
