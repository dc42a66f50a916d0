"""The TensorRT backend: run and profile a serialized engine (``.plan``) in-process.

Written against shared/docs/tensorrt-api.md and feature-detected through
`trtbench.backends.tensorrt.versions.features_for` (8.0/8.2 bindings + execute_async_v2, 8.5+ tensor API +
execute_async_v3). Timing uses CUDA events with no profiler attached; the profiling pass attaches
a deliberately trivial `IProfiler` (TensorRT 8.0/8.2 abort the process if a Python exception
escapes its callback) and, where the version has it, sets ``enqueue_emits_profile = False`` and
calls ``report_to_profiler()`` after synchronising. Layer names are joined with the engine
inspector's layer info (or the build metadata beside the plan) for categories.

Nothing here has run against a real TensorRT on this project's machines (no GPU, no TensorRT):
the version logic and aggregation are tested here; the rest by tests that skip without TensorRT.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from trtbench.backends.base import LoadOptions, ProfileResult
from trtbench.backends.tensorrt.profile import (
    TRANSFER_IN,
    TRANSFER_OUT,
    _make_profiler,
    aggregate_layer_times,
)
from trtbench.errors import TrtbenchError
from trtbench.models.source import ModelSource


class _Buffers:
    """Host and device memory for one batch."""

    def __init__(self, cuda: Any) -> None:
        self.cuda = cuda
        self.device: Dict[str, int] = {}
        self.host: Dict[str, np.ndarray] = {}
        self._host_tokens: List[Any] = []

    def add(self, name: str, shape: Tuple[int, ...], dtype: Any) -> None:
        array, token = self.cuda.host_empty(tuple(shape), dtype)
        self._host_tokens.append(token)
        self.host[name] = array
        self.device[name] = self.cuda.malloc(array.nbytes)

    def free(self) -> None:
        for ptr in self.device.values():
            self.cuda.free(ptr)
        for token in self._host_tokens:
            self.cuda.free_host(token)
        self.device, self.host, self._host_tokens = {}, {}, []


class TensorRTSession:
    backend = "tensorrt"

    def __init__(self, model: ModelSource, options: LoadOptions) -> None:
        import tensorrt as trt

        from trtbench.backends.tensorrt.cuda import load_cuda
        from trtbench.backends.tensorrt.engine import read_metadata
        from trtbench.backends.tensorrt.versions import features_for
        from trtbench.device.targets import version_tuple

        self.trt = trt
        self.features = features_for(version_tuple(trt.__version__))
        self.device = "cuda"
        self.path = Path(model.path)
        self.cuda = load_cuda(options.extra.get("cuda"))
        self.logger = trt.Logger(trt.Logger.WARNING)
        self.runtime = trt.Runtime(self.logger)
        self.engine = self.runtime.deserialize_cuda_engine(self.path.read_bytes())
        if self.engine is None:
            raise TrtbenchError(f"TensorRT {trt.__version__} cannot load {self.path}",
                                hint="engines load only on the GPU and TensorRT release that built them; "
                                     "rebuild it here with trtbench build --target")
        self.context = self.engine.create_execution_context()
        self.metadata = read_metadata(self.path) or {}
        self.precision = str(self.metadata.get("precision") or options.precision)
        self.stream = self.cuda.stream()
        self.buffers = _Buffers(self.cuda)
        self.inputs, self.outputs = self._io_names()
        self.batch = 0
        self._layer_info: Optional[Dict[str, Dict[str, Any]]] = None

    # ---- I/O, tensor API (8.5+) or bindings (8.0-8.4) -------------------------------------
    def _io_names(self) -> Tuple[List[str], List[str]]:
        e, trt = self.engine, self.trt
        if self.features.tensor_api:
            names = [e.get_tensor_name(i) for i in range(e.num_io_tensors)]
            ins = [n for n in names if e.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        else:
            names = [e.get_binding_name(i) for i in range(e.num_bindings)]
            ins = [n for i, n in enumerate(names) if e.binding_is_input(i)]
        if len(ins) != 1:
            raise TrtbenchError(f"{self.path} has {len(ins)} inputs; trtbench runs single-input classifiers")
        return ins, [n for n in names if n not in ins]

    def _input_shape(self, batch: int) -> Tuple[int, ...]:
        e, name = self.engine, self.inputs[0]
        shape = e.get_tensor_shape(name) if self.features.tensor_api else e.get_binding_shape(name)
        return (batch,) + tuple(int(d) for d in list(shape)[1:])

    def set_batch(self, batch: int) -> None:
        e, ctx, trt = self.engine, self.context, self.trt
        self.buffers.free()
        shape = self._input_shape(batch)
        name = self.inputs[0]
        if self.features.tensor_api:
            if not ctx.set_input_shape(name, shape):
                raise TrtbenchError(f"{self.path} cannot take batch {batch} (outside its optimization profile)",
                                    hint=f"its build metadata says {self.metadata.get('batch_range', '?')}")
            dtype = np.dtype(trt.nptype(e.get_tensor_dtype(name)))
            self.buffers.add(name, shape, dtype)
            for out in self.outputs:
                self.buffers.add(out, tuple(ctx.get_tensor_shape(out)), np.dtype(trt.nptype(e.get_tensor_dtype(out))))
            for n, ptr in self.buffers.device.items():
                ctx.set_tensor_address(n, ptr)
        else:
            index = e.get_binding_index(name)
            if not ctx.set_binding_shape(index, shape):
                raise TrtbenchError(f"{self.path} cannot take batch {batch} (outside its optimization profile)")
            self.buffers.add(name, shape, np.dtype(trt.nptype(e.get_binding_dtype(index))))
            for out in self.outputs:
                i = e.get_binding_index(out)
                self.buffers.add(out, tuple(ctx.get_binding_shape(i)), np.dtype(trt.nptype(e.get_binding_dtype(i))))
            self._bindings = [self.buffers.device.get(e.get_binding_name(i), 0) for i in range(e.num_bindings)]
        rng = np.random.default_rng(0)
        self.buffers.host[name][...] = rng.random(shape, dtype=np.float32).astype(self.buffers.host[name].dtype)
        self.batch = batch

    # ---- running ----------------------------------------------------------------------------
    def _enqueue(self) -> None:
        handle = self.cuda.stream_handle(self.stream)
        if self.features.execute == "v3":
            ok = self.context.execute_async_v3(handle)
        else:
            ok = self.context.execute_async_v2(self._bindings, handle)
        if not ok:
            raise TrtbenchError(f"TensorRT failed to run {self.path} at batch {self.batch}")

    def _copy_in(self) -> None:
        name = self.inputs[0]
        self.cuda.htod(self.buffers.device[name], self.buffers.host[name], self.stream)

    def _copy_out(self) -> None:
        for out in self.outputs:
            self.cuda.dtoh(self.buffers.host[out], self.buffers.device[out], self.stream)

    def run_timed(self, iterations: int) -> List[float]:
        """Copy in, infer, copy out, timed with CUDA events; no profiler attached."""
        if not self.batch:
            raise TrtbenchError("set_batch must be called before run_timed")
        start, end = self.cuda.event(), self.cuda.event()
        times = []
        for _ in range(iterations):
            self.cuda.record(start, self.stream)
            self._copy_in()
            self._enqueue()
            self._copy_out()
            self.cuda.record(end, self.stream)
            times.append(self.cuda.elapsed_ms(start, end))
        return times

    def profile(self, iterations: int) -> ProfileResult:
        records: List[Tuple[str, float]] = []
        profiler = _make_profiler(self.trt, records)
        ctx = self.context
        ctx.profiler = profiler
        deferred = self.features.async_profile_report and hasattr(ctx, "report_to_profiler")
        if deferred:
            ctx.enqueue_emits_profile = False
        start, mid, end = self.cuda.event(), self.cuda.event(), self.cuda.event()
        try:
            for _ in range(iterations):
                self.cuda.record(start, self.stream)
                self._copy_in()
                self.cuda.record(mid, self.stream)
                self._enqueue()
                self.cuda.synchronize(self.stream)
                records.append((TRANSFER_IN, self.cuda.elapsed_ms(start, mid)))
                if deferred:
                    ctx.report_to_profiler()
                self.cuda.record(start, self.stream)
                self._copy_out()
                self.cuda.record(end, self.stream)
                records.append((TRANSFER_OUT, self.cuda.elapsed_ms(start, end)))
        finally:
            if deferred:
                ctx.enqueue_emits_profile = True
            try:
                ctx.profiler = None
            except TypeError:  # bindings that refuse None keep the (idle) profiler attached
                pass
        return aggregate_layer_times(records, iterations, self.layer_info())

    def layer_info(self) -> Dict[str, Dict[str, Any]]:
        """Layer name → detailed record: the engine inspector (8.2+), else the build metadata."""
        if self._layer_info is None:
            import json

            from trtbench.backends.trtexec.parsers import layer_info_from_json

            records: List[Dict[str, Any]] = []
            if self.features.engine_inspector and hasattr(self.engine, "create_engine_inspector"):
                text = self.engine.create_engine_inspector().get_engine_information(
                    self.trt.LayerInformationFormat.JSON)
                records = layer_info_from_json(json.loads(text), str(self.path)).layers
            if not any("LayerType" in r for r in records):
                records = list(self.metadata.get("layers") or records)
            self._layer_info = {str(r.get("Name", "")): r for r in records}
        return self._layer_info

    def info(self) -> Dict[str, Any]:
        return {"backend_version": str(self.trt.__version__), "device_name": self.cuda.device_name(),
                "cuda_layer": self.cuda.name, "engine_target": (self.metadata.get("target") or {}).get("name"),
                "engine_built_with": (self.metadata.get("versions") or {}).get("tensorrt")}

    def close(self) -> None:
        self.buffers.free()
        self.cuda.destroy_stream(self.stream)


