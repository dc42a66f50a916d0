"""Jetson clock and power-mode state: `jetson_clocks --show` and `nvpmodel -q`.

A Jetson benchmark means little unless the clocks were pinned (`sudo jetson_clocks`) and the power
mode is known (`sudo nvpmodel -m <id>`): with DVFS on, the GPU may run anywhere between its minimum
and maximum clock. Formats (shared `docs/targets.md` §7): CPU lines in kHz, GPU/EMC/DLA/PVA in Hz;
"locked" means MinFreq == MaxFreq == CurrentFreq for CPU and GPU (the test jetson_stats uses), and
EMC ``FreqOverride=1``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional

_KV = re.compile(r"(\w+)=(\S*)")
_CPU = re.compile(r"^cpu(\d+):")
_CLOCK_LINE = re.compile(r"^([\w-]+):?\s+(?=.*MinFreq=)")
_MODE = re.compile(r"^NV Power Mode:\s*(\S+)\s*$")
_FAN_MODE = re.compile(r"^NV Fan Mode:\s*(\S+)\s*$")
_POWER_MODEL = re.compile(r"<\s*POWER_MODEL\s+ID=(\d+)\s+NAME=(\S+)\s*>")


@dataclass
class Clock:
    """One clock domain. CPU values are kHz, the others Hz, as the tool prints them."""

    name: str
    min: int
    max: int
    current: int
    online: Optional[bool] = None
    governor: Optional[str] = None
    override: Optional[bool] = None  # EMC FreqOverride

    @property
    def pinned(self) -> bool:
        return self.min == self.max == self.current


@dataclass
class ClockState:
    """What `jetson_clocks --show` reports."""

    soc_family: Optional[str] = None
    machine: Optional[str] = None
    cpus: List[Clock] = field(default_factory=list)
    gpus: List[Clock] = field(default_factory=list)  # "GPU"; Thor: "gpu-gpc-0", "gpu-nvd-0"
    emc: Optional[Clock] = None
    engines: List[Clock] = field(default_factory=list)  # DLA, PVA
    power_mode: Optional[str] = None
    active_gpu_tpcs: Optional[int] = None
    fan: List[str] = field(default_factory=list)

    @property
    def gpu_pinned(self) -> bool:
        return bool(self.gpus) and all(g.pinned for g in self.gpus)

    @property
    def cpu_pinned(self) -> bool:
        online = [c for c in self.cpus if c.online is not False]
        return bool(online) and all(c.pinned for c in online)

    @property
    def pinned(self) -> bool:
        """CPU and GPU at min == max == current, and EMC not left to DVFS where the line says."""
        emc_ok = self.emc is None or self.emc.override is not False
        return self.gpu_pinned and self.cpu_pinned and emc_ok

    @property
    def gpu_max_mhz(self) -> Optional[float]:
        return max(g.max for g in self.gpus) / 1e6 if self.gpus else None

    @property
    def gpu_current_mhz(self) -> Optional[float]:
        return max(g.current for g in self.gpus) / 1e6 if self.gpus else None

    def to_dict(self) -> Dict[str, Any]:
        data = asdict(self)
        data.update(
            pinned=self.pinned,
            gpu_pinned=self.gpu_pinned,
            cpu_pinned=self.cpu_pinned,
            gpu_max_mhz=self.gpu_max_mhz,
            gpu_current_mhz=self.gpu_current_mhz,
        )
        return data


@dataclass
class NvpmodelState:
    """What `nvpmodel -q` reports now: the mode name, its id, and any NVPM warnings or errors (the
    modes a module has, with their watts and clocks, are the target profile's `PowerMode`s)."""

    name: Optional[str] = None
    id: Optional[int] = None
    fan_mode: Optional[str] = None
    messages: List[str] = field(default_factory=list)  # "NVPM WARN/ERROR: ..." lines

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


def _small_int(text: Any) -> Optional[int]:
    """An id, a count or a frequency from captured output; None when it is not one (empty, not a
    number, or longer than any real one: Python refuses to read integers of 4,300+ digits)."""
    value = str(text).strip()
    if not value.lstrip("-").isdigit() or len(value) > 18:
        return None
    return int(value)


def _clock(name: str, values: Dict[str, str]) -> Optional[Clock]:
    lo, hi, cur = (_small_int(values.get(key, "")) for key in ("MinFreq", "MaxFreq", "CurrentFreq"))
    if lo is None or hi is None or cur is None:
        return None
    online = values.get("Online")
    override = values.get("FreqOverride")
    governor = values.get("Governor", values.get("Gonvernor"))  # sic: L4T 28 jetson_clocks.sh
    return Clock(
        name,
        lo,
        hi,
        cur,
        online=None if online is None else online == "1",
        governor=governor,
        override=None if override is None else override == "1",
    )


def parse_jetson_clocks(text: str) -> ClockState:
    """Parse `jetson_clocks --show` (or the L4T 28 `jetson_clocks.sh --show`)."""
    state = ClockState()
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("SOC family:"):
            m = re.match(r"SOC family:(\S+)\s+Machine:(.*)$", line)
            if m:
                state.soc_family, state.machine = m.group(1), m.group(2).strip()
            continue
        mode = _MODE.match(line)
        if mode:
            state.power_mode = mode.group(1)
            continue
        if line.startswith("Active GPU TPCs:"):
            state.active_gpu_tpcs = _small_int(line.split(":", 1)[1])
            continue
        if line.startswith(("FAN", "Fan")):
            state.fan.append(line)
            continue
        values = dict(_KV.findall(line))
        cpu = _CPU.match(line)
        if cpu:
            clock = _clock(f"cpu{cpu.group(1)}", values)
            if clock:
                state.cpus.append(clock)
            continue
        head = _CLOCK_LINE.match(line)
        if not head:
            continue
        clock = _clock(head.group(1), values)
        if clock is None:
            continue
        name = head.group(1)
        if name == "GPU" or name.lower().startswith("gpu"):
            state.gpus.append(clock)
        elif name == "EMC":
            state.emc = clock
        else:
            state.engines.append(clock)
    return state


def parse_nvpmodel(text: str) -> NvpmodelState:
    """Parse `nvpmodel -q`: the ``NV Power Mode: NAME`` line and the id on the next number line."""
    mode = NvpmodelState()
    expect_id = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("NVPM"):
            mode.messages.append(line)
            continue
        fan = _FAN_MODE.match(line)
        if fan:
            mode.fan_mode = fan.group(1)
            continue
        m = _MODE.match(line)
        if m:
            mode.name = m.group(1)
            expect_id = True
            continue
        if expect_id and _small_int(line) is not None:
            mode.id = _small_int(line)
            expect_id = False
    return mode


def parse_power_models(text: str) -> Dict[int, str]:
    """Mode ids and names from `/etc/nvpmodel.conf` (its ``< POWER_MODEL ID=n NAME=x >`` lines)."""
    return {int(i): name for i, name in _POWER_MODEL.findall(text) if _small_int(i) is not None}


def detect_kind(text: str) -> Optional[str]:
    """'jetson_clocks', 'nvpmodel' or 'nvpmodel_conf' for a captured output; None if neither."""
    if "MinFreq=" in text and "MaxFreq=" in text:
        return "jetson_clocks"
    if "POWER_MODEL" in text:
        return "nvpmodel_conf"
    if "NV Power Mode:" in text:
        return "nvpmodel"
    return None


def _run(command: List[str]) -> Optional[str]:
    if shutil.which(command[0]) is None:
        return None
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout + done.stderr


def read_state() -> Dict[str, Any]:
    """The live state, for a run's telemetry: ``{"clocks": ..., "power_mode": ...}``; entries are
    absent where the tool is missing or (jetson_clocks needs root) printed nothing useful."""
    state: Dict[str, Any] = {}
    clocks = _run(["jetson_clocks", "--show"])
    if clocks and detect_kind(clocks) == "jetson_clocks":
        state["clocks"] = parse_jetson_clocks(clocks).to_dict()
    mode = _run(["nvpmodel", "-q"])
    if mode and "NV Power Mode" in mode:
        state["power_mode"] = parse_nvpmodel(mode).to_dict()
    return state


def read_power_mode() -> Optional[str]:
    """The current nvpmodel mode's name (``MAXN``, ``15W``...), or None where nvpmodel is absent."""
    text = _run(["nvpmodel", "-q"])
    if not text or "NV Power Mode" not in text:
        return None
    return parse_nvpmodel(text).name
