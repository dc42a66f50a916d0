"""Parse `tegrastats` output, every format from L4T 28 (TX1, 2016) to L4T 39 (JetPack 7.2).

One line is one sample. Tokens are split on runs of whitespace (some R36 builds print several
spaces) and matched by key, since the order differs across boards. The eras and the field grammar
are in the shared `docs/targets.md` §6; in short:

- ``MM-DD-YYYY HH:MM:SS`` date prefix from L4T 35 on;
- ``RAM u/tMB (lfb NxSMB)``, ``SWAP u/tMB (cached cMB)``, ``IRAM u/tkB(lfb fkB)``;
- ``CPU [x%@f,off,...]`` (old: ``cpu [x%,y%]@f``, one frequency for the cluster);
- ``EMC_FREQ x%@f`` (old ``EMC``), ``GR3D_FREQ x%@f | x%@[f,f] | @[f,f,f] | x%`` (old ``GR3D``),
  ``GR3D2_FREQ`` (JP 5.0/5.1 AGX Orin's second GPC);
- engines ``NVENC off | 79%@166 | @0 | 192``, ``APE 174``, ``MTS fg x% bg y%``;
- temperatures ``name@45.8C`` (R39: ``name@cur/maxC``; ``-256C`` = sensor off);
- power rails ``NAME cur/avg`` (mW, unit implied before L4T 35), ``NAME 5299mW/5299mW``, R39
  ``cur/avg/max``.

Frequencies are MHz, power mW, temperatures °C. A token the parser does not know goes to
``unparsed`` rather than raising, so a new JetPack degrades to missing fields, not to a crash.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from trtbench.errors import TrtbenchError
from trtbench.jsonio import read_file_text

SENSOR_OFF_C = -256.0

_DATE = re.compile(r"^(\d\d)-(\d\d)-(\d{4})$")
_CLOCK = re.compile(r"^\d\d:\d\d:\d\d$")
_USED_TOTAL = re.compile(r"^(\d+)/(\d+)(MB|kB)(?:\(lfb)?$")
_LOAD_FREQ = re.compile(r"^(?:(\d+)%)?(?:@(?:(\d+)|\[([\d,]*)\]))?$")
_TEMP = re.compile(r"^([A-Za-z][\w]*)@(-?\d+(?:\.\d+)?)C(?:/(-?\d+(?:\.\d+)?)C)?$")
_POWER = re.compile(r"^(\d+)(?:mW)?/(\d+)(?:mW)?(?:/(\d+)(?:mW)?)?$")
_NUMBER = re.compile(r"^\d+$")
_NAME = re.compile(r"^[A-Za-z][\w]*$")
_POWER_INPUT_RAILS = ("VDD_IN", "POM_5V_IN")


@dataclass
class Rail:
    current_mw: float
    average_mw: float
    max_mw: Optional[float] = None  # L4T 39: running maximum


@dataclass
class Engine:
    """A fixed-function engine (NVENC, VIC, APE, ...): off, or its load and/or frequency."""

    on: bool
    load_pct: Optional[float] = None
    freq_mhz: Optional[float] = None


@dataclass
class TegraSample:
    """One tegrastats line. Fields the line does not carry are None (or empty)."""

    time: Optional[str] = None  # ISO 8601 local time, from the L4T 35+ date prefix
    ram_used_mb: Optional[int] = None
    ram_total_mb: Optional[int] = None
    swap_used_mb: Optional[int] = None
    swap_total_mb: Optional[int] = None
    cpu_load_pct: List[Optional[float]] = field(default_factory=list)  # None = core off
    cpu_freq_mhz: List[Optional[float]] = field(default_factory=list)
    emc_load_pct: Optional[float] = None
    emc_freq_mhz: Optional[float] = None
    gpu_load_pct: Optional[float] = None  # GR3D utilisation (max over GR3D/GR3D2)
    gpu_freqs_mhz: List[float] = field(default_factory=list)  # one per GPC when listed
    temps_c: Dict[str, float] = field(default_factory=dict)  # online sensors only
    temps_max_c: Dict[str, float] = field(default_factory=dict)  # L4T 39 running maxima
    sensors_off: List[str] = field(default_factory=list)  # printed as -256C
    rails: Dict[str, Rail] = field(default_factory=dict)
    engines: Dict[str, Engine] = field(default_factory=dict)
    unparsed: List[str] = field(default_factory=list)

    @property
    def gpu_freq_mhz(self) -> Optional[float]:
        """The GPU clock: the highest GPC clock listed (they are equal in every fixture)."""
        return max(self.gpu_freqs_mhz) if self.gpu_freqs_mhz else None

    @property
    def power_total_mw(self) -> Optional[float]:
        """Board input power as jetson_stats computes it: VDD_IN / POM_5V_IN, else the rails' sum."""
        for name in _POWER_INPUT_RAILS:
            if name in self.rails:
                return self.rails[name].current_mw
        if not self.rails:
            return None
        return sum(r.current_mw for r in self.rails.values())

    @property
    def gpu_temp_c(self) -> Optional[float]:
        for name in ("gpu", "GPU"):
            if name in self.temps_c:
                return self.temps_c[name]
        return None

    def to_dict(self) -> Dict[str, Any]:
        data = asdict(self)
        data["gpu_freq_mhz"] = self.gpu_freq_mhz
        data["power_total_mw"] = self.power_total_mw
        if not data["unparsed"]:
            del data["unparsed"]
        return data


def parse_line(line: str) -> TegraSample:
    """Parse one tegrastats line."""
    tokens = line.split()
    sample = TegraSample()
    i = 0
    if len(tokens) >= 2 and _DATE.match(tokens[0]) and _CLOCK.match(tokens[1]):
        month, day, year = _DATE.match(tokens[0]).groups()  # type: ignore[union-attr]
        sample.time = f"{year}-{month}-{day}T{tokens[1]}"
        i = 2
    while i < len(tokens):
        i = _parse_field(tokens, i, sample)
    return sample


def _next(tokens: List[str], i: int) -> str:
    return tokens[i + 1] if i + 1 < len(tokens) else ""


def _parse_field(tokens: List[str], i: int, s: TegraSample) -> int:
    """Consume the field starting at tokens[i]; return the index after it."""
    key = tokens[i]
    nxt = _next(tokens, i)
    if key in ("RAM", "SWAP", "IRAM"):
        return _parse_memory(tokens, i, s)
    if key in ("CPU", "cpu") and nxt.startswith("["):
        _parse_cpus(nxt, s)
        return i + 2
    if key in ("EMC_FREQ", "EMC"):
        m = _LOAD_FREQ.match(nxt)
        if m:
            s.emc_load_pct = _num(m.group(1))
            s.emc_freq_mhz = _num(m.group(2))
            return i + 2
    if key in ("GR3D_FREQ", "GR3D", "GR3D2_FREQ"):
        m = _LOAD_FREQ.match(nxt)
        if m and nxt:
            load = _num(m.group(1))
            if load is not None:
                s.gpu_load_pct = load if s.gpu_load_pct is None else max(s.gpu_load_pct, load)
            if m.group(2) is not None:
                s.gpu_freqs_mhz.append(float(m.group(2)))
            elif m.group(3):
                s.gpu_freqs_mhz.extend(float(f) for f in m.group(3).split(",") if f)
            return i + 2
    if key == "MTS" and nxt == "fg" and len(tokens) > i + 4:
        return i + 5  # CPU time of the Denver/Carmel MTS firmware: not needed
    m = _TEMP.match(key)
    if m:
        name, cur, peak = m.group(1), float(m.group(2)), m.group(3)
        if cur == SENSOR_OFF_C:
            s.sensors_off.append(name)
        else:
            s.temps_c[name] = cur
            if peak is not None:
                s.temps_max_c[name] = float(peak)
        return i + 1
    if _NAME.match(key):
        p = _POWER.match(nxt)
        if p:
            s.rails[key] = Rail(float(p.group(1)), float(p.group(2)), _num(p.group(3)))
            return i + 2
        engine = _engine(nxt)
        if engine is not None:
            s.engines[_engine_name(key)] = engine
            return i + 2
    s.unparsed.append(key)
    return i + 1


def _parse_memory(tokens: List[str], i: int, s: TegraSample) -> int:
    key = tokens[i]
    m = _USED_TOTAL.match(_next(tokens, i))
    if not m:
        s.unparsed.append(key)
        return i + 1
    used, total = _whole(m.group(1)), _whole(m.group(2))
    if key == "RAM":
        s.ram_used_mb, s.ram_total_mb = used, total
    elif key == "SWAP":
        s.swap_used_mb, s.swap_total_mb = used, total
    j = i + 2
    # skip the parenthesised tail: "(lfb 7291x4MB)", "(cached 0MB)", IRAM's "252kB)"
    if j < len(tokens) and (tokens[j].startswith("(") or tokens[i + 1].endswith("(lfb")):
        while j < len(tokens) and not tokens[j].endswith(")"):
            j += 1
        j += 1
    return j


def _parse_cpus(text: str, s: TegraSample) -> None:
    """``[x%@f,off,...]`` or the L4T 28 TX1 form ``[x%,y%]@f`` (one clock for all cores)."""
    body, _, shared = text.partition("]")
    shared_freq = _num(shared[1:]) if shared.startswith("@") else None
    for item in body.lstrip("[").split(","):
        if not item or item == "off":
            s.cpu_load_pct.append(None)
            s.cpu_freq_mhz.append(None)
            continue
        load, _, freq = item.partition("@")
        s.cpu_load_pct.append(_num(load.rstrip("%")))
        s.cpu_freq_mhz.append(_num(freq) if freq else shared_freq)


def _engine(value: str) -> Optional[Engine]:
    if value == "off":
        return Engine(on=False)
    if _NUMBER.match(value):
        return Engine(on=True, freq_mhz=float(value))
    m = _LOAD_FREQ.match(value)
    if value and m and (m.group(1) or m.group(2)):
        return Engine(on=True, load_pct=_num(m.group(1)), freq_mhz=_num(m.group(2)))
    return None


def _engine_name(key: str) -> str:
    return key[:-5] if key.endswith("_FREQ") else key


def _whole(text: str) -> Optional[int]:
    try:
        return int(text)
    except ValueError:  # 4300+ digits: not a memory size
        return None


def _num(text: Optional[str]) -> Optional[float]:
    if text is None or text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return None


def parse_text(text: str) -> List[TegraSample]:
    """One sample per non-empty line."""
    return [parse_line(line) for line in text.splitlines() if line.strip()]


def looks_like_tegrastats(text: str) -> bool:
    first = next((line for line in text.splitlines() if line.strip()), "")
    return " RAM " in f" {first} " and ("CPU [" in first or "cpu [" in first)


def read_capture(path: Path) -> str:
    """The text of a recorded log or captured output: a regular file only (a FIFO is refused, not
    opened), within the size limit; bytes that are not UTF-8 become U+FFFD (a log cut by a power
    loss still reads)."""
    return read_file_text(Path(path), "capture", errors="replace")


def parse_file(path: Path) -> List[TegraSample]:
    """Samples from a recorded log (``tegrastats --logfile`` or a captured stdout)."""
    text = read_capture(path)
    if not looks_like_tegrastats(text):
        raise TrtbenchError(
            f"{path} does not look like tegrastats output (no 'RAM ... CPU [' line)",
            hint="record one with: tegrastats --interval 100 --logfile FILE",
        )
    return parse_text(text)
