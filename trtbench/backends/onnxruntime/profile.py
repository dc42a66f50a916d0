"""onnxruntime's JSON profile (``enable_profiling``) → per-node times of one inference, by category."""
from __future__ import annotations

import bisect
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

from trtbench.backends.base import ProfileResult
from trtbench.categories import OTHER, TRANSFER, onnx_ops
from trtbench.errors import TrtbenchError
from trtbench.results.record import LayerTime, per_tile_shape

KERNEL_SUFFIX = "_kernel_time"



def _run_windows(events: Sequence[Dict[str, Any]]) -> List[Tuple[float, float]]:
    runs = [e for e in events if e.get("cat") == "Session" and e.get("name") == "model_run"]
    return sorted((float(e["ts"]), float(e["ts"]) + float(e.get("dur", 0))) for e in runs)



def node_category(op_type: str) -> str:
    """onnx_ops' category, with onnxruntime's host/device copy nodes charged as transfer."""
    if op_type.startswith("Memcpy"):
        return TRANSFER
    return onnx_ops.categorize(op_type)



def _output_shape(args: Dict[str, Any]) -> Optional[List[int]]:
    """A node's first output dimensions without the batch one (``output_type_shape`` of the trace;
    layouts are onnxruntime's, e.g. NCHWc convolutions pad channels to a multiple of 8 or 16)."""
    outputs = args.get("output_type_shape")
    if not isinstance(outputs, list) or not outputs or not isinstance(outputs[0], dict):
        return None
    return per_tile_shape(next(iter(outputs[0].values()), None))



def parse_trace(events: Sequence[Dict[str, Any]], skip_runs: int = 1,
                origins: Optional[Dict[str, List[str]]] = None) -> ProfileResult:
    """Per-node mean ms per run from an onnxruntime profile trace (a list of trace events).

    Each node event is assigned to the ``model_run`` that contains it; the first `skip_runs`
    runs are warm-up and dropped. Without ``model_run`` events, a node's k-th event is taken to
    belong to run k. `origins` (`node_origins`) names the original nodes each node runs.
    """
    nodes = [e for e in events if e.get("cat") == "Node" and str(e.get("name", "")).endswith(KERNEL_SUFFIX)]
    windows = _run_windows(events)
    starts = [start for start, _ in windows]
    totals: Dict[Tuple[str, str], float] = {}
    info: Dict[Tuple[str, str], Tuple[str, str]] = {}
    shapes: Dict[Tuple[str, str], Optional[List[int]]] = {}
    seen: Dict[Tuple[str, str], int] = {}
    kept_runs = set()
    by_run: Dict[Tuple[str, str], Dict[int, float]] = {}
    for event in sorted(nodes, key=lambda e: float(e["ts"])):
        args = event.get("args", {})
        op_type = str(args.get("op_name", "?"))
        index = str(args.get("node_index", ""))
        key = (str(event["name"])[: -len(KERNEL_SUFFIX)] or f"{op_type}_{index or '?'}", index)
        if windows:
            ts = float(event["ts"])
            run = bisect.bisect_right(starts, ts) - 1
            if run < 0 or ts > windows[run][1]:
                continue
        else:
            run = seen.get(key, 0)
            seen[key] = run + 1
        if run < skip_runs:
            continue
        kept_runs.add(run)
        totals[key] = totals.get(key, 0.0) + float(event.get("dur", 0.0))
        by_run.setdefault(key, {})
        by_run[key][run] = by_run[key].get(run, 0.0) + float(event.get("dur", 0.0))
        info[key] = (op_type, str(args.get("provider", "")))
        shapes[key] = _output_shape(args)
    runs = len(kept_runs)
    if runs == 0:
        raise TrtbenchError("onnxruntime's profile has no node timings after the warm-up run",
                            hint="use more profiling iterations")
    # onnxruntime gives inserted nodes one name (e.g. several "ReorderOutput"): the node index tells them apart
    names = [name for name, _ in totals]
    layers = []
    unknown: List[str] = []
    per_run: Dict[str, List[float]] = {}
    for (name, index), total_us in totals.items():
        op_type, provider = info[(name, index)]
        category = node_category(op_type)
        if category == OTHER and op_type not in unknown:
            unknown.append(op_type)
        label = f"{name}#{index}" if names.count(name) > 1 else name
        origin = (origins or {}).get(name)
        per_run[label] = [by_run[(name, index)].get(run, 0.0) / 1000.0 for run in sorted(kept_runs)]
        layers.append(LayerTime(name=label, category=category, ms=total_us / runs / 1000.0, type=op_type,
                                shape=shapes.get((name, index)),
                                origin=" + ".join(origin) if origin and origin != [name] else None))
    providers: Dict[str, int] = {}
    for _, provider in info.values():
        if provider:
            providers[provider] = providers.get(provider, 0) + 1
    notes = ["nodes per execution provider: " + ", ".join(f"{p} {n}" for p, n in providers.items())] if providers else []
    return ProfileResult(layers=layers, iterations=runs, unknown=unknown, notes=notes, per_run=per_run)


_LAYOUT_SUFFIX = re.compile(r"_nchwc$")
_INSERTED = ("ReorderInput", "ReorderOutput", "MemcpyToHost", "MemcpyFromHost")  # onnxruntime's own nodes


def node_origins(original: Any, optimized: Any) -> Dict[str, List[str]]:
    """For each node of onnxruntime's optimized graph, the nodes of the original graph it runs.

    onnxruntime's optimizer fuses nodes (a Conv with its Relu, a BatchNormalization into a Conv)
    and, on CPUs, rewrites convolutions and pools into NCHWc kernels named after the tensor they
    produce (``conv1_nchwc`` for the tensor ``conv1``). A node is first matched to the original
    node of its name, or to the producer of the tensor its name (less ``_nchwc``) or one of its
    outputs names; then the original nodes fused into it are found by walking back from that node
    through tensors that no longer exist, stopping at nodes another optimized node stands for.
    Nodes onnxruntime inserts (``ReorderInput``, ``ReorderOutput``, copies) have no origin.
    """
    by_name = {n.name: n for n in original.graph.node if n.name}
    producer = {t: n for n in original.graph.node for t in n.output if t}
    represents: Dict[str, Any] = {}
    claimed: Dict[str, str] = {}  # original node -> the optimized node that stands for it (first wins)
    for node in optimized.graph.node:
        if node.op_type in _INSERTED:
            continue
        base = _LAYOUT_SUFFIX.sub("", node.name)
        match = by_name.get(node.name) or producer.get(base) or by_name.get(base)
        if match is None:
            match = next((producer[t] for t in node.output if t in producer), None)
        if match is not None and match.op_type != "Constant" and match.name not in claimed:
            represents[node.name] = match
            claimed[match.name] = node.name
    live = {t for n in optimized.graph.node for t in n.output} | {i.name for i in optimized.graph.input}
    live |= {i.name for i in optimized.graph.initializer}
    order = {n.name: i for i, n in enumerate(original.graph.node)}
    out: Dict[str, List[str]] = {}
    for name, start in represents.items():
        chain = {start.name}
        stack = [start]
        while stack:
            current = stack.pop()
            for tensor in current.input:
                source = producer.get(tensor)
                if tensor in live or source is None or source.name in chain or source.op_type == "Constant":
                    continue
                if claimed.get(source.name, name) != name:
                    continue
                chain.add(source.name)
                stack.append(source)
        out[name] = sorted(chain, key=lambda n: order.get(n, 0))
    return out
