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

import importlib.util
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from trtbench.backends.base import LoadOptions, ModelSource, ProfileResult
from trtbench.categories import OTHER, TRANSFER
from trtbench.errors import TrtbenchError
from trtbench.results.record import LayerTime

TRANSFER_IN = "[HostToDevice input]"
TRANSFER_OUT = "[DeviceToHost output]"


def aggregate_layer_times(records: Sequence[Tuple[str, float]], iterations: int,
                          layer_info: Dict[str, Dict[str, Any]]) -> ProfileResult:
    """Mean ms per inference for each layer from (name, ms) profiler records of `iterations` runs,
    categorised with the engine's layer info; names keep the engine's first-seen order."""
    from trtbench.categories.tensorrt_layers import categorize, normalize_name

    if iterations < 1:
        raise TrtbenchError("profiling needs at least one iteration")
    totals: Dict[str, float] = {}
    for name, ms in records:
        totals[name] = totals.get(name, 0.0) + float(ms)
    layers: List[LayerTime] = []
    unknown: List[str] = []
    for name, total in totals.items():
        info = layer_info.get(name) or layer_info.get(normalize_name(name))
        category = TRANSFER if name in (TRANSFER_IN, TRANSFER_OUT) else categorize(name, info)
        if category == OTHER:
            unknown.append(name)
        layer_type = str(info.get("LayerType")) if info and info.get("LayerType") else None
        layers.append(LayerTime(name=name, category=category, ms=total / iterations, type=layer_type))
    return ProfileResult(layers=layers, iterations=iterations, unknown=unknown)


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
        from trtbench.device.targets import version_tuple
        from trtbench.backends.tensorrt.build import read_metadata
        from trtbench.backends.tensorrt.versions import features_for

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


def _make_profiler(trt: Any, records: List[Tuple[str, float]]) -> Any:
    class _Profiler(trt.IProfiler):  # type: ignore[misc,name-defined]
        # Trivial on purpose: TensorRT 8.0/8.2 abort the process on an exception in here.
        def __init__(self) -> None:
            trt.IProfiler.__init__(self)

        def report_layer_time(self, layer_name: str, ms: float) -> None:
            records.append((layer_name, ms))

    return _Profiler()


class TensorRTBackend:
    name = "tensorrt"

    def available(self) -> bool:
        return importlib.util.find_spec("tensorrt") is not None

    def install_hint(self) -> str:
        from trtbench.backends.tensorrt.build import tensorrt_missing
        return str(tensorrt_missing(for_profile=True).hint)

    def load(self, model: ModelSource, options: LoadOptions) -> TensorRTSession:
        from trtbench.backends.tensorrt.build import tensorrt_missing
        if not self.available():
            raise tensorrt_missing(for_profile=True)
        if model.kind != "plan":
            raise TrtbenchError(f"{model.path} is not a TensorRT engine plan",
                                hint="build one first: trtbench build MODEL.onnx --target NAME")
        if options.precision not in ("fp32", "fp16", "int8", "tf32"):
            raise TrtbenchError(f"unknown precision {options.precision!r}")
        return TensorRTSession(model, options)


BACKEND = TensorRTBackend()
