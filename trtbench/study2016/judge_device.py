"""The findings about the device: how batch size feeds it (3), its speedup over another device
against what the specifications lead one to expect (6), and its allocator slowing repeated runs (7)."""
from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from trtbench.results.intervals import LEVEL, Interval
from trtbench.results.record import RunRecord
from trtbench.study2016.effects import (CLEAR_LEVEL, RUN_SPREAD_FLOOR, SEED, Bootstrap, Effect,
                                        effect_from_draws, effect_from_spread, median, repeat_spread,
                                        run_spread, spread_figures)
from trtbench.study2016.points import Point, Runs, all_records, loop_ms_per_item, point_at
from trtbench.study2016.verdicts import (DOES_NOT_HOLD, HOLDS, PARTLY, UNTESTED, Finding, not_applicable,
                                         on_cpu)

BATCH_KNEE = 512  # finding 3: the study saw throughput flatten beyond batch 512
BATCH_RISE = 1.2  # finding 3: "rises" is at least +20 % from the smallest batch to the knee
BATCH_FLAT_GAIN = 0.25  # finding 3: "flattens" is less than +25 % from the knee to the best larger batch
# finding 6: the target profiles give peak FLOP/s and peak bandwidth. A network's speedup lies
# between the two peak ratios when both devices reach the same share of their peaks; they do
# not (a Jetson's power mode caps its clock below the peak's, a desktop GPU boosts above it;
# a Jetson's GPU shares its memory with the CPU). The expected band is the two ratios widened by
# this factor of achieved-share difference either way.
PEAK_EFFICIENCY_SPREAD = 1.5


# ---- finding 3 -----------------------------------------------------------------------------------
def batch_flattens(runs: Runs, knee: int = BATCH_KNEE, spread: Optional[float] = None) -> Finding:
    """Judged on a GPU: holds when throughput clearly rises by `BATCH_RISE` from the smallest batch
    to the knee and clearly gains less than `BATCH_FLAT_GAIN` beyond it (medians over the
    networks); partly when it rises but does not clearly flatten; does not hold when it does not
    clearly rise. Not applicable on a CPU."""
    claim = "Throughput rises with batch size and flattens beyond about 512."
    curves: Dict[str, Dict[int, Point]] = {}
    for (m, d, k, n, b) in runs:
        p = point_at(runs, (m, d, k, n, b))
        if p and d == 20 and n == 1024 and (m == 1 or k == 1):
            curves.setdefault(f"c{m}d{d}-f{k}n{n}", {})[b] = p
    curves = {name: c for name, c in curves.items() if len(c) >= 5 and min(c) < knee < max(c)}
    if not curves:
        return Finding(3, claim, UNTESTED, "needs batch-size groups spanning 16..4096")
    curves = {name: c for name, c in curves.items() if knee in c}
    if not curves:
        return Finding(3, claim, UNTESTED, f"needs batch-size groups that include batch {knee}")
    spread = run_spread(runs) if spread is None else spread
    boot = Bootstrap(spread)
    rises, gains, rises_d, gains_d, smallest = [], [], [], [], []
    for name in sorted(curves):
        c = curves[name]
        small = min(c)
        smallest.append(small)
        after = [b for b in sorted(c) if b >= knee]
        draws = {b: boot.point(c[b]) for b in [small, *after]}
        rises.append(c[small].value / c[knee].value)  # tiles/ms at the knee over tiles/ms at the smallest batch
        gains.append(max(c[knee].value / c[b].value for b in after) - 1)
        rises_d.append(draws[small] / draws[knee])
        gains_d.append(np.max([draws[knee] / draws[b] for b in after], axis=0) - 1)
    rise = effect_from_draws(f"tiles/ms at batch {knee} over the smallest batch (median of networks)",
                             median(rises), np.median(np.array(rises_d), axis=0), "x")
    gain = effect_from_draws(f"best gain beyond batch {knee} (median of networks)", median(gains),
                             np.median(np.array(gains_d), axis=0), "fraction")
    measured = (f"median over {len(rises)} networks: tiles/ms at batch {knee} is {rise.text('{:.2f}')}× that at "
                f"batch {min(smallest)}; the best batch above {knee} adds {gain.text('{:.0f}', 100)} %")
    figures = {"rise_to_knee": rise.value, "gain_after_knee": gain.value, "networks": len(rises),
               "rise_interval": rise.interval.to_list() if rise.interval else None,
               "gain_interval": gain.interval.to_list() if gain.interval else None, **spread_figures(runs, spread)}
    if on_cpu(all_records(runs)):
        return not_applicable(3, claim, measured, figures, rise)
    rises_clearly = rise.above(BATCH_RISE)
    if not rises_clearly:
        verdict = DOES_NOT_HOLD  # throughput does not clearly rise: nothing rises, so nothing flattens
        why = f"throughput does not clearly rise by {100 * (BATCH_RISE - 1):.0f} % up to batch {knee}"
    elif gain.below(BATCH_FLAT_GAIN):
        verdict, why = HOLDS, f"it clearly rises, and clearly gains less than {100 * BATCH_FLAT_GAIN:.0f} % beyond"
    else:
        verdict, why = PARTLY, f"it clearly rises, but does not clearly flatten beyond batch {knee}"
    return Finding(3, claim, verdict, f"{measured}: {why}", figures, rise.to_dict())

# ---- finding 6 -----------------------------------------------------------------------------------
def expected_band(compute: Optional[float], bandwidth: Optional[float]) -> Optional[Tuple[float, float]]:
    """The speedup the specifications lead one to expect: between the peak-FLOP/s and the
    bandwidth ratio, widened by `PEAK_EFFICIENCY_SPREAD` either way; None without either."""
    known = [float(v) for v in (compute, bandwidth) if isinstance(v, (int, float)) and v and v > 0]
    if not known:
        return None
    return min(known) / PEAK_EFFICIENCY_SPREAD, max(known) * PEAK_EFFICIENCY_SPREAD


def speedup_effects(a: Sequence[RunRecord], b: Sequence[RunRecord]) -> Dict[str, Any]:
    """B's speedup over A on the (network, batch) points both measured, in total and per category,
    bootstrapped: each point's loops (categories: its runs) resampled and each run's level drawn
    from its side's run-to-run spread. {"total": Effect, "categories": {name: Effect}, "matched": n}."""
    from trtbench.analysis.sweep import by_point

    ca, cb = by_point(a), by_point(b)
    common = sorted(set(ca) & set(cb))
    if not common:
        return {"total": None, "categories": {}, "matched": 0}
    spread_a = max(RUN_SPREAD_FLOOR, repeat_spread(ca.values()) or 0.0)
    spread_b = max(RUN_SPREAD_FLOOR, repeat_spread(cb.values()) or 0.0)
    boot_a, boot_b = Bootstrap(spread_a, seed=SEED), Bootstrap(spread_b, seed=SEED + 1)

    def side(boot: Bootstrap, recs: List[RunRecord], cat: Optional[str]) -> Tuple[float, np.ndarray]:
        if cat is None:
            samples = [v for r in recs for v in loop_ms_per_item(r)]
        else:
            samples = [r.categories.get(cat, 0.0) / r.batch for r in recs]
        mid = float(np.median(samples))
        return mid, (boot.draw(samples, len(recs)) if mid > 0 else np.zeros(boot.n))  # a category one side lacks

    def ratio(cat: Optional[str]) -> Optional[Effect]:
        sa = [side(boot_a, ca[k], cat) for k in common]
        sb = [side(boot_b, cb[k], cat) for k in common]
        ta, tb = sum(v for v, _ in sa), sum(v for v, _ in sb)
        if ta <= 0 or tb <= 0:
            return None
        da, db = np.sum([d for _, d in sa], axis=0), np.sum([d for _, d in sb], axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            draws = np.where(db > 0, da / np.where(db > 0, db, 1.0), np.nan)
        return effect_from_draws(f"speedup ({cat or 'total'})", ta / tb, draws, "x")

    cats = list(dict.fromkeys(c for k in common for r in ca[k] + cb[k] for c in r.categories))
    per_cat = {c: e for c in cats for e in [ratio(c)] if e is not None}
    return {"total": ratio(None), "categories": per_cat, "matched": len(common)}


def _effect_of(entry: Mapping[str, Any], name: str, value: Optional[float]) -> Optional[Effect]:
    """An effect a comparison carries (`effect`: Effect.to_dict()), else one from the run-to-run
    floor for a ratio of two runs."""
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        return None
    data = entry.get("effect") if isinstance(entry, Mapping) else None
    if isinstance(data, Mapping) and data.get("interval") and data.get("decision_interval"):
        lo, hi = data["interval"]
        dlo, dhi = data["decision_interval"]
        if None not in (lo, hi, dlo, dhi):
            return Effect(name, float(value), Interval(lo, hi, float(data.get("level", LEVEL))),
                          Interval(dlo, dhi, float(data.get("decision_level", CLEAR_LEVEL))), "x")
    return effect_from_spread(name, float(value), RUN_SPREAD_FLOOR * math.sqrt(2), "x")


def device_speedup(comparison: Optional[Mapping[str, Any]]) -> Finding:
    """`comparison`: `collect.speedup_summary` (total and per-category speedups of B over A, with
    their effects, and the target profiles' ratios). Holds when the total speedup's decision
    interval lies inside the expected band (`expected_band`), does not hold when it lies outside,
    partly when it reaches across an edge of the band."""
    claim = ("The desktop-over-embedded speedup follows the ratio of the devices' specifications, with "
             "outliers for matrix products and allocation.")
    if not comparison:
        return Finding(6, claim, UNTESTED, "needs runs on two devices (e.g. a Jetson run imported from "
                                           "trtexec and a desktop run): `trtbench compare A B`")
    total_entry = comparison.get("total") or {}
    total = total_entry.get("speedup")
    cat_entries = {c["category"]: c for c in comparison.get("categories", []) if isinstance(c, Mapping)}
    cats = {c: e.get("speedup") for c, e in cat_entries.items()}
    eff = _effect_of(total_entry, "total speedup", total)
    if eff is None or total is None:
        return Finding(6, claim, UNTESTED, "the two sides' runs give no speedup", {"total": total, "categories": cats})
    text = f"overall {total:.2f}×"
    if eff.interval is not None:
        text += f" (95 %: {eff.interval.low:.2f} to {eff.interval.high:.2f})"
    text += "; " + ", ".join(f"{c} {s:.2f}×" for c, s in cats.items() if s)
    expected = comparison.get("expected") or {}
    predicted = comparison.get("predicted_speedup")
    compute, bandwidth = expected.get("compute"), expected.get("bandwidth")
    band = expected_band(compute, bandwidth) if (compute or bandwidth) else expected_band(predicted, None)
    figures: Dict[str, Any] = {"total": total, "categories": cats, "predicted": predicted,
                               "total_interval": eff.interval.to_list() if eff.interval else None}
    if band is None:
        text += "; no target profile gives both devices' specifications, so there is no expected ratio to judge against"
        return Finding(6, claim, UNTESTED, text, figures, eff.to_dict(),
                       "no target profile for one of the devices")
    lo, hi = band
    figures["expected_band"] = [lo, hi]
    ratios = [f"{v:.2f}× ({what})" for what, v in (("peak FP32 FLOP/s", compute), ("memory bandwidth", bandwidth))
              if isinstance(v, (int, float)) and v]
    text += ("; the profiles' peaks give " + (" and ".join(ratios) if ratios else f"{predicted:.2f}×")
             + f", so with the devices reaching different shares of their peaks (up to {PEAK_EFFICIENCY_SPREAD:g}× "
             f"either way) {lo:.2f}× to {hi:.2f}× is expected")
    outliers = []
    for c, entry in cat_entries.items():
        ce = _effect_of(entry, c, entry.get("speedup"))
        if ce is not None and (ce.above(hi) or ce.below(lo)):
            outliers.append(f"{c} ({'above' if ce.above(hi) else 'below'})")
    figures["outliers"] = outliers
    if outliers:
        text += "; clearly outside it: " + ", ".join(outliers)
    if eff.above(lo) and eff.below(hi):
        verdict = HOLDS
    elif eff.below(lo) or eff.above(hi):
        verdict = DOES_NOT_HOLD
        text += "; the overall speedup is clearly outside it"
    else:
        verdict = PARTLY
        text += "; the overall speedup reaches across the band's edge (within the noise of it)"
    return Finding(6, claim, verdict, text, figures, eff.to_dict())


# ---- finding 7 -----------------------------------------------------------------------------------
def sen_slope_interval(series: Sequence[float], level: float) -> Optional[Tuple[float, float, float]]:
    """Theil-Sen slope (per point) and its distribution-free interval at `level` (Sen 1968: the
    ordered pairwise slopes at ranks (N -+ z sqrt(var S)) / 2, var S from Mann-Kendall, no tie
    correction); None below 8 points. Long series are thinned to 2000 points."""
    y = np.asarray([float(v) for v in series], dtype=float)
    y = y[np.isfinite(y)]
    step = max(1, int(math.ceil(y.size / 2000)))
    idx = np.arange(0, y.size, step)
    y = y[idx]
    n = y.size
    if n < 8:
        return None
    i, j = np.triu_indices(n, k=1)
    slopes = np.sort((y[j] - y[i]) / ((j - i) * step))
    total = slopes.size
    c = NormalDist().inv_cdf(0.5 + level / 2) * math.sqrt(n * (n - 1) * (2 * n + 5) / 18.0)
    lo = int(max(0, math.floor((total - c) / 2) - 1))
    hi = int(min(total - 1, math.ceil((total + c) / 2)))
    return float(np.median(slopes)), float(slopes[lo]), float(slopes[hi])


def allocation_drift(report: Optional[Mapping[str, Any]], device: Optional[str] = None) -> Finding:
    """`report`: a `trtbench drift --json` output (DriftReport.to_dict plus ``source``); `device`:
    where it ran (else the report's ``source.device``). The drift analysis already asks for both
    significance (p < its alpha) and size (a change of at least its threshold, 5 %) before it calls
    a part drifting. Judged on a GPU: holds when allocation drifts and explains most of the change,
    partly when it drifts but something else drifts more, does not hold when it does not drift.
    Not applicable on a CPU. The allocation trend is reported with its Sen interval."""
    claim = "Repeated runs slow down through allocation time."
    if not report:
        return Finding(7, claim, UNTESTED, "needs a `trtbench drift` run")
    drift = bool(report.get("drift"))
    drifted = [str(p) for p in report.get("drifted") or []]
    parts = report.get("parts") or {}
    source = report.get("source") or {}
    device = device or source.get("device")

    def slope(name: str) -> str:
        part = parts.get(name) or {}
        value = part.get("slope_pct_per_100")
        return "?" if value is None else f"{value:+.2f} %"
    text = (f"{source.get('loops', '?')} loops with fresh buffers each loop: "
            + (f"drift in {', '.join(drifted)}" if drift else "no drift")
            + f"; trend per 100 loops: total {slope('total')}, allocation {slope('alloc')}, compute {slope('compute')}")
    alloc = parts.get("alloc") or {}
    if alloc.get("median") is not None:
        text += f"; allocation takes {alloc['median']:.3g} ms a loop"
    series = (report.get("series") or {}).get("alloc")
    eff: Optional[Effect] = None
    if isinstance(series, list) and series:
        mid = float(np.median([float(v) for v in series]))
        found = sen_slope_interval(series, LEVEL)
        wide = sen_slope_interval(series, CLEAR_LEVEL)
        if found and wide and mid:
            scale = 100.0 * 100.0 / abs(mid)  # per loop -> % of the median per 100 loops
            eff = Effect("allocation trend", found[0] * scale, Interval(found[1] * scale, found[2] * scale, LEVEL),
                         Interval(wide[1] * scale, wide[2] * scale, CLEAR_LEVEL), "% per 100 loops")
            text += f"; allocation trend {eff.text('{:+.2f}')} % per 100 loops"
    figures: Dict[str, Any] = {"drift": drift, "drifted": drifted,
                               "alloc_trend_interval": eff.interval.to_list() if eff and eff.interval else None}
    if device == "cpu":
        return not_applicable(7, claim, text, figures, eff)
    if drift and drifted and drifted[0] == "alloc":
        verdict = HOLDS
    elif drift and "alloc" in drifted:
        verdict = PARTLY
    else:
        verdict = DOES_NOT_HOLD
    return Finding(7, claim, verdict, text, figures, eff.to_dict() if eff else {})
