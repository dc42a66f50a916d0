"""`trtbench.read_telemetry` and `trtbench.sample_telemetry`: what the device did, from a capture or live."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict, Union

from trtbench.device import jetson_power, tegrastats
from trtbench.errors import TrtbenchError
from trtbench.measure.telemetry import summarise

__all__ = ["KINDS", "detect_kind", "read_telemetry", "sample_telemetry"]

KINDS = ("auto", "tegrastats", "jetson_clocks", "nvpmodel", "nvpmodel_conf")


def detect_kind(text: str) -> str:
    """The kind of a capture: tegrastats, jetson_clocks, nvpmodel or nvpmodel_conf ("" if none)."""
    return "tegrastats" if tegrastats.looks_like_tegrastats(text) else (jetson_power.detect_kind(text) or "")


def _read_recording(path: Path, kind: str = "auto") -> Dict[str, Any]:
    """``{"kind": ..., ...}``: the samples of a tegrastats log (with their summary), the clock
    state of jetson_clocks, the current power mode of nvpmodel -q, or nvpmodel.conf's modes."""
    if kind not in KINDS:
        raise TrtbenchError(f"unknown kind {kind!r}", hint=f"choose one of: {', '.join(KINDS)}")
    from trtbench.device.tegrastats import read_capture

    text = read_capture(Path(path))  # a regular file only: a FIFO is refused, not waited on
    if kind == "auto":
        kind = detect_kind(text)
        if not kind:
            raise TrtbenchError(f"{path} is neither tegrastats, jetson_clocks --show nor nvpmodel -q output",
                                hint="name it with --kind")
    if kind == "tegrastats":
        samples = tegrastats.parse_file(Path(path))
        return {"kind": kind, "samples": [s.to_dict() for s in samples], "summary": summarise(samples)}
    if kind == "jetson_clocks":
        return {"kind": kind, "clocks": jetson_power.parse_jetson_clocks(text).to_dict()}
    if kind == "nvpmodel_conf":
        return {"kind": kind, "modes": jetson_power.parse_power_models(text)}
    mode = jetson_power.parse_nvpmodel(text)
    if mode.name is None:
        raise TrtbenchError(f"{path} has no 'NV Power Mode:' line", hint="capture it with: nvpmodel -q")
    return {"kind": kind, "power_mode": mode.to_dict()}


def read_telemetry(path: Union[str, Path], kind: str = "auto") -> Dict[str, Any]:
    """A captured tegrastats log, ``jetson_clocks --show``, ``nvpmodel -q`` or nvpmodel.conf, parsed."""
    return {"file": str(path), **_read_recording(Path(path), kind)}


def sample_telemetry(seconds: float = 5.0, period: float = 0.2, device: str = "cuda") -> Dict[str, Any]:
    """Sample this device (tegrastats on a Jetson, NVML on a desktop GPU) for `seconds`: the
    samples, their summary and the validity checks they support."""
    from trtbench.measure.sampler import Sampler, auto_source
    from trtbench.measure.telemetry import record_checks

    if not 0 < seconds <= 24 * 3600 or not 0 < period <= 60:
        raise TrtbenchError("--seconds must be in (0, 86400] and --period in (0, 60]")
    source = auto_source(device)
    if source is None:
        raise TrtbenchError("no telemetry source here: neither tegrastats (Jetson) nor NVML (pynvml) is available",
                            hint="on a desktop GPU: pip install 'trtbench[nvml]'")
    with Sampler(source, period_s=period) as sampler:
        time.sleep(seconds)
    result = sampler.result()
    result["summary"] = summarise(result.get("samples", []))
    result["checks"] = [c.to_dict() for c in record_checks(result)]
    return result
