"""The torch backend: eager PyTorch on the CPU or a CUDA GPU, fp32 / tf32 / fp16.

The study's networks are rebuilt from their spec (a spec name, a trtbench checkpoint, or an ONNX
file that trtbench exported, which carries the spec in its metadata). Any other ONNX model is
converted by trtbench's own converter (`onnx_module.convert`): one torch module per ONNX node,
named as onnxruntime names the node, so the two backends' layers pair in `compare`. An op the
converter lacks is one line naming it, pointing to the onnxruntime route.

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

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterator, List

import numpy as np

from trtbench.backends.base import LoadOptions, ProfileResult
from trtbench.backends.torch.profile import ITERATION, LAYER_PREFIX, attribute_trace
from trtbench.categories.torch_ops import ONNX_PREFIX
from trtbench.errors import TrtbenchError
from trtbench.models.inputs import ModelInput, batch_arrays, check_feedable, fixed_batch, read_model_inputs
from trtbench.models.source import ModelSource, onnx_file

# ---- trace attribution (pure; tested with synthetic traces) ----------------------------------


# ---- the session --------------------------------------------------------------------------

def _build_module(model: ModelSource) -> Any:
    from trtbench.models import torchnet

    if model.kind == "checkpoint":
        return torchnet.with_softmax(torchnet.load_checkpoint(model.path).model)
    if model.kind == "onnx" and model.spec:
        spec = torchnet.spec_from_record(model.spec)
        return torchnet.with_softmax(torchnet.build_model(spec, seed=torchnet.DEFAULT_SEED))
    if model.kind == "onnx":
        import onnx

        from trtbench.backends.torch.onnx_module import convert

        path = onnx_file(model)
        try:
            graph = onnx.load(str(path))
        except Exception as exc:  # onnx raises DecodeError, ValueError, OSError... for bad files
            raise TrtbenchError(f"{path} is not a readable ONNX model ({exc.__class__.__name__})") from None
        return convert(graph, fold_constants=True)
    raise TrtbenchError(f"{model.path} is a TensorRT engine plan; the torch backend cannot run it",
                        hint="use --backend tensorrt")


@contextlib.contextmanager
def _without_kineto_notices() -> Iterator[None]:
    """torch's profiler library writes ``USDT: ... profiler_start`` lines straight to file
    descriptor 2 (no setting turns them off): hold stderr while it runs, then pass on every other line."""
    import sys

    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (embedded): nothing to filter
        yield
        return
    with tempfile.TemporaryFile(mode="w+b") as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            for line in held.read().decode(errors="replace").splitlines(keepends=True):
                if not line.startswith("USDT:"):
                    sys.stderr.write(line)


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
        reads = module.host_reads() if options.cuda_graph and hasattr(module, "host_reads") else []
        if reads:
            raise TrtbenchError(f"--cuda-graph: this graph computes shapes while it runs (node '{reads[0]}'"
                                f"{f' and {len(reads) - 1} more' if len(reads) > 1 else ''} reads a tensor on the host), "
                                "which a CUDA graph cannot capture", hint="drop --cuda-graph")
        self.module = module.to(device=self.device, dtype=self.dtype)
        if hasattr(self.module, "compute_dtype") and self.precision == "fp16":
            self.module.compute_dtype = self.dtype  # a converted graph stays in half precision throughout
        if options.channels_last:
            self.module = self.module.to(memory_format=torch.channels_last)
        if model.kind == "checkpoint" or model.spec:  # the study's network: one input of tiles
            spec_input = [int(d) for d in (model.spec or {}).get("input") or [1, 28, 28]]
            self.inputs = [ModelInput("tiles", ["batch", *spec_input])]
        else:
            self.inputs = read_model_inputs(onnx_file(model))
            check_feedable(self.inputs, model.path, given=list(options.data))  # the user's file, not a copy
        self.batch = 0
        self._checked: set = set()  # batches a first inference has run at
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
        declared = fixed_batch(self.inputs)
        if declared is not None and declared != batch:
            raise TrtbenchError(f"the model takes batch {declared} only, not {batch}",
                                hint=f"use --batch {declared}, or make the batch dynamic: "
                                "trtbench export MODEL.onnx --dynamic-batch --out M.onnx")
        self._input = self._output = self._graph = None
        out_of_memory = getattr(torch.cuda, "OutOfMemoryError", RuntimeError)
        try:
            tensors = []
            for array in batch_arrays(self.inputs, batch, self.options.data).values():
                x = torch.from_numpy(np.ascontiguousarray(array)).to(self.device)
                if x.is_floating_point():
                    x = x.to(self.dtype)
                    if self.options.channels_last and x.dim() == 4:
                        x = x.contiguous(memory_format=torch.channels_last)
                tensors.append(x)
            self._input = tuple(tensors)
            if batch not in self._checked:  # once per batch: a batch the graph refuses fails here, not timed
                with torch.inference_mode():
                    self.module(*self._input)
                self._checked.add(batch)
        except out_of_memory as exc:
            self._release()
            raise TrtbenchError(f"batch {batch} does not fit in GPU memory ({str(exc).splitlines()[0][:120]})",
                                hint="choose a smaller --batch") from None
        except (RuntimeError, ValueError, IndexError, TypeError) as exc:  # a shape the graph cannot take
            self._release()
            first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else exc.__class__.__name__
            raise TrtbenchError(f"the model cannot run batch {batch} on torch: {first}",
                                hint="choose another --batch") from None
        if self.options.cuda_graph:
            try:
                self._capture()
            except (RuntimeError, ValueError) as exc:
                self._release()
                first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else exc.__class__.__name__
                raise TrtbenchError(f"the model cannot be captured in a CUDA graph at batch {batch}: {first}",
                                    hint="drop --cuda-graph") from None
        self.batch = batch

    def _release(self) -> None:
        self._input = self._output = self._graph = None

    def _capture(self) -> None:
        torch = self.torch
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.inference_mode(), torch.cuda.stream(stream):
            for _ in range(3):  # warm-up on a side stream, as CUDA graph capture requires
                self.module(*self._input)
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.inference_mode(), torch.cuda.graph(graph):
            self._output = self.module(*self._input)
        self._graph = graph

    def _step(self) -> None:
        if self._graph is not None:
            self._graph.replay()
        else:
            self._output = self.module(*self._input)

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
                with _without_kineto_notices(), torch.inference_mode(), profile(activities=activities) as prof:
                    for _ in range(iterations + 1):
                        with record_function(ITERATION):
                            self._output = self.module(*self._input)
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
            if hasattr(module, "onnx_name"):  # a converted ONNX node: named as onnxruntime names it
                label = f"{LAYER_PREFIX}{module.onnx_name}|{ONNX_PREFIX}{module.op_type}"
            else:
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


