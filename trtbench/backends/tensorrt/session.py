"""The TensorRT backend: run and profile a serialized engine (``.plan``) in-process.

Written against shared/docs/tensorrt-api.md and feature-detected through
`trtbench.backends.tensorrt.versions.features_for` (8.0-8.4 bindings + execute_async_v2, 8.5+
tensor API + execute_async_v3). Any number of inputs: a dynamic first dimension takes the batch,
any other dynamic dimension the optimization profile's opt size; outputs whose shape depends on
the data get TensorRT's upper bound on their size. Timing uses CUDA events (created once per
session) with no profiler attached; the profiling pass attaches a deliberately trivial
`IProfiler` (TensorRT 8.0/8.2 abort the process if a Python exception escapes its callback)
and, where the version has it, sets ``enqueue_emits_profile = False`` and calls
``report_to_profiler()`` after synchronising. Layer names are joined with the engine
inspector's layer info (or the build metadata beside the plan) for categories.

Without TensorRT or a GPU, tests run this against a strict stand-in of each release's API
(tests/fake_tensorrt.py, names from the real bindings); real runs are tests that skip here.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from trtbench.backends.base import LoadOptions, ProfileResult
from trtbench.backends.tensorrt.profile import (
    TRANSFER_IN,
    TRANSFER_OUT,
    _make_profiler,
    aggregate_layer_times,
)
from trtbench.backends.tensorrt.tensors import (
    Buffers,
    IoTensor,
    Shape,
    dims_of,
    fixed_batch,
    random_data,
    read_io_tensors,
    shown,
)
from trtbench.errors import TrtbenchError
from trtbench.models.source import ModelSource


class TensorRTSession:
    backend = "tensorrt"

    def __init__(self, model: ModelSource, options: LoadOptions) -> None:
        import tensorrt as trt

        from trtbench.backends.tensorrt.cuda import load_cuda
        from trtbench.backends.tensorrt.engine import read_metadata
        from trtbench.backends.tensorrt.logger import keeping_logger
        from trtbench.backends.tensorrt.versions import features_for
        from trtbench.device.targets import version_tuple

        self.trt = trt
        self.features = features_for(version_tuple(trt.__version__))
        self.device = "cuda"
        self.path = Path(model.path)
        self.metadata = read_metadata(self.path) or {}
        self.precision = str(self.metadata.get("precision") or options.precision)
        self.data: Dict[str, Any] = dict(options.data)
        core = self.metadata.get("dla_core")
        self.dla_core: Optional[int] = core if isinstance(core, int) and not isinstance(core, bool) else None
        self.batch = 0
        self.fixed_batch: Optional[int] = None
        self.inputs: List[IoTensor] = []
        self.outputs: List[IoTensor] = []
        self._layer_info: Optional[Dict[str, Dict[str, Any]]] = None
        self._bindings: List[int] = []
        self._closed = False
        plan = self.path.read_bytes()
        self.cuda = load_cuda(options.extra.get("cuda"))
        self.buffers = Buffers(self.cuda)
        self.logger = keeping_logger(trt)  # outlives the runtime, engine and context (dropped last)
        self.runtime: Any = None
        self.engine: Any = None
        self.context: Any = None
        self.stream: Any = None
        self._events: List[Any] = []
        try:
            self._open(plan)
        except BaseException:
            self.close()  # release what was created before the failure
            raise

    def _open(self, plan: bytes) -> None:
        trt = self.trt
        self.runtime = trt.Runtime(self.logger)
        if self.dla_core is not None:  # an engine built for a DLA core runs on that core
            self.runtime.DLA_core = self.dla_core
        self.engine = self.runtime.deserialize_cuda_engine(plan)
        if self.engine is None:
            raise TrtbenchError(f"TensorRT {trt.__version__} cannot load {self.path}: {self.logger.reason()}",
                                hint="an engine loads only with the TensorRT release and on the GPU that "
                                     "built it; rebuild it on this device with this TensorRT (trtbench "
                                     "build MODEL.onnx --target NAME)")
        tensors = read_io_tensors(trt, self.engine, self.features.tensor_api, str(self.path))
        self.inputs = [t for t in tensors if t.is_input]
        self.outputs = [t for t in tensors if not t.is_input]
        unknown = sorted(set(self.data) - {t.name for t in self.inputs})
        if unknown:
            raise TrtbenchError(f"{self.path} has no input called {', '.join(map(repr, unknown))}",
                                hint=f"its inputs: {', '.join(t.name for t in self.inputs)}")
        self.fixed_batch = fixed_batch(self.inputs)
        self.context = self.engine.create_execution_context()
        if self.context is None:
            raise TrtbenchError(f"TensorRT cannot create an execution context for {self.path}: "
                                f"{self.logger.reason()}", hint="free GPU memory (other processes) and retry")
        self.stream = self.cuda.stream()
        for _ in range(3):  # start, middle, end: reused by every timed and profiled iteration
            self._events.append(self.cuda.event())

    # ---- I/O: tensor API (8.5+) or bindings (8.0-8.4) -------------------------------------
    def _opt_shape(self, t: IoTensor) -> Shape:
        """The optimization profile's opt shape of input `t` (profile 0)."""
        if self.features.tensor_api:
            return dims_of(self.engine.get_tensor_profile_shape(t.name, 0)[1])
        return dims_of(self.engine.get_profile_shape(0, t.index)[1])

    def _input_shape(self, t: IoTensor, batch: int) -> Shape:
        if not t.dynamic:
            return t.dims
        opt = self._opt_shape(t) if any(d < 0 for d in t.dims[1:]) else t.dims
        return tuple(batch if i == 0 and d < 0 else (opt[i] if d < 0 else d) for i, d in enumerate(t.dims))

    def _set_input_shape(self, t: IoTensor, shape: Shape) -> bool:
        if self.features.tensor_api:
            return bool(self.context.set_input_shape(t.name, shape))
        return bool(self.context.set_binding_shape(t.index, shape))

    def _output_shape(self, t: IoTensor) -> Shape:
        if self.features.tensor_api:
            return dims_of(self.context.get_tensor_shape(t.name))
        return dims_of(self.context.get_binding_shape(t.index))

    def set_batch(self, batch: int) -> None:
        """Set every input's shape for `batch`, allocate fresh buffers and fill the inputs."""
        self._check_open()
        if batch < 1:
            raise TrtbenchError(f"batch must be at least 1, not {batch}")
        if self.fixed_batch is not None and batch != self.fixed_batch:
            raise TrtbenchError(f"{self.path} was built for a fixed batch of {self.fixed_batch}, not {batch}",
                                hint=f"use batch {self.fixed_batch}, or build the engine from a model "
                                     "exported with a dynamic batch")
        self.buffers.free()
        self.batch = 0
        shapes = {t.name: self._input_shape(t, batch) for t in self.inputs}
        for t in self.inputs:
            if t.dynamic and not self._set_input_shape(t, shapes[t.name]):
                built = self.metadata.get("batch_range") or []
                raise TrtbenchError(f"{self.path} cannot take batch {batch}: input {t.name!r} "
                                    f"{shown(shapes[t.name])} is outside its optimization profile",
                                    hint=f"it was built for batches {built[0]} to {built[-1]}" if built else
                                    "use a batch inside the range the engine was built for")
        for position, t in enumerate(self.inputs):
            host = self.buffers.add(t.name, t.storage.host_shape(shapes[t.name]), t.storage.numpy_dtype)
            host[...] = self._input_data(t, shapes[t.name], position)
        for t in self.outputs:
            self._add_output(t, batch)
        if self.features.tensor_api:
            for name, ptr in self.buffers.device.items():
                self.context.set_tensor_address(name, ptr)
        else:
            self._bindings = [0] * self.engine.num_bindings
            for t in self.inputs + self.outputs:
                self._bindings[t.index] = self.buffers.device[t.name]
        self.batch = batch

    def _input_data(self, t: IoTensor, shape: Shape, seed: int) -> Any:
        if t.name not in self.data:
            return random_data(t.storage, shape, seed=seed)
        if not t.storage.native:
            raise TrtbenchError(f"input {t.name!r} of {self.path} is {t.storage.type_name}, which trtbench "
                                "feeds with random data only", hint=f"drop --input {t.name}=...")
        from trtbench.models.inputs import ModelInput, fit_to_batch

        spec = ModelInput(t.name, list(shape), t.storage.numpy_dtype)
        return fit_to_batch(self.data[t.name], spec, shape[0] if shape else 1, f"--input {t.name}")

    def _add_output(self, t: IoTensor, batch: int) -> None:
        dims = self._output_shape(t)
        if all(d >= 0 for d in dims):
            self.buffers.add(t.name, t.storage.host_shape(dims), t.storage.numpy_dtype)
            return
        # a data-dependent shape (NonZero, NMS): TensorRT's upper bound on its size, in bytes (8.5+)
        if not self.features.tensor_api:
            raise TrtbenchError(f"{self.path}: output {t.name!r} ({shown(dims)}) has a data-dependent shape, "
                                f"which TensorRT {self.trt.__version__} cannot size in advance",
                                hint="data-dependent output shapes need TensorRT 8.5 or later")
        size = int(self.context.get_max_output_size(t.name))
        if size < 0:
            raise TrtbenchError(f"{self.path}: TensorRT gives no upper bound for the size of output "
                                f"{t.name!r} ({shown(dims)}) at batch {batch}: {self.logger.reason()}")
        self.buffers.add(t.name, (max(size, 1),), "uint8")

    # ---- running ----------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise TrtbenchError(f"the TensorRT session of {self.path} is closed")

    def _enqueue(self) -> None:
        handle = self.cuda.stream_handle(self.stream)
        if self.features.execute == "v3":
            ok = self.context.execute_async_v3(handle)
        else:
            ok = self.context.execute_async_v2(self._bindings, handle)
        if not ok:
            raise TrtbenchError(f"TensorRT failed to run {self.path} at batch {self.batch}: "
                                f"{self.logger.reason()}")

    def _copy_in(self) -> None:
        for t in self.inputs:
            self.cuda.htod(self.buffers.device[t.name], self.buffers.host[t.name], self.stream)

    def _copy_out(self) -> None:
        for t in self.outputs:
            self.cuda.dtoh(self.buffers.host[t.name], self.buffers.device[t.name], self.stream)

    def _ready(self, what: str) -> None:
        self._check_open()
        if not self.batch:
            raise TrtbenchError(f"set_batch must be called before {what}")

    def run_timed(self, iterations: int) -> List[float]:
        """Copy in, infer, copy out, timed with CUDA events; no profiler attached."""
        self._ready("run_timed")
        start, _, end = self._events
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
        """The separate profiling pass: per-layer times from TensorRT's IProfiler, transfers apart."""
        self._ready("profile")
        records: List[Tuple[str, float]] = []
        ctx = self.context
        ctx.profiler = _make_profiler(self.trt, records)
        deferred = self.features.async_profile_report
        if deferred:
            ctx.enqueue_emits_profile = False
        start, mid, end = self._events
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
        return aggregate_layer_times(records, iterations, self.layer_info(), on_dla=self.dla_core is not None)

    def layer_info(self) -> Dict[str, Dict[str, Any]]:
        """Layer name → detailed record: the engine inspector (8.2+), else the build metadata."""
        if self._layer_info is None:
            import json

            from trtbench.backends.tensorrt.layer_info import layer_info_from_json

            records: List[Dict[str, Any]] = []
            if self.features.engine_inspector and self.engine is not None:
                inspector = self.engine.create_engine_inspector()
                text = inspector.get_engine_information(self.trt.LayerInformationFormat.JSON)
                inspector = None
                records = layer_info_from_json(json.loads(text), str(self.path)).layers
            if not any("LayerType" in r for r in records):
                records = list(self.metadata.get("layers") or records)
            self._layer_info = {str(r.get("Name", "")): r for r in records}
        return self._layer_info

    def info(self) -> Dict[str, Any]:
        return {"backend_version": str(self.trt.__version__), "device_name": self.cuda.device_name(),
                "cuda_layer": self.cuda.name,
                "engine_target": (self.metadata.get("target") or {}).get("name"),
                "engine_built_with": (self.metadata.get("versions") or {}).get("tensorrt")}

    # ---- releasing --------------------------------------------------------------------------
    def close(self) -> None:
        """Release, in order: buffers, events, stream, then the execution context, the engine and
        the runtime (TensorRT frees each when its last reference goes). A second call does nothing;
        a failing step does not stop the later ones (the first error is raised at the end)."""
        if self._closed:
            return
        self._closed = True
        self.batch = 0
        steps: List[Callable[[], None]] = [self.buffers.free, self._destroy_events, self._destroy_stream,
                                           self._drop_tensorrt]
        first: Optional[BaseException] = None
        for step in steps:
            try:
                step()
            except Exception as exc:  # noqa: BLE001 (keep releasing; the first failure is raised)
                first = first or exc
        if first is not None:
            raise first

    def _destroy_events(self) -> None:
        events, self._events = self._events, []
        for event in events:
            self.cuda.destroy_event(event)

    def _destroy_stream(self) -> None:
        stream, self.stream = self.stream, None
        if stream is not None:
            self.cuda.destroy_stream(stream)

    def _drop_tensorrt(self) -> None:
        self._bindings = []
        self.context = None
        self.engine = None
        self.runtime = None

