"""RunRecord: one measured (model, batch, backend, device) configuration. The unit of truth.

A record is written as versioned JSON; several batches from one call form a JSON array. Every
analysis (show, compare, drift, fit, plot) reads records, never a backend.

Schema (``schema_version`` 1)::

    schema_version, run_id, created (ISO 8601 UTC), backend, backend_version, device, device_name,
    precision, batch, model {name, path, sha256, spec, source}, host {...}, iterations, loops, warmup,
    loop_ms [loops], iteration_ms [loops][iterations], end_to_end_ms (median ms per batch),
    tiles_per_ms (eq. 12), layers [{name, category, ms, percent, type?, origin?}],
    categories {category: ms per batch}, overhead (profiler overhead fraction or null),
    telemetry {...}, validity {verdict, checks [{name, status, message}]}, notes [str]
"""
from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

from trtbench.categories import CATEGORIES
from trtbench.errors import TrtbenchError

SCHEMA_VERSION = 1


def per_tile_shape(dims: Any) -> Optional[List[int]]:
    """A tensor's dimensions without the batch one (for ``LayerTime.shape``); None when unknown."""
    if not isinstance(dims, list) or len(dims) < 2:
        return None
    try:
        return [int(d) for d in dims[1:]]
    except (TypeError, ValueError):
        return None


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
        data = asdict(self)
        return {k: v for k, v in data.items() if v is not None}


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
    layers: List[LayerTime] = field(default_factory=list)
    categories: Dict[str, float] = field(default_factory=dict)
    overhead: Optional[float] = None
    warmup: int = 0
    backend_version: str = ""
    device_name: str = ""
    host: Dict[str, Any] = field(default_factory=dict)
    telemetry: Dict[str, Any] = field(default_factory=dict)
    validity: Dict[str, Any] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    schema_version: int = SCHEMA_VERSION

    # ---- derived -----------------------------------------------------------------------
    @property
    def ms_per_tile(self) -> float:
        return self.end_to_end_ms / self.batch

    @property
    def model_name(self) -> str:
        return str(self.model.get("name", "?"))

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
        data = asdict(self)
        data["layers"] = [layer.to_dict() for layer in self.layers]
        order = ["schema_version", "run_id", "created", "backend", "backend_version", "device",
                 "device_name", "precision", "batch", "model", "host", "iterations", "loops", "warmup",
                 "end_to_end_ms", "tiles_per_ms", "overhead", "categories", "layers", "loop_ms",
                 "iteration_ms", "telemetry", "validity", "notes"]
        return {key: data[key] for key in order}

    @classmethod
    def from_dict(cls, data: Dict[str, Any], source: str = "<record>") -> "RunRecord":
        version = data.get("schema_version")
        if version is None or "backend" not in data or "batch" not in data:
            raise TrtbenchError(f"{source} is not a trtbench run record (no schema_version/backend/batch)")
        if int(version) > SCHEMA_VERSION:
            raise TrtbenchError(
                f"{source} has schema_version {version}, newer than this trtbench reads ({SCHEMA_VERSION})",
                hint="upgrade trtbench",
            )
        known = {f for f in cls.__dataclass_fields__}  # type: ignore[attr-defined]
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["layers"] = [LayerTime(**{k: v for k, v in layer.items() if k in LayerTime.__dataclass_fields__})
                            for layer in data.get("layers", [])]
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise TrtbenchError(f"{source}: incomplete run record ({exc})") from None


def dumps(records: Sequence[RunRecord]) -> str:
    """JSON text: one object for one record, an array for several."""
    payload: Union[Dict[str, Any], List[Dict[str, Any]]]
    payload = records[0].to_dict() if len(records) == 1 else [r.to_dict() for r in records]
    return json.dumps(payload, indent=2)


def write_records(records: Sequence[RunRecord], path: Path) -> None:
    """Write records as JSON (atomically: a temporary file renamed into place)."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(dumps(records) + "\n")
        tmp.replace(path)
    except OSError as exc:
        raise TrtbenchError(f"cannot write {path}: {exc.strerror}") from None


def read_records(path: Path) -> List[RunRecord]:
    """Records from a JSON file (one object or an array)."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise TrtbenchError(f"{path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise TrtbenchError(f"{path} is not a JSON run file: {exc}") from None
    items = data if isinstance(data, list) else [data]
    return [RunRecord.from_dict(item, source=str(path)) for item in items]


def to_trtexec_profile(record: RunRecord) -> List[Dict[str, Any]]:
    """Per-layer times in trtexec's ``--exportProfile`` shape, so existing scripts read them.

    trtexec writes ``[{"count": N}, {"name", "timeMs", "averageMs", "medianMs", "percentage"}, ...]``
    where timeMs is the total over N profiled iterations.
    """
    count = max(record.iterations, 1)
    rows: List[Dict[str, Any]] = [{"count": count}]
    for layer in record.layers:
        rows.append({
            "name": layer.name,
            "timeMs": layer.ms * count,
            "averageMs": layer.ms,
            "medianMs": layer.ms,
            "percentage": layer.percent,
        })
    return rows
