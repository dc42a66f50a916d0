"""Tolerant parsers for what trtexec writes, TensorRT 7.x to 11.x.

- ``--exportProfile`` (`parse_profile`): not always strict JSON (layer names written unescaped,
  ``nan``/``inf`` numbers), 4 keys per record before 8.4, 5 (with ``medianMs``) from 8.4.
- ``--exportLayerInfo`` (`parse_layer_info`): names only (the default verbosity) or detailed dicts.
- ``--exportTimes`` (`parse_times`): 7.x ``inMs/outMs`` keys, 8.x+ ``h2dMs/d2hMs``.
- console logs (`parse_log`): banner and version line, option blocks, device block, the timing
  summary of every version (TRT 7 ``min: X ms`` blocks, 8.0–11 ``Latency: min = …``), the
  ``--dumpProfile`` table (name first up to 8.5, numbers first from 8.6), the ``--dumpLayerInfo``
  block, ``[GpuLayer]`` lists. TREx's ``*.profile.metadata.json`` (a log already parsed) is
  accepted in place of a log.

Every parser returns dataclasses and raises `TrtbenchError` naming the file when it is not what
it should be. Formats: docs/trtexec.md.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from trtbench.errors import TrtbenchError
from trtbench.backends.trtexec.flags import TrtVersion, split_shape

Source = Union[str, Path]

_NUMBER = r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+|nan|inf|-nan|NaN|Inf)"


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def _read(source: Source, what: str) -> str:
    path = Path(source)
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        raise TrtbenchError(f"{what} {path} does not exist") from None
    except OSError as exc:
        raise TrtbenchError(f"cannot read {what} {path}: {exc.strerror}") from None


# ---- --exportProfile -----------------------------------------------------------------------

@dataclass
class ProfileRow:
    """One engine layer of a profile: totals over `count` iterations and the per-iteration mean."""

    name: str
    time_ms: float
    average_ms: float
    median_ms: Optional[float] = None
    percentage: float = 0.0


@dataclass
class Profile:
    count: int
    rows: List[ProfileRow]
    source: str = ""
    has_median: bool = False  # TRT 8.4+
    strict_json: bool = True  # False when the file needed the line parser
    table_total_ms: Optional[float] = None  # the "Total" row of a console table

    @property
    def total_ms(self) -> float:
        """Sum of the layers' totals over all iterations (what percentages refer to)."""
        return sum(r.time_ms for r in self.rows if not math.isnan(r.time_ms))

    @property
    def average_total_ms(self) -> float:
        """Sum of the layers' per-iteration means: the profiled time of one inference."""
        return sum(r.average_ms for r in self.rows if not math.isnan(r.average_ms))


_PROFILE_LINE = re.compile(
    r'"name"\s*:\s*"(?P<name>.*)"\s*,\s*"timeMs"\s*:\s*(?P<time>' + _NUMBER + r')\s*,\s*'
    r'"averageMs"\s*:\s*(?P<avg>' + _NUMBER + r')\s*,\s*'
    r'(?:"medianMs"\s*:\s*(?P<median>' + _NUMBER + r')\s*,\s*)?'
    r'"percentage"\s*:\s*(?P<pct>' + _NUMBER + r')\s*\}')
_COUNT_LINE = re.compile(r'"count"\s*:\s*(\d+)')


def parse_profile(source: Source) -> Profile:
    """Read a ``--exportProfile`` file."""
    text = _read(source, "profile")
    name = str(source)
    try:
        data = json.loads(text)
        profile = _profile_from_json(data, name)
    except ValueError:
        profile = _profile_from_lines(text, name)
    if not profile.rows:
        raise TrtbenchError(f"{name} has no layer records; is it a trtexec --exportProfile file?")
    return profile


def _profile_from_json(data: Any, name: str) -> Profile:
    if not isinstance(data, list):
        raise ValueError("not a list")
    count = 0
    rows: List[ProfileRow] = []
    for item in data:
        if not isinstance(item, dict):
            raise ValueError("not a record")
        if "count" in item and "name" not in item:
            count = int(item["count"])
            continue
        if "name" not in item or "averageMs" not in item:
            raise ValueError("not a profile record")
        rows.append(ProfileRow(str(item["name"]), float(item.get("timeMs", math.nan)), float(item["averageMs"]),
                               None if item.get("medianMs") is None else float(item["medianMs"]),
                               float(item.get("percentage", 0.0))))
    return Profile(_infer_count(count, rows), rows, name, any(r.median_ms is not None for r in rows), True)


def _profile_from_lines(text: str, name: str) -> Profile:
    """trtexec writes one record per line; names are unescaped, so split on the known keys."""
    count = 0
    rows: List[ProfileRow] = []
    for line in text.split("\n"):
        m = _PROFILE_LINE.search(line)
        if m:
            median = m.group("median")
            rows.append(ProfileRow(m.group("name"), _float(m.group("time")), _float(m.group("avg")),
                                   None if median is None else _float(median), _float(m.group("pct"))))
            continue
        c = _COUNT_LINE.search(line)
        if c and not rows:
            count = int(c.group(1))
    return Profile(_infer_count(count, rows), rows, name, any(r.median_ms is not None for r in rows), False)


def _infer_count(count: int, rows: List[ProfileRow]) -> int:
    if count > 0:
        return count
    for r in rows:  # no {"count"} record: timeMs = averageMs × count
        if r.average_ms > 0 and not math.isnan(r.time_ms):
            return max(1, int(round(r.time_ms / r.average_ms)))
    return 1


# ---- --exportLayerInfo ---------------------------------------------------------------------

@dataclass
class LayerInfo:
    layers: List[Dict[str, Any]]  # detailed records, or {"Name": name} when names only
    bindings: List[str] = field(default_factory=list)
    detailed: bool = False
    source: str = ""

    @property
    def names(self) -> List[str]:
        return [str(layer.get("Name", "")) for layer in self.layers]

    def by_name(self) -> Dict[str, Dict[str, Any]]:
        return {str(layer.get("Name", "")): layer for layer in self.layers}

    def batch(self) -> Optional[int]:
        """The first dimension of the first input binding, when the layer info shows it."""
        wanted = set(self.bindings)
        for layer in self.layers:
            for tensor in layer.get("Inputs") or []:
                dims = tensor.get("Dimensions") if isinstance(tensor, dict) else None
                if dims and (not wanted or tensor.get("Name") in wanted) and int(dims[0]) > 0:
                    return int(dims[0])
        return None


def parse_layer_info(source: Source) -> LayerInfo:
    """Read an ``--exportLayerInfo`` file (names only or detailed)."""
    text = _read(source, "layer info")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise TrtbenchError(f"{source} is not JSON ({exc}); is it a trtexec --exportLayerInfo file?") from None
    return layer_info_from_json(data, str(source))


def layer_info_from_json(data: Any, source: str = "<layer info>") -> LayerInfo:
    """Layer info from parsed JSON (the file, or the engine inspector's string loaded)."""
    if isinstance(data, list):
        data = {"Layers": data}
    if not isinstance(data, dict) or not isinstance(data.get("Layers"), list):
        raise TrtbenchError(f"{source} has no \"Layers\" list; is it a trtexec --exportLayerInfo file?")
    layers: List[Dict[str, Any]] = []
    detailed = False
    for item in data["Layers"]:
        if isinstance(item, dict):
            detailed = detailed or "LayerType" in item
            layers.append(dict(item))
        else:
            layers.append({"Name": str(item)})
    bindings = data.get("Bindings")
    if bindings is None and isinstance(data.get("I/O Tensors"), list):  # TRT 11
        bindings = [t.get("Name", "") if isinstance(t, dict) else str(t) for t in data["I/O Tensors"]]
    return LayerInfo(layers, [str(b) for b in bindings or []], detailed, source)


# ---- --exportTimes -------------------------------------------------------------------------

@dataclass
class Times:
    """Per-query intervals in ms, in run order."""

    compute_ms: List[float]
    latency_ms: List[float]
    h2d_ms: List[float] = field(default_factory=list)
    d2h_ms: List[float] = field(default_factory=list)
    end_to_end_ms: List[float] = field(default_factory=list)  # 7.x–8.2 only
    source: str = ""


def parse_times(source: Source) -> Times:
    """Read an ``--exportTimes`` file."""
    text = _read(source, "times")
    try:
        data = json.loads(text)
    except ValueError:
        data = [_loose_record(line) for line in text.split("\n") if '"computeMs"' in line]
    if not isinstance(data, list) or not data or not all(isinstance(d, dict) and "computeMs" in d for d in data):
        raise TrtbenchError(f"{source} has no records with computeMs; is it a trtexec --exportTimes file?")

    def column(*keys: str) -> List[float]:
        for key in keys:
            if key in data[0]:
                return [float(d.get(key, math.nan)) for d in data]
        return []

    return Times(column("computeMs"), column("latencyMs"), column("h2dMs", "inMs"), column("d2hMs", "outMs"),
                 column("endToEndMs"), str(source))


def _loose_record(line: str) -> Dict[str, float]:
    return {k: _float(v) for k, v in re.findall(r'"(\w+)"\s*:\s*(' + _NUMBER + ")", line)}


# ---- console logs --------------------------------------------------------------------------

@dataclass
class Stat:
    """One summary line: min, max, mean, median and percentiles (``{99.0: ms}``), in ms."""

    min: float = math.nan
    max: float = math.nan
    mean: float = math.nan
    median: float = math.nan
    percentiles: Dict[float, float] = field(default_factory=dict)


@dataclass
class Summary:
    throughput_qps: Optional[float] = None
    latency: Optional[Stat] = None  # H2D + GPU compute + D2H
    end_to_end: Optional[Stat] = None  # 7.x–8.2
    enqueue: Optional[Stat] = None
    h2d: Optional[Stat] = None
    gpu_compute: Optional[Stat] = None
    d2h: Optional[Stat] = None
    total_host_walltime_s: Optional[float] = None
    total_gpu_compute_s: Optional[float] = None
    queries: Optional[int] = None
    style: str = ""  # "trt7", "trt8" or "trex"


@dataclass
class DeviceInfo:
    name: str = ""
    compute_capability: str = ""
    sms: Optional[int] = None
    compute_clock_ghz: Optional[float] = None
    memory_clock_ghz: Optional[float] = None  # meaningless on Tegra iGPUs
    global_memory_mib: Optional[int] = None
    memory_bus_bits: Optional[int] = None


@dataclass
class TrtexecLog:
    source: str = ""
    version: Optional[TrtVersion] = None
    command: str = ""
    passed: Optional[bool] = None
    options: Dict[str, Dict[str, str]] = field(default_factory=dict)  # section → key → value
    device: DeviceInfo = field(default_factory=DeviceInfo)
    summary: Optional[Summary] = None
    profile: Optional[Profile] = None  # the --dumpProfile table
    layer_info: Optional[LayerInfo] = None  # the --dumpLayerInfo block
    gpu_layers: List[str] = field(default_factory=list)  # [GpuLayer] lines of a build
    input_shapes: Dict[str, List[int]] = field(default_factory=dict)
    build_seconds: Optional[float] = None
    warmup_queries: Optional[int] = None  # "Warmup completed N queries": in --exportTimes up to 8.4
    summary_suppressed: bool = False  # 8.4+: profiler in the timed run, no summary printed
    warnings: List[str] = field(default_factory=list)

    @property
    def batch(self) -> Optional[int]:
        for dims in self.input_shapes.values():
            if dims and dims[0] > 0:
                return dims[0]
        return None


_PREFIX = re.compile(r"^(?:\[\d\d/\d\d/\d{4}-\d\d:\d\d:\d\d\] )?\[([VIWEF])\](?: |$)(?:\[TRT\] )?")
_BANNER = re.compile(r"^&&&& (RUNNING|PASSED|FAILED) TensorRT\.trtexec \[TensorRT (v\d+)\](?: \[b\d+\])? # (.*)$")
_SECTION = re.compile(r"^=== (.+?) ===$")
_STAT_ITEM = re.compile(r"(min|max|mean|median|percentile\((\d+(?:\.\d+)?)%\)) = (" + _NUMBER + r") ms")
_SUMMARY_KEYS = {"Latency": "latency", "End-to-End Host Latency": "end_to_end", "Enqueue Time": "enqueue",
                 "H2D Latency": "h2d", "GPU Compute Time": "gpu_compute", "D2H Latency": "d2h"}
_TRT7_BLOCKS = {"Host Latency": "latency", "Enqueue Time": "enqueue", "GPU Compute": "gpu_compute"}
_SHAPE_LINES = (
    re.compile(r"^Input inference shapes? ?: (.+)$"),
    re.compile(r"^Created input binding for (\S+) with dimensions (\S+)$"),
    re.compile(r"^Input binding for (\S+) with dimensions (\S+) and type"),
    re.compile(r"^Set shape of input tensor (\S+) to: (\S+)$"),
)


def parse_log(source: Source) -> TrtexecLog:
    """Read a trtexec console log (any version), or TREx's ``.profile.metadata.json``."""
    text = _read(source, "log")
    if text.lstrip().startswith("{"):
        return _log_from_trex_metadata(text, str(source))
    # split("\n"), not splitlines(): the latter also breaks at U+001E, which TensorRT puts
    # between ONNX names in layer metadata.
    log = _LogParser(str(source)).feed(text.split("\n"))
    if log.version is None and log.summary is None and log.profile is None and not log.options:
        raise TrtbenchError(f"{source} does not look like trtexec output (no banner, options, summary or profile)")
    return log


class _LogParser:
    def __init__(self, source: str) -> None:
        self.log = TrtexecLog(source=source)
        self.section = ""
        self.trt7_block = ""
        self.summary = Summary()
        self.in_summary = False

    def feed(self, lines: List[str]) -> TrtexecLog:
        i = 0
        while i < len(lines):
            line = lines[i].rstrip("\r\n")
            m = _PREFIX.match(line)
            if m:
                msg = line[m.end():]
                if msg.strip().startswith("=== Profile ("):
                    i = self._table(lines, i)
                    continue
                if msg.strip() == "Layers:":
                    i = self._layer_block(lines, i + 1)
                    continue
                self._message(m.group(1), msg)
            else:
                self._banner(line)
            i += 1
        if self.in_summary or self.summary.gpu_compute or self.summary.throughput_qps is not None:
            self.log.summary = self.summary
        return self.log

    def _banner(self, line: str) -> None:
        m = _BANNER.match(line.strip())
        if not m:
            return
        if self.log.version is None:
            self.log.version = TrtVersion.parse(m.group(2))
        self.log.command = self.log.command or m.group(3)
        if m.group(1) != "RUNNING":
            self.log.passed = m.group(1) == "PASSED"
        for flag in re.findall(r"--shapes=(\S+)", m.group(3)):
            for spec in flag.split(","):
                name, dims = split_shape(spec)
                self.log.input_shapes.setdefault(name, dims)
        b = re.search(r"--batch=(\d+)", m.group(3))
        if b and not self.log.input_shapes:
            self.log.input_shapes["(implicit batch)"] = [int(b.group(1))]

    def _message(self, level: str, msg: str) -> None:
        text = msg.strip()
        if level == "W" and text and text not in self.log.warnings:
            self.log.warnings.append(text)
        s = _SECTION.match(text)
        if s:
            self.section = s.group(1)
            self.in_summary = self.section == "Performance summary"
            if "Options" in self.section or self.section == "Device Information":
                self.log.options.setdefault(self.section, {})
            return
        if text.startswith("TensorRT version:"):
            self.log.version = TrtVersion.parse(text)
            self.section = ""
            return
        if text.startswith("The e2e network timing is not reported"):
            self.log.summary_suppressed = True
        if text.startswith("[GpuLayer] ") or text.startswith("[DlaLayer] "):
            self.log.gpu_layers.append(text.split("] ", 1)[1])
        m = re.match(r"^Engine built in (" + _NUMBER + r") sec", text)
        if m:
            self.log.build_seconds = float(m.group(1))
        w = re.match(r"^Warmup completed (\d+) queries", text)
        if w:
            self.log.warmup_queries = int(w.group(1))
        m = re.match(r"^Timing trace has (\d+) queries", text)
        if m:
            self.summary.queries = int(m.group(1))
        self._shapes(text)
        if self.in_summary:
            self._summary_line(text)
        elif self.section in self.log.options and ":" in text:
            key, _, value = text.partition(":")
            self.log.options[self.section][key.strip()] = value.strip()
            if self.section == "Device Information":
                self._device(key.strip(), value.strip())
        self._trt7_line(text)

    def _shapes(self, text: str) -> None:
        for pattern in _SHAPE_LINES:
            m = pattern.match(text)
            if not m:
                continue
            if m.lastindex == 1:
                if m.group(1).strip() != "model":
                    for spec in m.group(1).split(","):
                        name, dims = split_shape(spec)
                        self.log.input_shapes[name] = dims
            else:
                self.log.input_shapes[m.group(1)] = [int(d) for d in m.group(2).split("x") if d.lstrip("-").isdigit()]
            return

    def _device(self, key: str, value: str) -> None:
        d = self.log.device
        number = re.match(_NUMBER, value)
        if key == "Selected Device":
            d.name = value
        elif key == "Compute Capability":
            d.compute_capability = value
        elif key == "SMs" and number:
            d.sms = int(float(number.group(0)))
        elif key in ("Compute Clock Rate", "Application Compute Clock Rate") and number:
            d.compute_clock_ghz = float(number.group(0))
        elif key in ("Memory Clock Rate", "Application Memory Clock Rate") and number:
            d.memory_clock_ghz = float(number.group(0))
        elif key == "Device Global Memory" and number:
            d.global_memory_mib = int(float(number.group(0)))
        elif key == "Memory Bus Width" and number:
            d.memory_bus_bits = int(float(number.group(0)))

    def _summary_line(self, text: str) -> None:
        self.summary.style = "trt8"
        key, _, rest = text.partition(":")
        key = key.strip()
        if key == "Throughput":
            self.summary.throughput_qps = _float(rest.split()[0])
        elif key == "Total Host Walltime":
            self.summary.total_host_walltime_s = _float(rest.split()[0])
        elif key == "Total GPU Compute Time":
            self.summary.total_gpu_compute_s = _float(rest.split()[0])
        elif key in _SUMMARY_KEYS:
            setattr(self.summary, _SUMMARY_KEYS[key], _stat(rest))

    def _trt7_line(self, text: str) -> None:
        """TRT 7: a block title line, then `min: X ms`, …, `percentile: X ms at 99%`."""
        if text in _TRT7_BLOCKS:
            self.trt7_block = _TRT7_BLOCKS[text]
            self.summary.style = "trt7"
            return
        if not self.trt7_block:
            return
        m = re.match(r"^(min|max|mean|median): (" + _NUMBER + r") ms", text)
        p = re.match(r"^percentile: (" + _NUMBER + r") ms at (\d+(?:\.\d+)?)%", text)
        if m or p:
            stat = getattr(self.summary, self.trt7_block) or Stat()
            if m:
                setattr(stat, m.group(1), float(m.group(2)))
            elif p:
                stat.percentiles[float(p.group(2))] = float(p.group(1))
            setattr(self.summary, self.trt7_block, stat)
            return
        t = re.match(r"^(throughput|walltime|total compute time): (" + _NUMBER + ")", text)
        if t:
            attr = {"throughput": "throughput_qps", "walltime": "total_host_walltime_s",
                    "total compute time": "total_gpu_compute_s"}[t.group(1)]
            setattr(self.summary, attr, float(t.group(2)))
        else:
            self.trt7_block = ""

    def _table(self, lines: List[str], start: int) -> int:
        """A --dumpProfile table; returns the index after it."""
        header = _PREFIX.sub("", lines[start]).strip()
        iterations = re.search(r"\((\d+) iterations", header)
        count = int(iterations.group(1)) if iterations else 1
        columns = _PREFIX.sub("", lines[start + 1]).split() if start + 1 < len(lines) else []
        numbers_first = bool(columns) and columns[0].startswith("Time")
        has_median = any(c.startswith("Median") for c in columns)
        ncols = 4 if has_median else 3
        rows: List[ProfileRow] = []
        total: Optional[float] = None
        i = start + 2
        while i < len(lines):
            m = _PREFIX.match(lines[i])
            msg = lines[i][m.end():].strip() if m else ""
            if not msg:
                break
            if numbers_first:
                parts = msg.split(None, ncols)
                numbers, name = parts[:ncols], (parts[ncols] if len(parts) > ncols else "")
            else:
                parts = msg.rsplit(None, ncols)
                name, numbers = parts[0], parts[1:]
            if len(numbers) != ncols or not all(re.fullmatch(_NUMBER, n) for n in numbers):
                break
            values = [_float(n) for n in numbers]
            i += 1
            if name.strip() == "Total":
                total = values[0]
                break
            rows.append(ProfileRow(name.strip(), values[0], values[1], values[2] if has_median else None,
                                   values[-1]))
        if rows:
            self.log.profile = Profile(count, rows, f"{self.log.source} (--dumpProfile table)", has_median,
                                       True, total)
        return i

    def _layer_block(self, lines: List[str], start: int) -> int:
        """The --dumpLayerInfo block: layer lines, a blank line, ``Bindings:`` and names."""
        layers: List[Dict[str, Any]] = []
        bindings: List[str] = []
        i = start
        in_bindings = False
        while i < len(lines) and not _PREFIX.match(lines[i]) and not lines[i].startswith("&&&&"):
            text = lines[i].strip()
            i += 1
            if not text:
                continue
            if text == "Bindings:":
                in_bindings = True
            elif in_bindings:
                bindings.append(text)
            else:
                layers.append(_oneline_layer(text))
        if layers:
            self.log.layer_info = LayerInfo(layers, bindings, any("LayerType" in x for x in layers),
                                            f"{self.log.source} (--dumpLayerInfo)")
        return i


def _stat(text: str) -> Stat:
    stat = Stat()
    for key, pct, value in _STAT_ITEM.findall(text):
        if pct:
            stat.percentiles[float(pct)] = _float(value)
        else:
            setattr(stat, key, _float(value))
    return stat


def _oneline_layer(text: str) -> Dict[str, Any]:
    """One ``kONELINE`` layer line (JSON-like, not JSON) → the keys the categoriser reads."""
    m = re.match(r"^Name: (.*?), LayerType: (\S+?), Inputs: ", text)
    if not m:
        return {"Name": text}
    layer: Dict[str, Any] = {"Name": m.group(1), "LayerType": m.group(2)}
    for key in ("ParameterType", "TacticName", "TacticValue", "Origin"):
        v = re.search(r", " + key + r": ([^,]+)", text)
        if v:
            layer[key] = v.group(1).strip()
    k = re.search(r", Kernel: \[([-\d,]+)\]", text)
    if k:
        layer["Kernel"] = [int(x) for x in k.group(1).split(",")]
    meta = re.search(r", Metadata: (.*)$", text)
    if meta:
        layer["Metadata"] = meta.group(1)
    dims = re.search(r"Inputs: \[ \{ Name: ([^,]+), (?:Location: \w+, )?Dimensions: \[([-\d,]+)\]", text)
    if dims:
        layer["Inputs"] = [{"Name": dims.group(1), "Dimensions": [int(x) for x in dims.group(2).split(",")]}]
    return layer


def _log_from_trex_metadata(text: str, source: str) -> TrtexecLog:
    """TREx's ``*.profile.metadata.json``: ``performance_summary`` lists are [min, max, mean, median, p…]."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise TrtbenchError(f"{source} is neither a trtexec log nor JSON ({exc})") from None
    if not isinstance(data, dict) or not ({"performance_summary", "device_information"} & set(data)):
        raise TrtbenchError(f"{source} is JSON but not TREx profile metadata (no performance_summary)")
    log = TrtexecLog(source=source)
    perf = data.get("performance_summary") or {}
    summary = Summary(style="trex", throughput_qps=perf.get("Throughput"),
                      total_host_walltime_s=perf.get("Total Host Walltime"),
                      total_gpu_compute_s=perf.get("Total GPU Compute Time"))
    for key, attr in _SUMMARY_KEYS.items():
        values = perf.get(key)
        if isinstance(values, list) and len(values) >= 4:
            tail = [float(v) for v in values[4:]]
            pcts = [99.0] if len(tail) == 1 else [90.0, 95.0, 99.0][:len(tail)]
            setattr(summary, attr, Stat(float(values[0]), float(values[1]), float(values[2]), float(values[3]),
                                        dict(zip(pcts, tail))))
    log.summary = summary if perf else None
    options = data.get("inference_options") or {}
    log.options["Inference Options"] = {str(k): str(v) for k, v in options.items()}
    shape = options.get("Input inference shape") or options.get("Input inference shapes")
    if shape and shape != "model":
        for spec in str(shape).split(","):
            name, dims = split_shape(spec)
            log.input_shapes[name] = dims
    parser = _LogParser(source)
    parser.log = log
    for key, value in (data.get("device_information") or {}).items():
        parser._device(str(key), str(value))
    return log
