"""The findings about what predicts a network's throughput: its training time (5, which should not)
and a linear cost model (8, which should)."""
from __future__ import annotations

import itertools
import math
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from trtbench.models.netspec import parse_name
from trtbench.study2016.effects import (CLEAR_LEVEL, RUN_SPREAD_FLOOR, Bootstrap, effect_from_draws, median,
                                        run_spread, spread_figures)
from trtbench.study2016.points import Point, Runs, point_at
from trtbench.study2016.verdicts import DOES_NOT_HOLD, HOLDS, PARTLY, UNTESTED, Finding

# finding 5: |Spearman rho| from which training time ranks throughput (with 3 networks rho is
# +-1 or +-0.5, so this means "the same order, or exactly the reverse")
RANK_STRONG = 0.8
R2_GOOD, R2_FAIR = 0.9, 0.7  # finding 8: the fit explains the variance / most of it
MAPE_GOOD = 15.0  # finding 8: predicts unseen networks within 15 % (k-fold MAPE, %)


# ---- finding 5 -----------------------------------------------------------------------------------
def _ranks(values: Sequence[float]) -> List[float]:
    """Average ranks (1-based), ties sharing the mean rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for t in range(i, j + 1):
            ranks[order[t]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Spearman's rank correlation (Pearson's on average ranks); 0 when either side is constant."""
    rx, ry = np.asarray(_ranks(xs)), np.asarray(_ranks(ys))
    rx, ry = rx - rx.mean(), ry - ry.mean()
    den = math.sqrt(float(np.sum(rx ** 2) * np.sum(ry ** 2)))
    return float(np.sum(rx * ry)) / den if den else 0.0


def spearman_draws(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Spearman's rho of each column pair of `xs` and `ys` (items x draws); continuous draws have
    no ties."""
    n = xs.shape[0]
    rx = np.argsort(np.argsort(xs, axis=0), axis=0)
    ry = np.argsort(np.argsort(ys, axis=0), axis=0)
    d2 = np.sum((rx - ry).astype(float) ** 2, axis=0)
    return 1.0 - 6.0 * d2 / (n * (n * n - 1))


def rank_chance(n: int, rho: float) -> Optional[float]:
    """How often a random order of `n` items gives |rho| at least this large (exact up to 8 items)."""
    if n < 2 or n > 8:
        return None
    base = list(range(n))
    hits = total = 0
    for perm in itertools.permutations(base):
        total += 1
        hits += abs(spearman(base, list(perm))) >= abs(rho) - 1e-9
    return hits / total


def _train_time(row: Mapping[str, Any], accuracy: int) -> Optional[Tuple[float, float]]:
    """(earliest, reported) seconds to `accuracy`: the accuracy was first seen at the reported
    check, so it was reached after the check before it."""
    times = row.get("times_to_accuracy") or {}
    t = times.get(str(accuracy), times.get(accuracy))
    if not isinstance(t, (int, float)) or isinstance(t, bool) or not math.isfinite(t) or t <= 0:
        return None
    earlier = [float(c["train_seconds"]) for c in row.get("checks") or []
               if isinstance(c, dict) and isinstance(c.get("train_seconds"), (int, float))
               and float(c["train_seconds"]) < float(t)]
    return (max(earlier) if earlier else float(t), float(t))


def training_vs_throughput(rows: Sequence[Mapping[str, Any]], runs: Runs, batch: int = 1024,
                           accuracy: int = 97, spread: Optional[float] = None) -> Finding:
    """rows: training records with 'spec' (name) and 'times_to_accuracy' {"90": s, ...}.

    The thesis: training time "doesn't correlate with performance in tiles/ms in any way", so a
    strong correlation of either sign contradicts it. Spearman's rho between the time to
    `accuracy` and tiles/ms is bootstrapped (throughput: loops and run-to-run spread; training
    time: anywhere between the validation check before the one that saw the accuracy and that
    one, times the run-to-run spread). Does not hold when the decision interval lies at
    |rho| >= `RANK_STRONG` (training time ranks the throughput beyond the noise); holds when it
    lies inside (-`RANK_STRONG`, `RANK_STRONG`); partly otherwise (the noise decides)."""
    claim = "Training time to a given accuracy does not predict classification throughput (Table 2)."
    trained: Dict[str, List[Tuple[float, float]]] = {}
    points: Dict[str, Point] = {}
    for row in rows:
        name = row.get("spec") if isinstance(row.get("spec"), str) else (row.get("spec") or {}).get("name")
        spec = parse_name(str(name)) if name else None
        t = _train_time(row, accuracy)
        if spec is None or t is None or not spec.family:
            continue
        f = spec.family
        p = point_at(runs, (f["conv_layers"], f["depth"], f["fc_layers"], f["neurons"], batch))
        if p:
            trained.setdefault(spec.name, []).append(t)
            points[spec.name] = p
    if len(trained) < 3:
        return Finding(5, claim, UNTESTED, "needs training rows and throughput for the three Table-2 networks")
    spread = run_spread(runs) if spread is None else spread
    boot = Bootstrap(spread)
    names = list(trained)
    times = [median([t for _, t in trained[n]]) for n in names]
    tputs = [1.0 / points[n].value for n in names]
    train_d, tput_d = [], []
    for n in names:
        tput_d.append(1.0 / boot.point(points[n]))
        lows = np.array([lo for lo, _ in trained[n]])
        highs = np.array([hi for _, hi in trained[n]])
        jittered = lows[:, None] + (highs - lows)[:, None] * boot.rng.random((len(lows), boot.n))
        train_d.append(np.median(jittered, axis=0) * np.exp(boot.rng.normal(0.0, spread / math.sqrt(len(lows)), boot.n)))
    rho = spearman(times, tputs)
    eff = effect_from_draws(f"Spearman rho of time to {accuracy} % and tiles/ms", rho,
                            spearman_draws(np.array(train_d), np.array(tput_d)))
    chance = rank_chance(len(names), rho)
    strong = f"|ρ| ≥ {RANK_STRONG:g} across the {100 * CLEAR_LEVEL:.1f} % interval"
    if eff.above(RANK_STRONG - 1e-9) or eff.below(-RANK_STRONG + 1e-9):
        verdict = DOES_NOT_HOLD
        why = (f"{strong}, so training time ranks throughput here beyond the noise ("
               + ("the longer a network trains, the faster it classifies" if rho > 0 else
                  "the faster a network trains, the faster it classifies")
               + "; a correlation of either sign contradicts \"does not correlate in any way\")")
    elif eff.above(-RANK_STRONG) and eff.below(RANK_STRONG):
        verdict = HOLDS
        why = f"|ρ| stays below {RANK_STRONG:g} across the {100 * CLEAR_LEVEL:.1f} % interval: training time does not rank throughput"
    else:
        verdict, why = PARTLY, f"whether |ρ| reaches {RANK_STRONG:g} is within the noise"
    text = "; ".join(f"{n}: {t:.0f} s to {accuracy} %, {tp:.3g} tiles/ms" for n, t, tp in zip(names, times, tputs))
    caveat = ""
    if chance is not None:
        caveat = (f". With {len(names)} networks"
                  + (" (ρ can only be ±1 or ±0.5)" if len(names) == 3 else "")
                  + f" a random order gives |ρ| ≥ {abs(rho):.2g} "
                  + (f"one time in {1 / chance:.0f}" if chance < 1 else "every time")
                  + (f": {len(names)} points show how these networks rank, and can show neither a correlation "
                     "nor its absence in general" if chance > 0.05 else ""))
    return Finding(5, claim, verdict,
                   f"{text}. Spearman ρ(training time, throughput) = {eff.text('{:+.2f}')}: {why}{caveat}",
                   {"pairs": [[n, t, tp] for n, t, tp in zip(names, times, tputs)], "rho": rho,
                    "rho_interval": eff.interval.to_list() if eff.interval else None,
                    "rho_decision_interval": eff.decision.to_list() if eff.decision else None,
                    "chance": chance, "networks": len(names), **spread_figures(runs, spread)},
                   eff.to_dict())

# ---- finding 8 -----------------------------------------------------------------------------------
def linear_model(fit: Optional[Mapping[str, Any]], general: Optional[Mapping[str, Any]] = None) -> Finding:
    """`fit`: a study-model FitSet as saved by `trtbench fit --save` (its ``total`` fit; MAPE in %).
    `general`: the FLOPs/bytes model's fit on the same points, reported beside it.

    Holds when the equations explain the variance (R² ≥ `R2_GOOD`) and predict unseen networks
    within `MAPE_GOOD` (k-fold MAPE), a MAPE beyond it by less than the run-to-run spread counting
    as within (no model predicts better than the points are measured); partly when they explain
    most of it (R² ≥ `R2_FAIR`) but predict worse."""
    claim = "A linear cost model (equations 13-18) describes ms/tile."
    if not fit:
        return Finding(8, claim, UNTESTED, "needs `trtbench fit` on a sweep")
    total = fit.get("total", fit)
    r2 = total.get("r2")
    mape = total.get("mape")
    if r2 is None:
        return Finding(8, claim, UNTESTED, "the fit reported no R²")
    repeat = fit.get("repeat_mape")
    noise = max(100.0 * RUN_SPREAD_FLOOR, float(repeat) if isinstance(repeat, (int, float)) else 0.0)
    good_mape = mape is None or mape <= MAPE_GOOD + noise
    verdict = HOLDS if r2 >= R2_GOOD and good_mape else PARTLY if r2 >= R2_FAIR else DOES_NOT_HOLD
    text = f"in-sample R² {r2:.3f}"
    if mape is not None:
        text += f", out-of-sample (k-fold) MAPE {mape:.1f} %"
    text += f" over {total.get('points', '?')} networks at batch {fit.get('batch') or 'all'}"
    if repeat is not None:
        text += f"; repeats of one point differ by {repeat:.1f} %"
    if mape is not None:
        text += (f"; {MAPE_GOOD:g} % plus the {noise:.1f} % spread of the points is the bar: the MAPE is "
                 + ("within it" if good_mape else "clearly beyond it"))
    figures: Dict[str, Any] = {"r2": r2, "mape": mape, "mape_bar": MAPE_GOOD + noise}
    g = (general or {}).get("total") if general else None
    if g and g.get("r2") is not None:
        text += (f". The FLOPs/bytes model on the same points: R² {g['r2']:.3f}"
                 + (f", MAPE {g['mape']:.1f} %" if g.get("mape") is not None else ""))
        figures["general"] = {"r2": g["r2"], "mape": g.get("mape")}
    effect = {"name": "k-fold MAPE", "value": mape, "unit": "%", "noise": noise, "threshold": MAPE_GOOD}
    return Finding(8, claim, verdict, text, figures, effect if mape is not None else {})
