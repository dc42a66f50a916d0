"""torch.profiler traces → per-layer times: module ranges, the aten ops and kernels they launched."""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from trtbench.backends.base import ProfileResult
from trtbench.categories import OTHER, REFORMAT, TRANSFER, torch_ops
from trtbench.errors import TrtbenchError
from trtbench.results.record import LayerTime

DEVICE_CATS = ("kernel", "gpu_memcpy", "gpu_memset")



@dataclass
class _Span:
    name: str
    tid: Any
    start: float
    end: float
    args: Dict[str, Any]

    def contains(self, tid: Any, ts: float) -> bool:
        return self.tid == tid and self.start <= ts <= self.end



def _spans(events: Sequence[Dict[str, Any]], cat: str) -> List[_Span]:
    out = []
    for e in events:
        if e.get("ph") == "X" and e.get("cat") == cat:
            start = float(e["ts"])
            out.append(_Span(str(e["name"]), e.get("tid"), start, start + float(e.get("dur", 0.0)),
                             e.get("args") or {}))
    return sorted(out, key=lambda s: (s.start, -s.end))



def _outermost(spans: List[_Span]) -> List[_Span]:
    """Spans not contained in another span of the same thread (input sorted by start, -end)."""
    out: List[_Span] = []
    last_end: Dict[Any, float] = {}
    for span in spans:
        if span.start >= last_end.get(span.tid, float("-inf")):
            out.append(span)
            last_end[span.tid] = span.end
        elif span.end > last_end[span.tid]:  # overlapping, not nested: count it too
            out.append(span)
            last_end[span.tid] = span.end
    return out



class _Index:
    """Spans per thread, for "which span contains this instant" by bisection.

    Meant for spans that do not nest within one thread (iterations, leaf-module ranges,
    outermost ops): the candidate is the last span starting at or before the instant, and a
    few before it in case of overlaps.
    """

    LOOKBACK = 4

    def __init__(self, spans: List[_Span]) -> None:
        self.by_tid: Dict[Any, Tuple[List[float], List[_Span]]] = {}
        for span in spans:  # already sorted by start
            starts, items = self.by_tid.setdefault(span.tid, ([], []))
            starts.append(span.start)
            items.append(span)

    def find(self, tid: Any, ts: float) -> Optional[_Span]:
        """The innermost span of thread `tid` containing `ts`, or None."""
        if tid not in self.by_tid:
            return None
        starts, items = self.by_tid[tid]
        last = bisect.bisect_right(starts, ts) - 1
        best = None
        for i in range(last, max(last - self.LOOKBACK, -1), -1):
            span = items[i]
            if span.start <= ts <= span.end and (best is None or span.end - span.start < best.end - best.start):
                best = span
        return best

    def encloses(self, inner: _Span) -> Optional[_Span]:
        """The span containing all of `inner`, or None."""
        span = self.find(inner.tid, inner.start)
        return span if span is not None and inner.end <= span.end else None



def _layer_label(span: _Span) -> Tuple[str, str]:
    text = span.name[len(LAYER_PREFIX):]
    name, _, cls = text.rpartition("|")  # an ONNX node's name may hold a "|"; the class never does
    return name, cls


def _type(cls: str) -> str:
    """The layer type to record: the module class, or a converted ONNX node's op type."""
    return cls[len(torch_ops.ONNX_PREFIX):] if cls.startswith(torch_ops.ONNX_PREFIX) else cls



class _Totals:
    """Accumulates µs per layer, with the category evidence for layers of unknown class."""

    def __init__(self) -> None:
        self.us: Dict[str, float] = {}
        self.category: Dict[str, str] = {}
        self.type: Dict[str, str] = {}
        self.evidence: Dict[str, Dict[str, float]] = {}
        self.by_window: Dict[str, Dict[int, float]] = {}  # layer → µs in each profiled iteration

    def add(self, layer: str, us: float, category: str, type_: str, evidence: str, window: int = 0) -> None:
        self.us[layer] = self.us.get(layer, 0.0) + us
        runs = self.by_window.setdefault(layer, {})
        runs[window] = runs.get(window, 0.0) + us
        self.category.setdefault(layer, category)
        self.type.setdefault(layer, type_)
        self.vote(layer, evidence, us)

    def vote(self, layer: str, category: str, us: float) -> None:
        votes = self.evidence.setdefault(layer, {})
        votes[category] = votes.get(category, 0.0) + us

    def final_category(self, layer: str) -> str:
        category = self.category[layer]
        if category != OTHER:
            return category
        votes = {c: us for c, us in self.evidence[layer].items() if c != OTHER}
        return max(votes, key=lambda c: votes[c]) if votes else OTHER



def attribute_trace(events: Sequence[Dict[str, Any]], skip_iterations: int = 1) -> ProfileResult:
    """Per-layer mean ms per iteration from a torch.profiler chrome trace (its ``traceEvents``).

    Iterations are the ``trtbench.iteration`` ranges; the first `skip_iterations` are warm-up.
    With device events (CUDA kernels, memcpy, memset), a layer's time is the GPU time of the
    kernels launched inside its module range; each kernel's launch is found through its
    ``correlation`` (the ``cuda_runtime`` launch event) or ``External id`` (the aten op). Kernels
    launched outside any module range are charged to the outermost aten op that launched them,
    and only with no op at all to the kernel name. Without device events (CPU), a layer's time is
    its module range's duration, plus the outermost aten ops outside every module range.
    A module of a class no table knows takes the category of its dominant op.
    """
    iterations = _spans(events, "user_annotation")
    windows = [s for s in iterations if s.name == ITERATION][skip_iterations:]
    if not windows:
        raise TrtbenchError("the torch profile has no iterations after the warm-up",
                            hint="use more profiling iterations")
    layers = [s for s in iterations if s.name.startswith(LAYER_PREFIX)]
    ops = _spans(events, "cpu_op")
    top_ops = _outermost(ops)
    window_index, layer_index, op_index = _Index(windows), _Index(layers), _Index(top_ops)

    window_number = {id(span): i for i, span in enumerate(windows)}

    def window_at(tid: Any, ts: float) -> Optional[int]:
        """Which profiled iteration an instant of thread `tid` falls in; None outside them."""
        span = window_index.find(tid, ts)
        return None if span is None else window_number.get(id(span))

    totals = _Totals()
    device_events = [e for e in events if e.get("ph") == "X" and e.get("cat") in DEVICE_CATS]
    notes: List[str] = []
    if device_events:
        runtime = {}
        for e in events:
            if e.get("ph") == "X" and e.get("cat") in ("cuda_runtime", "cuda_driver"):
                corr = (e.get("args") or {}).get("correlation")
                if corr is not None:
                    runtime[corr] = (e.get("tid"), float(e["ts"]))
        ops_by_id = {s.args.get("External id"): s for s in ops if s.args.get("External id") is not None}
        fallback = 0
        for e in device_events:
            args = e.get("args") or {}
            launch = runtime.get(args.get("correlation"))
            if launch is None and args.get("External id") in ops_by_id:
                op = ops_by_id[args["External id"]]
                launch = (op.tid, op.start)
            dur = float(e.get("dur", 0.0))
            kernel = str(e.get("name", "?"))
            if launch is None:
                continue  # launched outside the profiled iterations' threads
            tid, ts = launch
            window = window_at(tid, ts)
            if window is None:
                continue
            op_span = op_index.find(tid, ts)
            if e.get("cat") == "gpu_memcpy":
                op_cat = TRANSFER
            elif e.get("cat") == "gpu_memset":
                op_cat = REFORMAT
            elif op_span is not None:
                op_cat = torch_ops.categorize_op(op_span.name)
            else:
                op_cat = torch_ops.categorize_kernel(kernel)
                fallback += 1
            layer_span = layer_index.find(tid, ts)
            if layer_span is not None:
                name, cls = _layer_label(layer_span)
                totals.add(name, dur, torch_ops.categorize_module(cls), _type(cls), op_cat, window)
            elif op_span is not None:
                totals.add(op_span.name, dur, op_cat, op_span.name, op_cat, window)
            else:
                totals.add(kernel[:80], dur, op_cat, "kernel", op_cat, window)
        if fallback:
            notes.append(f"{fallback} device events had no launching op; categorised by kernel name")
    else:
        for span in layers:
            window = window_at(span.tid, span.start)
            if window is not None:
                name, cls = _layer_label(span)
                totals.add(name, span.end - span.start, torch_ops.categorize_module(cls), _type(cls), OTHER, window)
        for op in top_ops:
            window = window_at(op.tid, op.start)
            if window is None:
                continue
            category = torch_ops.categorize_op(op.name)
            owner = layer_index.encloses(op)
            if owner is not None:  # evidence for a module class no table knows
                totals.vote(_layer_label(owner)[0], category, op.end - op.start)
            else:
                totals.add(op.name, op.end - op.start, category, op.name, category, window)
    count = len(windows)
    result_layers = []
    unknown: List[str] = []
    for name, us in totals.us.items():
        category = totals.final_category(name)
        if category == OTHER and totals.type[name] not in unknown:
            unknown.append(totals.type[name])
        result_layers.append(LayerTime(name=name, category=category, ms=us / count / 1000.0,
                                       type=totals.type[name] or None))
    per_run = {name: [runs.get(i, 0.0) / 1000.0 for i in range(count)] for name, runs in totals.by_window.items()}
    return ProfileResult(layers=result_layers, iterations=count, unknown=unknown, notes=notes, per_run=per_run)


ITERATION = "trtbench.iteration"



LAYER_PREFIX = "trtbench.layer::"
