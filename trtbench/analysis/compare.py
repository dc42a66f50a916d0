"""Compare two runs: time per tile per category on each side and the speedup of B over A.

This is the study's device comparison (GTX 960 over TX1: 5-8x overall, but 105x for matrix
products and 2x for allocation) made routine. A category whose speedup departs from the overall
by more than `FLAG_FACTOR` either way is flagged; where both runs map to a target profile, the
speedup the peaks predict is shown beside the measured one, so a gap reads as hardware or as
software: where the runs carry their graph's FLOPs and bytes (any ONNX model), each category's
roofline time on each device (the larger of FLOPs / peak and bytes / bandwidth); otherwise FLOP/s
for conv and fc, bandwidth for the memory-bound categories.

Times are per item of the batch (ms per batch / batch: a tile, an image, a sample), so runs at
different batch sizes compare fairly.
"""

from __future__ import annotations

import importlib
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from trtbench.categories import CATEGORIES
from trtbench.errors import TrtbenchError
from trtbench.results.record import LayerTime, RunRecord

FLAG_FACTOR = 2.0
COMPUTE_BOUND = ("conv", "fc")
MEMORY_BOUND = ("pool", "elementwise", "reformat")
ORDERED = ("conv", "pool", "fc")  # structural layers: the i-th of A does the i-th of B's work


def speedup(a_ms: float, b_ms: float) -> Optional[float]:
    """How many times faster B is than A (A's time over B's); None when either time is zero, or
    the ratio is beyond a float (it would be 0 or inf, and the flags divide by it)."""
    if not (a_ms > 0 and b_ms > 0):
        return None
    ratio = a_ms / b_ms
    return ratio if 0.0 < ratio < math.inf else None


@dataclass
class CategoryRow:
    """One category (or the total): ms per tile on each side, the speedup B over A."""

    category: str
    a_ms: float
    b_ms: float
    speedup: Optional[float]
    flagged: bool = False
    predicted: Optional[float] = None
    interval: Optional[Tuple[float, float]] = None  # 95 % interval of the speedup, where both runs give one
    off_prediction: bool = False  # the measured speedup is over FLAG_FACTOR away from the predicted one

    @property
    def difference(self) -> Optional[str]:
        """``faster`` or ``slower`` (B against A) when the interval excludes 1, ``no difference``
        when it holds 1; None without an interval."""
        if self.interval is None:
            return None
        low, high = self.interval
        return "faster" if low > 1.0 else "slower" if high < 1.0 else "no difference"

    def to_dict(self) -> Dict[str, Any]:
        return {
            "a_ms": self.a_ms,
            "b_ms": self.b_ms,
            "speedup": self.speedup,
            "interval": list(self.interval) if self.interval else None,
            "difference": self.difference,
            "flagged": self.flagged,
            "predicted": self.predicted,
            "off_prediction": self.off_prediction,
        }


@dataclass
class LayerPair:
    """Layers of A and of B that did the same work (one to one, fused many to one, or one side only)."""

    a_names: List[str]
    b_names: List[str]
    category: str
    a_ms: float  # per tile
    b_ms: float
    matched_by: str  # "name", "fused", "category order", or "" (one side only)

    @property
    def speedup(self) -> Optional[float]:
        return speedup(self.a_ms, self.b_ms)

    def to_dict(self) -> Dict[str, Any]:
        return {
            "a": self.a_names,
            "b": self.b_names,
            "category": self.category,
            "a_ms": self.a_ms,
            "b_ms": self.b_ms,
            "speedup": self.speedup,
            "matched_by": self.matched_by,
        }


@dataclass
class Prediction:
    """The speedup B over A that the target profiles' peaks predict."""

    a_target: str
    b_target: str
    compute: Optional[float]  # peak FLOP/s of B over A, at each run's precision
    bandwidth: Optional[float]  # memory bandwidth of B over A
    # where the runs carry their graph's FLOPs and bytes: per category, the speedup of the two
    # devices' roofline times (max of FLOPs / peak and bytes / bandwidth on each side)
    roofline: Dict[str, float] = field(default_factory=dict)

    def for_category(self, category: str) -> Optional[float]:
        if category in self.roofline:
            return self.roofline[category]
        if category in COMPUTE_BOUND:
            return self.compute
        if category in MEMORY_BOUND:
            return self.bandwidth
        return None

    def to_dict(self) -> Dict[str, Any]:
        return {
            "a_target": self.a_target,
            "b_target": self.b_target,
            "compute": self.compute,
            "bandwidth": self.bandwidth,
            "roofline": dict(self.roofline),
        }


@dataclass
class Comparison:
    a: RunRecord
    b: RunRecord
    categories: List[CategoryRow]
    total: CategoryRow  # end-to-end (timing pass, no profiler)
    layers: List[LayerPair] = field(default_factory=list)
    prediction: Optional[Prediction] = None
    notes: List[str] = field(default_factory=list)

    @property
    def flagged(self) -> List[CategoryRow]:
        return [row for row in self.categories if row.flagged]

    def paired_share(self) -> Tuple[Optional[float], Optional[float]]:
        """The share of A's and of B's per-layer time in layers paired with the other side."""
        out: List[Optional[float]] = []
        for side in ("a", "b"):
            total = sum(getattr(pair, f"{side}_ms") or 0.0 for pair in self.layers)
            paired = sum(getattr(pair, f"{side}_ms") or 0.0 for pair in self.layers if pair.a_names and pair.b_names)
            out.append(paired / total if total > 0 else None)
        return out[0], out[1]

    def to_dict(self) -> Dict[str, Any]:
        a_paired, b_paired = self.paired_share()
        return {
            "unit": "ms per item",
            "paired_share": {"a": a_paired, "b": b_paired},
            "a": self.a.summary(),
            "b": self.b.summary(),
            "categories": {row.category: row.to_dict() for row in self.categories},
            "total": self.total.to_dict(),
            "flagged": [row.category for row in self.flagged],
            "prediction": self.prediction.to_dict() if self.prediction else None,
            "layers": [pair.to_dict() for pair in self.layers],
            "notes": list(self.notes),
        }


# ---- the comparison -------------------------------------------------------------------------
def compare(a: RunRecord, b: RunRecord) -> Comparison:
    """Per-category and total time per tile of A and B, speedups B over A, flags, prediction, layers."""
    for side, record in (("A", a), ("B", b)):
        if not record.batch or record.batch < 1:  # times are per item: ms / batch
            raise TrtbenchError(f"run {record.run_id} ({side}) has batch {record.batch!r}, so it has no time "
                                "per item", hint="compare runs of batch 1 or more")
    total = CategoryRow("total", a.ms_per_tile, b.ms_per_tile, speedup(a.ms_per_tile, b.ms_per_tile),
                        interval=total_interval(a, b))
    names = [c for c in CATEGORIES if c in a.categories or c in b.categories]
    names += sorted((set(a.categories) | set(b.categories)) - set(names))
    rows = []
    for name in names:
        a_ms = float(a.categories.get(name, 0.0)) / a.batch
        b_ms = float(b.categories.get(name, 0.0)) / b.batch
        row = CategoryRow(name, a_ms, b_ms, speedup(a_ms, b_ms), interval=_category_interval(a, b, name))
        if row.speedup is not None and total.speedup is not None:
            ratio = row.speedup / total.speedup
            row.flagged = ratio > FLAG_FACTOR or ratio < 1.0 / FLAG_FACTOR
        rows.append(row)
    result = Comparison(a, b, rows, total, layers=align_layers(a, b), notes=_notes(a, b, rows))
    a_paired, b_paired = result.paired_share()
    if a_paired is not None and b_paired is not None:
        result.notes.append(f"paired layers hold {a_paired:.0%} of A's layer time and {b_paired:.0%} of B's"
                            + ("" if min(a_paired, b_paired) >= 0.9 else
                               " (the rest: layers only one side runs, e.g. layout reorders, or names that differ)"))
    result.prediction = predict(a, b)
    if result.prediction is not None:
        for row in rows:
            row.predicted = result.prediction.for_category(row.category)
        total.predicted = _predicted_total(rows)
        for row in [*rows, total]:
            row.off_prediction = _far_from(row, row.predicted)
    if total.difference == "no difference" and total.interval is not None:
        result.notes.insert(0, f"no difference end to end: the speedup's 95 % interval "
                               f"({total.interval[0]:.3g}-{total.interval[1]:.3g}x) holds 1")
    if total.off_prediction and total.speedup is not None and total.predicted is not None:
        result.notes.insert(0, f"the measured speedup ({total.speedup:.3g}x) is over {FLAG_FACTOR:g}x away from "
                               f"what the targets' peaks predict ({total.predicted:.3g}x): software, clocks "
                               "or a profile that does not match the device")
    return result


def total_interval(a: RunRecord, b: RunRecord) -> Optional[Tuple[float, float]]:
    """The 95 % interval of B's end-to-end speedup over A: a bootstrap of the ratio of the two
    medians of time per item, over each run's loops."""
    from trtbench.results.intervals import ratio_interval, samples_per_batch

    a_items = [t / a.batch for t in samples_per_batch(a)]
    b_items = [t / b.batch for t in samples_per_batch(b)]
    if len(a_items) < 2 or len(b_items) < 2:
        return None  # one sample: its spread is unknown
    found = ratio_interval(a_items, b_items)
    return (found.low, found.high) if found is not None else None


def _category_interval(a: RunRecord, b: RunRecord, name: str) -> Optional[Tuple[float, float]]:
    """A category's speedup interval from the two runs' stored intervals of its mean time: the
    ratio of opposite ends, which covers at least as much as either (conservative)."""
    from trtbench.results.intervals import from_list

    pairs = [from_list(((r.intervals or {}).get("categories") or {}).get(name)) for r in (a, b)]
    a_ci, b_ci = pairs
    if a_ci is None or b_ci is None or a_ci.low <= 0 or b_ci.low <= 0:
        return None
    return (a_ci.low / a.batch) / (b_ci.high / b.batch), (a_ci.high / a.batch) / (b_ci.low / b.batch)


def _far_from(row: CategoryRow, predicted: Optional[float]) -> bool:
    """Whether the measured speedup is over `FLAG_FACTOR` away from the predicted one, beyond its
    interval (a noisy figure near the line is not flagged)."""
    if predicted is None or predicted <= 0 or row.speedup is None:
        return False
    low, high = row.interval if row.interval is not None else (row.speedup, row.speedup)
    return low > predicted * FLAG_FACTOR or high < predicted / FLAG_FACTOR


def compare_runs(records: Sequence[RunRecord]) -> List[Comparison]:
    """The first record against each of the others (A vs B, A vs C, ...)."""
    if len(records) < 2:
        raise TrtbenchError("compare needs at least two runs", hint="give two run ids or JSON run files")
    return [compare(records[0], other) for other in records[1:]]


def pair_runs(a_side: Sequence[RunRecord], b_side: Sequence[RunRecord]) -> List[Tuple[RunRecord, RunRecord]]:
    """Pairs to compare when a side holds several records (a JSON file of a batch sweep).

    One record on side A is compared with every B; otherwise each B meets the A of the same
    model and batch.
    """
    if len(a_side) == 1:
        return [(a_side[0], b) for b in b_side]
    pairs = []
    for b in b_side:
        same = [a for a in a_side if a.batch == b.batch and a.model_name == b.model_name] or [
            a for a in a_side if a.batch == b.batch
        ]
        if same:
            pairs.append((same[0], b))
    if not pairs:
        raise TrtbenchError(
            f"no batch size in common: A has {sorted({a.batch for a in a_side})}, "
            f"B has {sorted({b.batch for b in b_side})}",
            hint="name single runs by id to compare across batches",
        )
    return pairs


def _notes(a: RunRecord, b: RunRecord, rows: Sequence[CategoryRow]) -> List[str]:
    notes = []
    a_hash, b_hash = a.model.get("sha256"), b.model.get("sha256")
    if a.model_name != b.model_name:
        notes.append(f"different models: {a.model_name} and {b.model_name}")
    elif a_hash and b_hash and a_hash != b_hash:
        notes.append(f"{a.model_name}: the model files differ (sha256 {a_hash[:12]} vs {b_hash[:12]})")
    if a.precision != b.precision:
        notes.append(f"different precisions: {a.precision} and {b.precision}")
    if a.batch != b.batch:
        notes.append(f"different batch sizes ({a.batch} and {b.batch}); times are per tile")
    for row in rows:
        if row.a_ms > 0 and row.b_ms == 0:
            notes.append(f"{row.category}: only in A ({a.backend} on {a.device})")
        elif row.b_ms > 0 and row.a_ms == 0:
            notes.append(f"{row.category}: only in B ({b.backend} on {b.device})")
    return notes


# ---- prediction from target profiles --------------------------------------------------------
def _target_of(record: RunRecord) -> Any:
    """The target profile a run maps to (its host's target, else its device name), or None."""
    try:
        targets = importlib.import_module("trtbench.device.targets")  # optional: compare works without it
    except ImportError:
        return None
    for name in (record.host.target, record.device):
        if not name:
            continue
        try:
            return targets.get_target(str(name))
        except (TrtbenchError, LookupError, ValueError, OSError):
            continue
    return None


def _ratio(b_value: Optional[float], a_value: Optional[float]) -> Optional[float]:
    return float(b_value) / float(a_value) if a_value and b_value else None


def predict(a: RunRecord, b: RunRecord) -> Optional[Prediction]:
    """The peak-FLOP/s and bandwidth ratios of B's target over A's; None unless both map to one."""
    a_target, b_target = _target_of(a), _target_of(b)
    if a_target is None or b_target is None:
        return None
    compute = _ratio(b_target.compute_peak(b.precision), a_target.compute_peak(a.precision))
    bandwidth = _ratio(
        getattr(b_target, "memory_bandwidth_gbs", None), getattr(a_target, "memory_bandwidth_gbs", None)
    )
    if compute is None and bandwidth is None:
        return None
    name = lambda t, r: str(getattr(t, "name", None) or getattr(t, "id", None) or r.device)  # noqa: E731
    return Prediction(name(a_target, a), name(b_target, b), compute, bandwidth, _roofline(a, a_target, b, b_target))


def _roofline_ms(record: RunRecord, target: Any) -> Dict[str, float]:
    """Per category, the roofline's ms per item of the record's graph on `target` (needs its
    ``model.cost``, its peak FLOP/s at the run's precision and its memory bandwidth)."""
    cost = record.model.get("cost")
    peak = target.compute_peak(record.precision)
    bandwidth = getattr(target, "memory_bandwidth_gbs", None)
    if not isinstance(cost, dict) or not peak or not bandwidth:
        return {}
    out = {}
    for category, part in (cost.get("by_category") or {}).items():
        flops = float(part.get("flops") or 0.0)
        moved = float(part.get("bytes") or 0.0) + float(part.get("weight_bytes") or 0.0) / max(record.batch, 1)
        ms = max(flops / (float(peak) * 1e12), moved / (float(bandwidth) * 1e9)) * 1e3
        if ms > 0:
            out[category] = ms
    return out


def _roofline(a: RunRecord, a_target: Any, b: RunRecord, b_target: Any) -> Dict[str, float]:
    a_ms, b_ms = _roofline_ms(a, a_target), _roofline_ms(b, b_target)
    return {c: a_ms[c] / b_ms[c] for c in a_ms if c in b_ms and b_ms[c] > 0}


def _predicted_total(rows: Sequence[CategoryRow]) -> Optional[float]:
    """A's mix of work with each predictable category sped up by its peak ratio."""
    known = [(row.a_ms, row.predicted) for row in rows if row.predicted and row.predicted > 0 and row.a_ms > 0]
    predicted_ms = sum(a_ms / predicted for a_ms, predicted in known)
    if not known or not 0.0 < predicted_ms < math.inf:
        return None
    return sum(a_ms for a_ms, _ in known) / predicted_ms


# ---- layer alignment ------------------------------------------------------------------------
_SEPARATORS = re.compile(r"\s\+\s|\s\|\|\s|[(),\[\]{}]|\.\.\.")


def layer_parts(layer: LayerTime) -> Set[str]:
    """The op names a layer stands for: itself, the pieces of a fused name
    (``Conv_0 + Relu_1``, ``a || b``, ``PWN(Relu_1, Add_2)``, ``{ForeignNode[a...b]}``, a DLA
    subgraph ``{a,b,c}``) and its origin."""
    parts = {layer.name.strip()}
    # onnxruntime names a fused node "fused <first node>"
    for text in (
        layer.name[len("fused ") :] if layer.name.startswith("fused ") else layer.name,
        layer.origin or "",
    ):
        for piece in _SEPARATORS.split(text):
            piece = piece.strip()
            if piece and piece not in ("PWN", "ForeignNode"):
                parts.add(piece)
    return parts


def module_path(name: str) -> Optional[str]:
    """The framework module a layer name points at: ``/fc1/linear/Gemm`` (torch's ONNX exporter)
    and ``fused /fc1/linear/Gemm`` (onnxruntime) give ``fc1.linear``; ``fc1.linear`` is itself."""
    name = name[len("fused ") :] if name.startswith("fused ") else name
    if name.startswith("/"):
        segments = [seg for seg in name.split("/") if seg]
        return ".".join(segments[:-1]) if len(segments) > 1 else None
    if re.fullmatch(r"[A-Za-z_][\w]*(\.[\w]+)*", name):
        return name
    return None


def align_layers(a: RunRecord, b: RunRecord) -> List[LayerPair]:
    """Pair A's layers with B's: equal names, shared op names (fusion), module paths, category and
    output shape, then category order."""
    parent: Dict[Tuple[str, int], Tuple[str, int]] = {}

    def find(node: Tuple[str, int]) -> Tuple[str, int]:
        while parent.setdefault(node, node) != node:
            node = parent[node]
        return node

    owners: Dict[str, List[Tuple[str, int]]] = {}
    for side, record in (("a", a), ("b", b)):
        for index, layer in enumerate(record.layers):
            find((side, index))
            for part in layer_parts(layer):
                owners.setdefault(part, []).append((side, index))
    for nodes in owners.values():
        sides = [side for side, _ in nodes]
        # an op name belongs to one layer per side; a part many layers share (a provider) is no name
        if sorted(sides) == ["a", "b"]:
            for node in nodes[1:]:
                parent[find(node)] = find(nodes[0])
    groups: Dict[Tuple[str, int], List[Tuple[str, int]]] = {}
    for node in list(parent):
        groups.setdefault(find(node), []).append(node)

    pairs: List[Tuple[float, LayerPair]] = []
    single: Dict[str, List[int]] = {"a": [], "b": []}
    for nodes in groups.values():
        a_idx = sorted(i for side, i in nodes if side == "a")
        b_idx = sorted(i for side, i in nodes if side == "b")
        if not a_idx or not b_idx:
            single["a" if a_idx else "b"].extend(a_idx or b_idx)
            continue
        same = len(a_idx) == len(b_idx) == 1 and a.layers[a_idx[0]].name == b.layers[b_idx[0]].name
        pairs.append(_pair(a, b, a_idx, b_idx, "name" if same else "fused"))

    # The same module under the exporter's and the framework's names ("/fc1/linear/Gemm" in ONNX,
    # "fc1.linear" in torch), when the category agrees too.
    def by_module(layer: LayerTime) -> Optional[Tuple[Any, ...]]:
        key = module_path(layer.name)
        return (key, layer.category) if key else None

    # Names that differ entirely (another exporter, another engine, another TensorRT release's
    # naming): a conv/pool/fc layer with an output shape no other unmatched layer of its side has.
    def by_shape(layer: LayerTime) -> Optional[Tuple[Any, ...]]:
        return (layer.category, tuple(layer.shape)) if layer.shape and layer.category in ORDERED else None

    for key_of, how in ((by_module, "module path"), (by_shape, "shape")):
        pairs.extend(_pair_unique_keys(a, b, single, key_of, how))

    # Otherwise, where both sides have the same number of unmatched conv (pool, fc) layers, the
    # network's structure pairs them in order.
    # Reformat and elementwise layers come and go with fusion, so they are never paired by order.
    for category in sorted(
        {a.layers[i].category for i in single["a"]} | {b.layers[i].category for i in single["b"]}
    ):
        a_left = sorted(i for i in single["a"] if a.layers[i].category == category)
        b_left = sorted(i for i in single["b"] if b.layers[i].category == category)
        if category in ORDERED and len(a_left) == len(b_left):
            pairs.extend(_pair(a, b, [i], [j], "category order") for i, j in zip(a_left, b_left))
            continue
        pairs.extend(_pair(a, b, [i], [], "") for i in a_left)
        pairs.extend(_pair(a, b, [], [j], "") for j in b_left)
    return [pair for _, pair in sorted(pairs, key=lambda item: item[0])]


def _pair_unique_keys(
    a: RunRecord, b: RunRecord, single: Dict[str, List[int]],
    key_of: Callable[[LayerTime], Optional[Tuple[Any, ...]]], how: str,
) -> List[Tuple[float, LayerPair]]:
    """Pair unmatched layers whose key is held by exactly one unmatched layer on each side; the
    paired ones leave `single`."""
    keyed: Dict[Tuple[Any, ...], Dict[str, List[int]]] = {}
    for side, record in (("a", a), ("b", b)):
        for i in single[side]:
            key = key_of(record.layers[i])
            if key is not None:
                keyed.setdefault(key, {"a": [], "b": []})[side].append(i)
    out = []
    for hits in keyed.values():
        if len(hits["a"]) == 1 and len(hits["b"]) == 1:
            out.append(_pair(a, b, hits["a"], hits["b"], how))
            single["a"].remove(hits["a"][0])
            single["b"].remove(hits["b"][0])
    return out


def _pair(
    a: RunRecord, b: RunRecord, a_idx: List[int], b_idx: List[int], how: str
) -> Tuple[float, LayerPair]:
    a_layers = [a.layers[i] for i in a_idx]
    b_layers = [b.layers[i] for i in b_idx]
    # B's category wins for a fused group: a fused layer is charged to its dominant op
    category = (b_layers or a_layers)[0].category
    # position in the network, 0..1, so one-sided layers sort beside their neighbours
    position = a_idx[0] / max(len(a.layers), 1) if a_idx else b_idx[0] / max(len(b.layers), 1)
    pair = LayerPair(
        [layer.name for layer in a_layers],
        [layer.name for layer in b_layers],
        category,
        sum(layer.ms for layer in a_layers) / a.batch,
        sum(layer.ms for layer in b_layers) / b.batch,
        how,
    )
    return position, pair
