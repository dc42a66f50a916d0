"""The torch backend: eager PyTorch on the CPU or a CUDA GPU, fp32 / tf32 / fp16.

The network is rebuilt from its spec (a spec name, a trtbench checkpoint, or an ONNX file that
trtbench exported, which carries the spec in its metadata). An ONNX file from elsewhere has no
spec and cannot run here: use the onnxruntime backend for it.

Timing: CUDA events around each iteration on a GPU (read after one synchronisation), the
monotonic ``perf_counter`` on the CPU; under ``torch.inference_mode``. Options: channels_last,
and CUDA graphs (the batch is captured once in `set_batch` and replayed).

Profiling: a separate pass under ``torch.profiler``. Forward hooks wrap every leaf module in a
``record_function`` range (``trtbench.layer::<name>|<class>``) and every iteration in
``trtbench.iteration``; the exported trace is then attributed by `attribute_trace`. On a GPU each
kernel is charged to the module range and the aten op that launched it (the trace's
``correlation`` / ``External id`` links), never by its kernel name, which is only the fallback.
"""
from __future__ import annotations

import bisect
import importlib.util
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from trtbench.backends.base import LoadOptions, ModelSource, ProfileResult
from trtbench.categories import OTHER, REFORMAT, TRANSFER, torch_ops
from trtbench.errors import TrtbenchError, missing_package
from trtbench.results.record import LayerTime

ITERATION = "trtbench.iteration"
LAYER_PREFIX = "trtbench.layer::"
DEVICE_CATS = ("kernel", "gpu_memcpy", "gpu_memset")


# ---- trace attribution (pure; tested with synthetic traces) ----------------------------------

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
    name, _, cls = text.partition("|")
    return name, cls


class _Totals:
    """Accumulates µs per layer, with the category evidence for layers of unknown class."""

    def __init__(self) -> None:
        self.us: Dict[str, float] = {}
        self.category: Dict[str, str] = {}
        self.type: Dict[str, str] = {}
        self.evidence: Dict[str, Dict[str, float]] = {}

    def add(self, layer: str, us: float, category: str, type_: str, evidence: str) -> None:
        self.us[layer] = self.us.get(layer, 0.0) + us
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

    def in_window(tid: Any, ts: float) -> bool:
        return window_index.find(tid, ts) is not None

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
            if not in_window(tid, ts):
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
                totals.add(name, dur, torch_ops.categorize_module(cls), cls, op_cat)
            elif op_span is not None:
                totals.add(op_span.name, dur, op_cat, op_span.name, op_cat)
            else:
                totals.add(kernel[:80], dur, op_cat, "kernel", op_cat)
        if fallback:
            notes.append(f"{fallback} device events had no launching op; categorised by kernel name")
    else:
        for span in layers:
            if in_window(span.tid, span.start):
                name, cls = _layer_label(span)
                totals.add(name, span.end - span.start, torch_ops.categorize_module(cls), cls, OTHER)
        for op in top_ops:
            if not in_window(op.tid, op.start):
                continue
            category = torch_ops.categorize_op(op.name)
            owner = layer_index.encloses(op)
            if owner is not None:  # evidence for a module class no table knows
                totals.vote(_layer_label(owner)[0], category, op.end - op.start)
            else:
                totals.add(op.name, op.end - op.start, category, op.name, category)
    count = len(windows)
    result_layers = []
    unknown: List[str] = []
    for name, us in totals.us.items():
        category = totals.final_category(name)
        if category == OTHER and totals.type[name] not in unknown:
            unknown.append(totals.type[name])
        result_layers.append(LayerTime(name=name, category=category, ms=us / count / 1000.0,
                                       type=totals.type[name] or None))
    return ProfileResult(layers=result_layers, iterations=count, unknown=unknown, notes=notes)


# ---- the session --------------------------------------------------------------------------

def _build_module(model: ModelSource) -> Any:
    from trtbench.models import torchnet

    if model.kind == "checkpoint":
        return torchnet.with_softmax(torchnet.load_checkpoint(model.path).model)
    if model.kind == "onnx" and model.spec:
        spec = torchnet.spec_from_record(model.spec)
        return torchnet.with_softmax(torchnet.build_model(spec, seed=torchnet.DEFAULT_SEED))
    if model.kind == "onnx":
        raise TrtbenchError(
            f"{model.path} is an ONNX model without trtbench's spec metadata; the torch backend rebuilds "
            "networks from their spec and cannot run it",
            hint="use --backend onnxruntime for ONNX models from elsewhere")
    raise TrtbenchError(f"{model.path} is a TensorRT engine plan; the torch backend cannot run it",
                        hint="use --backend tensorrt")


class TorchSession:
    """An eager torch module on one device and precision."""

    backend = "torch"

    def __init__(self, model: ModelSource, options: LoadOptions) -> None:
        import torch

        self.torch = torch
        self.device = options.device
        self.precision = options.precision
        self.options = options
        self._check_options()
        if options.threads:
            torch.set_num_threads(int(options.threads))
        if self.device == "cuda":
            torch.backends.cudnn.benchmark = True
            tf32 = self.precision == "tf32"
            torch.backends.cuda.matmul.allow_tf32 = tf32
            torch.backends.cudnn.allow_tf32 = tf32
        self.dtype = torch.float16 if self.precision == "fp16" else torch.float32
        module = _build_module(model).eval()
        self.module = module.to(device=self.device, dtype=self.dtype)
        if options.channels_last:
            self.module = self.module.to(memory_format=torch.channels_last)
        spec = model.spec or {}
        shape = spec.get("input") or [1, 28, 28]
        self.tile_shape = tuple(int(d) for d in shape)
        self.batch = 0
        self._input: Any = None
        self._output: Any = None
        self._graph: Any = None

    def _check_options(self) -> None:
        torch = self.torch
        if self.device not in ("cpu", "cuda"):
            raise TrtbenchError(f"unknown device '{self.device}' for torch", hint="use --device cpu or cuda")
        if self.device == "cuda" and not torch.cuda.is_available():
            raise TrtbenchError("--device cuda, but this torch sees no CUDA GPU",
                                hint="install a CUDA build of torch, or use --device cpu")
        if self.precision not in ("fp32", "fp16", "tf32"):
            raise TrtbenchError(f"unknown precision '{self.precision}'", hint="use fp32, tf32 or fp16")
        if self.device == "cpu" and self.precision != "fp32":
            raise TrtbenchError(f"--precision {self.precision} needs --device cuda with the torch backend")
        if self.options.cuda_graph and self.device != "cuda":
            raise TrtbenchError("--cuda-graph needs --device cuda")

    # ---- Session protocol ------------------------------------------------------------------
    def set_batch(self, batch: int) -> None:
        """A fresh input for `batch` (and, with CUDA graphs, a freshly captured graph)."""
        torch = self.torch
        if batch < 1:
            raise TrtbenchError(f"batch must be at least 1, got {batch}")
        self._input = self._output = self._graph = None
        generator = torch.Generator().manual_seed(0)
        out_of_memory = getattr(torch.cuda, "OutOfMemoryError", RuntimeError)
        try:
            x = torch.rand((batch, *self.tile_shape), generator=generator).to(self.device, self.dtype)
            if self.options.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            self._input = x
            if self.options.cuda_graph:
                self._capture()
        except out_of_memory as exc:
            self._input = self._graph = None
            raise TrtbenchError(f"batch {batch} does not fit in GPU memory ({str(exc).splitlines()[0][:120]})",
                                hint="choose a smaller --batch") from None
        self.batch = batch

    def _capture(self) -> None:
        torch = self.torch
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.inference_mode(), torch.cuda.stream(stream):
            for _ in range(3):  # warm-up on a side stream, as CUDA graph capture requires
                self.module(self._input)
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.inference_mode(), torch.cuda.graph(graph):
            self._output = self.module(self._input)
        self._graph = graph

    def _step(self) -> None:
        if self._graph is not None:
            self._graph.replay()
        else:
            self._output = self.module(self._input)

    def run_timed(self, iterations: int) -> List[float]:
        torch = self.torch
        if self._input is None:
            raise TrtbenchError("set_batch must be called before run_timed")
        with torch.inference_mode():
            if self.device == "cuda":
                starts = [torch.cuda.Event(enable_timing=True) for _ in range(iterations)]
                ends = [torch.cuda.Event(enable_timing=True) for _ in range(iterations)]
                torch.cuda.synchronize()
                for start, end in zip(starts, ends):
                    start.record()
                    self._step()
                    end.record()
                torch.cuda.synchronize()
                return [start.elapsed_time(end) for start, end in zip(starts, ends)]
            from time import perf_counter

            times = []
            for _ in range(iterations):
                t0 = perf_counter()
                self._step()
                times.append((perf_counter() - t0) * 1000.0)
            return times

    def profile(self, iterations: int) -> ProfileResult:
        """Profile `iterations` eager inferences (plus one warm-up) with per-module ranges."""
        torch = self.torch
        from torch.profiler import ProfilerActivity, profile, record_function

        activities = [ProfilerActivity.CPU]
        if self.device == "cuda":
            activities.append(ProfilerActivity.CUDA)
        handles = self._hook_leaves(record_function)
        try:
            with tempfile.TemporaryDirectory(prefix="trtbench-torch-") as folder:
                trace = os.path.join(folder, "trace.json")
                with torch.inference_mode(), profile(activities=activities) as prof:
                    for _ in range(iterations + 1):
                        with record_function(ITERATION):
                            self._output = self.module(self._input)
                            if self.device == "cuda":
                                torch.cuda.synchronize()
                prof.export_chrome_trace(trace)
                data = json.loads(Path(trace).read_text())
        finally:
            for handle in handles:
                handle.remove()
        events = data["traceEvents"] if isinstance(data, dict) else data
        result = attribute_trace(events, skip_iterations=1)
        if self._graph is not None:
            result.notes.append("profiled eagerly: a CUDA graph replay hides per-layer launches")
        result.notes.append(f"torch.profiler, {result.iterations} iterations after 1 warm-up")
        return result

    def _hook_leaves(self, record_function: Any) -> List[Any]:
        handles = []
        for name, module in self.module.named_modules():
            if not name or any(True for _ in module.children()):
                continue
            label = f"{LAYER_PREFIX}{name}|{module.__class__.__name__}"

            def pre(mod: Any, inputs: Any, label: str = label) -> None:
                scope = record_function(label)
                scope.__enter__()
                mod._trtbench_scope = scope

            def post(mod: Any, inputs: Any, output: Any) -> None:
                scope = getattr(mod, "_trtbench_scope", None)
                if scope is not None:
                    scope.__exit__(None, None, None)
                    mod._trtbench_scope = None

            handles.append(module.register_forward_pre_hook(pre))
            handles.append(module.register_forward_hook(post))
        return handles

    def info(self) -> Dict[str, Any]:
        torch = self.torch
        data: Dict[str, Any] = {"backend_version": torch.__version__, "threads": torch.get_num_threads(),
                                "channels_last": self.options.channels_last,
                                "cuda_graph": self.options.cuda_graph}
        if self.device == "cuda":
            data["device_name"] = torch.cuda.get_device_name()
            data["cuda"] = torch.version.cuda
            data["cudnn"] = torch.backends.cudnn.version()
        return data

    def close(self) -> None:
        self._input = self._output = self._graph = None
        self.module = None


class TorchBackend:
    name = "torch"

    def available(self) -> bool:
        return importlib.util.find_spec("torch") is not None

    def install_hint(self) -> str:
        return "install it with: pip install 'trtbench[train]' (or the torch build for your machine)"

    def load(self, model: ModelSource, options: LoadOptions) -> TorchSession:
        if not self.available():
            raise missing_package("torch", "train", "the torch backend")
        return TorchSession(model, options)


BACKEND = TorchBackend()
