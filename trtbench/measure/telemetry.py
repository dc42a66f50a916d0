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
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from trtbench.device.nvml import POWER_CAP_MASK, THERMAL_MASK, decode_reasons
from trtbench.results.record import Check, Telemetry
from trtbench.results.validity import CLOCK_CHANGE, CLOCKS_PINNED, TEMPERATURE, THROTTLING

CLOCK_CHANGE_PCT = 10.0  # SM/GR3D clock range during busy samples, in % of their median
TEMP_LIMIT_C = 85.0
BUSY_PCT = 50.0  # samples below this GPU load are idle gaps, not the run


def _as_dict(sample: Any) -> Dict[str, Any]:
    return sample.to_dict() if hasattr(sample, "to_dict") else dict(sample)


def gpu_clock_mhz(sample: Mapping[str, Any]) -> Optional[float]:
    """The GPU clock of one sample, whichever source wrote it."""
    value = sample.get("sm_mhz", sample.get("gpu_freq_mhz"))
    return float(value) if value is not None else None


def gpu_load_pct(sample: Mapping[str, Any]) -> Optional[float]:
    value = sample.get("util_pct", sample.get("gpu_load_pct"))
    return float(value) if value is not None else None


def hottest_c(sample: Mapping[str, Any]) -> Optional[float]:
    """The GPU temperature (NVML), or the hottest online Jetson sensor except the PMIC's (it
    reads a fixed 100 °C / 50 °C on L4T 32 boards)."""
    if sample.get("temp_c") is not None:
        return float(sample["temp_c"])
    temps = {k: v for k, v in (sample.get("temps_c") or {}).items() if k.upper() != "PMIC"}
    return max(temps.values()) if temps else None


def summarise(samples: Sequence[Any]) -> Dict[str, Any]:
    """Ranges and means over a run: GPU clock and load, hottest temperature, power."""
    rows = [_as_dict(s) for s in samples]
    clocks = [c for c in (gpu_clock_mhz(r) for r in rows) if c is not None]
    loads = [v for v in (gpu_load_pct(r) for r in rows) if v is not None]
    temps = [t for t in (hottest_c(r) for r in rows) if t is not None]
    power = [float(p) for p in (r.get("power_mw", r.get("power_total_mw")) for r in rows) if p is not None]
    reasons = 0
    for r in rows:
        reasons |= int(r.get("reasons") or 0)
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
    rows = [_as_dict(s) for s in samples]
    out: List[Check] = []
    masks = [int(r["reasons"]) for r in rows if r.get("reasons") is not None]
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
        clock_state = (jetson or {}).get("clocks")
        mode = ((jetson or {}).get("power_mode") or {}).get("name")
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
            if gpu:
                g = gpu[0]
                detail = f": GPU {g['min'] / 1e6:.1f}-{g['max'] / 1e6:.1f} MHz, now {g['current'] / 1e6:.1f}"
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
    return checks(
        telemetry.get("samples") or [],
        jetson=telemetry.get("jetson") or None,
        source=telemetry.get("source"),
        **options,
    )
