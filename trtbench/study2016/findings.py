"""The 2016 study's eight findings, each judged from saved runs: what trtbench measured, the effect
the verdict rests on with its uncertainty, and whether the finding holds.

Pure functions over RunRecords (and the training, drift and fit results): no backend, no GPU.

How a verdict is decided (docs/measurement.md, "What a verdict means"):

- Every effect (a cost ratio, a gap, a rank correlation, a speedup) is bootstrapped from the raw
  data in the records: each point's per-loop times are resampled (the scatter inside a run) and
  its level is scaled by a factor drawn from the run-to-run spread (what a rerun would change:
  the spread of repeated points of the study, never below `RUN_SPREAD_FLOOR`). The fixed seed
  makes a report the same every time it is rendered.
- The report gives the effect with its 95 % interval. The decision uses the central
  `CLEAR_LEVEL` (99.7 %, about three standard errors) of the same draws: an effect is *clear*
  only when that interval excludes the no-effect value (or the threshold the claim names) and,
  where a finding names one, the effect is at least its practical threshold. An effect whose
  interval includes the no-effect value is "no clear effect" and never counts by its sign.
- Findings about how a GPU is fed (3 batch size, 4 128-aligned matrices, 7 allocation drift) are
  "not applicable on this device" for CPU runs, with the reason; their effect is still measured
  and shown.
- A finding the data cannot decide (e.g. the device comparison with one device) is "not tested"
  and says what it needs.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, field
from statistics import NormalDist
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from trtbench.models.netspec import NetSpec, parse_name
from trtbench.results.intervals import LEVEL, Interval
from trtbench.results.record import RunRecord

HOLDS = "holds"
PARTLY = "partly holds"
DOES_NOT_HOLD = "does not hold"
NOT_APPLICABLE = "not applicable on this device"  # the reason is in Finding.reason (and `measured`)
UNTESTED = "not tested"  # the data cannot decide it; `measured` says what it needs
VERDICTS = (HOLDS, PARTLY, DOES_NOT_HOLD, NOT_APPLICABLE, UNTESTED)

# ---- how sure a verdict must be ----------------------------------------------------------------
# The run-to-run spread (relative SD of a point's level between runs) assumed at least. Repeats
# inside one study run, minutes apart, understate what a rerun changes: the published CPU study's
# repeats differed from their mean by 1.0 %, its rerun's by 2.5 % (issue 15), and a finding
# flipped on that. Where the study's own repeated points show more, that is used instead.
RUN_SPREAD_FLOOR = 0.025
# The decision interval's coverage: about three standard errors. A 95 % interval excludes a true
# "no effect" in one rerun out of 20; with eight findings of several effects each, a rerun would
# then flip some verdict most of the time. At 99.7 % that is one effect in about 370.
CLEAR_LEVEL = 0.997
RESAMPLES = 4000  # enough draws for the 0.15 % tails of CLEAR_LEVEL (6 draws each side)
SEED = 2016  # fixed: the same records give the same intervals and verdicts every time

# ---- the findings' own thresholds ----------------------------------------------------------------
CONV_FC_SEVERAL = 2.0  # finding 1: "several FC layers for one conv layer" is at least two
BATCH_KNEE = 512  # finding 3: the study saw throughput flatten beyond batch 512
BATCH_RISE = 1.2  # finding 3: "rises" is at least +20 % from the smallest batch to the knee
BATCH_FLAT_GAIN = 0.25  # finding 3: "flattens" is less than +25 % from the knee to the best larger batch
# finding 4: the smallest gap that counts as the study's effect. It changed its neuron counts over
# it (400 neurons beat 200); a few per cent is what any change of matrix shape does anyway.
ALIGN_GAP = 0.05
ALIGN_HOLDS_SHARE = 0.8  # finding 4: holds when this share of off-multiple counts is clearly slower
ALIGN_PARTLY_SHARE = 0.5  # ... partly when at least this share is
# finding 5: |Spearman rho| from which training time ranks throughput (with 3 networks rho is
# +-1 or +-0.5, so this means "the same order, or exactly the reverse")
RANK_STRONG = 0.8
# finding 6: the target profiles give peak FLOP/s and peak bandwidth. A network's speedup lies
# between the two peak ratios when both devices reach the same share of their peaks; they do
# not (a Jetson's power mode caps its clock below the peak's, a desktop GPU boosts above it;
# a Jetson's GPU shares its memory with the CPU). The expected band is the two ratios widened by
# this factor of achieved-share difference either way.
PEAK_EFFICIENCY_SPREAD = 1.5
R2_GOOD, R2_FAIR = 0.9, 0.7  # finding 8: the fit explains the variance / most of it
MAPE_GOOD = 15.0  # finding 8: predicts unseen networks within 15 % (k-fold MAPE, %)

# Why findings 3, 4 and 7 cannot be judged on a CPU.
GPU_ONLY = {
    3: "a GPU effect: batch size decides how well a GPU's many cores are fed; a CPU core is busy at "
       "any batch, so its throughput barely depends on batch size",
    4: "a GPU effect: 128-aligned matrices fit the GPU's matrix-multiply tiles; a CPU's GEMM blocks "
       "for its caches and vector width instead",
    7: "a GPU effect: the study's slowdown came from the GPU memory allocator (Theano's GpuAlloc); "
       "a CPU run allocates host memory through the C library",
}

Key = Tuple[int, int, int, int, int]  # (conv_layers, depth, fc_layers, neurons, batch)
Runs = Mapping[Key, Union[RunRecord, Sequence[RunRecord]]]


@dataclass
class Finding:
    number: int
    claim: str
    verdict: str  # one of VERDICTS
    measured: str  # one or two sentences with the numbers (and the reason, for "not applicable")
    figures: Dict[str, Any] = field(default_factory=dict)
    effect: Dict[str, Any] = field(default_factory=dict)  # Effect.to_dict() of what the verdict rests on
    reason: str = ""  # why the finding is not applicable (or not tested) here

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


# ---- effects and their intervals -----------------------------------------------------------------
_Z_LEVEL = NormalDist().inv_cdf(0.5 + LEVEL / 2)
_Z_CLEAR = NormalDist().inv_cdf(0.5 + CLEAR_LEVEL / 2)


@dataclass(frozen=True)
class Effect:
    """An effect with its reported interval (`LEVEL`) and its decision interval (`CLEAR_LEVEL`)."""

    name: str
    value: float
    interval: Optional[Interval] = None
    decision: Optional[Interval] = None
    unit: str = ""

    def above(self, x: float) -> bool:
        """Clearly above `x`: the decision interval lies above it."""
        return self.decision is not None and self.decision.low > x

    def below(self, x: float) -> bool:
        return self.decision is not None and self.decision.high < x

    def straddles(self, x: float) -> bool:
        return not self.above(x) and not self.below(x)

    def text(self, fmt: str = "{:.3g}", scale: float = 1.0) -> str:
        """``4.2 (95 %: 3.6-4.9)``."""
        out = fmt.format(self.value * scale)
        if self.interval is not None:
            out += f" ({100 * self.interval.level:.0f} %: {fmt.format(self.interval.low * scale)} to " \
                   f"{fmt.format(self.interval.high * scale)})"
        return out

    def to_dict(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {"name": self.name, "value": _finite(self.value), "unit": self.unit}
        if self.interval is not None:
            data["interval"] = [_finite(v) for v in self.interval.to_list()]
            data["level"] = self.interval.level
        if self.decision is not None:
            data["decision_interval"] = [_finite(v) for v in self.decision.to_list()]
            data["decision_level"] = self.decision.level
        return data


def _finite(value: float) -> Optional[float]:
    return float(value) if math.isfinite(value) else None


def _quantiles(draws: np.ndarray, probs: Sequence[float]) -> List[float]:
    """Nearest-rank quantiles (no interpolation, so infinite draws stay infinite, never NaN)."""
    ordered = np.sort(draws)
    n = ordered.size
    return [float(ordered[min(n - 1, max(0, int(round(p * (n - 1)))))]) for p in probs]


def effect_from_draws(name: str, value: float, draws: np.ndarray, unit: str = "") -> Effect:
    """The effect `value` with the percentile intervals of its bootstrap `draws` (NaN draws, from
    a resample where the effect is undefined, are dropped)."""
    d = np.asarray(draws, dtype=float)
    d = d[~np.isnan(d)]
    if d.size < 10:
        return Effect(name, value, None, None, unit)
    lo, hi, dlo, dhi = _quantiles(d, [(1 - LEVEL) / 2, (1 + LEVEL) / 2, (1 - CLEAR_LEVEL) / 2, (1 + CLEAR_LEVEL) / 2])
    return Effect(name, value, Interval(lo, hi, LEVEL, int(d.size)), Interval(dlo, dhi, CLEAR_LEVEL, int(d.size)), unit)


def effect_from_spread(name: str, value: float, relative_sd: float, unit: str = "") -> Effect:
    """An effect known only as a number, with the intervals a log-normal `relative_sd` gives it
    (a speedup handed over without its runs' loops, say)."""
    if not (value > 0 and math.isfinite(value)):
        return Effect(name, value, None, None, unit)
    def band(z: float, level: float) -> Interval:
        return Interval(value * math.exp(-z * relative_sd), value * math.exp(z * relative_sd), level)
    return Effect(name, value, band(_Z_LEVEL, LEVEL), band(_Z_CLEAR, CLEAR_LEVEL), unit)


@dataclass
class Point:
    """One measured (network, batch) point: the per-loop times of every run of it, pooled."""

    samples: List[float]
    runs: int

    @property
    def value(self) -> float:
        return float(np.median(self.samples))


def loop_ms_per_item(record: RunRecord) -> List[float]:
    """A record's per-loop ms per item (loop time over iterations x batch); its median ms per item
    alone when it kept no loops (an imported run)."""
    per = max(1, record.iterations) * max(1, record.batch)
    values = [float(v) / per for v in record.loop_ms if isinstance(v, (int, float)) and math.isfinite(v) and v > 0]
    return values if values else [record.ms_per_tile]


def _relative_loops(record: RunRecord) -> List[float]:
    """Each loop's time over the median loop: the run's own scatter, applied to a category's time
    (the profiling pass measures a category once)."""
    loops = loop_ms_per_item(record)
    mid = float(np.median(loops))
    return [v / mid for v in loops] if mid > 0 else [1.0]


def _row_medians(a: np.ndarray) -> np.ndarray:
    """np.median(a, axis=1), by sorting (faster for the few loops of a run)."""
    ordered = np.sort(a, axis=1)
    m = a.shape[1]
    return ordered[:, m // 2] if m % 2 else 0.5 * (ordered[:, m // 2 - 1] + ordered[:, m // 2])


class Bootstrap:
    """Draws of points' levels: each point's samples resampled (the scatter inside its runs) and
    scaled by a log-normal factor, so that a point's level varies by the run-to-run `spread`
    (divided by sqrt(runs) for a point measured in several runs), or by its own loops' scatter
    where that is larger. One generator per effect, seeded: the draws never depend on what was
    judged before."""

    def __init__(self, spread: float, resamples: int = RESAMPLES, seed: int = SEED) -> None:
        self.spread = spread
        self.n = resamples
        self.rng = np.random.default_rng(seed)

    def draw(self, samples: Sequence[float], runs: int = 1) -> np.ndarray:
        x = np.asarray(samples, dtype=float)
        x = x[np.isfinite(x) & (x > 0)]
        if x.size == 0:
            return np.full(self.n, np.nan)
        if x.size > 1:
            med = _row_medians(x[self.rng.integers(0, x.size, size=(self.n, x.size))])
        else:
            med = np.full(self.n, float(x[0]))
        # the spread between runs already holds the scatter of each run's loops (it is measured
        # between runs' medians): the level factor adds only what the resampled loops do not show
        within = float(np.std(np.log(med)))
        level_sd = math.sqrt(max(0.0, self.spread ** 2 / max(1, runs) - within ** 2))
        return med * np.exp(self.rng.normal(0.0, level_sd, self.n))

    def point(self, p: Point) -> np.ndarray:
        return self.draw(p.samples, p.runs)


# ---- the runs, grouped ---------------------------------------------------------------------------
def _family(record: RunRecord) -> Optional[Dict[str, int]]:
    spec = record.model.get("spec") or {}
    fam = spec.get("family") if isinstance(spec, dict) else None
    return dict(fam) if fam else None


def _key(record: RunRecord) -> Optional[Key]:
    fam = _family(record)
    if not fam:
        return None
    return (fam["conv_layers"], fam["depth"], fam["fc_layers"], fam["neurons"], record.batch)


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    return ordered[n // 2] if n % 2 else 0.5 * (ordered[n // 2 - 1] + ordered[n // 2])


def index_runs(records: Iterable[RunRecord]) -> Dict[Key, RunRecord]:
    """Study-family runs by (conv_layers, depth, fc_layers, neurons, batch); the newest wins."""
    table: Dict[Key, RunRecord] = {}
    for rec in sorted(records, key=lambda r: r.created):
        key = _key(rec)
        if key:
            table[key] = rec
    return table


def index_repeats(records: Iterable[RunRecord]) -> Dict[Key, List[RunRecord]]:
    """Study-family runs by (conv_layers, depth, fc_layers, neurons, batch), every run of a point
    (repeats, and the same point in several sweeps), oldest first: what the findings judge."""
    table: Dict[Key, List[RunRecord]] = {}
    for rec in sorted(records, key=lambda r: r.created):
        key = _key(rec)
        if key:
            table.setdefault(key, []).append(rec)
    return table


def _records(value: Union[RunRecord, Sequence[RunRecord], None]) -> List[RunRecord]:
    if value is None:
        return []
    if isinstance(value, RunRecord):
        return [value]
    return list(value)


def _all_records(runs: Runs) -> List[RunRecord]:
    return [r for v in runs.values() for r in _records(v)]


def _point(runs: Runs, key: Key) -> Optional[Point]:
    recs = _records(runs.get(key))
    if not recs:
        return None
    return Point([v for r in recs for v in loop_ms_per_item(r)], len(recs))


def repeat_spread(groups: Iterable[Sequence[RunRecord]]) -> Optional[float]:
    """The relative SD of a point's level between its runs, pooled over every point measured more
    than once (the SD of log ms per item within points); None when no point was repeated."""
    squares, dof = 0.0, 0
    for recs in groups:
        levels = [math.log(r.ms_per_tile) for r in recs if r.ms_per_tile > 0 and math.isfinite(r.ms_per_tile)]
        if len(levels) < 2:
            continue
        mean = sum(levels) / len(levels)
        squares += sum((v - mean) ** 2 for v in levels)
        dof += len(levels) - 1
    return math.sqrt(squares / dof) if dof else None


def run_spread(runs: Runs) -> float:
    """The run-to-run spread the verdicts allow for: the repeats' own, never below the floor."""
    measured = repeat_spread(_records(v) for v in runs.values())
    return max(RUN_SPREAD_FLOOR, measured or 0.0)


def _spread_figures(runs: Runs, spread: float) -> Dict[str, Any]:
    measured = repeat_spread(_records(v) for v in runs.values())
    return {"run_spread_pct": 100 * spread,
            "repeat_spread_pct": None if measured is None else 100 * measured}


def on_cpu(records: Iterable[RunRecord]) -> bool:
    """Whether the runs ran on a CPU (every one of them)."""
    devices = {r.device for r in records}
    return devices == {"cpu"}


def _not_applicable(number: int, claim: str, measured: str, figures: Dict[str, Any], effect: Optional[Effect]) -> Finding:
    reason = GPU_ONLY[number]
    return Finding(number, claim, NOT_APPLICABLE, f"{reason[0].upper()}{reason[1:]}. Measured here: {measured}",
                   figures, effect.to_dict() if effect else {}, reason)


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
    fc = [(k, p) for k in range(1, 6) for p in [_point(runs, (1, depth, k, neurons, batch))] if p]
    conv = [(m, p) for m in range(1, 6) for p in [_point(runs, (m, depth, 1, neurons, batch))] if p]
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
                    "ratio_interval": eff.interval.to_list() if eff.interval else None, **_spread_figures(runs, spread)},
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
    points = [_point(runs, (m, depth, 1, neurons, batch)) for m in range(1, 6)]
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
                    "lead_us_per_tile": lead.value * 1e3, **_spread_figures(runs, spread)},
                   lead.to_dict())


# ---- finding 3 -----------------------------------------------------------------------------------
def batch_flattens(runs: Runs, knee: int = BATCH_KNEE, spread: Optional[float] = None) -> Finding:
    """Judged on a GPU: holds when throughput clearly rises by `BATCH_RISE` from the smallest batch
    to the knee and clearly gains less than `BATCH_FLAT_GAIN` beyond it (medians over the
    networks); partly when it rises but does not clearly flatten; does not hold when it does not
    clearly rise. Not applicable on a CPU."""
    claim = "Throughput rises with batch size and flattens beyond about 512."
    curves: Dict[str, Dict[int, Point]] = {}
    for (m, d, k, n, b) in runs:
        p = _point(runs, (m, d, k, n, b))
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
                             _median(rises), np.median(np.array(rises_d), axis=0), "x")
    gain = effect_from_draws(f"best gain beyond batch {knee} (median of networks)", _median(gains),
                             np.median(np.array(gains_d), axis=0), "fraction")
    measured = (f"median over {len(rises)} networks: tiles/ms at batch {knee} is {rise.text('{:.2f}')}× that at "
                f"batch {min(smallest)}; the best batch above {knee} adds {gain.text('{:.0f}', 100)} %")
    figures = {"rise_to_knee": rise.value, "gain_after_knee": gain.value, "networks": len(rises),
               "rise_interval": rise.interval.to_list() if rise.interval else None,
               "gain_interval": gain.interval.to_list() if gain.interval else None, **_spread_figures(runs, spread)}
    if on_cpu(_all_records(runs)):
        return _not_applicable(3, claim, measured, figures, rise)
    rises_clearly = rise.above(BATCH_RISE)
    if not rises_clearly:
        verdict = DOES_NOT_HOLD  # throughput does not clearly rise: nothing rises, so nothing flattens
        why = f"throughput does not clearly rise by {100 * (BATCH_RISE - 1):.0f} % up to batch {knee}"
    elif gain.below(BATCH_FLAT_GAIN):
        verdict, why = HOLDS, f"it clearly rises, and clearly gains less than {100 * BATCH_FLAT_GAIN:.0f} % beyond"
    else:
        verdict, why = PARTLY, f"it clearly rises, but does not clearly flatten beyond batch {knee}"
    return Finding(3, claim, verdict, f"{measured}: {why}", figures, rise.to_dict())


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
        recs = [r for r in _records(value) if r.categories.get("fc")]
        if m != 1 or d != 20 or b != batch or not recs:
            continue
        spec = recs[0].model.get("spec") or {}
        fc_flops = sum(g.flops for g in NetSpec.from_dict(spec).layers() if g.kind == "fc") * batch
        samples = [r.categories["fc"] * rel for r in recs for rel in _relative_loops(r)]
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
    overall = effect_from_draws("median gap of the off-multiple counts", _median([e.value for e in gaps.values()]),
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
               "gap_kind": kinds, **_spread_figures(runs, spread)}
    if on_cpu(_all_records(runs)):
        return _not_applicable(4, claim, measured, figures, overall)
    verdict = HOLDS if share >= ALIGN_HOLDS_SHARE else PARTLY if share >= ALIGN_PARTLY_SHARE else DOES_NOT_HOLD
    return Finding(4, claim, verdict, measured, figures, overall.to_dict())


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
        p = _point(runs, (f["conv_layers"], f["depth"], f["fc_layers"], f["neurons"], batch))
        if p:
            trained.setdefault(spec.name, []).append(t)
            points[spec.name] = p
    if len(trained) < 3:
        return Finding(5, claim, UNTESTED, "needs training rows and throughput for the three Table-2 networks")
    spread = run_spread(runs) if spread is None else spread
    boot = Bootstrap(spread)
    names = list(trained)
    times = [_median([t for _, t in trained[n]]) for n in names]
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
                    "chance": chance, "networks": len(names), **_spread_figures(runs, spread)},
                   eff.to_dict())


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
    def cells(records: Sequence[RunRecord]) -> Dict[Tuple[str, int], List[RunRecord]]:
        out: Dict[Tuple[str, int], List[RunRecord]] = {}
        for r in records:
            out.setdefault((r.model_name, r.batch), []).append(r)
        return out

    ca, cb = cells(a), cells(b)
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
        return _not_applicable(7, claim, text, figures, eff)
    if drift and drifted and drifted[0] == "alloc":
        verdict = HOLDS
    elif drift and "alloc" in drifted:
        verdict = PARTLY
    else:
        verdict = DOES_NOT_HOLD
    return Finding(7, claim, verdict, text, figures, eff.to_dict() if eff else {})


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


JUDGES: Dict[int, Callable[..., Finding]] = {
    1: conv_vs_fc, 2: second_conv_costs_most, 3: batch_flattens, 4: neurons_multiple_of_128,
    5: training_vs_throughput, 6: device_speedup, 7: allocation_drift, 8: linear_model,
}
