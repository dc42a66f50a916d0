"""The 2016 study's eight findings, each judged from saved runs: what trtbench measured, and
whether the finding holds.

Pure functions over RunRecords (and the training, drift and fit results): no backend, no GPU.
A finding that the data cannot decide (e.g. the device comparison with one device) says so
instead of guessing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from trtbench.models.netspec import NetSpec, parse_name
from trtbench.results.record import RunRecord

HOLDS = "holds"
PARTLY = "partly holds"
DOES_NOT_HOLD = "does not hold"
UNTESTED = "not tested"


@dataclass
class Finding:
    number: int
    claim: str
    verdict: str  # HOLDS, PARTLY, DOES_NOT_HOLD, UNTESTED
    measured: str  # one or two sentences with the numbers
    figures: Dict[str, Any] = field(default_factory=dict)


def _family(record: RunRecord) -> Optional[Dict[str, int]]:
    spec = record.model.get("spec") or {}
    fam = spec.get("family") if isinstance(spec, dict) else None
    return dict(fam) if fam else None


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    return ordered[n // 2] if n % 2 else 0.5 * (ordered[n // 2 - 1] + ordered[n // 2])


def index_runs(records: Iterable[RunRecord]) -> Dict[Tuple[int, int, int, int, int], RunRecord]:
    """Study-family runs by (conv_layers, depth, fc_layers, neurons, batch); the newest wins."""
    table: Dict[Tuple[int, int, int, int, int], RunRecord] = {}
    for rec in sorted(records, key=lambda r: r.created):
        fam = _family(rec)
        if fam:
            table[(fam["conv_layers"], fam["depth"], fam["fc_layers"], fam["neurons"], rec.batch)] = rec
    return table


def _ms_per_tile(runs: Mapping[tuple, RunRecord], key: tuple) -> Optional[float]:
    rec = runs.get(key)
    return rec.ms_per_tile if rec else None


def _slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope."""
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


def conv_vs_fc(runs: Mapping[tuple, RunRecord], batch: int = 1024, depth: int = 20,
               neurons: int = 1024) -> Finding:
    claim = ("Convolution layers cost far more than FC layers; several FC layers can be added for "
             "the cost of one convolution layer.")
    fc_all = [(k, _ms_per_tile(runs, (1, depth, k, neurons, batch))) for k in range(1, 6)]
    conv_all = [(m, _ms_per_tile(runs, (m, depth, 1, neurons, batch))) for m in range(1, 6)]
    fc = [(k, v) for k, v in fc_all if v is not None]
    conv = [(m, v) for m, v in conv_all if v is not None]
    if len(fc) < 2 or len(conv) < 2:
        return Finding(1, claim, UNTESTED, "needs the FC-layers and conv-layers groups at batch %d" % batch)
    fc_cost = _slope([k for k, _ in fc], [v for _, v in fc])
    conv_cost = _slope([m for m, _ in conv], [v for _, v in conv])
    ratio = conv_cost / fc_cost if fc_cost > 0 else float("inf")
    verdict = HOLDS if ratio >= 2 else PARTLY if ratio > 1 else DOES_NOT_HOLD
    return Finding(1, claim, verdict,
                   f"an extra conv layer (depth {depth}) costs {conv_cost * 1e3:.3g} µs/tile, an extra FC layer "
                   f"({neurons} neurons) {fc_cost * 1e3:.3g} µs/tile at batch {batch}: one conv layer buys "
                   f"{ratio:.1f} FC layers",
                   {"conv_us_per_tile": conv_cost * 1e3, "fc_us_per_tile": fc_cost * 1e3, "ratio": ratio})


def second_conv_costs_most(runs: Mapping[tuple, RunRecord], batch: int = 1024, depth: int = 20,
                           neurons: int = 1024) -> Finding:
    claim = "The second convolution layer costs most; later ones cost less as the tile shrinks."
    found = [_ms_per_tile(runs, (m, depth, 1, neurons, batch)) for m in range(1, 6)]
    times = [t for t in found if t is not None]
    if len(times) < 5:
        return Finding(2, claim, UNTESTED, f"needs conv layers 1..5 at depth {depth}, batch {batch}")
    steps = [times[i + 1] - times[i] for i in range(4)]  # cost of conv layer 2..5
    biggest = steps.index(max(steps)) + 2
    decreasing = all(steps[i] >= steps[i + 1] for i in range(1, 3))
    verdict = HOLDS if biggest == 2 and decreasing else PARTLY if biggest == 2 else DOES_NOT_HOLD
    text = ", ".join(f"layer {i + 2}: {s * 1e3:.3g}" for i, s in enumerate(steps))
    return Finding(2, claim, verdict, f"added µs/tile per conv layer at depth {depth}, batch {batch}: {text}",
                   {"added_us_per_tile": [s * 1e3 for s in steps]})


def batch_flattens(runs: Mapping[tuple, RunRecord], knee: int = 512) -> Finding:
    claim = "Throughput rises with batch size and flattens beyond about 512."
    curves: Dict[str, Dict[int, float]] = {}
    for (m, d, k, n, b), rec in runs.items():
        if d == 20 and n == 1024 and (m == 1 or k == 1):
            curves.setdefault(f"c{m}d{d}-f{k}n{n}", {})[b] = rec.tiles_per_ms
    curves = {name: c for name, c in curves.items() if len(c) >= 5 and min(c) < knee < max(c)}
    if not curves:
        return Finding(3, claim, UNTESTED, "needs batch-size groups spanning 16..4096")
    rises, after, smallest = [], [], []
    for c in curves.values():
        small, at_knee = c[min(c)], c.get(knee)
        if at_knee is None:
            continue
        smallest.append(min(c))
        rises.append(at_knee / small)
        after.append(max(v for b, v in c.items() if b >= knee) / at_knee - 1)
    if not rises:
        return Finding(3, claim, UNTESTED, f"needs batch-size groups that include batch {knee}")
    rise, gain_after = _median(rises), _median(after)
    if rise <= 1.2:
        verdict = DOES_NOT_HOLD  # throughput hardly depends on batch: nothing rises, so nothing flattens
    else:
        verdict = HOLDS if rise > 1.5 and gain_after < 0.25 else PARTLY
    return Finding(3, claim, verdict,
                   f"median over {len(rises)} networks: tiles/ms at batch {knee} is {rise:.2f}× that at batch "
                   f"{min(smallest)}; the best batch above {knee} adds {gain_after * 100:.0f} %",
                   {"rise_to_knee": rise, "gain_after_knee": gain_after, "networks": len(rises)})


def neurons_multiple_of_128(runs: Mapping[tuple, RunRecord], batch: int = 1024) -> Finding:
    claim = "FC layers are faster when the neuron count is a multiple of 128."
    by_n: Dict[int, List[float]] = {}
    for (m, d, k, n, b), rec in runs.items():
        if m == 1 and d == 20 and b == batch and rec.categories.get("fc"):
            # efficiency: FC FLOPs per ms of FC time
            spec = rec.model.get("spec") or {}
            fc_flops = sum(g.flops for g in NetSpec.from_dict(spec).layers() if g.kind == "fc")
            by_n.setdefault(n, []).append(fc_flops * batch / (rec.categories["fc"] / 1e3) / 1e9)
    multiples = {n: _median(v) for n, v in by_n.items() if n % 128 == 0}
    others = {n: _median(v) for n, v in by_n.items() if n % 128}
    if not multiples or not others:
        return Finding(4, claim, UNTESTED, "needs neuron counts both on and off multiples of 128 "
                                           "(models/study-neurons.toml)")
    # an off-multiple count against the multiples on either side of it, interpolated in log2(N):
    # larger layers run more efficiently anyway, so the comparison must be at the same size
    wins, pairs = 0, 0
    gaps: Dict[int, float] = {}
    for n, eff in others.items():
        below = [m for m in multiples if m < n]
        above = [m for m in multiples if m > n]
        if not below or not above:
            continue
        lo, hi = max(below), min(above)
        w = (math.log2(n) - math.log2(lo)) / (math.log2(hi) - math.log2(lo))
        expected = multiples[lo] + w * (multiples[hi] - multiples[lo])
        pairs += 1
        wins += eff < expected
        gaps[n] = 100.0 * (eff / expected - 1)
    if not pairs:
        return Finding(4, claim, UNTESTED, "needs off-multiple neuron counts between two measured multiples of 128")
    share = wins / pairs
    verdict = HOLDS if share >= 0.8 else PARTLY if share >= 0.5 else DOES_NOT_HOLD
    detail = "; ".join(f"{n}: {others[n]:.3g}" for n in sorted(others))
    detail2 = "; ".join(f"{n}: {multiples[n]:.3g}" for n in sorted(multiples))
    return Finding(4, claim, verdict,
                   f"FC GFLOP/s off multiples of 128 ({detail}) vs on them ({detail2}); {wins} of {pairs} "
                   f"off-multiple counts run below the line between the multiples either side of them ("
                   + ", ".join(f"{n}: {g:+.1f} %" for n, g in sorted(gaps.items())) + ")",
                   {"off": others, "on": multiples, "share": share, "gap_pct": gaps})


def training_vs_throughput(rows: Sequence[Mapping[str, Any]], runs: Mapping[tuple, RunRecord],
                           batch: int = 1024, accuracy: int = 97) -> Finding:
    """rows: training records with 'spec' (name) and 'times_to_accuracy' {"90": s, ...}."""
    claim = "Training time to a given accuracy does not predict classification throughput (Table 2)."
    pairs = []
    for row in rows:
        name = row.get("spec") if isinstance(row.get("spec"), str) else (row.get("spec") or {}).get("name")
        spec = parse_name(str(name)) if name else None
        times = row.get("times_to_accuracy") or {}
        t = times.get(str(accuracy), times.get(accuracy))
        if spec is None or t is None or not spec.family:
            continue
        f = spec.family
        rec = runs.get((f["conv_layers"], f["depth"], f["fc_layers"], f["neurons"], batch))
        if rec:
            pairs.append((spec.name, float(t), rec.tiles_per_ms))
    if len(pairs) < 3:
        return Finding(5, claim, UNTESTED, "needs training rows and throughput for the three Table-2 networks")
    by_train = [p[0] for p in sorted(pairs, key=lambda p: p[1])]
    by_speed = [p[0] for p in sorted(pairs, key=lambda p: -p[2])]
    same = by_train == by_speed
    text = "; ".join(f"{n}: {t:.0f} s to {accuracy} %, {tp:.3g} tiles/ms" for n, t, tp in pairs)
    return Finding(5, claim, DOES_NOT_HOLD if same else HOLDS,
                   f"{text}. Fastest to train is {'also' if same else 'not'} the fastest to classify",
                   {"pairs": pairs})


def device_speedup(comparison: Optional[Mapping[str, Any]]) -> Finding:
    claim = ("The desktop-over-embedded speedup follows the ratio of the devices' specifications, with "
             "outliers for matrix products and allocation.")
    if not comparison:
        return Finding(6, claim, UNTESTED, "needs runs on two devices (e.g. a Jetson run imported from "
                                           "trtexec and a desktop run): `trtbench compare A B`")
    total = comparison.get("total", {}).get("speedup")
    cats = {c["category"]: c.get("speedup") for c in comparison.get("categories", [])}
    predicted = comparison.get("predicted_speedup")
    text = f"overall {total:.2f}×; " + ", ".join(f"{c} {s:.2f}×" for c, s in cats.items() if s)
    if predicted:
        ratio = total / predicted
        verdict = HOLDS if 0.5 <= ratio <= 2 else DOES_NOT_HOLD
        text += f"; the profiles predict {predicted:.2f}×"
    else:
        verdict = UNTESTED
        text += "; no target profile gives both devices' specifications, so there is no expected ratio to judge against"
    return Finding(6, claim, verdict, text, {"total": total, "categories": cats, "predicted": predicted})


def allocation_drift(report: Optional[Mapping[str, Any]]) -> Finding:
    """`report`: a `trtbench drift --json` output (DriftReport.to_dict plus ``source``)."""
    claim = "Repeated runs slow down through allocation time."
    if not report:
        return Finding(7, claim, UNTESTED, "needs a `trtbench drift` run")
    drift = bool(report.get("drift"))
    drifted = [str(p) for p in report.get("drifted") or []]
    parts = report.get("parts") or {}
    source = report.get("source") or {}
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
    if drift and drifted and drifted[0] == "alloc":
        verdict = HOLDS
    elif drift and "alloc" in drifted:
        verdict = PARTLY
    else:
        verdict = DOES_NOT_HOLD
    return Finding(7, claim, verdict, text, {"drift": drift, "drifted": drifted})


def linear_model(fit: Optional[Mapping[str, Any]], general: Optional[Mapping[str, Any]] = None) -> Finding:
    """`fit`: a study-model FitSet as saved by `trtbench fit --save` (its ``total`` fit; MAPE in %).
    `general`: the FLOPs/bytes model's fit on the same points, reported beside it.

    Holds when the equations explain the variance (R² ≥ 0.9) and predict unseen networks within
    15 % (k-fold MAPE); partly when they explain most of it (R² ≥ 0.7) but predict worse."""
    claim = "A linear cost model (equations 13-18) describes ms/tile."
    if not fit:
        return Finding(8, claim, UNTESTED, "needs `trtbench fit` on a sweep")
    total = fit.get("total", fit)
    r2 = total.get("r2")
    mape = total.get("mape")
    if r2 is None:
        return Finding(8, claim, UNTESTED, "the fit reported no R²")
    good_mape = mape is None or mape <= 15.0
    verdict = HOLDS if r2 >= 0.9 and good_mape else PARTLY if r2 >= 0.7 else DOES_NOT_HOLD
    text = f"in-sample R² {r2:.3f}"
    if mape is not None:
        text += f", out-of-sample (k-fold) MAPE {mape:.1f} %"
    text += f" over {total.get('points', '?')} networks at batch {fit.get('batch') or 'all'}"
    if fit.get("repeat_mape") is not None:
        text += f"; repeats of one point differ by {fit['repeat_mape']:.1f} %"
    figures: Dict[str, Any] = {"r2": r2, "mape": mape}
    g = (general or {}).get("total") if general else None
    if g and g.get("r2") is not None:
        text += (f". The FLOPs/bytes model on the same points: R² {g['r2']:.3f}"
                 + (f", MAPE {g['mape']:.1f} %" if g.get("mape") is not None else ""))
        figures["general"] = {"r2": g["r2"], "mape": g.get("mape")}
    return Finding(8, claim, verdict, text, figures)
