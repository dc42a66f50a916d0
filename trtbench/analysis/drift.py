"""Drift in a series of per-loop times: a monotonic trend, a step, or neither.

The 2016 study saw each successive inference loop get slower, traced it to buffer allocation, and
could only reset it by rebooting. This module decides, from a series alone, whether such drift is
there, how large it is, and (over several series: allocation, compute, transfer, total) which part
drifted.

Two detectors, each needing *both* statistical and practical significance, because on a few
hundred points a rank test flags changes far too small to matter:

- **trend**: the Mann–Kendall test (tie-corrected, normal approximation) with the Theil–Sen slope.
  Drift when p < ``alpha`` and the slope moves the level by at least ``threshold`` of the series
  median over the series' length.
- **step**: the best single split of a piecewise-constant fit (least squares on a winsorised copy of
  the series, so one spike cannot place the split), as in asv's step detection with its 5 %
  default. Drift when the medians either side differ by at least ``threshold`` of the earlier
  level and a Mann–Whitney test between the two sides gives p < ``alpha``.

Everything is numpy; p-values use ``math.erfc``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import numpy as np

MIN_POINTS = 8
_MAX_PAIRS = 200_000  # Theil–Sen: past this many pairs, a fixed random subsample of pairs
DIRECTIONS = ("up", "down", "both")
_PART_ORDER = ("alloc", "compute", "transfer", "fragment", "total")
PART_LABELS = {
    "alloc": "allocation",
    "compute": "compute",
    "transfer": "transfer",
    "fragment": "fragmenting allocations",
    "total": "total",
}


@dataclass
class DriftResult:
    """The finding for one series. Percentages are of the series median (slope) or of the level
    before the step (step); ``change_ms`` is the estimated level change over the series in the
    series' own units (ms for times)."""

    name: str
    n: int
    drift: bool
    kind: str  # "trend", "step", "none", or "too-short" / "constant"
    median: float
    trend_p: float
    trend_z: float
    slope_pct_per_100: float
    step_pct: float
    step_index: Optional[int]  # first index after the step
    before: float  # median before the step
    after: float  # median from the step on
    change_ms: float
    trend_found: bool = False
    step_found: bool = False
    other_way: str = ""  # a change found in the direction not counted, e.g. "a -28.6 % step at loop 5"
    verdict: str = ""

    def to_dict(self) -> Dict[str, Any]:
        return {k: _clean(v) for k, v in asdict(self).items()}


@dataclass
class DriftReport:
    """Findings for several parts of one loop (allocation, compute, transfer, total)."""

    results: Dict[str, DriftResult]
    drift: bool
    drifted: List[str]  # part names, the part that explains most of the change first
    verdict: str
    threshold: float
    alpha: float
    notes: List[str] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        return {
            "drift": self.drift,
            "drifted": list(self.drifted),
            "verdict": self.verdict,
            "threshold_pct": 100.0 * self.threshold,
            "alpha": self.alpha,
            "parts": {name: r.to_dict() for name, r in self.results.items()},
            "notes": list(self.notes),
        }


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# ---- statistics ------------------------------------------------------------------------------
def _normal_p(z: float) -> float:
    """Two-sided p-value of a standard normal statistic."""
    return math.erfc(abs(z) / math.sqrt(2.0))


def _tie_term(values: np.ndarray) -> float:
    _, counts = np.unique(values, return_counts=True)
    t = counts[counts > 1].astype(float)
    return float(np.sum(t * (t - 1) * (2 * t + 5)))


def mann_kendall(y: Sequence[float]) -> "tuple[float, float]":
    """Mann–Kendall trend test: (z, two-sided p). S = Σ sign(y_j - y_i), i < j; the variance
    carries the tie correction; z has the usual continuity correction."""
    x = np.asarray(y, dtype=float)
    n = len(x)
    if n < 3:
        return 0.0, 1.0
    s = 0.0
    for i in range(n - 1):  # O(n) numpy passes keep memory linear for long series
        s += float(np.sign(x[i + 1 :] - x[i]).sum())
    var = (n * (n - 1) * (2 * n + 5) - _tie_term(x)) / 18.0
    if var <= 0:
        return 0.0, 1.0
    z = (s - math.copysign(1.0, s)) / math.sqrt(var) if s != 0 else 0.0
    return z, _normal_p(z)


def theil_sen(y: Sequence[float], seed: int = 0) -> float:
    """Theil–Sen slope (units per index): the median of all pairwise slopes, or of a fixed random
    subsample of pairs for long series."""
    x = np.asarray(y, dtype=float)
    n = len(x)
    if n < 2:
        return 0.0
    if n * (n - 1) // 2 <= _MAX_PAIRS:
        i, j = np.triu_indices(n, k=1)
    else:
        rng = np.random.default_rng(seed)
        i = rng.integers(0, n, _MAX_PAIRS)
        j = rng.integers(0, n, _MAX_PAIRS)
        keep = i != j
        i, j = np.minimum(i[keep], j[keep]), np.maximum(i[keep], j[keep])
    return float(np.median((x[j] - x[i]) / (j - i)))


def mann_whitney_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided Mann–Whitney U test, normal approximation with tie correction."""
    a_arr, b_arr = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    n1, n2 = len(a_arr), len(b_arr)
    if n1 == 0 or n2 == 0:
        return 1.0
    both = np.concatenate([a_arr, b_arr])
    ranks = _ranks(both)
    u = float(ranks[:n1].sum()) - n1 * (n1 + 1) / 2.0
    n = n1 + n2
    _, counts = np.unique(both, return_counts=True)
    ties = float(np.sum(counts.astype(float) ** 3 - counts))
    var = n1 * n2 / 12.0 * ((n + 1) - ties / (n * (n - 1)))
    if var <= 0:
        return 1.0
    z = (u - n1 * n2 / 2.0) / math.sqrt(var)
    return _normal_p(z)


def _ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks (1-based), ties sharing the mean rank."""
    order = np.argsort(values, kind="mergesort")
    sorted_vals = values[order]
    ranks = np.empty(len(values), dtype=float)
    start = 0
    n = len(values)
    while start < n:
        end = start
        while end + 1 < n and sorted_vals[end + 1] == sorted_vals[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2.0 + 1.0
        start = end + 1
    return ranks


def best_split(y: Sequence[float], min_size: int) -> Optional[int]:
    """Index k that best splits y into two constant levels y[:k], y[k:] (least squares on a copy
    winsorised at median ± 5 MAD), each side at least `min_size` long; None if too short."""
    x = np.asarray(y, dtype=float)
    n = len(x)
    if n < 2 * min_size:
        return None
    med = float(np.median(x))
    mad = float(np.median(np.abs(x - med))) * 1.4826
    if mad > 0:
        x = np.clip(x, med - 5 * mad, med + 5 * mad)
    c1 = np.cumsum(x)
    c2 = np.cumsum(x * x)
    ks = np.arange(min_size, n - min_size + 1)
    left_n = ks.astype(float)
    right_n = n - left_n
    left_sum = c1[ks - 1]
    right_sum = c1[-1] - left_sum
    # SSE of two constant levels = Σx² − (Σ_left)²/n_left − (Σ_right)²/n_right
    sse = c2[-1] - left_sum**2 / left_n - right_sum**2 / right_n
    return int(ks[int(np.argmin(sse))])


# ---- analysis --------------------------------------------------------------------------------
def analyse(
    series: Sequence[float],
    threshold: float = 0.05,
    alpha: float = 0.01,
    min_slope_pct_per_100: float = 0.0,
    name: str = "total",
    unit: str = "loop",
    direction: str = "both",
) -> DriftResult:
    """Whether `series` (one value per loop, oldest first) drifts.

    `threshold`: the smallest change that matters, as a fraction (0.05 = 5 %) — of the median
    over the whole series for a trend, of the earlier level for a step. `alpha`: the significance
    level for both tests. `min_slope_pct_per_100`: an extra floor on the trend's slope, in % of
    the median per 100 loops (0: the threshold over the series' length is the only floor).
    `unit` names one step of the series in the verdict ("loop", or "run" for a history).
    `direction`: which changes count as drift — "up" (rising: slower, for times), "down", or
    "both". A change the other way is still measured and named in the verdict, not counted.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, not {direction!r}")
    y = np.asarray([float(v) for v in series], dtype=float)
    y = y[np.isfinite(y)]
    n = len(y)
    median = float(np.median(y)) if n else float("nan")
    empty = DriftResult(
        name=name,
        n=n,
        drift=False,
        kind="too-short",
        median=median,
        trend_p=1.0,
        trend_z=0.0,
        slope_pct_per_100=0.0,
        step_pct=0.0,
        step_index=None,
        before=median,
        after=median,
        change_ms=0.0,
    )
    if n < MIN_POINTS:
        empty.verdict = f"{PART_LABELS.get(name, name)}: too few points to judge ({n} < {MIN_POINTS})"
        return empty
    if median == 0 or np.ptp(y) == 0:
        empty.kind = "constant"
        empty.verdict = f"{PART_LABELS.get(name, name)}: constant ({median:g})"
        return empty

    z, p = mann_kendall(y)
    slope = theil_sen(y)
    slope_pct_per_100 = 100.0 * slope * 100.0 / abs(median)
    trend_change = slope * (n - 1)
    trend_found = (
        p < alpha
        and abs(trend_change) >= threshold * abs(median)
        and abs(slope_pct_per_100) >= min_slope_pct_per_100
    )

    min_size = max(5, n // 20)
    k = best_split(y, min_size)
    before = after = median
    step_pct = 0.0
    step_found = False
    if k is not None:
        before, after = float(np.median(y[:k])), float(np.median(y[k:]))
        if before != 0:
            step_pct = 100.0 * (after - before) / abs(before)
        step_found = abs(step_pct) >= 100.0 * threshold and mann_whitney_p(y[:k], y[k:]) < alpha

    kind = "none"
    if trend_found or step_found:
        kind = _better_model(y, k) if (trend_found and step_found) else ("trend" if trend_found else "step")
    ignored = ""
    if direction != "both" and kind != "none":
        sign = 1.0 if direction == "up" else -1.0
        rising = (slope if kind == "trend" else step_pct) > 0
        if rising != (sign > 0):  # the finding goes the way not counted
            ignored = (
                f"a {slope_pct_per_100:+.2f} %/100 {unit}s trend"
                if kind == "trend"
                else f"a {step_pct:+.1f} % step at {unit} {k}"
            )
            trend_found = step_found = False
            kind = "none"
    change = 0.0
    if kind != "none":
        change = trend_change if kind == "trend" else after - before
    result = DriftResult(
        name=name,
        n=n,
        drift=trend_found or step_found,
        kind=kind,
        median=median,
        trend_p=p,
        trend_z=z,
        slope_pct_per_100=slope_pct_per_100,
        step_pct=step_pct,
        step_index=k,
        before=before,
        after=after,
        change_ms=change,
        trend_found=trend_found,
        step_found=step_found,
    )
    result.other_way = ignored
    result.verdict = _verdict(result, unit)
    if ignored:
        result.verdict += f"; {ignored} goes the other way (not counted: direction {direction})"
    return result


def _better_model(y: np.ndarray, k: Optional[int]) -> str:
    """'step' if two constant levels fit better than a straight line, else 'trend'."""
    n = len(y)
    idx = np.arange(n, dtype=float)
    coef = np.polyfit(idx, y, 1)
    line_sse = float(np.sum((y - np.polyval(coef, idx)) ** 2))
    if k is None:
        return "trend"
    step_sse = float(np.sum((y[:k] - y[:k].mean()) ** 2) + np.sum((y[k:] - y[k:].mean()) ** 2))
    return "step" if step_sse < line_sse else "trend"


def _verdict(r: DriftResult, unit: str = "loop") -> str:
    label = PART_LABELS.get(r.name, r.name)
    if not r.drift:
        return (
            f"{label}: no drift (slope {r.slope_pct_per_100:+.2f} %/100 {unit}s, p={r.trend_p:.2g}; "
            f"largest step {r.step_pct:+.1f} %)"
        )
    if r.kind == "step":
        return (
            f"{label}: stepped {r.step_pct:+.1f} % at {unit} {r.step_index} ({r.before:.4g} -> {r.after:.4g})"
        )
    return (
        f"{label}: trend {r.slope_pct_per_100:+.2f} %/100 {unit}s (p={r.trend_p:.2g}), "
        f"{r.change_ms:+.4g} over {r.n} {unit}s"
    )


def analyse_parts(
    parts: Mapping[str, Sequence[float]],
    threshold: float = 0.05,
    alpha: float = 0.01,
    min_slope_pct_per_100: float = 0.0,
    unit: str = "loop",
    direction: Union[str, Mapping[str, str]] = "both",
) -> DriftReport:
    """Analyse each part of a loop (e.g. ``alloc``, ``compute``, ``transfer``, ``total``) and say
    which one drifted. When several drifted, the part whose level changed most in absolute terms
    (ms) comes first: that is the one that explains a drifting total. `direction` is one for all
    parts, or a mapping from part name to direction (missing parts: "both")."""
    if not parts:
        return DriftReport({}, False, [], "nothing to analyse", threshold, alpha)
    names = sorted(parts, key=lambda p: (_PART_ORDER.index(p) if p in _PART_ORDER else len(_PART_ORDER), p))
    results = {
        name: analyse(
            parts[name],
            threshold,
            alpha,
            min_slope_pct_per_100,
            name=name,
            unit=unit,
            direction=direction if isinstance(direction, str) else direction.get(name, "both"),
        )
        for name in names
    }
    drifted = [name for name, r in results.items() if r.drift]
    components = [name for name in drifted if name != "total"]
    components.sort(key=lambda name: -abs(results[name].change_ms))
    ordered = components + (["total"] if "total" in drifted else [])
    notes: List[str] = []
    if not ordered:
        verdict = "no drift: " + "; ".join(r.verdict for r in results.values())
    else:
        lead = results[ordered[0]]
        verdict = "; ".join(results[p].verdict for p in ordered)
        total = results.get("total")
        if total is not None and total.drift and components and lead.change_ms * total.change_ms > 0:
            share = 100.0 * lead.change_ms / total.change_ms
            notes.append(
                f"{PART_LABELS.get(lead.name, lead.name)} accounts for {share:.0f} % of the "
                f"total's change ({lead.change_ms:+.4g} of {total.change_ms:+.4g})"
            )
    return DriftReport(results, bool(ordered), ordered, verdict, threshold, alpha, notes)
