"""The findings about what a layer costs: a conv layer against FC layers (1), the second conv layer
costing most (2), and FC layers' neuron counts on multiples of 128 (4)."""
from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from trtbench.models.netspec import NetSpec
from trtbench.study2016.effects import (Bootstrap, Effect, effect_from_draws, median, run_spread,
                                        spread_figures)
from trtbench.study2016.points import Runs, all_records, point_at, records_of, relative_loops
from trtbench.study2016.verdicts import (DOES_NOT_HOLD, HOLDS, PARTLY, UNTESTED, Finding, not_applicable,
                                         on_cpu)

CONV_FC_SEVERAL = 2.0  # finding 1: "several FC layers for one conv layer" is at least two
# finding 4: the smallest gap that counts as the study's effect. It changed its neuron counts over
# it (400 neurons beat 200); a few per cent is what any change of matrix shape does anyway.
ALIGN_GAP = 0.05
ALIGN_HOLDS_SHARE = 0.8  # finding 4: holds when this share of off-multiple counts is clearly slower
ALIGN_PARTLY_SHARE = 0.5  # ... partly when at least this share is


def _slopes(xs: Sequence[float], ys: np.ndarray) -> np.ndarray:
    """Least-squares slopes of the columns of `ys` (points x draws) against `xs`."""
    x = np.asarray(xs, dtype=float)
    xc = x - x.mean()
    den = float(np.sum(xc ** 2))
    if den == 0:
        return np.zeros(ys.shape[1:])
    return np.tensordot(xc, ys - ys.mean(axis=0), axes=(0, 0)) / den


def _slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope."""
    return float(_slopes(xs, np.asarray(ys, dtype=float)[:, None])[0])


def _us(effect: Effect) -> str:
    return effect.text("{:.3g}", 1e3)


# ---- finding 1 -----------------------------------------------------------------------------------
def conv_vs_fc(runs: Runs, batch: int = 1024, depth: int = 20, neurons: int = 1024,
               spread: Optional[float] = None) -> Finding:
    """Holds when one conv layer clearly costs at least `CONV_FC_SEVERAL` FC layers (the ratio's
    decision interval lies above it), partly when it clearly costs more than one, else not."""
    claim = ("Convolution layers cost far more than FC layers; several FC layers can be added for "
             "the cost of one convolution layer.")
    fc = [(k, p) for k in range(1, 6) for p in [point_at(runs, (1, depth, k, neurons, batch))] if p]
    conv = [(m, p) for m in range(1, 6) for p in [point_at(runs, (m, depth, 1, neurons, batch))] if p]
    if len(fc) < 2 or len(conv) < 2:
        return Finding(1, claim, UNTESTED, "needs the FC-layers and conv-layers groups at batch %d" % batch)
    spread = run_spread(runs) if spread is None else spread
    boot = Bootstrap(spread)
    fc_d = _slopes([k for k, _ in fc], np.array([boot.point(p) for _, p in fc]))
    conv_d = _slopes([m for m, _ in conv], np.array([boot.point(p) for _, p in conv]))
    fc_cost = _slope([k for k, _ in fc], [p.value for _, p in fc])
    conv_cost = _slope([m for m, _ in conv], [p.value for _, p in conv])
    ratio = conv_cost / fc_cost if fc_cost > 0 else math.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio_d = np.where(fc_d > 0, conv_d / np.where(fc_d > 0, fc_d, 1.0), np.inf)
    eff = effect_from_draws("conv layers bought per FC layer (ratio of marginal costs)", ratio, ratio_d, "x")
    conv_e = effect_from_draws("conv layer", conv_cost, conv_d, "ms/tile")
    fc_e = effect_from_draws("FC layer", fc_cost, fc_d, "ms/tile")
    if eff.above(CONV_FC_SEVERAL):
        verdict, why = HOLDS, f"clearly above {CONV_FC_SEVERAL:g}"
    elif eff.above(1.0):
        verdict, why = PARTLY, f"clearly above 1, not clearly above {CONV_FC_SEVERAL:g}"
    else:
        verdict, why = DOES_NOT_HOLD, "not clearly above 1" if eff.straddles(1.0) else "clearly below 1"
    return Finding(1, claim, verdict,
                   f"an extra conv layer (depth {depth}) costs {_us(conv_e)} µs/tile, an extra FC layer "
                   f"({neurons} neurons) {_us(fc_e)} µs/tile at batch {batch}: one conv layer buys "
                   f"{eff.text('{:.2g}')} FC layers, {why}",
                   {"conv_us_per_tile": conv_cost * 1e3, "fc_us_per_tile": fc_cost * 1e3, "ratio": ratio,
                    "ratio_interval": eff.interval.to_list() if eff.interval else None, **spread_figures(runs, spread)},
                   eff.to_dict())


# ---- finding 2 -----------------------------------------------------------------------------------
def second_conv_costs_most(runs: Runs, batch: int = 1024, depth: int = 20, neurons: int = 1024,
                           spread: Optional[float] = None) -> Finding:
    """Holds when layer 2's added cost clearly exceeds every later layer's and no later layer
    clearly costs more than the one before it; partly when layer 2 clearly costs most but a later
    layer clearly costs more than the one before it, or when layer 2 ties with the next within
    the noise while later layers clearly cost less (layer 3 over layer 5); does not hold when a
    later layer clearly costs more than layer 2, or when it all is flat within the noise."""
    claim = "The second convolution layer costs most; later ones cost less as the tile shrinks."
    points = [point_at(runs, (m, depth, 1, neurons, batch)) for m in range(1, 6)]
    found = [p for p in points if p is not None]
    if len(found) < 5:
        return Finding(2, claim, UNTESTED, f"needs conv layers 1..5 at depth {depth}, batch {batch}")
    spread = run_spread(runs) if spread is None else spread
    boot = Bootstrap(spread)
    totals_d = np.array([boot.point(p) for p in found])
    steps_d = np.diff(totals_d, axis=0)  # cost of conv layer 2..5
    steps = list(np.diff([p.value for p in found]))
    step_e = [effect_from_draws(f"conv layer {i + 2}", steps[i], steps_d[i], "ms/tile") for i in range(4)]
    lead = effect_from_draws("layer 2 over the costliest later layer", steps[0] - max(steps[1:]),
                             steps_d[0] - steps_d[1:].max(axis=0), "ms/tile")
    later = [effect_from_draws(f"layer {i + 3} over layer {i + 4}", steps[i + 1] - steps[i + 2],
                               steps_d[i + 1] - steps_d[i + 2], "ms/tile") for i in range(2)]
    rising = [f"layer {i + 4}" for i, e in enumerate(later) if e.below(0.0)]
    shrink = effect_from_draws("layer 3 over layer 5", steps[1] - steps[3], steps_d[1] - steps_d[3], "ms/tile")
    if lead.above(0.0):
        verdict = PARTLY if rising else HOLDS
        why = "layer 2 clearly costs most" + (f", but {', '.join(rising)} clearly cost more than the layer before"
                                              if rising else "; no later layer clearly costs more than the one before")
    elif lead.below(0.0):
        verdict, why = DOES_NOT_HOLD, "a later layer clearly costs more than layer 2"
    elif shrink.above(0.0):
        verdict = PARTLY
        why = "layer 2 is not clearly the costliest (within the noise of the next), later layers clearly cost less"
    else:
        verdict = DOES_NOT_HOLD
        why = "layer 2 is not clearly the costliest and later layers do not clearly cost less: within the noise, flat"
    text = ", ".join(f"layer {i + 2}: {_us(e)}" for i, e in enumerate(step_e))
    return Finding(2, claim, verdict,
                   f"added µs/tile per conv layer at depth {depth}, batch {batch}: {text}; layer 2 minus the "
                   f"costliest later one: {_us(lead)} µs/tile: {why}",
                   {"added_us_per_tile": [s * 1e3 for s in steps],
                    "added_us_interval": [[v * 1e3 for v in e.interval.to_list()] if e.interval else None for e in step_e],
                    "lead_us_per_tile": lead.value * 1e3, **spread_figures(runs, spread)},
                   lead.to_dict())

# ---- finding 4 -----------------------------------------------------------------------------------
def neurons_multiple_of_128(runs: Runs, batch: int = 1024, spread: Optional[float] = None) -> Finding:
    """Each off-multiple neuron count's FC efficiency (FLOPs per ms of FC time) is compared with the
    line between the multiples of 128 either side of it (interpolated in log2 N, same number of
    FC layers). A count is clearly slower when the gap's decision interval lies below 0 and the
    gap is at least `ALIGN_GAP`. Judged on a GPU: holds when `ALIGN_HOLDS_SHARE` of the counts are
    clearly slower, partly when `ALIGN_PARTLY_SHARE` are. Not applicable on a CPU."""
    claim = "FC layers are faster when the neuron count is a multiple of 128."
    # (fc_layers, neurons) -> (FC FLOPs per batch, FC ms samples, runs)
    by_kn: Dict[Tuple[int, int], Tuple[float, List[float], int]] = {}
    for (m, d, k, n, b), value in runs.items():
        recs = [r for r in records_of(value) if r.categories.get("fc")]
        if m != 1 or d != 20 or b != batch or not recs:
            continue
        spec = recs[0].model.get("spec") or {}
        fc_flops = sum(g.flops for g in NetSpec.from_dict(spec).layers() if g.kind == "fc") * batch
        samples = [r.categories["fc"] * rel for r in recs for rel in relative_loops(r)]
        by_kn[(k, n)] = (fc_flops, samples, len(recs))

    def gflops(kn: Tuple[int, int]) -> float:
        flops, samples, _ = by_kn[kn]
        return flops / (float(np.median(samples)) / 1e3) / 1e9

    multiples = {kn: gflops(kn) for kn in by_kn if kn[1] % 128 == 0}
    others = {kn: gflops(kn) for kn in by_kn if kn[1] % 128}
    if not multiples or not others:
        return Finding(4, claim, UNTESTED, "needs neuron counts both on and off multiples of 128 "
                                           "(models/study-neurons.toml)")
    spread = run_spread(runs) if spread is None else spread
    boot = Bootstrap(spread)
    draws: Dict[Tuple[int, int], np.ndarray] = {}

    def eff_draws(kn: Tuple[int, int]) -> np.ndarray:
        if kn not in draws:
            flops, samples, n_runs = by_kn[kn]
            draws[kn] = flops / (boot.draw(samples, n_runs) / 1e3) / 1e9
        return draws[kn]

    # an off-multiple count against the multiples on either side of it, interpolated in log2(N):
    # larger layers run more efficiently anyway, so the comparison must be at the same size
    gaps: Dict[int, Effect] = {}
    gap_draws = []
    for (k, n) in sorted(others):
        below = [mn for (mk, mn) in multiples if mk == k and mn < n]
        above = [mn for (mk, mn) in multiples if mk == k and mn > n]
        if not below or not above:
            continue
        lo, hi = max(below), min(above)
        w = (math.log2(n) - math.log2(lo)) / (math.log2(hi) - math.log2(lo))
        expected = multiples[(k, lo)] + w * (multiples[(k, hi)] - multiples[(k, lo)])
        expected_d = eff_draws((k, lo)) + w * (eff_draws((k, hi)) - eff_draws((k, lo)))
        d = eff_draws((k, n)) / expected_d - 1
        gap_draws.append(d)
        gaps[n] = effect_from_draws(f"{n} neurons against the line between {lo} and {hi}",
                                    others[(k, n)] / expected - 1, d, "fraction")
    if not gaps:
        return Finding(4, claim, UNTESTED, "needs off-multiple neuron counts between two measured multiples of 128")

    def kind(e: Effect) -> str:
        if e.below(0.0) and e.value <= -ALIGN_GAP:
            return "slower"
        if e.above(0.0) and e.value >= ALIGN_GAP:
            return "faster"
        return "within the noise" if e.straddles(0.0) else f"beyond the noise but under {100 * ALIGN_GAP:.0f} %"

    kinds = {n: kind(e) for n, e in gaps.items()}
    slower = sum(1 for v in kinds.values() if v == "slower")
    share = slower / len(gaps)
    overall = effect_from_draws("median gap of the off-multiple counts", median([e.value for e in gaps.values()]),
                                np.median(np.array(gap_draws), axis=0), "fraction")
    off = {n: v for (k, n), v in sorted(others.items())}
    on = {n: v for (k, n), v in sorted(multiples.items())}
    detail = "; ".join(f"{n}: {v:.3g}" for n, v in off.items())
    detail2 = "; ".join(f"{n}: {v:.3g}" for n, v in on.items())
    measured = (f"FC GFLOP/s off multiples of 128 ({detail}) vs on them ({detail2}); {slower} of {len(gaps)} "
                f"off-multiple counts run clearly (by {100 * ALIGN_GAP:.0f} % or more, beyond the noise) below the line "
                f"between the multiples either side of them ("
                + ", ".join(f"{n}: {gaps[n].text('{:+.1f}', 100)} %, {kinds[n]}" for n in sorted(gaps)) + ")")
    figures = {"off": off, "on": on, "share": share, "gap_pct": {n: 100 * e.value for n, e in gaps.items()},
               "gap_interval_pct": {n: [100 * v for v in e.interval.to_list()] if e.interval else None
                                    for n, e in gaps.items()},
               "gap_kind": kinds, **spread_figures(runs, spread)}
    if on_cpu(all_records(runs)):
        return not_applicable(4, claim, measured, figures, overall)
    verdict = HOLDS if share >= ALIGN_HOLDS_SHARE else PARTLY if share >= ALIGN_PARTLY_SHARE else DOES_NOT_HOLD
    return Finding(4, claim, verdict, measured, figures, overall.to_dict())
