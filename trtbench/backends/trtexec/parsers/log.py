"""trtexec console logs, every version from 7.x to 11.x.

Banner and version line, option blocks, the device block, the timing summary (TRT 7 ``min: X ms``
blocks, 8.0–11 ``Latency: min = …``), the ``--dumpProfile`` table (name first up to 8.5, numbers
first from 8.6), the ``--dumpLayerInfo`` block, ``[GpuLayer]`` lists. TREx's
``*.profile.metadata.json`` (a log already parsed) is accepted in place of a log.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from trtbench.backends.tensorrt.layer_info import LayerInfo
from trtbench.backends.trtexec.flags import split_shape
from trtbench.backends.trtexec.parsers.common import (
    NUMBER,
    Source,
    kind_of,
    load_json,
    looks_binary,
    number,
    read_text,
    tolerant_float,
    tolerant_int,
)
from trtbench.backends.trtexec.parsers.profile import Profile, ProfileRow
from trtbench.device.tensorrt_install import TrtVersion
from trtbench.errors import TrtbenchError


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


_TRT7_BLOCKS = {"Host Latency": "latency", "Enqueue Time": "enqueue", "GPU Compute": "gpu_compute"}
_PREFIX = re.compile(r"^(?:\[\d\d/\d\d/\d{4}-\d\d:\d\d:\d\d\] )?\[([VIWEF])\](?: |$)(?:\[TRT\] )?")


_BANNER = re.compile(r"^&&&& (RUNNING|PASSED|FAILED) TensorRT\.trtexec \[TensorRT (v\d+)\](?: \[b\d+\])? # (.*)$")


_SECTION = re.compile(r"^=== (.+?) ===$")


_STAT_ITEM = re.compile(r"(min|max|mean|median|percentile\((\d+(?:\.\d+)?)%\)) = (" + NUMBER + r") ms")


_SUMMARY_KEYS = {"Latency": "latency", "End-to-End Host Latency": "end_to_end", "Enqueue Time": "enqueue",
                 "H2D Latency": "h2d", "GPU Compute Time": "gpu_compute", "D2H Latency": "d2h"}


_SHAPE_LINES = (
    re.compile(r"^Input inference shapes? ?: (.+)$"),
    re.compile(r"^Created input binding for (\S+) with dimensions (\S+)$"),
    re.compile(r"^Input binding for (\S+) with dimensions (\S+) and type"),
    re.compile(r"^Set shape of input tensor (\S+) to: (\S+)$"),
)


def parse_log(source: Source) -> TrtexecLog:
    """Read a trtexec console log (any version), or TREx's ``.profile.metadata.json``."""
    text = read_text(source, "log")
    if text.lstrip().startswith("{"):
        return _log_from_trex_metadata(text, str(source))
    # split("\n"), not splitlines(): the latter also breaks at U+001E, which TensorRT puts
    # between ONNX names in layer metadata.
    log = _LogParser(str(source)).feed(text.split("\n"))
    if log.version is None and log.summary is None and log.profile is None and not log.options:
        if looks_binary(text):
            raise TrtbenchError(f"{source} holds binary data, not a trtexec log")
        raise TrtbenchError(f"{source} does not look like trtexec output (no banner, options, summary or profile)")
    return log


def _version(text: str) -> Optional[TrtVersion]:
    """The TensorRT version a line names; None when it is mangled (a log is read as far as it goes)."""
    try:
        return TrtVersion.parse(text)
    except (TrtbenchError, ValueError):
        return None


def _shape(spec: str) -> Optional[Tuple[str, List[int]]]:
    """``name=4x1x28x28`` or ``name:4x1x28x28`` from a log; None when it is mangled."""
    try:
        return split_shape(spec)
    except (TrtbenchError, ValueError):  # ValueError: a dimension of 4300+ digits
        return None


def _ints(parts: List[str]) -> List[int]:
    """The whole numbers among `parts` (a mangled one is left out)."""
    found = [tolerant_int(p) if re.fullmatch(r"-?[0-9]+", p) else None for p in parts]
    return [n for n in found if n is not None]


def _first_number(text: str) -> float:
    parts = text.split()
    return tolerant_float(parts[0]) if parts else math.nan


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
            self.log.version = _version(m.group(2))
        self.log.command = self.log.command or m.group(3)
        if m.group(1) != "RUNNING":
            self.log.passed = m.group(1) == "PASSED"
        for flag in re.findall(r"--shapes=(\S+)", m.group(3)):
            for spec in flag.split(","):
                shape = _shape(spec)
                if shape:
                    self.log.input_shapes.setdefault(*shape)
        b = re.search(r"--batch=([0-9]+)", m.group(3))
        if b and not self.log.input_shapes and tolerant_int(b.group(1)) is not None:
            self.log.input_shapes["(implicit batch)"] = _ints([b.group(1)])

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
            self.log.version = _version(text) or self.log.version
            self.section = ""
            return
        if text.startswith("The e2e network timing is not reported"):
            self.log.summary_suppressed = True
        if text.startswith("[GpuLayer] ") or text.startswith("[DlaLayer] "):
            self.log.gpu_layers.append(text.split("] ", 1)[1])
        m = re.match(r"^Engine built in (" + NUMBER + r") sec", text)
        if m:
            self.log.build_seconds = float(m.group(1))
        w = re.match(r"^Warmup completed ([0-9]+) queries", text)
        if w:
            self.log.warmup_queries = tolerant_int(w.group(1))
        m = re.match(r"^Timing trace has ([0-9]+) queries", text)
        if m:
            self.summary.queries = tolerant_int(m.group(1))
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
                        shape = _shape(spec)
                        if shape:
                            self.log.input_shapes[shape[0]] = shape[1]
            else:
                self.log.input_shapes[m.group(1)] = _ints(m.group(2).split("x"))
            return

    def _device(self, key: str, value: str) -> None:
        d = self.log.device
        number = re.match(NUMBER, value)
        if key == "Selected Device":
            d.name = value
        elif key == "Compute Capability":
            d.compute_capability = value
        elif key == "SMs" and number:
            d.sms = _whole(number.group(0))
        elif key in ("Compute Clock Rate", "Application Compute Clock Rate") and number:
            d.compute_clock_ghz = float(number.group(0))
        elif key in ("Memory Clock Rate", "Application Memory Clock Rate") and number:
            d.memory_clock_ghz = float(number.group(0))
        elif key == "Device Global Memory" and number:
            d.global_memory_mib = _whole(number.group(0))
        elif key == "Memory Bus Width" and number:
            d.memory_bus_bits = _whole(number.group(0))

    def _summary_line(self, text: str) -> None:
        self.summary.style = "trt8"
        key, _, rest = text.partition(":")
        key = key.strip()
        if key == "Throughput":
            self.summary.throughput_qps = _first_number(rest)
        elif key == "Total Host Walltime":
            self.summary.total_host_walltime_s = _first_number(rest)
        elif key == "Total GPU Compute Time":
            self.summary.total_gpu_compute_s = _first_number(rest)
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
        m = re.match(r"^(min|max|mean|median): (" + NUMBER + r") ms", text)
        p = re.match(r"^percentile: (" + NUMBER + r") ms at (\d+(?:\.\d+)?)%", text)
        if m or p:
            stat = getattr(self.summary, self.trt7_block) or Stat()
            if m:
                setattr(stat, m.group(1), float(m.group(2)))
            elif p:
                stat.percentiles[float(p.group(2))] = float(p.group(1))
            setattr(self.summary, self.trt7_block, stat)
            return
        t = re.match(r"^(throughput|walltime|total compute time): (" + NUMBER + ")", text)
        if t:
            attr = {"throughput": "throughput_qps", "walltime": "total_host_walltime_s",
                    "total compute time": "total_gpu_compute_s"}[t.group(1)]
            setattr(self.summary, attr, float(t.group(2)))
        else:
            self.trt7_block = ""

    def _table(self, lines: List[str], start: int) -> int:
        """A --dumpProfile table; returns the index after it."""
        header = _PREFIX.sub("", lines[start]).strip()
        iterations = re.search(r"\(([0-9]+) iterations", header)
        count = (tolerant_int(iterations.group(1)) if iterations else None) or 1
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
            if len(numbers) != ncols or not all(re.fullmatch(NUMBER, n) for n in numbers):
                break
            values = [tolerant_float(n) for n in numbers]
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
            stat.percentiles[float(pct)] = tolerant_float(value)
        else:
            setattr(stat, key, tolerant_float(value))
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
    k = re.search(r", Kernel: \[([-0-9,]+)\]", text)
    if k:
        layer["Kernel"] = _ints(k.group(1).split(","))
    meta = re.search(r", Metadata: (.*)$", text)
    if meta:
        layer["Metadata"] = meta.group(1)
    dims = re.search(r"Inputs: \[ \{ Name: ([^,]+), (?:Location: \w+, )?Dimensions: \[([-0-9,]+)\]", text)
    if dims:
        layer["Inputs"] = [{"Name": dims.group(1), "Dimensions": _ints(dims.group(2).split(","))}]
    return layer


def _log_from_trex_metadata(text: str, source: str) -> TrtexecLog:
    """TREx's ``*.profile.metadata.json``: ``performance_summary`` lists are [min, max, mean, median, p…]."""
    try:
        data = load_json(text)
    except ValueError as exc:
        raise TrtbenchError(f"{source} is neither a trtexec log nor JSON ({exc})") from None
    if not isinstance(data, dict) or not ({"performance_summary", "device_information"} & set(data)):
        raise TrtbenchError(f"{source} is JSON but not TREx profile metadata (no performance_summary)")
    log = TrtexecLog(source=source)
    perf = _object(data, "performance_summary", source)

    def optional(key: str) -> Optional[float]:
        return None if perf.get(key) is None else number(perf[key], f'{source}: "{key}"')

    summary = Summary(style="trex", throughput_qps=optional("Throughput"),
                      total_host_walltime_s=optional("Total Host Walltime"),
                      total_gpu_compute_s=optional("Total GPU Compute Time"))
    for key, attr in _SUMMARY_KEYS.items():
        values = perf.get(key)
        if isinstance(values, list) and len(values) >= 4:
            ms = [number(v, f'{source}: "{key}" value {i + 1}') for i, v in enumerate(values)]
            tail = ms[4:]
            pcts = [99.0] if len(tail) == 1 else [90.0, 95.0, 99.0][:len(tail)]
            setattr(summary, attr, Stat(ms[0], ms[1], ms[2], ms[3], dict(zip(pcts, tail))))
    log.summary = summary if perf else None
    options = _object(data, "inference_options", source)
    log.options["Inference Options"] = {str(k): str(v) for k, v in options.items()}
    shape = options.get("Input inference shape") or options.get("Input inference shapes")
    if shape and shape != "model":
        for spec in str(shape).split(","):
            found = _shape(spec)
            if found:
                log.input_shapes[found[0]] = found[1]
    parser = _LogParser(source)
    parser.log = log
    for key, value in _object(data, "device_information", source).items():
        parser._device(str(key), str(value))
    return log


def _object(data: Dict[str, Any], key: str, source: str) -> Dict[str, Any]:
    """``data[key]``: a JSON object, or {} when missing or null."""
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TrtbenchError(f'{source}: "{key}" is {kind_of(value)}; expected an object')
    return value


def _whole(text: str) -> Optional[int]:
    """A count or size in MiB from a number in the log (``80.0``); None for nan, inf or absurd values."""
    value = tolerant_float(text)
    return int(value) if math.isfinite(value) and abs(value) < 2 ** 53 else None
