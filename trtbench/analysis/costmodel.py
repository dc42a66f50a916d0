"""Cost models of ms/tile: the 2016 study's equations 13-18 and a general FLOPs/bytes model.

Both are linear in their coefficients and fitted by (non-negative) least squares on saved runs of
one backend and device. Features come from `NetSpec.layers()` geometry, so any spec can be
predicted, not only the study's family.

*study* (eqs. 13-18, features per tile; T_in/T_out: a conv layer's input/output tile side,
c_in/c_out: its input/output channels; sums run over conv layers 2..M as the study's
``sum_{n=2}^{5}``, the first conv layer being left to the overhead term)::

    ms/tile = C1·Σ_fc N_j²              (eq. 14, GpuDot22: FC·N² for the family)
            + C2·FC                     (eq. 14/15 per-layer constants)
            + C3·Σ_fc N_j               (eq. 15, elementwise on FC: FC·N)
            + C4·Σ_conv c_out·T_out²    (eq. 15, elementwise on conv: D·Σ(T-4n)²)
            + C5·Σ_conv c_in·T_in²      (eqs. 16-17, alloc and pool: D·Σ(T-4(n-1))²)
            + C6·Σ_conv c_in·c_out·T_out²  (eq. 18, conv: D²·Σ(T-4n)²)
            + C7                        (overhead)

*general*: per kind k of layer (conv, pool, fc) its GFLOP and MB per tile at the batch measured,
where weights are read once per batch (bytes/tile = activations + weights/batch)::

    ms/tile = Σ_k (a_k·GFLOP_k + b_k·MB_k) + c
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from trtbench.errors import TrtbenchError
from trtbench.models.netspec import BYTES_PER_VALUE, NetSpec
from trtbench.results.record import RunRecord

MODELS = ("study", "general")

STUDY_FEATURES = ("fc_n2", "fc", "fc_n", "conv_out", "conv_in", "conv_out_d2", "overhead")
STUDY_DESCRIPTIONS = {
    "fc_n2": "C1: Σ hidden FC N² (FC·N², eq. 14)",
    "fc": "C2: hidden FC layers (eq. 14/15 constants)",
    "fc_n": "C3: Σ hidden FC N (FC·N, eq. 15)",
    "conv_out": "C4: Σ_{n≥2} c_out·T_out² (D·Σ(T-4n)², eq. 15)",
    "conv_in": "C5: Σ_{n≥2} c_in·T_in² (D·Σ(T-4(n-1))², eqs. 16-17)",
    "conv_out_d2": "C6: Σ_{n≥2} c_in·c_out·T_out² (D²·Σ(T-4n)², eq. 18)",
    "overhead": "C7: overhead per tile",
}
# Which study terms explain each measured category (the study's per-operation equations).
STUDY_CATEGORY_FEATURES = {
    "fc": ("fc_n2", "fc", "overhead"),
    "elementwise": ("fc", "fc_n", "conv_out", "overhead"),
    "alloc": ("conv_in", "overhead"),
    "pool": ("conv_in", "overhead"),
    "conv": ("conv_out_d2", "overhead"),
}
GENERAL_FEATURES = ("conv_gflop", "conv_mb", "pool_mb", "fc_gflop", "fc_mb", "overhead")
GENERAL_CATEGORY_FEATURES = {
    "conv": ("conv_gflop", "conv_mb", "overhead"),
    "pool": ("pool_mb", "overhead"),
    "fc": ("fc_gflop", "fc_mb", "overhead"),
}


# ---- features ------------------------------------------------------------------------------

def study_features(spec: NetSpec, batch: int = 1) -> Dict[str, float]:
    """The study's eq. 13-18 terms for one tile of `spec` (batch does not enter them)."""
    hidden = list(spec.fc)
    convs = [g for g in spec.layers() if g.kind == "conv"]
    later = convs[1:]  # the study's sums start at the second conv layer
    return {
        "fc_n2": float(sum(n * n for n in hidden)),
        "fc": float(len(hidden)),
        "fc_n": float(sum(hidden)),
        "conv_out": float(sum(g.out_shape[0] * g.out_shape[1] ** 2 for g in later)),
        "conv_in": float(sum(g.in_shape[0] * g.in_shape[1] ** 2 for g in later)),
        "conv_out_d2": float(sum(g.in_shape[0] * g.out_shape[0] * g.out_shape[1] ** 2 for g in later)),
        "overhead": 1.0,
    }


def general_features(spec: NetSpec, batch: int = 1) -> Dict[str, float]:
    """GFLOP and MB per tile by layer kind; weights count once per batch of `batch` tiles."""
    out = {name: 0.0 for name in GENERAL_FEATURES}
    for g in spec.layers():
        weight_bytes = BYTES_PER_VALUE * g.params
        per_tile_bytes = (g.bytes - weight_bytes) + weight_bytes / max(batch, 1)
        if g.kind in ("conv", "fc"):
            out[f"{g.kind}_gflop"] += g.flops / 1e9
            out[f"{g.kind}_mb"] += per_tile_bytes / 1e6
        elif g.kind == "pool":
            out["pool_mb"] += per_tile_bytes / 1e6
    out["overhead"] = 1.0
    return out


FEATURE_FUNCTIONS: Dict[str, Callable[[NetSpec, int], Dict[str, float]]] = {
    "study": study_features, "general": general_features,
}


@dataclass(frozen=True)
class GraphWorkload:
    """A network known by its graph's FLOPs and bytes per item (a record's ``model.cost``, from
    `trtbench.models.graph_cost`), not by a NetSpec: any ONNX model."""

    name: str
    cost: Mapping[str, Any]

    @property
    def flops(self) -> float:
        return float(self.cost.get("flops_per_item") or 0.0)


Network = Union[NetSpec, GraphWorkload]


def cost_features(cost: Mapping[str, Any], batch: int = 1) -> Dict[str, float]:
    """`general_features` from a graph's cost: GFLOP and MB per item of conv, pool and fc nodes,
    weights once per batch. (A graph's ReLU is its own node, where NetSpec counts it in its layer:
    the conv and fc GFLOP differ by one operation per output value, a rounding error.)"""
    by = cost.get("by_category") or {}
    out = {name: 0.0 for name in GENERAL_FEATURES}
    for kind in ("conv", "pool", "fc"):
        part = by.get(kind) or {}
        per_item = float(part.get("bytes") or 0.0) + float(part.get("weight_bytes") or 0.0) / max(batch, 1)
        out[f"{kind}_mb"] = per_item / 1e6
        if kind != "pool":
            out[f"{kind}_gflop"] = float(part.get("flops") or 0.0) / 1e9
    out["overhead"] = 1.0
    return out


def features_of(model: str, net: Network, batch: int) -> Dict[str, float]:
    """The `model`'s features of a NetSpec or a graph workload at `batch`."""
    if isinstance(net, GraphWorkload):
        if model != "general":
            raise TrtbenchError(f"{net.name} is not one of the study's networks; the study's equations "
                                "describe those only", hint="fit and predict with --model general")
        return cost_features(net.cost, batch)
    return FEATURE_FUNCTIONS[model](net, batch)


def model_features(model: str, category: Optional[str] = None) -> Tuple[str, ...]:
    """The feature names a model uses for the total (category None) or one category."""
    if model not in MODELS:
        raise TrtbenchError(f"unknown cost model '{model}'", hint=f"use one of: {', '.join(MODELS)}")
    if model == "study":
        return STUDY_CATEGORY_FEATURES.get(category, STUDY_FEATURES) if category else STUDY_FEATURES
    return GENERAL_CATEGORY_FEATURES.get(category, GENERAL_FEATURES) if category else GENERAL_FEATURES


# ---- least squares -------------------------------------------------------------------------

def nnls(a: np.ndarray, b: np.ndarray, max_iter: Optional[int] = None) -> np.ndarray:
    """Non-negative least squares (Lawson-Hanson active set): argmin ||a·x - b|| with x >= 0."""
    m, n = a.shape
    x = np.zeros(n)
    passive = np.zeros(n, dtype=bool)
    tol = 10 * np.finfo(float).eps * np.linalg.norm(a, 1) * max(m, n)
    for _ in range(max_iter or 3 * n + 30):
        w = a.T @ (b - a @ x)
        if passive.all() or (w[~passive] <= tol).all():
            break
        j = int(np.argmax(np.where(passive, -np.inf, w)))
        passive[j] = True
        while True:
            z = np.zeros(n)
            z[passive] = np.linalg.lstsq(a[:, passive], b, rcond=None)[0]
            if (z[passive] > 0).all():
                x = z
                break
            neg = passive & (z <= 0)
            alpha = np.min(x[neg] / (x[neg] - z[neg]))
            x = x + alpha * (z - x)
            passive &= x > tol
            x[~passive] = 0.0
    return x


def solve(x: np.ndarray, y: np.ndarray, nonnegative: bool = True, relative: bool = False) -> np.ndarray:
    """Coefficients of y ≈ x·c, columns scaled to unit norm first (features span 10 decades).

    `relative`: minimise the relative errors Σ((x·c − y)/y)² instead of the absolute ones, so
    points of 0.01 ms/tile count as much as points of 1 ms/tile (y must be positive).
    """
    if relative:
        x, y = x / y[:, None], np.ones_like(y)
    scale = np.linalg.norm(x, axis=0)
    scale[scale == 0] = 1.0
    xs = x / scale
    coef = nnls(xs, y) if nonnegative else np.linalg.lstsq(xs, y, rcond=None)[0]
    return coef / scale


def r_squared(y: np.ndarray, predicted: np.ndarray) -> float:
    ss_res = float(np.sum((y - predicted) ** 2))
    ss_tot = float(np.sum((y - np.mean(y)) ** 2))
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else (1.0 if ss_res == 0 else 0.0)


def kfold_mape(x: np.ndarray, y: np.ndarray, k: int = 5, nonnegative: bool = True, seed: int = 0,
               relative: bool = False) -> float:
    """Mean absolute percentage error of predictions for held-out points (k-fold, shuffled)."""
    n = len(y)
    k = max(2, min(k, n))
    order = np.random.default_rng(seed).permutation(n)
    errors = np.empty(n)
    for fold in range(k):
        test = order[fold::k]
        train = np.setdiff1d(order, test)
        coef = solve(x[train], y[train], nonnegative, relative)
        errors[test] = np.abs(x[test] @ coef - y[test]) / np.abs(y[test])
    return float(100.0 * np.mean(errors))


# ---- fits ----------------------------------------------------------------------------------

@dataclass
class Fit:
    """One fitted equation: ms/tile (total or one category) = Σ coefficient·feature."""

    model: str
    target: str  # "total" or a category
    coefficients: Dict[str, float]
    r2: float
    mape: float  # k-fold out-of-sample mean absolute percentage error, %
    folds: int
    points: int
    in_sample_mape: float = 0.0
    weighting: str = "relative"  # least squares on relative or absolute errors

    def predict(self, features: Mapping[str, float]) -> float:
        return float(sum(c * features.get(name, 0.0) for name, c in self.coefficients.items()))


@dataclass
class FitSet:
    """The total and per-category fits of one model for one backend and device."""

    model: str
    backend: str
    device: str
    device_name: str
    precision: str
    batch: Optional[int]  # the batch the points were taken at (None: all batches)
    total: Fit
    categories: Dict[str, Fit] = field(default_factory=dict)
    specs: List[str] = field(default_factory=list)
    # the spread of repeated measurements of one (network, batch) point, as a MAPE against their
    # mean: the floor no model can go below (None when no point was measured twice)
    repeat_mape: Optional[float] = None
    repeated_points: int = 0
    ranges: Dict[str, List[float]] = field(default_factory=dict)  # feature -> [min, max] over the fit's points

    def features(self, net: Network, batch: int) -> Dict[str, float]:
        return features_of(self.model, net, batch)

    def predict(self, net: Network, batch: int) -> float:
        """Predicted ms per item of `net` at `batch` on this fit's device."""
        return max(self.total.predict(self.features(net, batch)), 0.0)

    def outside(self, net: Network, batch: int) -> List[str]:
        """How far `net` lies outside the points the fit was made on: one phrase per feature the
        fit uses whose value is beyond the fitted range (empty: an interpolation)."""
        phrases = []
        for name, value in self.features(net, batch).items():
            if name == "overhead" or name not in self.total.coefficients or name not in self.ranges:
                continue
            low, high = self.ranges[name]
            if value > high * 1.05 and high > 0:
                phrases.append(f"{name} {value:.3g} is {value / high:.3g}× the largest fitted ({high:.3g})")
            elif value > 0 and high == 0:
                phrases.append(f"{name} {value:.3g}, never non-zero in the fitted points")
            elif value < low / 1.05:
                phrases.append(f"{name} {value:.3g} is below the smallest fitted ({low:.3g})")
        return phrases

    def to_dict(self) -> Dict[str, Any]:
        data = _json_safe(asdict(self))
        data["kind"] = "trtbench-fit"
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<fit>") -> "FitSet":
        if data.get("kind") != "trtbench-fit":
            raise TrtbenchError(f"{source} is not a trtbench fit file", hint="write one with: trtbench fit --save FILE")
        fields = {k: v for k, v in data.items() if k != "kind"}
        try:
            fields["total"] = _fit_from_dict(fields["total"])
            fields["categories"] = {k: _fit_from_dict(v) for k, v in fields.get("categories", {}).items()}
            return cls(**fields)
        except (KeyError, TypeError) as exc:
            raise TrtbenchError(f"{source}: incomplete fit ({exc})", hint="write it again with: trtbench fit --save FILE") from None


def _fit_from_dict(data: Mapping[str, Any]) -> Fit:
    values: Dict[str, Any] = {k: (math.nan if v is None and k in ("r2", "mape", "in_sample_mape") else v) for k, v in data.items()}
    return Fit(**values)


def _json_safe(value: Any) -> Any:
    """NaN and infinities become None (JSON has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def spec_of(record: RunRecord) -> Optional[NetSpec]:
    """The NetSpec a record was measured on (from its stored spec, else its canonical name)."""
    from trtbench.models.netspec import parse_name

    spec_data = record.model.get("spec")
    if spec_data:
        try:
            return NetSpec.from_dict(spec_data)
        except TrtbenchError:
            pass
    return parse_name(record.model_name)


def network_of(record: RunRecord, model: str = "general") -> Optional[Network]:
    """What a record was measured on, as the cost model sees it: its NetSpec, else (for the
    general model) its graph's FLOPs and bytes; None when neither is known."""
    spec = spec_of(record)
    if spec is not None:
        return spec
    cost = record.model.get("cost")
    if model == "general" and isinstance(cost, Mapping) and cost.get("by_category"):
        digest = str(record.model.get("sha256") or "")[:8]  # two files called model.onnx are two networks
        return GraphWorkload(f"{record.model_name}@{digest}" if digest else record.model_name, cost)
    return None


WEIGHTINGS = ("relative", "absolute")


def fit_equation(model: str, target: str, rows: Sequence[Dict[str, float]], y: Sequence[float],
                 nonnegative: bool = True, folds: int = 5, names: Optional[Sequence[str]] = None,
                 weighting: str = "relative") -> Fit:
    """Fit y ≈ Σ c·feature over `rows` (feature dicts); report R² and k-fold MAPE.

    ``weighting="relative"`` (least squares on relative errors) suits times spanning decades;
    points with y ≤ 0 are then left out of the fit.
    """
    names = tuple(names or model_features(model, None if target == "total" else target))
    # drop features that never vary from zero in these points (no information, no coefficient)
    used = [n for n in names if n == "overhead" or any(abs(r.get(n, 0.0)) > 0 for r in rows)]
    x = np.array([[r.get(n, 0.0) for n in used] for r in rows], dtype=float)
    yv = np.asarray(y, dtype=float)
    if len(yv) < len(used) + 1:
        raise TrtbenchError(
            f"{len(yv)} points are too few to fit {len(used)} coefficients of the {model} model ({target})",
            hint="run more of the sweep, or pick a model with fewer terms (--model general/study)",
        )
    if weighting not in WEIGHTINGS:
        raise TrtbenchError(f"unknown weighting '{weighting}'", hint=f"use one of: {', '.join(WEIGHTINGS)}")
    relative = weighting == "relative"
    positive = yv > 0
    if relative and positive.sum() < len(used) + 1:
        raise TrtbenchError(f"too few positive times to fit the {model} model ({target}) on relative errors",
                            hint="use absolute weighting")
    coef = solve(x[positive], yv[positive], nonnegative, True) if relative else solve(x, yv, nonnegative)
    predicted = x @ coef
    in_mape = float(100 * np.mean(np.abs(predicted[positive] - yv[positive]) / yv[positive])) if positive.any() else math.nan
    mape = (kfold_mape(x[positive], yv[positive], folds, nonnegative, relative=relative)
            if positive.sum() > len(used) + 1 else math.nan)
    return Fit(model, target, {n: float(c) for n, c in zip(used, coef)}, r_squared(yv, predicted), mape,
               min(folds, int(positive.sum())), len(yv), in_mape, weighting)


def fit_records(records: Sequence[RunRecord], model: str = "study", batch: Optional[int] = None,
                nonnegative: bool = True, folds: int = 5, min_category_share: float = 0.01,
                weighting: str = "relative") -> FitSet:
    """Fit `model` to records of ONE backend and device; per category too where records have them.

    Several records of the same spec and batch (repeats, resumed sweeps) are averaged first so a
    point measured twice does not count double.
    """
    if not records:
        raise TrtbenchError("no runs to fit", hint="run a sweep first: trtbench sweep models/study.toml")
    configs = {(r.backend, r.device, r.device_name, r.precision) for r in records}
    if len(configs) > 1:
        listed = "; ".join("/".join(c) for c in sorted(configs))
        raise TrtbenchError(f"the runs mix backends/devices ({listed}); a fit is per device and backend",
                            hint="pick one with --backend and --device-name")
    backend, device, device_name, precision = configs.pop()
    groups: Dict[Tuple[str, int], List[RunRecord]] = {}
    specs: Dict[str, Network] = {}
    for r in records:
        if batch is not None and r.batch != batch:
            continue
        net = network_of(r, model)
        if net is None:
            continue
        specs[net.name] = net
        groups.setdefault((net.name, r.batch), []).append(r)
    if not groups:
        known = "a known network spec" if model == "study" else "a known network spec or graph cost"
        raise TrtbenchError(f"no runs at batch {batch} with {known}" if batch else f"no runs with {known}",
                            hint="try another --batch" if batch else "profile the models again with this trtbench")
    rows, totals = [], []
    cats: Dict[str, List[float]] = {}
    for (name, b), rs in sorted(groups.items()):
        rows.append(features_of(model, specs[name], b))
        totals.append(float(np.mean([r.ms_per_tile for r in rs])))
        for cat in {c for r in rs for c in r.categories}:
            cats.setdefault(cat, []).append(float(np.mean([r.categories.get(cat, 0.0) / r.batch for r in rs])))
    total = fit_equation(model, "total", rows, totals, nonnegative, folds, weighting=weighting)
    spreads = [abs(r.ms_per_tile - m) / m for rs in groups.values() if len(rs) > 1
               for m in [float(np.mean([x.ms_per_tile for x in rs]))] for r in rs if m > 0]
    repeated = sum(1 for rs in groups.values() if len(rs) > 1)
    per_cat: Dict[str, Fit] = {}
    for cat, values in cats.items():
        # fit only categories present at every point and worth at least 1% of the time
        if len(values) != len(rows) or sum(values) < min_category_share * sum(totals):
            continue
        try:
            per_cat[cat] = fit_equation(model, cat, rows, values, nonnegative, folds, weighting=weighting)
        except TrtbenchError:
            continue
    ranges = {name: [min(r.get(name, 0.0) for r in rows), max(r.get(name, 0.0) for r in rows)]
              for name in rows[0]}
    return FitSet(model, backend, device, device_name, precision, batch, total, per_cat, sorted(specs),
                  float(100 * np.mean(spreads)) if spreads else None, repeated, ranges)


# ---- prediction ----------------------------------------------------------------------------

@dataclass
class Prediction:
    """ms/tile of a spec at a batch on a target, from a fit (scaled by rooflines when the target
    itself was never measured)."""

    spec: str
    batch: int
    target: str
    ms_per_tile: float
    fit_device: str  # the device the fit was measured on
    fit_backend: str
    model: str
    scale: float = 1.0  # target time / measured device time from the rooflines (1: measured directly)
    bound: Dict[str, str] = field(default_factory=dict)  # device -> "compute" or "bandwidth"
    arithmetic_intensity: float = 0.0  # FLOP per byte at this batch
    note: str = ""
    outside: List[str] = field(default_factory=list)  # how far the network lies outside the fitted points

    @property
    def tiles_per_ms(self) -> float:
        return 1.0 / self.ms_per_tile if self.ms_per_tile > 0 else math.inf

    @property
    def scaled(self) -> bool:
        return self.scale != 1.0 or bool(self.bound)

    def to_dict(self) -> Dict[str, Any]:
        data = asdict(self)
        data["tiles_per_ms"] = self.tiles_per_ms
        return _json_safe(data)


def bytes_per_tile(spec: Network, batch: int) -> float:
    """Bytes moved per item at `batch`: activations in and out, weights once per batch."""
    f = features_of("general", spec, batch)
    return 1e6 * (f["conv_mb"] + f["pool_mb"] + f["fc_mb"])


def roofline_ms(spec: Network, batch: int, peak_tflops: float, bandwidth_gbs: float) -> Tuple[float, str]:
    """The roofline's lower bound on ms/tile and which roof binds (compute or bandwidth)."""
    compute = spec.flops / (peak_tflops * 1e12) * 1e3 if peak_tflops > 0 else 0.0
    memory = bytes_per_tile(spec, batch) / (bandwidth_gbs * 1e9) * 1e3 if bandwidth_gbs > 0 else 0.0
    if compute <= 0 and memory <= 0:
        raise TrtbenchError("a target profile needs peak FLOP/s and memory bandwidth to scale a prediction")
    return (compute, "compute") if compute >= memory else (memory, "bandwidth")


@dataclass(frozen=True)
class Roofs:
    """A device's two roofs, for one not described by a target profile (e.g. the host CPU)."""

    name: str
    peak_fp32_tflops: float
    memory_bandwidth_gbs: float
    peak_fp16_tflops: Optional[float] = None

    def compute_peak(self, precision: str = "fp32") -> Optional[float]:
        """As `trtbench.device.targets.Target.compute_peak`: fp16's where given, else fp32's."""
        return (self.peak_fp16_tflops if precision == "fp16" else None) or self.peak_fp32_tflops


def matches(fit: FitSet, target: str, profile: Any = None) -> bool:
    """Whether `fit` was measured on the device called `target` (its device or device name, or
    the name or an alias of `target`'s profile)."""
    names = {target.strip().lower()}
    if profile is not None:
        names |= {str(getattr(profile, "name", "")).lower(), *(a.lower() for a in getattr(profile, "aliases", ()))}
    return bool(names & {fit.device.lower(), fit.device_name.lower()})


def predict(fits: Sequence[FitSet], spec: Network, batch: int, target: str,
            get_target: Optional[Callable[[str], Any]] = None, precision: Optional[str] = None,
            measured_as: Any = None) -> Prediction:
    """Predict `spec` at `batch` on `target`.

    A fit measured on `target` predicts directly. Otherwise the first fit whose device has a
    target profile is scaled by the ratio of the two devices' roofline bounds for this network at
    this batch: compute-bound (arithmetic intensity above the ridge point) scales with peak FLOP/s,
    bandwidth-bound with memory bandwidth. `measured_as` (a profile or `Roofs`) describes the
    measured device when no profile is named after it (a CPU, say).
    """
    if not fits:
        raise TrtbenchError("no fits to predict from", hint="fit first: trtbench fit --sweep study-2016 --save fit.json")
    goal_profile = None
    if get_target is not None:
        try:
            goal_profile = get_target(target)
        except TrtbenchError:
            goal_profile = None
    for fs in fits:
        if matches(fs, target, goal_profile):
            ms = fs.predict(spec, batch)
            return Prediction(spec.name, batch, target, ms, fs.device_name or fs.device, fs.backend, fs.model,
                              note=f"from the {fs.model} fit of {len(fs.specs)} networks measured on {target}",
                              outside=fs.outside(spec, batch))
    if get_target is None:
        raise TrtbenchError(f"no fit was measured on '{target}'",
                            hint=f"fits are for: {', '.join(sorted({f.device_name or f.device for f in fits}))}")
    goal = goal_profile if goal_profile is not None else get_target(target)
    tried = []
    for fs in fits:
        source = measured_as
        for name in (fs.device_name, fs.device) if source is None else ():
            if not name:
                continue
            try:
                source = get_target(name)
                break
            except TrtbenchError:
                tried.append(name)
        if source is None:
            continue
        prec = precision or fs.precision
        ms_goal, bound_goal = roofline_ms(spec, batch, float(goal.compute_peak(prec) or 0), float(goal.memory_bandwidth_gbs))
        ms_src, bound_src = roofline_ms(spec, batch, float(source.compute_peak(prec) or 0), float(source.memory_bandwidth_gbs))
        scale = ms_goal / ms_src
        ms = fs.predict(spec, batch) * scale
        src_name = getattr(source, "name", fs.device_name)
        ai = spec.flops / bytes_per_tile(spec, batch)
        return Prediction(
            spec.name, batch, target, ms, fs.device_name or fs.device, fs.backend, fs.model, scale,
            {str(src_name): bound_src, target: bound_goal}, ai,
            note=(f"{target} has no measurements: scaled the {fs.model} fit from {src_name} by the roofline "
                  f"ratio {scale:.3g} ({bound_src}-bound there, {bound_goal}-bound on {target} at "
                  f"{ai:.1f} FLOP/byte); an estimate, not a measurement"),
            outside=fs.outside(spec, batch),
        )
    raise TrtbenchError(
        f"no fit was measured on '{target}', and none of the fitted devices ({', '.join(tried) or 'none'}) "
        "has a target profile to scale from",
        hint="measure on the target, or describe the measured device with --measured-as TARGET "
             "or --measured-roofs TFLOPS,GBS",
    )
