"""FLOPs, bytes and parameters per node of any ONNX graph: `NetSpec.layers()` for every model.

`graph_cost(path, batch)` fixes the inputs' batch, takes every tensor's shape from ONNX shape
inference (onnxruntime fills in what inference leaves unknown: `graph_shapes`), and costs each
node by the conventions in `graph_flops`, the ones `NetSpec` counts by: summed over an exported
spec, the nodes' FLOPs equal ``spec.flops`` (NetSpec folds each ReLU into its conv/fc layer; here
it is a node of its own).

Bytes: the activations a node reads and writes at the batch, plus its weights (initializers,
Constant outputs and what is computed from them alone) read once per batch, each at its element
type's size. Shape and Size read no data. Nodes computed from weights alone are folded at load
time by every runtime: they cost nothing and are not layers. A node whose shapes stay unknown, or
that has no FLOP rule (control flow, ai.onnx.ml label post-processing, ...), gets ``flops`` None
and is listed in `GraphCost.unknown`: never a silent 0.

Batch: dim 0 of every input. A symbolic dim 0 takes the batch asked for; a fixed one must equal
it (else TrtbenchError: compute at the model's own batch, ``batch=None``, and divide); any other
symbolic dim raises TrtbenchError naming the input and dim.

Per item: FLOPs and activation bytes divide by the batch; weight bytes do not (a cost model
counts them once per batch: bytes per item at batch b = activation bytes per item + weight bytes / b).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple, Union

from trtbench.categories import CATEGORIES
from trtbench.categories.onnx_ops import categorize
from trtbench.errors import TrtbenchError
from trtbench.models.graph_flops import DOMAINS, attributes, node_flops, numel
from trtbench.models.graph_shapes import (
    BITS,
    INDEX_TYPES,
    TensorInfo,
    constants,
    inferred_infos,
    node_names,
    runtime_shapes,
    with_batch,
)
from trtbench.models.netspec import LayerGeometry

if TYPE_CHECKING:  # pragma: no cover
    import onnx

Shape = Tuple[int, ...]


@dataclass(frozen=True)
class NodeCost:
    """One node's cost at the graph's batch."""

    name: str  # node.name, or "<OpType>_<index>" when empty
    op_type: str
    category: str  # categories.onnx_ops.categorize(op_type)
    flops: Optional[int]  # whole batch; None: unknown (see note)
    flops_per_item: Optional[float]  # flops / batch
    bytes: Optional[int]  # whole batch: activations read + written, weights read once; None: unknown
    weight_bytes: int  # the weights' part of `bytes` (known even when `bytes` is not)
    params: int  # weight elements (int32/int64/bool shape and index data excluded)
    in_shape: Optional[Shape] = None  # first activation input, without the batch
    out_shape: Optional[Shape] = None  # first output, without the batch
    folded: bool = False  # computed from weights alone: a runtime folds it at load time
    note: str = ""  # why flops is None

    def activation_bytes_per_item(self, batch: int) -> Optional[float]:
        return None if self.bytes is None else (self.bytes - self.weight_bytes) / batch


@dataclass
class GraphCost:
    """Every node's cost at one batch; the totals count known nodes only (see `unknown`)."""

    nodes: List[NodeCost]
    batch: int
    unknown: List[str] = field(default_factory=list)  # names of nodes whose flops are None
    shapes: str = "onnx"  # where the shapes came from: "onnx" or "onnx+onnxruntime"

    def __post_init__(self) -> None:
        if not self.unknown:
            self.unknown = [n.name for n in self.nodes if n.flops is None]

    @property
    def flops(self) -> int:
        return sum(n.flops for n in self.nodes if n.flops is not None)

    @property
    def flops_per_item(self) -> float:
        return self.flops / self.batch

    @property
    def params(self) -> int:
        """Weight elements over the nodes (a weight two nodes read counts twice)."""
        return sum(n.params for n in self.nodes)

    @property
    def weight_bytes(self) -> int:
        """Weight bytes over all nodes, unknown ones too (weights' shapes are always known)."""
        return sum(n.weight_bytes for n in self.nodes)

    @property
    def activation_bytes_per_item(self) -> float:
        return sum(n.bytes - n.weight_bytes for n in self.nodes if n.bytes is not None) / self.batch

    @property
    def largest_node_bytes_per_item(self) -> float:
        """The activations one node reads and writes, per item, for the node that moves most: at
        least half of it is live at once (all of it unless the node works in place), so it bounds
        the memory a batch needs from below."""
        moved = [n.bytes - n.weight_bytes for n in self.nodes if n.bytes is not None and not n.folded]
        return max(moved, default=0) / self.batch

    def bytes_per_item(self, batch: Optional[int] = None) -> float:
        """Bytes moved per item at `batch` (default: this graph's): weights shared by the batch."""
        return self.activation_bytes_per_item + self.weight_bytes / (batch or self.batch)

    def by_category(self) -> Dict[str, Dict[str, float]]:
        """Per category: ``flops`` and ``bytes`` (activations) per item, ``weight_bytes`` per batch
        (in full), ``params``; known nodes only."""
        out: Dict[str, Dict[str, float]] = {}
        for category in CATEGORIES:
            known = [n for n in self.nodes
                     if n.category == category and n.flops is not None and not n.folded]
            if known:
                out[category] = {
                    "flops": sum(n.flops or 0 for n in known) / self.batch,
                    "bytes": sum((n.bytes or 0) - n.weight_bytes for n in known) / self.batch,
                    "weight_bytes": float(sum(n.weight_bytes for n in known)),
                    "params": float(sum(n.params for n in known)),
                }
        return out

    def to_dict(self) -> Dict[str, Any]:
        """A small JSON-able summary for a run record (totals and counts, not the nodes)."""
        unknown_ops = Counter(n.op_type for n in self.nodes if n.flops is None)
        return {
            "batch": self.batch, "flops_per_item": self.flops_per_item, "params": self.params,
            "weight_bytes": self.weight_bytes, "activation_bytes_per_item": self.activation_bytes_per_item,
            "largest_node_bytes_per_item": self.largest_node_bytes_per_item,
            "nodes": len(self.nodes), "folded": sum(1 for n in self.nodes if n.folded),
            "unknown": len(self.unknown), "unknown_ops": dict(sorted(unknown_ops.items())),
            "shapes": self.shapes, "by_category": self.by_category(),
        }

    def layer_geometry(self) -> List[LayerGeometry]:
        """The known, unfolded nodes as `NetSpec.layers()` gives layers: kind = category, FLOPs and
        bytes for one item at batch 1 (activations per item + all the weights)."""
        return [
            LayerGeometry(n.name, n.category, n.in_shape or (), n.out_shape or (), n.params,
                          round(n.flops / self.batch),
                          round((n.bytes - n.weight_bytes) / self.batch) + n.weight_bytes)
            for n in self.nodes
            if n.flops is not None and n.bytes is not None and not n.folded
        ]


def graph_cost(path_or_model: Union[str, Path, onnx.ModelProto], batch: Optional[int] = 1) -> GraphCost:
    """The cost of an ONNX file or model at `batch` (None: the model's own fixed batch, else 1).

    Files are read without their external weights (shapes need only the graph). A model whose
    batch is fixed at another size raises TrtbenchError, as does a symbolic dim other than dim 0.
    """
    model = _load(Path(path_or_model)) if isinstance(path_or_model, (str, Path)) else path_or_model
    nodes, used, shapes = _costs(model, batch)
    return GraphCost(nodes, used, shapes=shapes)


def node_costs(model: onnx.ModelProto, batch: Optional[int] = 1) -> List[NodeCost]:
    """Every node's cost at `batch` (see `graph_cost`)."""
    return _costs(model, batch)[0]


def _load(path: Path) -> onnx.ModelProto:
    import onnx

    if not path.is_file():
        raise TrtbenchError(f"ONNX file {path} does not exist")
    try:
        return onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # noqa: BLE001 - protobuf raises several types for a bad file
        raise TrtbenchError(f"{path} is not a readable ONNX file ({exc.__class__.__name__})") from None


def _costs(model: onnx.ModelProto, batch: Optional[int]) -> Tuple[List[NodeCost], int, str]:
    prepared, batch = with_batch(model, batch)
    infos = inferred_infos(prepared)
    weights, folded = constants(prepared)
    graph = prepared.graph
    missing = [name for index, node in enumerate(graph.node) if index not in folded and node.domain in DOMAINS
               for name in (*node.input, *node.output) if name and _shape(infos, name) is None]
    why, shapes = "", "onnx"
    if missing:
        found, reason = runtime_shapes(prepared, missing, batch)
        for name, info in found.items():
            infos[name] = TensorInfo(info.shape, info.elem_type or infos.get(name, info).elem_type)
        why, shapes = (f" ({reason})" if reason else ""), ("onnx+onnxruntime" if found else "onnx")
    names = node_names(graph.node)
    costs = [
        _node_cost(names[i], node, batch, infos, weights, i in folded, why)
        for i, node in enumerate(graph.node)
    ]
    return costs, batch, shapes


def _node_cost(name: str, node: Any, batch: int, infos: Dict[str, TensorInfo], weights: Any,
               folded: bool, why: str) -> NodeCost:
    category = categorize(node.op_type)
    outs = [_shape(infos, t) for t in node.output]
    out_shape = _unbatched(outs[0] if outs else None, batch, node.output[0] in weights if outs else True)
    if folded:
        return NodeCost(name, node.op_type, category, 0, 0.0, 0, 0, 0, None, out_shape, True)
    ins = [_shape(infos, t) if t else None for t in node.input]
    acts = [t for t in dict.fromkeys(node.input) if t and t not in weights]
    in_shape = _unbatched(_shape(infos, acts[0]) if acts else (), batch, False)
    # weights' shapes are known even where the activations' are not: params count for every node
    weight_names = [t for t in dict.fromkeys(node.input) if t in weights and _shape(infos, t) is not None]
    weight_bytes = sum(_bytes(infos[t]) for t in weight_names)
    params = sum(numel(infos[t].shape or ()) for t in weight_names if infos[t].elem_type not in INDEX_TYPES)
    if node.domain not in DOMAINS or any(t and _shape(infos, t) is None for t in (*node.input, *node.output)):
        note = f"shape unknown{why}" if node.domain in DOMAINS else f"no FLOP rule for domain {node.domain}"
        return NodeCost(name, node.op_type, category, None, None, None, weight_bytes, params, in_shape,
                        out_shape, note=note)
    flops, note = node_flops(node.op_type, node.domain, attributes(node), ins, outs)
    reads = [] if node.op_type in ("Shape", "Size") else acts
    moved = sum(_bytes(infos[t]) for t in (*reads, *dict.fromkeys(t for t in node.output if t)))
    return NodeCost(name, node.op_type, category, flops, None if flops is None else flops / batch,
                    moved + weight_bytes, weight_bytes, params, in_shape, out_shape, note=note)


def _shape(infos: Dict[str, TensorInfo], name: str) -> Optional[Shape]:
    info = infos.get(name)
    return None if info is None else info.shape


def _unbatched(shape: Optional[Shape], batch: int, is_weight: bool) -> Optional[Shape]:
    """Without dim 0 when it is the batch (a weight's or shape tensor's dims are kept)."""
    if shape is None or is_weight or not shape or shape[0] != batch:
        return shape
    return tuple(shape[1:])


def _bytes(info: TensorInfo) -> int:
    """Bytes of a tensor (an element type onnx did not say counts as 4 bytes)."""
    return (numel(info.shape or ()) * BITS.get(info.elem_type, 32) + 7) // 8
