"""Device telemetry during a run, and the validity checks it supports.

Sources: NVML on discrete GPUs (`trtbench.device.nvml`), tegrastats on Jetsons
(`trtbench.device.tegrastats`), plus the Jetson clock and power-mode state
(`trtbench.device.jetson_power`). `trtbench.measure.sampler.Sampler` collects samples in the
background; its result is stored as ``record.telemetry`` (a `trtbench.results.record.Telemetry`)::

    {"source": "nvml" | "tegrastats", "period_s": 0.2, "device": {...},
     "samples": [{"t": 0.0, "sm_mhz": 1980, "temp_c": 41, "power_mw": 71000, "reasons": 0, ...}],
     "jetson": {"clocks": {...}, "power_mode": {...}}}

`checks()` turns samples into `trtbench.results.record.Check`s (throttling, clock changes, temperature,
Jetson clocks not pinned) that the measurement's verdict takes as extra checks.

Samples may come back from a saved run file, so they are read as data of unknown shape: a
sample that is not an object is skipped, and a value that is not a number counts as missing.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from trtbench.device.nvml import POWER_CAP_MASK, THERMAL_MASK, decode_reasons
from trtbench.results.record import Check, Telemetry
from trtbench.results.validity import CLOCK_CHANGE, CLOCKS_PINNED, TEMPERATURE, THROTTLING

CLOCK_CHANGE_PCT = 10.0  # SM/GR3D clock range during busy samples, in % of their median
TEMP_LIMIT_C = 85.0
BUSY_PCT = 50.0  # samples below this GPU load are idle gaps, not the run


def _rows(samples: Sequence[Any]) -> List[Dict[str, Any]]:
    """The samples as dicts (`TegraSample`s converted); anything but an object is skipped."""
    rows = [s.to_dict() if hasattr(s, "to_dict") else s for s in samples or []]
    return [dict(r) for r in rows if isinstance(r, Mapping)]


def _number(value: Any) -> Optional[float]:
    """A finite number, or None (missing, null, text, true/false, NaN: a sample from a file)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _reasons(value: Any) -> int:
    """NVML's throttle-reason bit mask (0 when it is not a whole number)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2 ** 64 else 0


def gpu_clock_mhz(sample: Mapping[str, Any]) -> Optional[float]:
    """The GPU clock of one sample, whichever source wrote it."""
    return _number(sample.get("sm_mhz", sample.get("gpu_freq_mhz")))


def gpu_load_pct(sample: Mapping[str, Any]) -> Optional[float]:
    return _number(sample.get("util_pct", sample.get("gpu_load_pct")))


def hottest_c(sample: Mapping[str, Any]) -> Optional[float]:
    """The GPU temperature (NVML), or the hottest online Jetson sensor except the PMIC's (it
    reads a fixed 100 °C / 50 °C on L4T 32 boards)."""
    if _number(sample.get("temp_c")) is not None:
        return _number(sample.get("temp_c"))
    sensors = sample.get("temps_c")
    if not isinstance(sensors, Mapping):
        return None
    known = [t for t in (_number(v) for k, v in sensors.items() if str(k).upper() != "PMIC") if t is not None]
    return max(known) if known else None


def summarise(samples: Sequence[Any]) -> Dict[str, Any]:
    """Ranges and means over a run: GPU clock and load, hottest temperature, power."""
    rows = _rows(samples)
    clocks = [c for c in (gpu_clock_mhz(r) for r in rows) if c is not None]
    loads = [v for v in (gpu_load_pct(r) for r in rows) if v is not None]
    temps = [t for t in (hottest_c(r) for r in rows) if t is not None]
    power = [p for p in (_number(r.get("power_mw", r.get("power_total_mw"))) for r in rows) if p is not None]
    reasons = 0
    for r in rows:
        reasons |= _reasons(r.get("reasons"))
    out: Dict[str, Any] = {"samples": len(rows)}
    if clocks:
        out.update(gpu_mhz_min=min(clocks), gpu_mhz_max=max(clocks))
    if loads:
        out["gpu_load_pct_mean"] = sum(loads) / len(loads)
    if temps:
        out["temp_c_max"] = max(temps)
    if power:
        out["power_mw_mean"] = sum(power) / len(power)
    if reasons:
        out["reasons"] = decode_reasons(reasons)
    return out


def checks(
    samples: Sequence[Any],
    jetson: Optional[Mapping[str, Any]] = None,
    source: Optional[str] = None,
    clock_change_pct: float = CLOCK_CHANGE_PCT,
    temp_limit_c: float = TEMP_LIMIT_C,
    busy_pct: float = BUSY_PCT,
) -> List[Check]:
    """Validity checks from telemetry, as `trtbench.results.record.Check`s (status ok / warn / invalid).

    `samples`: NVML or tegrastats sample dicts (or `TegraSample`s). `jetson`: the
    ``{"clocks": ..., "power_mode": ...}`` state read at the start (Jetson only). A check with no
    data to judge is left out rather than reported ok.
    """
    rows = _rows(samples)
    out: List[Check] = []
    masks = [_reasons(r["reasons"]) for r in rows if r.get("reasons") is not None]
    if masks:
        seen = 0
        for m in masks:
            seen |= m
        hits = sum(1 for m in masks if m & THERMAL_MASK)
        if seen & THERMAL_MASK:
            names = ", ".join(decode_reasons(seen & THERMAL_MASK))
            out.append(
                Check(
                    THROTTLING,
                    "invalid",
                    f"the GPU slowed down ({names}) in {hits} of {len(masks)} samples",
                    "let the GPU cool, improve airflow, or lower the clocks with nvidia-smi -lgc",
                )
            )
        elif seen & POWER_CAP_MASK:
            out.append(
                Check(
                    THROTTLING,
                    "warn",
                    "the GPU was power-capped (sw_power_cap) during the run",
                    "expected at full load; lock clocks below the cap (nvidia-smi -lgc) for stable timings",
                )
            )
        else:
            out.append(Check(THROTTLING, "ok", "no thermal or power slowdown reported", ""))

    busy = [r for r in rows if gpu_load_pct(r) is None or gpu_load_pct(r) >= busy_pct]  # type: ignore[operator]
    clocks = sorted(c for c in (gpu_clock_mhz(r) for r in busy) if c is not None and c > 0)
    if len(clocks) >= 2:
        median = clocks[len(clocks) // 2]
        spread = 100.0 * (clocks[-1] - clocks[0]) / median
        fix = "sudo jetson_clocks" if source == "tegrastats" or jetson else "sudo nvidia-smi -lgc <MHz>"
        if spread > clock_change_pct:
            out.append(
                Check(
                    CLOCK_CHANGE,
                    "warn",
                    f"GPU clock ranged {clocks[0]:.0f}-{clocks[-1]:.0f} MHz ({spread:.0f} % of its "
                    f"median) while busy",
                    f"pin the clocks: {fix}",
                )
            )
        else:
            out.append(
                Check(
                    CLOCK_CHANGE, "ok", f"GPU clock steady at {median:.0f} MHz (+-{spread / 2:.1f} %)", ""
                )
            )

    temps = [t for t in (hottest_c(r) for r in rows) if t is not None]
    if temps:
        hottest = max(temps)
        if hottest >= temp_limit_c:
            out.append(
                Check(
                    TEMPERATURE,
                    "warn",
                    f"reached {hottest:.0f} C (limit {temp_limit_c:.0f} C)",
                    "cool the device or pause between runs; throttling is near",
                )
            )
        else:
            out.append(Check(TEMPERATURE, "ok", f"at most {hottest:.0f} C", ""))

    if jetson is not None or source == "tegrastats":
        state = jetson if isinstance(jetson, Mapping) else {}
        clock_state = state.get("clocks") if isinstance(state.get("clocks"), Mapping) else None
        power_mode = state.get("power_mode")
        mode = power_mode.get("name") if isinstance(power_mode, Mapping) else None
        mode_text = f" (power mode {mode})" if mode else ""
        if clock_state is None:
            out.append(
                Check(
                    CLOCKS_PINNED,
                    "warn",
                    "Jetson clock state unknown: jetson_clocks --show gave nothing (it needs root)",
                    "run as root after: sudo jetson_clocks",
                )
            )
        elif not clock_state.get("pinned"):
            gpu = clock_state.get("gpus") or []
            detail = ""
            g = gpu[0] if isinstance(gpu, list) and gpu and isinstance(gpu[0], Mapping) else {}
            low, high, now = (_number(g.get(key)) for key in ("min", "max", "current"))
            if low is not None and high is not None and now is not None:
                detail = f": GPU {low / 1e6:.1f}-{high / 1e6:.1f} MHz, now {now / 1e6:.1f}"
            out.append(
                Check(
                    CLOCKS_PINNED,
                    "warn",
                    f"Jetson clocks are not pinned{detail}{mode_text}",
                    "sudo jetson_clocks (and choose the mode with sudo nvpmodel -m <id>)",
                )
            )
        else:
            out.append(Check(CLOCKS_PINNED, "ok", f"Jetson clocks pinned{mode_text}", ""))
    return out


def record_checks(telemetry: Union[Telemetry, Mapping[str, Any], None], **options: Any) -> List[Check]:
    """`checks()` over a run's stored telemetry."""
    if not telemetry:
        return []
    if isinstance(telemetry, Telemetry):
        telemetry = telemetry.to_dict()
    if not isinstance(telemetry, Mapping):
        return []
    samples = telemetry.get("samples")
    return checks(
        samples if isinstance(samples, list) else [],
        jetson=telemetry.get("jetson") or None,
        source=telemetry.get("source"),
        **options,
    )
