"""trtexec outputs → a `RunRecord`, so a device with only trtexec (a TX1) is analysed on a desktop.

Inputs (any subset, at least one of profile, times, log):

- ``--exportProfile`` JSON, or else the log's ``--dumpProfile`` table → per-layer ms per inference;
- ``--exportLayerInfo`` JSON, or else the log's ``--dumpLayerInfo`` block → layer types and ONNX
  origins for the categories (joined by name, or by position when the names differ but the counts
  match, as TREx did);
- ``--exportTimes`` JSON → per-iteration GPU compute times; else the log's performance summary;
- the console log → device, TensorRT version, precision, batch (from the shapes).

Throughput never comes from the profiled run when a timing source exists; when none does, the sum
of the profiled layer means stands in, with a validity warning.
"""
from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from trtbench.backends.trtexec.parsers import (
    LayerInfo,
    Profile,
    Times,
    TrtexecLog,
    parse_layer_info,
    parse_log,
    parse_profile,
    parse_times,
)
from trtbench.categories import CATEGORIES, tensorrt_layers
from trtbench.errors import TrtbenchError
from trtbench.results import validity
from trtbench.results.record import (
    PROFILE_EXPORT,
    Check,
    Host,
    LayerTime,
    RunRecord,
    Telemetry,
    per_tile_shape,
)

SMALL_COUNT = 10  # profiles averaged over fewer iterations are noisy (TREx's examples have 1)
MAX_COUNT = 10 ** 12  # a batch or iteration count beyond this in an exported run is a corrupted number


def import_outputs(profile: Optional[Path], layers: Optional[Path], times: Optional[Path], log: Optional[Path],
                   batch: Optional[int] = None) -> RunRecord:
    """One run record from trtexec's files (see the module docstring)."""
    if profile is None and times is None and log is None:
        raise TrtbenchError("nothing to import", hint="give --profile P.json, --times T.json or --log RUN.log")
    parsed_log = parse_log(log) if log is not None else None
    prof = parse_profile(profile) if profile is not None else (parsed_log.profile if parsed_log else None)
    info = parse_layer_info(layers) if layers is not None else (parsed_log.layer_info if parsed_log else None)
    trace = parse_times(times) if times is not None else None
    has_summary = parsed_log is not None and parsed_log.summary is not None and parsed_log.summary.gpu_compute
    if prof is None and trace is None and not has_summary:
        given = ", ".join(str(p) for p in (layers, log) if p is not None)
        raise TrtbenchError(f"nothing to import: {given} holds no per-layer profile, no times and no "
                            "performance summary", hint="give --profile P.json or --times T.json as well")
    notes: List[str] = []

    layers_out, by_name_ms = layer_times(prof, info, notes, on_dla=on_dla(parsed_log)) if prof else ([], 0.0)
    run = exported_run(prof)
    batch_size = batch or (parsed_log.batch if parsed_log else None) or (info.batch() if info else None) or \
        _count((run or {}).get("batch"), 1)
    record = RunRecord(
        backend="trtexec", device="cuda", batch=int(batch_size or 1), precision=_precision(parsed_log, info),
        model=_model(profile, times, log, parsed_log), iterations=0, loops=0, loop_ms=[], iteration_ms=[],
        end_to_end_ms=0.0, tiles_per_ms=0.0, layers=layers_out, notes=notes,
        backend_version=str(parsed_log.version) if parsed_log and parsed_log.version else "",
        device_name=parsed_log.device.name if parsed_log else "",
        host=_host(parsed_log),
    )
    if run is not None:
        _describe_exported(record, run, notes)
    record.model["imported_from"] = [str(p) for p in (profile, layers, times, log) if p is not None]
    record.finish_layers()
    extra, timed = _timing(record, trace, parsed_log, prof, notes, run)
    if batch_size:
        record.tiles_per_ms = record.batch / record.end_to_end_ms if record.end_to_end_ms > 0 else 0.0
        record.images_per_s = 1000.0 * record.tiles_per_ms
    else:
        notes.append("batch unknown (no shapes in the log or layer info): tiles/ms not computed; give --batch N")
    if prof:
        total = sum(layer.ms for layer in record.layers)
        if total > 0 and by_name_ms > 0:
            notes.append(f"{100.0 * by_name_ms / total:.1f}% of layer time categorised by name alone "
                         "(no detailed layer info for those rows)")
        if prof.count < SMALL_COUNT:
            notes.append(f"the profile averages only {prof.count} iteration(s); per-layer times are noisy")
        if timed and record.end_to_end_ms > 0:
            record.overhead = (prof.average_total_ms - record.end_to_end_ms) / record.end_to_end_ms
    if parsed_log:
        telemetry = _log_telemetry(parsed_log)
        if telemetry:
            record.telemetry = Telemetry(source="trtexec", trtexec=telemetry)
        if parsed_log.version and not parsed_log.version.at_least(8, 4) and "--separateProfileRun" not in \
                parsed_log.command and prof is not None and parsed_log.summary is not None:
            notes.append(f"TensorRT {parsed_log.version} printed its summary from the profiled run: "
                         "the timing is distorted by the profiler (rerun with --separateProfileRun)")
    record.validity = validity.evaluate(record, extra)
    return record


# ---- layers --------------------------------------------------------------------------------

def layer_times(prof: Profile, info: Optional[LayerInfo], notes: List[str], *,
                on_dla: bool = False) -> Tuple[List[LayerTime], float]:
    """LayerTimes in profile order, and the ms that only name heuristics categorised. `on_dla`:
    the engine was built for a DLA core. Rows of trtbench's own --export-profile keep the
    category, type and origin they were exported with."""
    records = _join(prof, info, notes)
    out: List[LayerTime] = []
    by_name_ms = 0.0
    for row, layer in zip(prof.rows, records):
        ms = row.time_ms / prof.count if math.isfinite(row.time_ms) else row.average_ms
        if not math.isfinite(ms) or ms < 0:
            notes.append(f"layer {row.name!r} has no valid time (nan, inf or negative in the file); counted as 0")
            ms = 0.0
        kept = _exported_layer(row.name, ms, row.trtbench)
        if kept is not None:
            out.append(kept)
            continue
        decided = tensorrt_layers.classify(row.name, layer, on_dla=on_dla)
        if decided.by_name:
            by_name_ms += ms
        origins = tensorrt_layers.onnx_origins(layer)
        out.append(LayerTime(name=row.name, category=decided.category, ms=ms,
                             type=_layer_type(layer), origin=" + ".join(origins) or None,
                             shape=output_shape(layer)))
    return out, by_name_ms


def on_dla(log: Optional[TrtexecLog]) -> bool:
    """Whether the trtexec run used a DLA core (``--useDLACore=N``, or ``DLACore: N`` in its options)."""
    if log is None:
        return False
    core = log.options.get("System Options", {}).get("DLACore", "").strip()
    return core.isdigit() or re.search(r"--useDLACore=\d", log.command) is not None


# ---- trtbench's own --export-profile --------------------------------------------------------

def exported_run(prof: Optional[Profile]) -> Optional[Dict[str, Any]]:
    """The run a trtbench ``--export-profile`` file describes (None for trtexec's own files)."""
    run = prof.trtbench if prof is not None else None
    return run if isinstance(run, dict) and run.get("schema") == PROFILE_EXPORT else None


def _exported_layer(name: str, ms: float, extra: Optional[Mapping[str, Any]]) -> Optional[LayerTime]:
    if not extra or extra.get("category") not in CATEGORIES:
        return None
    text = (lambda key: str(extra[key]) if isinstance(extra.get(key), str) else None)  # noqa: E731
    shape = extra.get("shape")
    shape = [int(d) for d in shape] if isinstance(shape, list) and all(isinstance(d, int) for d in shape) else None
    return LayerTime(name=name, category=str(extra["category"]), ms=ms, type=text("type"), origin=text("origin"),
                     shape=shape)


def _describe_exported(record: RunRecord, run: Mapping[str, Any], notes: List[str]) -> None:
    """Backend, device, precision, model and host of the exported run, where the file has them."""
    for key in ("backend", "device", "precision", "backend_version", "device_name"):
        if isinstance(run.get(key), str) and run[key]:
            setattr(record, key, run[key])
    if isinstance(run.get("model"), dict):
        record.model = {**record.model, **_exported_model(run["model"]), "source": "trtbench --export-profile"}
    if isinstance(run.get("host"), dict):
        record.host = _exported_host(run["host"])
    notes.append(f"imported from trtbench's --export-profile of a {record.backend} run on {record.device}"
                 + (f" ({run['run_id']})" if isinstance(run.get("run_id"), str) else ""))


def _count(value: Any, least: int = 0) -> Optional[int]:
    """A whole number from `least` to `MAX_COUNT` in an exported run, else None (the file is not
    trusted: a hand-edited or corrupted export must not make a record that cannot be stored)."""
    ok = isinstance(value, int) and not isinstance(value, bool) and least <= value <= MAX_COUNT
    return value if ok else None


# The model fields a record's schema types (results/run-record.schema.json); others are kept as they are.
_MODEL_TEXT = ("name", "path", "kind", "sha256", "source")
_MODEL_OBJECTS = ("metadata", "cost")


def _exported_model(model: Mapping[str, Any]) -> Dict[str, Any]:
    """The exported run's model description, without the fields whose type is wrong."""
    out: Dict[str, Any] = {}
    for key, value in model.items():
        if key in _MODEL_TEXT and not isinstance(value, str):
            continue
        if key in _MODEL_OBJECTS and not isinstance(value, dict):
            continue
        if key == "spec" and value is not None and not isinstance(value, dict):
            continue
        if key == "item" and value not in ("tile", "image", "sample"):
            continue
        if key == "inputs" and not (isinstance(value, list) and all(
                isinstance(i, dict) and isinstance(i.get("name"), str) and isinstance(i.get("shape"), list)
                and isinstance(i.get("dtype"), str) for i in value)):
            continue
        if key == "imported_from":
            continue  # the import sets it
        out[str(key)] = value
    return out


def _exported_host(host: Mapping[str, Any]) -> Host:
    """The exported run's device fingerprint, keeping only the fields of the right type."""
    kept: Dict[str, Any] = {}
    for f in dataclasses.fields(Host):
        value = host.get(f.name)
        wanted = str(f.type)  # the annotation's text: "str", "Optional[int]", "Dict[str, Any]"
        if value is None:
            continue
        if (wanted in ("str", "Optional[str]") and isinstance(value, str)) or \
                (wanted == "Optional[int]" and _count(value) is not None) or \
                (wanted.startswith("Dict") and isinstance(value, dict)):
            kept[f.name] = value
    return Host(**kept)


def output_shape(layer: Optional[Mapping[str, Any]]) -> Optional[List[int]]:
    """The first output's dimensions without the batch dimension, from detailed layer info."""
    outputs = (layer or {}).get("Outputs") or []
    return per_tile_shape(outputs[0].get("Dimensions")) if outputs and isinstance(outputs[0], dict) else None


def _join(prof: Profile, info: Optional[LayerInfo], notes: List[str]) -> List[Optional[Mapping[str, Any]]]:
    if info is None or not info.detailed:
        return [None] * len(prof.rows)
    known = {tensorrt_layers.normalize_name(k): v for k, v in info.by_name().items()}
    joined: List[Optional[Mapping[str, Any]]] = [known.get(tensorrt_layers.normalize_name(r.name))
                                                  for r in prof.rows]
    matched = sum(1 for j in joined if j is not None)
    if matched < len(prof.rows) and len(info.layers) == len(prof.rows) and matched < len(prof.rows) // 2:
        notes.append("profile and layer info names differ; joined by position (same number of layers)")
        return list(info.layers)
    if matched < len(prof.rows):
        notes.append(f"{len(prof.rows) - matched} of {len(prof.rows)} profile rows have no layer-info record "
                     "(data copies, DLA pseudo-layers, or files from different engines)")
    return joined


def _layer_type(layer: Optional[Mapping[str, Any]]) -> Optional[str]:
    if not layer or not layer.get("LayerType"):
        return None
    param = layer.get("ParameterType")
    return f"{layer['LayerType']}/{param}" if param and param != layer["LayerType"] else str(layer["LayerType"])


# ---- timing --------------------------------------------------------------------------------

def _timing(record: RunRecord, trace: Optional[Times], log: Optional[TrtexecLog], prof: Optional[Profile],
            notes: List[str], run: Optional[Mapping[str, Any]] = None) -> Tuple[List[Check], bool]:
    """Fill iterations, loop/iteration times and end_to_end_ms from the best source there is;
    say whether that source was a run without the profiler."""
    if trace is not None:
        compute = [t for t in trace.compute_ms if math.isfinite(t)]
        version = log.version if log else None
        if version is not None and not version.at_least(8, 5) and log and log.warmup_queries:
            if log.warmup_queries < len(compute):
                compute = compute[log.warmup_queries:]
                notes.append(f"dropped the {log.warmup_queries} warm-up queries that TensorRT {version} "
                             "writes at the start of --exportTimes")
        elif version is None:
            notes.append("--exportTimes of TensorRT 8.4 and older starts with the warm-up queries; "
                         "give --log RUN.log so they can be dropped")
        record.iterations, record.loops = len(compute), 1
        record.iteration_ms = [compute]
        record.loop_ms = [sum(compute)]
        record.end_to_end_ms = sum(compute) / len(compute) if compute else 0.0
        notes.append(f"timing: GPU compute time of {len(compute)} queries from --exportTimes")
        return [], True
    summary = log.summary if log else None
    if summary is not None and summary.gpu_compute is not None and math.isfinite(summary.gpu_compute.mean):
        record.iterations, record.loops = int(summary.queries or 0), 1
        record.end_to_end_ms = summary.gpu_compute.mean
        record.loop_ms = [summary.total_gpu_compute_s * 1000.0] if summary.total_gpu_compute_s else []
        notes.append("timing: mean GPU compute time from the log's performance summary "
                     "(no per-iteration times; give --times T.json for them)")
        return [], True
    exported_ms = (run or {}).get("end_to_end_ms")
    if isinstance(exported_ms, (int, float)) and not isinstance(exported_ms, bool) and 0 < exported_ms < 1e12:
        record.end_to_end_ms = float(exported_ms)
        record.iterations, record.loops = _count((run or {}).get("iterations")) or 0, 1
        notes.append("timing: the exported run's mean end-to-end time (its per-iteration times stay in the "
                     "original record)")
        return [], True
    if prof is not None and prof.average_total_ms > 0:
        record.end_to_end_ms = prof.average_total_ms
        record.iterations, record.loops = prof.count, 1
        why = " (the log says trtexec suppressed it)" if log and log.summary_suppressed else ""
        return [Check(validity.PROFILED_TIMING, validity.WARN,
                               f"no timed run without the profiler{why}: throughput is the sum of the profiled "
                               "layer times, which include the profiler's overhead",
                               "rerun trtexec with --separateProfileRun --exportTimes=T.json and pass --times")], False
    raise TrtbenchError("no timing to import: the profile's layer times are all zero or nan, and there are "
                        "no times or performance summary", hint="give --times T.json or --log RUN.log as well")


def _log_telemetry(log: TrtexecLog) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    d = log.device
    device = {k: v for k, v in (("name", d.name), ("compute_capability", d.compute_capability), ("sms", d.sms),
                                ("compute_clock_ghz", d.compute_clock_ghz)) if v not in (None, "")}
    if device:
        out["device"] = device
    s = log.summary
    if s is not None:
        out["summary"] = {name: _stat_dict(getattr(s, name)) for name in
                          ("latency", "end_to_end", "enqueue", "h2d", "gpu_compute", "d2h") if getattr(s, name)}
        if s.throughput_qps is not None:
            out["summary"]["throughput_qps"] = s.throughput_qps
    if log.build_seconds is not None:
        out["build_seconds"] = log.build_seconds
    if log.warnings:
        out["warnings"] = log.warnings[:20]
    return out


def _stat_dict(stat: Any) -> Dict[str, Any]:
    data = {k: getattr(stat, k) for k in ("min", "max", "mean", "median") if math.isfinite(getattr(stat, k))}
    data.update({f"p{p:g}": v for p, v in stat.percentiles.items()})
    return data


# ---- metadata ------------------------------------------------------------------------------

def _precision(log: Optional[TrtexecLog], info: Optional[LayerInfo]) -> str:
    text = ""
    if log:
        text = log.options.get("Build Options", {}).get("Precision", "")
        flag = re.search(r"--(fp16|int8|best)\b", log.command)
        if not text and flag:
            text = flag.group(1)
    if not text and info and info.detailed:
        formats = " ".join(str(t.get("Format/Datatype", "")) for layer in info.layers
                           for t in (layer.get("Outputs") or []) if isinstance(t, dict))
        text = "INT8" if "Int8" in formats else "FP16" if ("FP16" in formats or "Half" in formats) else \
            "FP32" if formats else ""
    upper = text.upper()
    for name in ("INT8", "BEST", "FP16", "FP32"):
        if name in upper:
            return name.lower()
    return "unknown"


def _host(log: Optional[TrtexecLog]) -> Host:
    """What the files say of the device the run was measured on (not this host)."""
    if log is None:
        return Host()
    return Host(gpu_name=log.device.name or None, compute_capability=log.device.compute_capability or None,
                tensorrt=str(log.version) if log.version else None)


def _model(profile: Optional[Path], times: Optional[Path], log: Optional[Path],
           parsed: Optional[TrtexecLog]) -> Dict[str, Any]:
    path = ""
    if parsed:
        engine = re.search(r"--(?:loadEngine|onnx|saveEngine)=(\S+)", parsed.command)
        path = engine.group(1) if engine else parsed.options.get("Build Options", {}).get("Load engine", "")
    source = next(p for p in (profile, times, log) if p is not None)
    name = Path(path).name if path else Path(source).name
    for suffix in (".profile.json", ".json", ".log", ".engine", ".plan", ".trt"):
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
    return {"name": name, "path": path, "source": "trtexec import"}
