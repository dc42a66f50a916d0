"""A strict stand-in for the ``tensorrt`` Python module of one TensorRT release, for tests only.

`fake_tensorrt(api)` builds a module whose classes and enums expose ONLY the names that the
real bindings of that release have (`api`: the conformance data of tests/data/tensorrt/api,
``{"classes": {name: {"methods", "properties", "attrs", "bases"}}, "enums": {name: [members]},
"functions", "python", "constants", "version"}``), intersected with what this stand-in
implements. Using any other name raises AttributeError, setting a read-only or unknown property
too, so a trtbench code path that runs against the stand-in of release V uses only names V has.

Behaviour is just enough for trtbench: a Builder that "builds" a plan (JSON describing the
engine's I/O tensors and layers, read from the ONNX model with onnx), a Runtime that loads it
(None, with TensorRT's logged reason, for another release's plan or when told to fail), an
engine with I/O tensors (binding API or tensor API by what the release has), an execution
context that checks shapes against the optimization profile and bound buffers against the fake
CUDA layer's allocations, per-layer profiler reports, and the engine inspector's JSON.

Facts about real TensorRT it follows (shared/docs/tensorrt-api.md, NVIDIA/TensorRT sources):
- ``Severity`` is an enum nested in ``Logger`` on 8.0 and in ``ILogger`` from 8.2, both with
  ``export_values()`` (pyCore.cpp): ``ILogger.ERROR`` does not exist on 8.0, ``Logger.ERROR`` does
  everywhere. The source-derived data (8.0-8.5) does not list exported values; added here.
- Networks need the EXPLICIT_BATCH flag for the ONNX parser before 10.0; TF32 is on by default.
- An exception escaping ``report_layer_time`` aborts the process on 8.0/8.2 (`FakeAbort`).
- ``enqueue_emits_profile`` defaults to True; with False, ``report_to_profiler()`` reports.
- 11.x inspector JSON lists ``I/O Tensors`` objects, earlier releases ``Bindings`` names.
"""
from __future__ import annotations

import importlib.machinery
import json
import types
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

MAGIC = b"FAKETRT1"
ONNX_TYPES = {1: "FLOAT", 2: "UINT8", 3: "INT8", 6: "INT32", 7: "INT64", 9: "BOOL", 10: "HALF", 16: "BF16"}
BITS = {"FLOAT": 32, "HALF": 16, "BF16": 16, "INT8": 8, "UINT8": 8, "INT32": 32, "INT64": 64, "BOOL": 8,
        "FP8": 8, "E8M0": 8, "INT4": 4, "FP4": 4, "DOUBLE": 64}
LAYER_TYPES = {"Conv": "CaskConvolution", "MaxPool": "CaskPooling", "AveragePool": "CaskPooling",
               "Gemm": "CaskGemmConvolution", "MatMul": "CaskGemmConvolution"}
SEVERITIES = ("INTERNAL_ERROR", "ERROR", "WARNING", "INFO", "VERBOSE")
# what TensorRT logs (its wording)
NO_PROFILE = ("4: [network.cpp::validate::2997] Error Code 4: Internal Error (Network has dynamic or shape "
              "inputs, but no optimization profile has been defined.)")
BAD_MAGIC = ("1: [runtime.cpp::parsePlan::314] Error Code 1: Serialization (Serialization assertion "
             "plan->header.magicTag == rt::kPLAN_MAGIC_TAG failed.)")
OUTSIDE_PROFILE = ("3: [executionContext.cpp::setInputShape] Error Code 3: API Usage Error (Parameter check "
                   "failed, condition: input {} shape {} within the optimization profile's min and max)")


class FakeAbort(BaseException):
    """TensorRT 8.0/8.2 end the process when a Python exception escapes a profiler callback."""


def version_tuple(text: str) -> Tuple[int, ...]:
    return tuple(int(p) for p in text.split(".")[:3] if p.isdigit())


# ---- the engine a plan describes ---------------------------------------------------------------

@dataclass
class TensorSpec:
    name: str
    mode: str  # "input" or "output"
    dims: List[int]  # -1: dynamic (inputs), batch-following (output dim 0) or data-dependent (outputs)
    dtype: str = "FLOAT"  # DataType member name
    profile: Optional[List[List[int]]] = None  # [min, opt, max] for dynamic inputs
    max_bytes: int = 4096  # get_max_output_size for a data-dependent output


@dataclass
class PlanSpec:
    version: str
    tensors: List[TensorSpec]
    layers: List[Tuple[str, str]] = field(default_factory=lambda: [("conv1 + relu1", "CaskConvolution")])
    verbosity: str = "DETAILED"

    def to_bytes(self) -> bytes:
        return MAGIC + json.dumps(asdict(self)).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> PlanSpec:
        raw = json.loads(bytes(data)[len(MAGIC):].decode())
        raw["tensors"] = [TensorSpec(**t) for t in raw["tensors"]]
        raw["layers"] = [tuple(x) for x in raw["layers"]]
        return cls(**raw)


def spec_from_onnx(model_bytes: bytes, has_int64: bool) -> Tuple[List[TensorSpec], List[Tuple[str, str]]]:
    import onnx

    model = onnx.load_model_from_string(bytes(model_bytes))
    weights = {i.name for i in model.graph.initializer}

    def tensor(value: Any, mode: str) -> TensorSpec:
        t = value.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else -1 for d in t.shape.dim]
        dtype = ONNX_TYPES.get(t.elem_type, "FLOAT")
        if dtype == "INT64" and not has_int64:
            dtype = "INT32"  # TensorRT 8.x casts INT64 I/O to INT32
        return TensorSpec(value.name, mode, dims, dtype)

    tensors = [tensor(v, "input") for v in model.graph.input if v.name not in weights]
    tensors += [tensor(v, "output") for v in model.graph.output]
    layers = [(n.name or f"{n.op_type}_{i}", LAYER_TYPES.get(n.op_type, "PointWiseV2"))
              for i, n in enumerate(model.graph.node)]
    return tensors, layers


# ---- the names one release has ---------------------------------------------------------------

class Api:
    """Public names per class and enum members of one release, from its conformance data."""

    def __init__(self, data: Dict[str, Any]) -> None:
        self.version = str(data["version"])
        self.classes: Dict[str, Dict[str, Any]] = data["classes"]
        self.enums: Dict[str, List[str]] = {k: list(v) for k, v in data["enums"].items()}
        python = data.get("python") or {}
        self.functions: Set[str] = set(data.get("functions") or {}) | set(python.get("functions") or [])
        self.patched: Set[str] = set(python.get("patched") or [])
        self.constants: Dict[str, str] = dict(data.get("constants") or {})

    def own_names(self, cls: str) -> Set[str]:
        entry = self.classes.get(cls) or {}
        names = set(entry.get("methods") or {}) | set(entry.get("properties") or {})
        names |= set(entry.get("attrs") or [])
        for qual, members in self.enums.items():  # nested enums and their exported values
            if qual.startswith(cls + ".") and qual.count(".") == 1:
                names.add(qual.split(".")[1])
                if qual.endswith(".Severity"):
                    names |= set(members)  # export_values() (see the module docstring)
        names |= {p.split(".", 1)[1] for p in self.patched if p.startswith(cls + ".")}
        return names

    def writable(self, cls: str, name: str) -> bool:
        for c in self.mro(cls):
            kind = ((self.classes.get(c) or {}).get("properties") or {}).get(name)
            if kind:
                return kind == "rw"
        return False

    def mro(self, cls: str) -> List[str]:
        out = [cls]
        for base in (self.classes.get(cls) or {}).get("bases") or []:
            out += [b for b in self.mro(base) if b not in out]
        return out

    def has(self, cls: str, name: str) -> bool:
        return any(name in self.own_names(c) for c in self.mro(cls))

    def enum_has(self, enum: str, member: str) -> bool:
        return member in self.enums.get(enum, [])


# ---- enums -------------------------------------------------------------------------------------

class _EnumBase:
    _enum = ""

    def __init__(self, name: str, value: int) -> None:
        self._name, self._value = name, value

    @property
    def name(self) -> str:
        return self._name

    @property
    def value(self) -> int:
        return self._value

    def __int__(self) -> int:
        return self._value

    __index__ = __int__

    def __str__(self) -> str:  # pybind11: "DataType.FLOAT"
        return f"{self._enum.split('.')[-1]}.{self._name}"

    def __repr__(self) -> str:
        return f"<{self}: {self._value}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _EnumBase) and other._enum == self._enum and other._name == self._name

    def __hash__(self) -> int:
        return hash((self._enum, self._name))


def _make_enum(qual: str, members: Sequence[str]) -> type:
    order = list(SEVERITIES) if qual.endswith("Severity") else sorted(members)
    enum = type(qual.split(".")[-1], (_EnumBase,), {"_enum": qual, "__module__": "tensorrt"})
    for m in members:
        setattr(enum, m, enum(m, order.index(m)))
    return enum


# ---- classes -----------------------------------------------------------------------------------

class _Base:
    """Shared by every stand-in class: refuses unknown public attributes, records deletions."""

    _api_class = ""
    _mod: Any = None
    _fake_cls: Optional[type] = None

    def __setattr__(self, name: str, value: Any) -> None:
        exact = type(self) is type(self)._fake_cls
        if name.startswith("_") or not exact:  # user subclasses (loggers, profilers) have a __dict__
            object.__setattr__(self, name, value)
            return
        if not self._mod._api.writable(self._api_class, name):
            raise AttributeError(f"TensorRT {self._mod.__version__}: {self._api_class}.{name} is not a "
                                 "writable property")
        object.__setattr__(self, name, value)

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        cls._mod._state.created.append(cls._api_class)
        return object.__new__(cls)

    def __del__(self) -> None:
        try:
            state = self._mod._state
            state.deleted.append(self._api_class)
            if state.cuda is not None:  # one log of releases, CUDA's and TensorRT's
                state.cuda.calls.append(("del", self._api_class))
        except Exception:  # noqa: BLE001, S110 (interpreter shutdown: the state may be gone)
            pass

    def _new(self, cls: str, *args: Any) -> Any:
        return self._mod._classes[cls]._fake_make(*args)

    @classmethod
    def _fake_make(cls, *args: Any) -> Any:
        obj = cls.__new__(cls)
        obj._setup(*args)
        return obj

    def _setup(self, *args: Any) -> None:
        pass

    def _log(self, logger: Any, severity: str, msg: str) -> None:
        logger.log(getattr(self._mod._severity, severity), msg)


class ILogger(_Base):
    _api_class = "ILogger"

    def __init__(self) -> None:
        pass

    def log(self, severity: Any, msg: str) -> None:
        raise RuntimeError("ILogger.log is pure virtual")


class Logger(ILogger):
    _api_class = "Logger"

    def __init__(self, min_severity: Any = None) -> None:
        self._min = min_severity

    def log(self, severity: Any, msg: str) -> None:
        pass


class IProfiler(_Base):
    _api_class = "IProfiler"

    def __init__(self) -> None:
        pass

    def report_layer_time(self, layer_name: str, ms: float) -> None:
        raise RuntimeError("IProfiler.report_layer_time is pure virtual")


class IHostMemory(_Base):
    _api_class = "IHostMemory"

    def _setup(self, data: bytes) -> None:
        self._data = bytes(data)

    def __bytes__(self) -> bytes:
        return self._data

    @property
    def nbytes(self) -> int:
        return len(self._data)


class ITimingCache(_Base):
    _api_class = "ITimingCache"

    def _setup(self, blob: bytes) -> None:
        self._blob = bytes(blob) or b"fake timing cache"

    def serialize(self) -> Any:
        return self._new("IHostMemory", self._blob)


class IOptimizationProfile(_Base):
    _api_class = "IOptimizationProfile"

    def _setup(self) -> None:
        self._shapes: Dict[str, List[List[int]]] = {}

    def set_shape(self, input: str, min: Any, opt: Any, max: Any) -> None:  # TensorRT's argument names
        self._shapes[input] = [list(map(int, min)), list(map(int, opt)), list(map(int, max))]


class IBuilderConfig(_Base):
    _api_class = "IBuilderConfig"

    def _setup(self, builder: Any) -> None:
        self._builder = builder  # keep_alive, as the bindings do
        self._flags: Set[str] = {"TF32"} if self._mod._api.enum_has("BuilderFlag", "TF32") else set()
        self._profiles: List[Any] = []
        self._values: Dict[str, Any] = {}
        self._cache: Any = None

    def _enum_arg(self, enum: str, value: Any) -> str:
        if not (isinstance(value, _EnumBase) and value._enum == enum):
            raise TypeError(f"expected a {enum}, got {value!r}")
        return value.name

    def set_flag(self, flag: Any) -> None:
        self._flags.add(self._enum_arg("BuilderFlag", flag))

    def clear_flag(self, flag: Any) -> None:
        self._flags.discard(self._enum_arg("BuilderFlag", flag))

    def get_flag(self, flag: Any) -> bool:
        return self._enum_arg("BuilderFlag", flag) in self._flags

    def set_memory_pool_limit(self, pool: Any, pool_size: int) -> None:
        self._values[f"pool:{self._enum_arg('MemoryPoolType', pool)}"] = int(pool_size)

    def add_optimization_profile(self, profile: Any) -> int:
        self._profiles.append(profile)
        return len(self._profiles) - 1

    def create_timing_cache(self, serialized_timing_cache: bytes) -> Any:
        return self._new("ITimingCache", serialized_timing_cache)

    def set_timing_cache(self, cache: Any, ignore_mismatch: bool) -> bool:
        self._cache = cache
        return True

    def get_timing_cache(self) -> Any:
        return self._cache

    def _prop(name: str, enum: Optional[str] = None) -> property:  # type: ignore[misc]
        def get(self: Any) -> Any:
            return self._values.get(name)

        def put(self: Any, value: Any) -> None:
            if enum:
                self._enum_arg(enum, value)
            self._values[name] = value

        return property(get, put)

    max_workspace_size = _prop("max_workspace_size")
    profiling_verbosity = _prop("profiling_verbosity", "ProfilingVerbosity")
    default_device_type = _prop("default_device_type", "DeviceType")
    DLA_core = _prop("DLA_core")
    del _prop


class INetworkDefinition(_Base):
    _api_class = "INetworkDefinition"

    def _setup(self, builder: Any, flags: int) -> None:
        self._builder = builder
        self._explicit = bool(flags & 1) or version_tuple(self._mod.__version__) >= (10,)
        self._tensors: List[TensorSpec] = []
        self._layers: List[Tuple[str, str]] = []


class ParserError(_Base):
    _api_class = "ParserError"

    def _setup(self, desc: str) -> None:
        self._desc = desc

    def desc(self) -> str:
        return self._desc

    def __str__(self) -> str:
        return f"In node -1 (importModel): INVALID_GRAPH: {self._desc}"


class OnnxParser(_Base):
    _api_class = "OnnxParser"

    def __init__(self, network: Any, logger: Any) -> None:
        self._network, self._logger, self._errors = network, logger, []

    def parse(self, model: bytes, path: Optional[str] = None) -> bool:
        net = self._network
        if not net._explicit:
            self._errors.append(self._new("ParserError", "the ONNX parser only supports networks with an "
                                                         "explicit batch dimension"))
            return False
        if self._mod._state.fail_parse:
            self._errors.append(self._new("ParserError", self._mod._state.fail_parse))
            return False
        net._tensors, net._layers = spec_from_onnx(model, self._mod._api.enum_has("DataType", "INT64"))
        return True

    @property
    def num_errors(self) -> int:
        return len(self._errors)

    def get_error(self, index: int) -> Any:
        return self._errors[index]


class Builder(_Base):
    _api_class = "Builder"

    def __init__(self, logger: Any) -> None:
        self._logger = logger

    def create_network(self, flags: int = 0) -> Any:
        return self._new("INetworkDefinition", self, int(flags))

    def create_builder_config(self) -> Any:
        return self._new("IBuilderConfig", self)

    def create_optimization_profile(self) -> Any:
        return self._new("IOptimizationProfile")

    @property
    def platform_has_fast_fp16(self) -> bool:
        return True

    def build_serialized_network(self, network: Any, config: Any) -> Any:
        state = self._mod._state
        state.configs.append({"flags": set(config._flags), "values": dict(config._values),
                              "profiles": [dict(p._shapes) for p in config._profiles]})
        if state.fail_build:
            self._log(self._logger, "ERROR", state.fail_build)
            return None
        shapes: Dict[str, List[List[int]]] = {}
        for p in config._profiles:
            shapes.update(p._shapes)
        tensors = []
        for t in network._tensors:
            t = TensorSpec(**asdict(t))
            if t.mode == "input" and -1 in t.dims:
                if t.name not in shapes:
                    self._log(self._logger, "ERROR", NO_PROFILE)
                    return None
                t.profile = shapes[t.name]
                if any(len(s) != len(t.dims) or any(d >= 0 and d != v for d, v in zip(t.dims, s))
                       for s in t.profile):
                    self._log(self._logger, "ERROR", f"profile shapes of {t.name} do not match its dims")
                    return None
            tensors.append(t)
        verbosity = config._values.get("profiling_verbosity")
        plan = PlanSpec(self._mod.__version__, tensors, network._layers or [("layer0", "PointWiseV2")],
                        verbosity.name if verbosity is not None else "LAYER_NAMES_ONLY")
        return self._new("IHostMemory", plan.to_bytes())


class Runtime(_Base):
    _api_class = "Runtime"

    def __init__(self, logger: Any) -> None:
        self._logger = logger

    def deserialize_cuda_engine(self, serialized_engine: bytes) -> Any:
        data, state = bytes(serialized_engine), self._mod._state
        if state.fail_deserialize or not data.startswith(MAGIC):
            self._log(self._logger, "ERROR", state.fail_deserialize or BAD_MAGIC)
            return None
        plan = PlanSpec.from_bytes(data)
        if plan.version != self._mod.__version__:
            self._log(self._logger, "ERROR", "1: [stdArchiveReader.cpp::StdArchiveReader::42] Error Code 1: "
                      "Serialization (The engine plan file is not compatible with this version of TensorRT, "
                      f"expecting library version {self._mod.__version__} got {plan.version}, please "
                      "rebuild.)")
            return None
        return self._new("ICudaEngine", self, plan)


class ICudaEngine(_Base):
    _api_class = "ICudaEngine"

    def _setup(self, runtime: Any, plan: PlanSpec) -> None:
        self._runtime, self._plan = runtime, plan
        self._by_name = {t.name: t for t in plan.tensors}

    def _tensor(self, key: Any) -> TensorSpec:
        return self._plan.tensors[key] if isinstance(key, int) else self._by_name[key]

    def _dtype(self, key: Any) -> Any:
        return getattr(self._mod.DataType, self._tensor(key).dtype)

    # the binding API (8.0-8.6)
    @property
    def num_bindings(self) -> int:
        return len(self._plan.tensors)

    @property
    def num_optimization_profiles(self) -> int:
        return 1

    def get_binding_name(self, index: int) -> str:
        return self._plan.tensors[index].name

    def get_binding_index(self, name: str) -> int:
        return [t.name for t in self._plan.tensors].index(name)

    def binding_is_input(self, index: Any) -> bool:
        return self._tensor(index).mode == "input"

    def get_binding_shape(self, index: Any) -> Tuple[int, ...]:
        return tuple(self._tensor(index).dims)

    def get_binding_dtype(self, index: Any) -> Any:
        return self._dtype(index)

    def _profile(self, key: Any, profile_index: int) -> List[Tuple[int, ...]]:
        t = self._tensor(key)
        if profile_index != 0 or t.profile is None:
            raise RuntimeError(f"no profile shape for {t.name} in profile {profile_index}")
        return [tuple(s) for s in t.profile]

    def get_profile_shape(self, profile_index: int, binding: Any) -> List[Tuple[int, ...]]:
        return self._profile(binding, profile_index)

    # the tensor API (8.5+)
    @property
    def num_io_tensors(self) -> int:
        return len(self._plan.tensors)

    def get_tensor_name(self, index: int) -> str:
        return self._plan.tensors[index].name

    def get_tensor_mode(self, name: str) -> Any:
        return getattr(self._mod.TensorIOMode, self._by_name[name].mode.upper())

    def get_tensor_shape(self, name: str) -> Tuple[int, ...]:
        return tuple(self._by_name[name].dims)

    def get_tensor_dtype(self, name: str) -> Any:
        return self._dtype(name)

    def get_tensor_profile_shape(self, name: str, profile_index: int) -> List[Tuple[int, ...]]:
        return self._profile(name, profile_index)

    def create_execution_context(self) -> Any:
        if self._mod._state.fail_context:
            self._log(self._runtime._logger, "ERROR", "out of memory creating the execution context")
            return None
        return self._new("IExecutionContext", self)

    def create_engine_inspector(self) -> Any:
        return self._new("EngineInspector", self)


class EngineInspector(_Base):
    _api_class = "EngineInspector"

    def _setup(self, engine: Any) -> None:
        self._engine = engine

    def get_engine_information(self, format: Any) -> str:  # TensorRT's argument name
        if format != self._mod.LayerInformationFormat.JSON:
            raise ValueError("only JSON in the stand-in")
        plan = self._engine._plan
        detailed = plan.verbosity in ("DETAILED", "VERBOSE")
        layers = [{"Name": n, "LayerType": t, "Inputs": [], "Outputs": []} if detailed else n
                  for n, t in plan.layers]
        info: Dict[str, Any] = {"Layers": layers}
        if version_tuple(self._mod.__version__) >= (11,):
            info["I/O Tensors"] = [{"Name": t.name, "IOMode": t.mode.title(), "Dimensions": t.dims}
                                   for t in plan.tensors]
        else:
            info["Bindings"] = [t.name for t in plan.tensors]
        return json.dumps(info)


class IExecutionContext(_Base):
    _api_class = "IExecutionContext"

    def _setup(self, engine: Any) -> None:
        self._engine = engine
        self._shapes: Dict[str, Tuple[int, ...]] = {t.name: tuple(t.dims) for t in engine._plan.tensors
                                                     if t.mode == "input" and -1 not in t.dims}
        self._addresses: Dict[str, int] = {}
        self._profiler: Any = None
        self._emits = True
        self._pending: List[Tuple[str, float]] = []

    def _check_shape(self, t: TensorSpec, shape: Sequence[int]) -> bool:
        shape = tuple(int(d) for d in shape)
        fixed_differ = any(d >= 0 and d != s for d, s in zip(t.dims, shape))
        if t.mode != "input" or len(shape) != len(t.dims) or fixed_differ:
            ok = False
        elif t.profile:
            lo, _, hi = t.profile
            ok = all(a <= s <= b for a, s, b in zip(lo, shape, hi))
        else:
            ok = -1 not in t.dims
        if ok:
            self._shapes[t.name] = shape
        else:
            self._log(self._engine._runtime._logger, "ERROR", OUTSIDE_PROFILE.format(t.name, shape))
        return ok

    def set_input_shape(self, name: str, shape: Sequence[int]) -> bool:
        return self._check_shape(self._engine._by_name[name], shape)

    def set_binding_shape(self, binding: int, shape: Sequence[int]) -> bool:
        return self._check_shape(self._engine._plan.tensors[binding], shape)

    def _all_set(self) -> bool:
        return all(t.name in self._shapes for t in self._engine._plan.tensors if t.mode == "input")

    def _shape(self, t: TensorSpec) -> Tuple[int, ...]:
        if t.mode == "input":
            return self._shapes.get(t.name, tuple(t.dims))
        if not self._all_set():
            return tuple(t.dims)
        batch = next((s[0] for s in self._shapes.values() if s), 1)
        return tuple(batch if i == 0 and d < 0 else d for i, d in enumerate(t.dims))  # other -1: by the data

    def get_tensor_shape(self, name: str) -> Tuple[int, ...]:
        return self._shape(self._engine._by_name[name])

    def get_binding_shape(self, binding: int) -> Tuple[int, ...]:
        return self._shape(self._engine._plan.tensors[binding])

    def get_max_output_size(self, name: str) -> int:
        t = self._engine._by_name[name]
        return t.max_bytes if t.mode == "output" and self._all_set() else -1

    def set_tensor_address(self, name: str, memory: int) -> bool:
        self._engine._by_name[name]  # KeyError for an unknown name
        self._addresses[name] = int(memory)
        return True

    def _needed(self, t: TensorSpec) -> int:
        shape = self._shape(t)
        if any(d < 0 for d in shape):
            return t.max_bytes
        count = 1
        for d in shape:
            count *= d
        return -(-count * BITS[t.dtype] // 8)

    def _run(self, addresses: Dict[str, int]) -> bool:
        state, tensors = self._mod._state, self._engine._plan.tensors
        if not self._all_set():
            raise AssertionError("enqueue before every dynamic input shape was set")
        for t in tensors:
            ptr = addresses.get(t.name, 0)
            if not ptr:
                raise AssertionError(f"enqueue without an address for {t.name}")
            if state.cuda is not None and state.cuda.size_of(ptr) < self._needed(t):
                raise AssertionError(f"{t.name}: a buffer of {state.cuda.size_of(ptr)} bytes, "
                                     f"needs {self._needed(t)}")
        state.enqueues += 1
        reports = [(name, 0.1 * (i + 1)) for i, (name, _) in enumerate(self._engine._plan.layers)]
        if self._profiler is not None:
            if self._emits:
                self._report(reports)
            else:
                self._pending = reports
        return True

    def _report(self, reports: List[Tuple[str, float]]) -> None:
        for name, ms in reports:
            try:
                self._profiler.report_layer_time(name, ms)
            except Exception as exc:
                if version_tuple(self._mod.__version__) < (8, 4):
                    raise FakeAbort(f"terminate called without an active exception ({exc!r})") from exc
                print(f"[ERROR] Exception caught in report_layer_time(): {exc!r}")

    def execute_async_v3(self, stream_handle: int) -> bool:
        return self._run(self._addresses)

    def execute_async_v2(self, bindings: Sequence[int], stream_handle: int,
                         input_consumed: Any = None) -> bool:
        tensors = self._engine._plan.tensors
        if len(bindings) != len(tensors):
            raise AssertionError(f"{len(bindings)} bindings for {len(tensors)} I/O tensors")
        return self._run({t.name: int(b) for t, b in zip(tensors, bindings)})

    def report_to_profiler(self) -> bool:
        pending, self._pending = self._pending, []
        self._report(pending)
        return True

    @property
    def profiler(self) -> Any:
        return self._profiler

    @profiler.setter
    def profiler(self, value: Any) -> None:
        self._profiler = value

    @property
    def enqueue_emits_profile(self) -> bool:
        return self._emits

    @enqueue_emits_profile.setter
    def enqueue_emits_profile(self, value: bool) -> None:
        self._emits = bool(value)


IMPLEMENTED = [ILogger, Logger, IProfiler, IHostMemory, ITimingCache, IOptimizationProfile, IBuilderConfig,
               INetworkDefinition, ParserError, OnnxParser, Builder, Runtime, ICudaEngine, EngineInspector,
               IExecutionContext]


# ---- the module ---------------------------------------------------------------------------------

class State:
    """What tests steer (failures) and read back (configs built, enqueues, deletion order)."""

    def __init__(self) -> None:
        self.fail_parse = ""
        self.fail_build = ""  # the error TensorRT logs when build_serialized_network returns None
        self.fail_deserialize = ""
        self.fail_context = False
        self.cuda: Any = None  # a FakeCuda: bound buffers are checked against its allocations
        self.configs: List[Dict[str, Any]] = []
        self.enqueues = 0
        self.created: List[str] = []  # class names, in order
        self.deleted: List[str] = []


def _strict_class(mod: Any, impl: type, api: Api, made: Dict[str, type]) -> Optional[type]:
    qual = impl._api_class
    if qual not in api.classes:
        return None
    bases = tuple(made[b] for b in api.mro(qual)[1:2] if b in made) or (_Base,)
    ns: Dict[str, Any] = {"__module__": "tensorrt", "__qualname__": qual, "_mod": mod}
    for klass in reversed(impl.__mro__):
        if klass in (object, _Base):
            continue
        if klass in IMPLEMENTED and klass is not impl and klass._api_class in made:
            continue  # inherited from the stand-in of that base class
        for key, value in vars(klass).items():
            if key in ("__module__", "__qualname__", "__dict__", "__weakref__", "__doc__"):
                continue
            if key.startswith("_") or api.has(qual, key):
                ns[key] = value
    prop = (api.classes[qual].get("properties") or {})
    for key, value in list(ns.items()):
        if isinstance(value, property) and prop.get(key) == "ro":
            ns[key] = property(value.fget)
    cls = type(qual, bases, ns)
    cls._fake_cls = cls
    return cls


def fake_tensorrt(data: Dict[str, Any]) -> types.ModuleType:
    """A ``tensorrt`` module for the release that `data` (conformance data) describes."""
    api = Api(data)
    mod = types.ModuleType("tensorrt")
    mod.__spec__ = importlib.machinery.ModuleSpec("tensorrt", None)  # importlib.util.find_spec works
    mod.__version__ = api.version
    mod._api = api
    mod._state = State()
    enums = {qual: _make_enum(qual, members) for qual, members in api.enums.items()}
    made: Dict[str, type] = {}
    for impl in IMPLEMENTED:
        cls = _strict_class(mod, impl, api, made)
        if cls is not None:
            made[impl._api_class] = cls
    for qual, enum in enums.items():
        owner, _, short = qual.rpartition(".")
        if not owner:
            setattr(mod, short, enum)
        elif owner in made:
            setattr(made[owner], short, enum)
            for member in api.enums[qual]:
                if api.has(owner, member):
                    setattr(made[owner], member, getattr(enum, member))
    for patched in api.patched:  # Logger.Severity = ILogger.Severity (tensorrt/__init__.py)
        owner, _, name = patched.partition(".")
        if owner in made and name == "Severity" and not hasattr(made[owner], name):
            setattr(made[owner], name, next(e for q, e in enums.items() if q.endswith(".Severity")))
    for name, cls in made.items():
        setattr(mod, name, cls)
    for name, enum_name in api.constants.items():
        if enum_name in enums and api.enum_has(enum_name, name.upper()):
            setattr(mod, name, getattr(enums[enum_name], name.upper()))
    mod._classes = made
    mod._severity = next(e for q, e in enums.items() if q.endswith("Severity"))
    return mod


def install(monkeypatch: Any, data: Dict[str, Any], cuda: Any = None) -> types.ModuleType:
    """Make `import tensorrt` give the stand-in for `data`'s release, and `load_cuda` give `cuda`."""
    import sys

    from trtbench.backends.tensorrt import cuda as cuda_layer

    mod = fake_tensorrt(data)
    mod._state.cuda = cuda
    monkeypatch.setitem(sys.modules, "tensorrt", mod)
    if cuda is not None:
        monkeypatch.setattr(cuda_layer, "load_cuda", lambda prefer=None: cuda)
    return mod
