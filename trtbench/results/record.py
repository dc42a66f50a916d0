"""RunRecord: one measured (model, batch, backend, device) configuration. The unit of truth.

A record is written as versioned JSON (several records from one call form a JSON array); every
analysis (show, compare, drift, fit, plot, study) reads records, never a backend. Everything a
later analysis needs is in the record itself: the device it ran on (`Host`), its verdict
(`Validity`), the telemetry sampled while it ran (`Telemetry`) and the tags that place it in a
sweep, so a run exported to a file and imported elsewhere is the same run.

The schema is shipped as ``run-record.schema.json`` beside this module (`SCHEMA_FILE`); the
field list below is its summary. Kinds: ``profile`` (a timing pass and a profiling pass) and
``drift`` (the same loop repeated, its per-loop series in ``drift``).

Schema version 3 (version 1 and 2 files and databases are migrated when read, `migrate`)::

    schema_version, run_id (32 hex digits; older 12), kind, created (ISO 8601 UTC), backend,
    backend_version, device, device_name, precision, batch,
    model {name, path, kind, sha256, spec, source, metadata?, inputs?, item?, cost?},
    host {the device fingerprint}, session {what the backend session reported}, tags {key: value},
    iterations, loops, warmup, end_to_end_ms, images_per_s, tiles_per_ms, overhead,
    intervals {level, n, end_to_end_ms, images_per_s, tiles_per_ms: [low, high], profile_runs,
    categories, layers: {name: [low, high]}} | null, sampling {mode, ended_by, ...} | null,
    categories {category: ms},
    layers [{name, category, ms, percent, type?, origin?, shape?}], loop_ms [loops],
    iteration_ms [loops][iterations], telemetry {...} | null, validity {verdict, checks, cold_ms?},
    drift {...} | null, notes [str]

Throughput: ``images_per_s`` counts items of the batch axis per second (an image, a tile, a
sample: ``model.item`` says which); ``tiles_per_ms`` is the same figure in the 2016 study's unit
(items per ms), kept for the study's tables and older files.
"""
from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from trtbench import jsonio
from trtbench.categories import CATEGORIES
from trtbench.errors import TrtbenchError
from trtbench.results import wellformed

SCHEMA_VERSION = 3
SCHEMA_FILE = Path(__file__).with_name("run-record.schema.json")
PROFILE, DRIFT = "profile", "drift"
KINDS = (PROFILE, DRIFT)


def new_run_id() -> str:
    """A full-length run id (128 random bits as 32 hex digits)."""
    return uuid.uuid4().hex


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def per_tile_shape(dims: Any) -> Optional[List[int]]:
    """A tensor's dimensions without the batch one (for ``LayerTime.shape``); None when unknown."""
    if not isinstance(dims, list) or len(dims) < 2:
        return None
    try:
        return [int(d) for d in dims[1:]]
    except (TypeError, ValueError):
        return None


def _known(cls: Any, data: Mapping[str, Any]) -> Dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def _drop_none(data: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None and v != {} and v != []}


@dataclass
class LayerTime:
    """Time of one layer (or fused layer) per inference of one batch, in ms."""

    name: str
    category: str
    ms: float
    percent: float = 0.0
    type: Optional[str] = None  # op type / layer type as the backend names it
    origin: Optional[str] = None  # e.g. the ONNX node(s) a TensorRT layer came from
    shape: Optional[List[int]] = None  # its (first) output's dimensions without the batch one, when known

    def to_dict(self) -> Dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "LayerTime":
        return cls(**_known(cls, data))


@dataclass
class Host:
    """The device fingerprint: where a run was measured, as far as trtbench could tell.

    Filled by `trtbench.device.host.fingerprint` (one probe of the host per process); an imported
    trtexec run carries what its files say of the device it ran on. Unknown facts are None.
    """

    hostname: str = ""
    machine: str = ""  # x86_64, aarch64
    os: str = ""
    cpu: str = ""
    cores: Optional[int] = None
    memory_mb: Optional[int] = None
    python: str = ""
    trtbench: str = ""
    gpu_name: Optional[str] = None
    compute_capability: Optional[str] = None
    driver: Optional[str] = None  # NVIDIA driver version
    cuda: Optional[str] = None  # CUDA version the driver supports
    tensorrt: Optional[str] = None
    jetson_model: Optional[str] = None  # /proc/device-tree/model
    soc: Optional[str] = None  # tegra210 ... tegra264
    l4t: Optional[str] = None
    jetpack: Optional[str] = None
    power_mode: Optional[str] = None  # nvpmodel's mode name (Jetson)
    target: Optional[str] = None  # the target profile this device is, when known
    extra: Dict[str, Any] = field(default_factory=dict)  # facts of older records with no field here

    def to_dict(self) -> Dict[str, Any]:
        return _drop_none(asdict(self))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Host":
        known = _known(cls, data)
        extra = dict(known.pop("extra", None) or {})
        extra.update({k: v for k, v in data.items() if k not in known and k != "extra"})
        return cls(**known, extra=extra)

    def describe(self) -> str:
        """One phrase: the Jetson module, else the GPU, else the CPU."""
        return self.jetson_model or self.gpu_name or self.cpu or self.hostname or "unknown device"


@dataclass
class Check:
    """One validity check of a run: ok, warn or invalid, with the fix for anything not ok."""

    name: str
    status: str  # ok | warn | invalid
    message: str
    fix: str = ""

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Check":
        return cls(str(data.get("name", "?")), str(data.get("status", "")), str(data.get("message", "")),
                   str(data.get("fix") or ""))


@dataclass
class Validity:
    """Is the run trustworthy: VALID, WARN or INVALID, and the checks that decided it."""

    verdict: Optional[str] = None
    checks: List[Check] = field(default_factory=list)
    cold_ms: Optional[float] = None  # the first (cold) inference, excluded by the warm-up

    def to_dict(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {"verdict": self.verdict, "checks": [c.to_dict() for c in self.checks]}
        if self.cold_ms is not None:
            data["cold_ms"] = self.cold_ms
        return data

    @classmethod
    def from_dict(cls, data: Optional[Mapping[str, Any]]) -> "Validity":
        data = data or {}
        cold = data.get("cold_ms")
        return cls(data.get("verdict"), [Check.from_dict(c) for c in data.get("checks") or [] if isinstance(c, dict)],
                   float(cold) if isinstance(cold, (int, float)) else None)

    def not_ok(self) -> List[Check]:
        return [c for c in self.checks if c.status != "ok"]


@dataclass
class Telemetry:
    """What the device reported while the run was timed (NVML, tegrastats), or what an imported
    trtexec log said of it."""

    source: Optional[str] = None  # nvml | tegrastats
    period_s: Optional[float] = None
    device: Dict[str, Any] = field(default_factory=dict)  # the source's device description
    samples: List[Dict[str, Any]] = field(default_factory=list)
    jetson: Dict[str, Any] = field(default_factory=dict)  # Jetson clocks and power mode at the start
    trtexec: Dict[str, Any] = field(default_factory=dict)  # an imported log's device block and timing summary
    notes: List[str] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        return _drop_none(asdict(self))

    @classmethod
    def from_dict(cls, data: Optional[Mapping[str, Any]]) -> Optional["Telemetry"]:
        if not data:
            return None
        return cls(**_known(cls, data))


@dataclass
class DriftData:
    """A drift run's per-loop series (ms per part) and what the trend and step tests found."""

    alloc: str  # per-run | reuse | fragment
    series: Dict[str, List[float]]
    report: Dict[str, Any] = field(default_factory=dict)  # trtbench.analysis.drift.DriftReport.to_dict()
    unit: str = "loop"

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Optional[Mapping[str, Any]]) -> Optional["DriftData"]:
        if not data:
            return None
        return cls(**_known(cls, data))


@dataclass
class RunRecord:
    backend: str
    device: str  # "cpu", "cuda", or a target name for engines ("tx1")
    batch: int
    precision: str
    model: Dict[str, Any]
    iterations: int
    loops: int
    loop_ms: List[float]
    iteration_ms: List[List[float]]
    end_to_end_ms: float
    tiles_per_ms: float
    images_per_s: Optional[float] = None  # None: derived from tiles_per_ms
    layers: List[LayerTime] = field(default_factory=list)
    categories: Dict[str, float] = field(default_factory=dict)
    overhead: Optional[float] = None
    warmup: int = 0
    backend_version: str = ""
    device_name: str = ""
    host: Host = field(default_factory=Host)
    session: Dict[str, Any] = field(default_factory=dict)  # what the backend session reported (threads, ...)
    telemetry: Optional[Telemetry] = None
    validity: Validity = field(default_factory=Validity)
    notes: List[str] = field(default_factory=list)
    tags: Dict[str, str] = field(default_factory=dict)  # e.g. sweep, sweep_run, point, group
    kind: str = PROFILE
    drift: Optional[DriftData] = None
    intervals: Optional[Dict[str, Any]] = None  # `trtbench.results.intervals.for_record`; None: not computed
    sampling: Optional[Dict[str, Any]] = None  # how long the timing pass sampled, and what ended it
    run_id: str = field(default_factory=new_run_id)
    created: str = field(default_factory=utc_now)
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.images_per_s is None:
            self.images_per_s = 1000.0 * self.tiles_per_ms
        # plain JSON data given for a sub-record (a script's own dict, say) becomes the typed one
        if isinstance(self.host, Mapping):
            self.host = Host.from_dict(self.host)
        if isinstance(self.validity, Mapping):
            self.validity = Validity.from_dict(self.validity)
        if isinstance(self.telemetry, Mapping):
            self.telemetry = Telemetry.from_dict(self.telemetry)
        if isinstance(self.drift, Mapping):
            self.drift = DriftData.from_dict(self.drift)
        self.layers = [LayerTime.from_dict(x) if isinstance(x, Mapping) else x for x in self.layers]

    # ---- derived -----------------------------------------------------------------------
    @property
    def ms_per_tile(self) -> float:
        return self.end_to_end_ms / self.batch

    @property
    def item(self) -> str:
        """What one item of the batch is: ``tile`` (the study's 28x28 tiles), ``image`` or ``sample``."""
        item = self.model.get("item")
        if item in ("tile", "image", "sample"):
            return str(item)
        return "tile" if self.model.get("spec") else "image"

    @property
    def model_name(self) -> str:
        return str(self.model.get("name", "?"))

    @property
    def verdict(self) -> Optional[str]:
        return self.validity.verdict

    def summary(self) -> Dict[str, Any]:
        """The run in one line of fields (what `trtbench runs` lists; the full record is `to_dict`)."""
        return {"run_id": self.run_id, "kind": self.kind, "created": self.created, "model": self.model_name,
                "backend": self.backend, "device": self.device, "device_name": self.device_name,
                "precision": self.precision, "batch": self.batch, "images_per_s": self.images_per_s,
                "item": self.item, "tiles_per_ms": self.tiles_per_ms,
                "end_to_end_ms": self.end_to_end_ms, "verdict": self.validity.verdict, "tags": dict(self.tags)}

    def finish_layers(self) -> None:
        """Fill each layer's percent and the per-category totals from the layer times."""
        total = sum(layer.ms for layer in self.layers)
        cats: Dict[str, float] = {}
        for layer in self.layers:
            layer.percent = 100.0 * layer.ms / total if total > 0 else 0.0
            cats[layer.category] = cats.get(layer.category, 0.0) + layer.ms
        # keep the canonical order, then anything unexpected
        ordered = {c: cats[c] for c in CATEGORIES if c in cats}
        ordered.update({c: v for c, v in cats.items() if c not in ordered})
        self.categories = ordered

    # ---- JSON --------------------------------------------------------------------------
    def to_dict(self) -> Dict[str, Any]:
        """The record as plain JSON data, in the schema's order."""
        return {
            "schema_version": self.schema_version, "run_id": self.run_id, "kind": self.kind,
            "created": self.created, "backend": self.backend, "backend_version": self.backend_version,
            "device": self.device, "device_name": self.device_name, "precision": self.precision,
            "batch": self.batch, "model": self.model, "host": self.host.to_dict(), "session": self.session,
            "tags": dict(self.tags), "iterations": self.iterations, "loops": self.loops, "warmup": self.warmup,
            "end_to_end_ms": self.end_to_end_ms, "images_per_s": self.images_per_s,
            "tiles_per_ms": self.tiles_per_ms, "overhead": self.overhead,
            "intervals": self.intervals, "sampling": self.sampling,
            "categories": dict(self.categories), "layers": [layer.to_dict() for layer in self.layers],
            "loop_ms": list(self.loop_ms), "iteration_ms": [list(loop) for loop in self.iteration_ms],
            "telemetry": self.telemetry.to_dict() if self.telemetry else None,
            "validity": self.validity.to_dict(),
            "drift": self.drift.to_dict() if self.drift else None,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<record>") -> "RunRecord":
        """A record from its JSON data (any schema version this trtbench knows, migrated).

        Data that is not well formed (`trtbench.results.wellformed`: text or NaN for a number, a
        batch of 0, ...) raises `wellformed.BadRecord`, one line naming `source` and the field."""
        if not isinstance(data, Mapping):
            raise TrtbenchError(f"{source} is not a trtbench run record (not a JSON object)")
        data = migrate(data, source)
        wellformed.require(data, source)
        kwargs = _known(cls, data)
        try:
            kwargs["layers"] = [LayerTime.from_dict(layer) for layer in data.get("layers") or []]
            kwargs["host"] = Host.from_dict(data.get("host") or {})
            kwargs["validity"] = Validity.from_dict(data.get("validity"))
            kwargs["telemetry"] = Telemetry.from_dict(data.get("telemetry"))
            kwargs["drift"] = DriftData.from_dict(data.get("drift"))
            kwargs["tags"] = {str(k): str(v) for k, v in (data.get("tags") or {}).items()}
            return cls(**kwargs)
        except (TypeError, AttributeError) as exc:
            raise TrtbenchError(f"{source}: incomplete run record ({exc})") from None


def migrate(data: Mapping[str, Any], source: str = "<record>") -> Dict[str, Any]:
    """Record JSON of any known schema version as version `SCHEMA_VERSION` data.

    Version 1 kept the backend session's details in ``host.session`` and had no kind, tags or
    drift; its run ids (12 hex digits) stay as they are. Versions 1 and 2 had no ``images_per_s``
    (it is ``tiles_per_ms`` × 1000).
    """
    version = data.get("schema_version")
    if version is None or "backend" not in data or "batch" not in data:
        raise TrtbenchError(f"{source} is not a trtbench run record (no schema_version/backend/batch)")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise TrtbenchError(f"{source} has schema_version {version!r}, not a version number (1 to {SCHEMA_VERSION})",
                            hint="a trtbench record holds a whole number there")
    if version > SCHEMA_VERSION:
        raise TrtbenchError(
            f"{source} has schema_version {version}, newer than this trtbench reads ({SCHEMA_VERSION})",
            hint="upgrade trtbench",
        )
    out = dict(data)
    if version < 2 and isinstance(out.get("host") or {}, Mapping):  # else wellformed names the bad host
        host = dict(out.get("host") or {})
        session = host.pop("session", None) or {}
        out["session"] = dict(session) if isinstance(session, Mapping) else session
        out["host"] = host
        out.setdefault("kind", PROFILE)
        out.setdefault("tags", {})
        out["telemetry"] = out.get("telemetry") or None
    if version < 3 and out.get("images_per_s") is None:
        tiles = out.get("tiles_per_ms")
        out["images_per_s"] = 1000.0 * float(tiles) if isinstance(tiles, (int, float)) else None
    out["schema_version"] = SCHEMA_VERSION
    return out


def dumps(records: Sequence[RunRecord]) -> str:
    """JSON text: one object for one record, an array for several."""
    payload = records[0].to_dict() if len(records) == 1 else [r.to_dict() for r in records]
    return jsonio.dumps(payload)


def write_records(records: Sequence[RunRecord], path: Union[str, Path]) -> None:
    """Write records as JSON (atomically: a temporary file renamed into place); ``-`` is stdout."""
    jsonio.write_text(dumps(records) if records else "[]", path)


def read_records(path: Path) -> List[RunRecord]:
    """Records from a JSON file (one object or an array)."""
    data = jsonio.read_json(Path(path), "run file")
    items = data if isinstance(data, list) else [data]
    return [RunRecord.from_dict(item, source=str(path)) for item in items]


PROFILE_EXPORT = "trtbench-profile/1"


def to_trtexec_profile(record: RunRecord) -> List[Dict[str, Any]]:
    """Per-layer times in trtexec's ``--exportProfile`` shape, so existing scripts read them.

    trtexec writes ``[{"count": N}, {"name", "timeMs", "averageMs", "medianMs", "percentage"}, ...]``
    where timeMs is the total over N profiled iterations. trtbench adds a ``"trtbench"`` object
    to the count record (backend, device, precision, batch, model, host, timing) and to each row
    (category, type, origin, shape), which trtexec's readers ignore and `import-trtexec` reads
    back, so an exported run imports with its categories, backend, device and precision.
    """
    count = max(record.iterations, 1)
    run = {"schema": PROFILE_EXPORT, "run_id": record.run_id, "backend": record.backend, "device": record.device,
           "device_name": record.device_name, "precision": record.precision, "batch": record.batch,
           "backend_version": record.backend_version, "model": dict(record.model), "host": record.host.to_dict(),
           "end_to_end_ms": record.end_to_end_ms, "iterations": record.iterations, "loops": record.loops}
    rows: List[Dict[str, Any]] = [{"count": count, "trtbench": run}]
    for layer in record.layers:
        extra = {k: v for k, v in (("category", layer.category), ("type", layer.type), ("origin", layer.origin),
                                   ("shape", layer.shape)) if v is not None}
        rows.append({
            "name": layer.name,
            "timeMs": layer.ms * count,
            "averageMs": layer.ms,
            "medianMs": layer.ms,
            "percentage": layer.percent,
            "trtbench": extra,
        })
    return rows
