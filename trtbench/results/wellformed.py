"""Is a run record well formed: does it hold what the rest of trtbench relies on?

A record can come from anywhere: a JSON file written by hand or by another tool, an old
database, a disk that lost a sector. `problems` lists what is wrong with a record's JSON data
(migrated to the current schema version): numbers that are not numbers (text, true/false),
times that are NaN, infinite or negative, a batch of 0, layers without a name. `require` turns
them into one `BadRecord` line that names the record and the first field.

What is an error and what is tolerated:

- a field the record needs (``batch``, ``end_to_end_ms``, ...) missing or of the wrong type, and
  a time or count that is not finite and non-negative, are errors: listing, comparing or
  storing the record would fail or be wrong;
- a field that may be null (``overhead``, ``images_per_s``, ``validity.cold_ms``) may also be NaN
  or infinite: trtbench writes those as null (`trtbench.jsonio`) and shows them as ``-``;
- optional fields may be missing (older records), and fields trtbench does not know are ignored.

This is not `trtbench.results.validity`, which judges whether a well-formed measurement can be
trusted (noise, throttling); this module only asks whether the record can be read at all.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, List, Mapping, Optional, Sequence

from trtbench.errors import TrtbenchError

MAX_BATCH = 10 ** 7  # far above any real batch; a larger one is a corrupted number
KINDS = ("profile", "drift")  # as run-record.schema.json says
VERDICTS = ("VALID", "WARN", "INVALID", None)
STATUSES = ("ok", "warn", "invalid")
ALLOCS = ("per-run", "reuse", "fragment")
RUN_ID = re.compile(r"[0-9a-f]{12}([0-9a-f]{20})?")  # 32 hex digits; runs from before schema 2 keep 12
REQUIRED = ("backend", "device", "batch", "precision", "model", "iterations", "loops", "loop_ms",
            "iteration_ms", "end_to_end_ms", "tiles_per_ms")
SHOWN = 3  # problems named in one line
FILE_HINT = "correct that field in the file, or leave that record out"

# Host facts and their types (everything else in `host` goes to Host.extra, unchecked).
_HOST_INTS = ("cores", "memory_mb")
_HOST_TEXTS = ("hostname", "machine", "os", "cpu", "python", "trtbench", "gpu_name", "compute_capability",
               "driver", "cuda", "tensorrt", "jetson_model", "soc", "l4t", "jetpack", "power_mode", "target")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a record: the field (``layers[2].ms``) and what is wrong with it."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field} {self.message}"


class BadRecord(TrtbenchError):
    """A record that is not well formed: `source` names it, `problems` say what is wrong."""

    def __init__(self, source: str, problems: Sequence[Problem], hint: Optional[str] = FILE_HINT) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__(f"{source}: {self.reason}", hint)

    @property
    def reason(self) -> str:
        """The first few problems, and how many more there are, in one line."""
        shown = "; ".join(str(p) for p in self.problems[:SHOWN])
        more = len(self.problems) - SHOWN
        return shown + (f"; and {more} more problem{'s' if more > 1 else ''}" if more > 0 else "")


def require(data: Mapping[str, Any], source: str = "<record>", hint: Optional[str] = FILE_HINT) -> None:
    """Raise `BadRecord` when `problems(data)` finds anything."""
    found = problems(data)
    if found:
        raise BadRecord(source, found, hint)


def problems(data: Any) -> List[Problem]:
    """What is wrong with record JSON data of the current schema version (`record.migrate` first);
    empty when the record is well formed. Never raises."""
    if not isinstance(data, Mapping):
        return [Problem("the record", f"is {_show(data)}, not a JSON object")]
    out: List[Problem] = []
    for name in REQUIRED:
        if name not in data:
            out.append(Problem(name, "is missing"))
    run_id = data.get("run_id")
    if "run_id" in data and not (isinstance(run_id, str) and RUN_ID.fullmatch(run_id)):
        out.append(Problem("run_id", f"is {_show(run_id)}, not 32 (or 12) hex digits"))
    _text(out, data, "created", required=False)
    kind = data.get("kind", "profile")
    if kind not in KINDS:
        out.append(Problem("kind", f"is {_show(kind)}, not one of {', '.join(KINDS)}"))
    for name in ("backend", "device"):
        _text(out, data, name, required=False, nonempty=True)
    for name in ("precision", "backend_version", "device_name"):
        _text(out, data, name, required=False)
    if "batch" in data:
        _count(out, "batch", data["batch"], low=1, high=MAX_BATCH)
    for name in ("iterations", "loops", "warmup"):
        if name in data:
            _count(out, name, data[name])
    for name in ("end_to_end_ms", "tiles_per_ms"):
        if name in data:
            _ms(out, name, data[name])
    _optional_number(out, "images_per_s", data.get("images_per_s"), minimum=0.0)
    _optional_number(out, "overhead", data.get("overhead"))
    _intervals(out, data.get("intervals"))
    if data.get("sampling") is not None and not isinstance(data["sampling"], Mapping):
        out.append(Problem("sampling", f"is {_show(data['sampling'])}, not a JSON object"))
    if "model" in data:
        _model(out, data["model"])
    _host(out, data.get("host"))
    if "session" in data and not isinstance(data["session"], Mapping):
        out.append(Problem("session", f"is {_show(data['session'])}, not a JSON object"))
    if data.get("tags") is not None and not isinstance(data["tags"], Mapping):
        out.append(Problem("tags", f"is {_show(data['tags'])}, not a JSON object"))
    _categories(out, data.get("categories"))
    _layers(out, data.get("layers"))
    if "loop_ms" in data:
        _ms_list(out, "loop_ms", data["loop_ms"])
    if "iteration_ms" in data:
        _iteration_ms(out, data["iteration_ms"])
    _telemetry(out, data.get("telemetry"))
    _validity(out, data.get("validity"))
    _drift(out, data.get("drift"), kind == "drift")
    _texts(out, "notes", data.get("notes"))
    return out


# ---- the parts of a record -------------------------------------------------------------------

def _model(out: List[Problem], model: Any) -> None:
    if not isinstance(model, Mapping):
        out.append(Problem("model", f"is {_show(model)}, not a JSON object"))
        return
    _text(out, model, "name", required=True, prefix="model.")
    for name in ("sha256", "path", "kind", "source", "item"):
        _text(out, model, name, required=False, prefix="model.", nullable=True)
    if model.get("spec") is not None and not isinstance(model["spec"], Mapping):
        out.append(Problem("model.spec", f"is {_show(model['spec'])}, not a JSON object"))


def _host(out: List[Problem], host: Any) -> None:
    if host is None:
        return
    if not isinstance(host, Mapping):
        out.append(Problem("host", f"is {_show(host)}, not a JSON object"))
        return
    for name in _HOST_TEXTS:
        _text(out, host, name, required=False, prefix="host.", nullable=True)
    for name in _HOST_INTS:
        if host.get(name) is not None:
            _count(out, f"host.{name}", host[name], low=1 if name == "cores" else 0)
    if host.get("extra") is not None and not isinstance(host["extra"], Mapping):
        out.append(Problem("host.extra", f"is {_show(host['extra'])}, not a JSON object"))


def _pair(value: Any) -> bool:
    return (isinstance(value, list) and len(value) == 2
            and all(_is_number(v) and math.isfinite(v) for v in value) and value[0] <= value[1])


def _intervals(out: List[Problem], intervals: Any) -> None:
    """[low, high] pairs of finite numbers, low first; the rest of a record reads without them."""
    if intervals is None:
        return
    if not isinstance(intervals, Mapping):
        out.append(Problem("intervals", f"is {_show(intervals)}, not a JSON object"))
        return
    for name in ("end_to_end_ms", "images_per_s", "tiles_per_ms"):
        if intervals.get(name) is not None and not _pair(intervals[name]):
            out.append(Problem(f"intervals.{name}", f"is {_show(intervals[name])}, not [low, high]"))
    for group in ("categories", "layers"):
        pairs = intervals.get(group)
        if pairs is None:
            continue
        if not isinstance(pairs, Mapping):
            out.append(Problem(f"intervals.{group}", f"is {_show(pairs)}, not a JSON object"))
            continue
        bad = next((k for k, v in pairs.items() if not _pair(v)), None)
        if bad is not None:
            out.append(Problem(f"intervals.{group}.{bad}", f"is {_show(pairs[bad])}, not [low, high]"))


def _categories(out: List[Problem], categories: Any) -> None:
    if categories is None:
        return
    if not isinstance(categories, Mapping):
        out.append(Problem("categories", f"is {_show(categories)}, not a JSON object"))
        return
    for name, ms in categories.items():
        if not _ms(out, f"categories.{name}", ms):
            return  # one bad category is enough to say


def _layers(out: List[Problem], layers: Any) -> None:
    if layers is None:
        return
    if not isinstance(layers, list):
        out.append(Problem("layers", f"is {_show(layers)}, not a list"))
        return
    for i, layer in enumerate(layers):
        where = f"layers[{i}]"
        before = len(out)
        if not isinstance(layer, Mapping):
            out.append(Problem(where, f"is {_show(layer)}, not a JSON object"))
        else:
            _text(out, layer, "name", required=True, prefix=f"{where}.")
            _text(out, layer, "category", required=True, nonempty=True, prefix=f"{where}.")
            if "ms" not in layer:
                out.append(Problem(f"{where}.ms", "is missing"))
            else:
                _ms(out, f"{where}.ms", layer["ms"])
            if layer.get("percent") is not None and _ms(out, f"{where}.percent", layer["percent"]) \
                    and layer["percent"] > 100.0001:
                out.append(Problem(f"{where}.percent", f"is {layer['percent']}, over 100"))
            for name in ("type", "origin"):
                _text(out, layer, name, required=False, prefix=f"{where}.", nullable=True)
            shape = layer.get("shape")
            if shape is not None and not (isinstance(shape, list) and all(_is_int(d) for d in shape)):
                out.append(Problem(f"{where}.shape", f"is {_show(shape)}, not a list of whole numbers"))
        if len(out) > before:
            return  # the first bad layer names the problem; the others would repeat it


def _iteration_ms(out: List[Problem], value: Any) -> None:
    if not isinstance(value, list):
        out.append(Problem("iteration_ms", f"is {_show(value)}, not a list of lists (loops x iterations)"))
        return
    for i, loop in enumerate(value):
        if not _ms_list(out, f"iteration_ms[{i}]", loop):
            return


def _telemetry(out: List[Problem], telemetry: Any) -> None:
    if telemetry is None:
        return
    if not isinstance(telemetry, Mapping):
        out.append(Problem("telemetry", f"is {_show(telemetry)}, not a JSON object or null"))
        return
    samples = telemetry.get("samples")
    if samples is not None and not (isinstance(samples, list) and all(isinstance(s, Mapping) for s in samples)):
        out.append(Problem("telemetry.samples", "is not a list of JSON objects"))
    for name in ("device", "jetson", "trtexec"):
        if telemetry.get(name) is not None and not isinstance(telemetry[name], Mapping):
            out.append(Problem(f"telemetry.{name}", f"is {_show(telemetry[name])}, not a JSON object"))
    _text(out, telemetry, "source", required=False, prefix="telemetry.", nullable=True)
    period = telemetry.get("period_s")
    if period is not None and not (_is_number(period) and (math.isnan(period) or period > 0)):
        out.append(Problem("telemetry.period_s", f"is {_show(period)}, not a number above 0"))
    _texts(out, "telemetry.notes", telemetry.get("notes"))


def _validity(out: List[Problem], validity: Any) -> None:
    if validity is None:
        return
    if not isinstance(validity, Mapping):
        out.append(Problem("validity", f"is {_show(validity)}, not a JSON object"))
        return
    if validity.get("verdict") not in VERDICTS:
        out.append(Problem("validity.verdict", f"is {_show(validity.get('verdict'))}, not VALID, WARN, INVALID "
                                               "or null"))
    checks = validity.get("checks")
    if checks is not None and not isinstance(checks, list):
        out.append(Problem("validity.checks", f"is {_show(checks)}, not a list"))
    for i, check in enumerate(checks if isinstance(checks, list) else []):
        where = f"validity.checks[{i}]"
        if not isinstance(check, Mapping):
            out.append(Problem(where, f"is {_show(check)}, not a JSON object"))
        elif check.get("status") not in STATUSES:
            out.append(Problem(f"{where}.status", f"is {_show(check.get('status'))}, not one of "
                                                  f"{', '.join(STATUSES)}"))
        else:
            for name in ("name", "message"):
                _text(out, check, name, required=True, prefix=f"{where}.")
            _text(out, check, "fix", required=False, prefix=f"{where}.", nullable=True)
    _optional_number(out, "validity.cold_ms", validity.get("cold_ms"), minimum=0.0)


def _drift(out: List[Problem], drift: Any, needed: bool) -> None:
    if drift is None:
        if needed:
            out.append(Problem("drift", "is missing: a run of kind drift holds its per-loop series there"))
        return
    if not isinstance(drift, Mapping):
        out.append(Problem("drift", f"is {_show(drift)}, not a JSON object or null"))
        return
    for name in ("alloc", "series"):
        if name not in drift:
            out.append(Problem(f"drift.{name}", "is missing"))
    if "alloc" in drift and drift["alloc"] not in ALLOCS:
        out.append(Problem("drift.alloc", f"is {_show(drift['alloc'])}, not one of {', '.join(ALLOCS)}"))
    _text(out, drift, "unit", required=False, prefix="drift.")
    series = drift.get("series")
    if series is not None:
        if not isinstance(series, Mapping):
            out.append(Problem("drift.series", f"is {_show(series)}, not a JSON object"))
        else:
            for name, values in series.items():
                if not _number_list(out, f"drift.series.{name}", values):
                    break
    if drift.get("report") is not None and not isinstance(drift["report"], Mapping):
        out.append(Problem("drift.report", f"is {_show(drift['report'])}, not a JSON object"))


# ---- values ----------------------------------------------------------------------------------

_PLAIN_NUMBERS = (float, int)  # exactly these types: not bool (an int), which JSON's true would be


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _show(value: Any) -> str:
    """A value as the record's JSON would show it, shortened."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, str):
        text = repr(value) if len(value) <= 24 else repr(value[:21]) + "..."
        return f"the text {text}"
    if isinstance(value, Mapping):
        return "a JSON object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return repr(value)[:24]


def _not_a_number(value: Any) -> str:
    if value is None:
        return "is null, not a number (NaN is written as null)"
    return f"is {_show(value)}, not a number"


def _count(out: List[Problem], name: str, value: Any, low: int = 0, high: Optional[int] = None) -> bool:
    """A whole number from `low` to `high`."""
    if not _is_int(value):
        whole = _is_number(value) and math.isfinite(value) and float(value).is_integer()
        out.append(Problem(name, f"is {_show(value)}, not a whole number" + (" (write it without .0)" if whole else "")))
        return False
    if value < low or (high is not None and value > high):
        span = f"from {low:,} to {high:,}" if high is not None else f"of at least {low:,}"
        out.append(Problem(name, f"is {value:,}, not a whole number {span}"))
        return False
    return True


def _ms(out: List[Problem], name: str, value: Any) -> bool:
    """A time (or rate): a finite number, zero or more."""
    if not _is_number(value):
        out.append(Problem(name, _not_a_number(value)))
        return False
    if not math.isfinite(value):
        out.append(Problem(name, f"is {_show(value)}, not a finite number"))
        return False
    if value < 0:
        out.append(Problem(name, f"is {value}, not zero or more"))
        return False
    return True


def _optional_number(out: List[Problem], name: str, value: Any, minimum: Optional[float] = None) -> None:
    """A number that may be null; NaN and infinity count as null (jsonio writes them so)."""
    if value is None:
        return
    if not _is_number(value):
        out.append(Problem(name, f"is {_show(value)}, not a number or null"))
    elif minimum is not None and not math.isnan(value) and value < minimum:
        out.append(Problem(name, f"is {_show(value)}, below {minimum:g}"))


def _ms_list(out: List[Problem], name: str, values: Any) -> bool:
    if not isinstance(values, list):
        out.append(Problem(name, f"is {_show(values)}, not a list of times"))
        return False
    if all(type(v) in _PLAIN_NUMBERS and 0 <= v < math.inf for v in values):
        return True  # the usual case, fast: thousands of iteration times per record
    for i, value in enumerate(values):
        if not _ms(out, f"{name}[{i}]", value):
            return False
    return True


def _number_list(out: List[Problem], name: str, values: Any) -> bool:
    if not isinstance(values, list):
        out.append(Problem(name, f"is {_show(values)}, not a list of numbers"))
        return False
    for i, value in enumerate(values):
        if not _is_number(value) or not math.isfinite(value):
            out.append(Problem(f"{name}[{i}]", _not_a_number(value) if not _is_number(value)
                               else f"is {_show(value)}, not a finite number"))
            return False
    return True


def _text(out: List[Problem], data: Mapping[str, Any], name: str, required: bool, nonempty: bool = False,
          prefix: str = "", nullable: bool = False) -> None:
    if name not in data:
        if required:
            out.append(Problem(prefix + name, "is missing"))
        return
    value = data[name]
    if value is None and nullable:
        return
    if not isinstance(value, str):
        out.append(Problem(prefix + name, f"is {_show(value)}, not text"))
    elif nonempty and not value.strip():
        out.append(Problem(prefix + name, "is empty"))


def _texts(out: List[Problem], name: str, values: Any) -> None:
    if values is None:
        return
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        out.append(Problem(name, "is not a list of text"))

