"""The onnxruntime backend: CPU, and the CUDA execution provider where it is installed.

Timing runs through an IOBinding with input and output buffers allocated in `set_batch`, so
`run_timed` times inference only. Per-node times come from a separate session with onnxruntime's
profiler enabled (its trace has ``cat: "Node"`` events named ``<node>_kernel_time``, durations in
µs, ``args.op_name`` and ``args.provider``); the profiled runs never feed the throughput.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from trtbench.backends.base import LoadOptions, ProfileResult
from trtbench.backends.onnxruntime.profile import parse_trace
from trtbench.errors import TrtbenchError
from trtbench.models.inputs import batch_arrays, check_feedable, fixed_batch, read_model_inputs
from trtbench.models.source import ModelSource, onnx_file



class OrtSession:
    """A loaded ONNX model in onnxruntime."""

    backend = "onnxruntime"

    def __init__(self, model: ModelSource, options: LoadOptions) -> None:
        import onnxruntime as ort

        self._ort = ort
        self.device = options.device
        self.precision = options.precision
        self.options = options
        self.path = onnx_file(model)
        self.providers = self._providers()
        self.session = self._session(profile_prefix=None)
        self.inputs = read_model_inputs(self.path)
        check_feedable(self.inputs, model.path, given=list(options.data))  # the user's file, not a copy
        self.batch = 0
        self._outputs: Dict[int, List[Any]] = {}  # batch -> each output's (name, shape, dtype)
        self._binding: Any = None
        self._buffers: List[Any] = []

    # ---- loading -------------------------------------------------------------------------
    def _providers(self) -> List[Any]:
        if self.precision not in ("fp32", "tf32"):
            raise TrtbenchError(f"onnxruntime runs the ONNX model in its own precision; --precision "
                                f"{self.precision} is not supported here",
                                hint="use --backend torch or --backend tensorrt for fp16")
        if self.device == "cpu":
            if self.precision != "fp32":
                raise TrtbenchError("--precision tf32 needs --device cuda")
            return ["CPUExecutionProvider"]
        if self.device == "cuda":
            if "CUDAExecutionProvider" not in self._ort.get_available_providers():
                raise TrtbenchError("this onnxruntime has no CUDA execution provider",
                                    hint="install it with: pip install onnxruntime-gpu")
            cuda_options = {"use_tf32": "1" if self.precision == "tf32" else "0"}
            return [("CUDAExecutionProvider", cuda_options), "CPUExecutionProvider"]
        raise TrtbenchError(f"unknown device '{self.device}' for onnxruntime", hint="use --device cpu or cuda")

    def _session(self, profile_prefix: Optional[str], optimized: Optional[str] = None) -> Any:
        ort = self._ort
        so = ort.SessionOptions()
        if optimized:  # the graph onnxruntime runs, to name the original nodes of each fused node
            so.optimized_model_filepath = optimized
        if self.options.threads:
            so.intra_op_num_threads = int(self.options.threads)
            so.inter_op_num_threads = 1
        so.log_severity_level = 3
        if profile_prefix:
            so.enable_profiling = True
            so.profile_file_prefix = profile_prefix
        try:
            return ort.InferenceSession(str(self.path), so, providers=self.providers)
        except Exception as exc:  # onnxruntime's pybind exceptions share no public base class
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
            raise TrtbenchError(f"onnxruntime cannot load {self.path}: {first[:300]}") from None

    # ---- Session protocol ------------------------------------------------------------------
    def set_batch(self, batch: int) -> None:
        """Fresh input and output buffers for `batch` (old ones dropped): allocation lives here."""
        declared = fixed_batch(self.inputs)
        if batch < 1:
            raise TrtbenchError(f"batch must be at least 1, got {batch}")
        if declared is not None and declared != batch:
            raise TrtbenchError(f"{self.path} takes batch {declared} only, not {batch}",
                                hint=f"use --batch {declared}, or make the batch dynamic: "
                                "trtbench export MODEL.onnx --dynamic-batch --out M.onnx")
        self._binding = None
        self._buffers = []
        device = "cuda" if self.device == "cuda" else "cpu"
        ort = self._ort
        binding = self.session.io_binding()
        try:
            for name, data in batch_arrays(self.inputs, batch, self.options.data).items():
                value = ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(data), device, 0)
                binding.bind_ortvalue_input(name, value)
                self._buffers.extend([data, value])
            outputs = self._outputs.get(batch)
            if outputs is None:  # once per batch: run with outputs onnxruntime allocates, for their shapes
                outputs = self._output_shapes(binding, batch, device)
            for name, shape, dtype in outputs:
                if shape is None:  # not a tensor: onnxruntime allocates it every run
                    binding.bind_output(name, device)
                    continue
                value = ort.OrtValue.ortvalue_from_shape_and_type(shape, dtype, device, 0)
                binding.bind_ortvalue_output(name, value)
                self._buffers.append(value)
        except TrtbenchError:
            self._binding, self._buffers = None, []
            raise
        except Exception as exc:  # onnxruntime's allocation errors (out of memory) share no base class
            self._binding, self._buffers = None, []
            first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else exc.__class__.__name__
            raise TrtbenchError(f"{self.path}: buffers for batch {batch} could not be allocated: {first}",
                                hint="choose a smaller --batch") from None
        self._binding, self.batch = binding, batch

    def _output_shapes(self, binding: Any, batch: int, device: str) -> List[Any]:
        """Each output's (name, shape, numpy dtype) at `batch`, from one run (a declared output
        shape may not follow the batch); a batch the graph refuses fails here, before any timing."""
        names = [out.name for out in self.session.get_outputs()]
        for name in names:
            binding.bind_output(name, device)
        self._binding, self.batch = binding, batch
        self._run_once()
        found = []
        for name, value in zip(names, binding.get_outputs()):
            found.append((name, value.shape(), value.numpy().dtype) if value.is_tensor() else (name, None, None))
        binding.clear_binding_outputs()
        self._outputs[batch] = found
        return found

    def _run_once(self) -> None:
        try:
            self.session.run_with_iobinding(self._binding)
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
            raise TrtbenchError(f"{self.path} cannot run batch {self.batch}: {first[:300]}",
                                hint="choose another --batch") from None

    def run_timed(self, iterations: int) -> List[float]:
        from time import perf_counter

        if self._binding is None:
            raise TrtbenchError("set_batch must be called before run_timed")
        times = []
        binding = self._binding
        sync = self.device == "cuda"
        for _ in range(iterations):
            start = perf_counter()
            self._run_once()
            if sync:
                binding.synchronize_outputs()
            times.append((perf_counter() - start) * 1000.0)
        return times

    def profile(self, iterations: int) -> ProfileResult:
        """Profile in a separate session (same options) so the timed session is never profiled."""
        with tempfile.TemporaryDirectory(prefix="trtbench-ort-") as folder:
            optimized = os.path.join(folder, "optimized.onnx")
            profiled = self._session(profile_prefix=os.path.join(folder, "profile"), optimized=optimized)
            timed, self.session = self.session, profiled
            try:
                self.set_batch(self.batch)
                for _ in range(iterations + 1):  # the first run is the warm-up, dropped by parse_trace
                    self._run_once()
                trace = profiled.end_profiling()
            finally:
                self.session = timed
                self.set_batch(self.batch)
            events = json.loads(Path(trace).read_text())
            origins = _origins(self.path, Path(optimized))
        result = parse_trace(events, skip_runs=1, origins=origins)
        result.notes.append(f"onnxruntime profiler, {result.iterations} runs after 1 warm-up run")
        return result

    def info(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {
            "backend_version": self._ort.__version__,
            "providers": self.session.get_providers(),
            "threads": self.options.threads,
        }
        if self.device == "cuda":
            data["device_name"] = _gpu_name()
        return data

    def close(self) -> None:
        self._binding = None
        self._buffers = []
        self.session = None


def _origins(original: Path, optimized: Path) -> Dict[str, List[str]]:
    """`node_origins` of the two graphs; empty when onnxruntime wrote no optimized graph."""
    import onnx

    from trtbench.backends.onnxruntime.profile import node_origins

    if not optimized.is_file():
        return {}
    try:
        return node_origins(onnx.load(str(original), load_external_data=False),
                            onnx.load(str(optimized), load_external_data=False))
    except Exception:  # noqa: BLE001 - names are a convenience; the profile stands without them
        return {}


def _gpu_name() -> str:
    from trtbench.device.host import fingerprint

    return fingerprint().gpu_name or "CUDA GPU"
