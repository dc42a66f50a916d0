"""Captured output of the Jetson tools read back: a tegrastats log, ``jetson_clocks --show``,
``nvpmodel -q`` or an nvpmodel.conf, recognised by its content unless the kind is given."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

from trtbench.device import jetson_power, tegrastats
from trtbench.errors import TrtbenchError

KINDS = ("auto", "tegrastats", "jetson_clocks", "nvpmodel", "nvpmodel_conf")


def detect_kind(text: str) -> str:
    """The kind of a capture: tegrastats, jetson_clocks, nvpmodel or nvpmodel_conf ("" if none)."""
    return "tegrastats" if tegrastats.looks_like_tegrastats(text) else (jetson_power.detect_kind(text) or "")


def read_recording(path: Path, kind: str = "auto") -> Dict[str, Any]:
    """``{"kind": ..., ...}``: the samples of a tegrastats log (with their summary), the clock
    state of jetson_clocks, the current power mode of nvpmodel -q, or nvpmodel.conf's modes."""
    from trtbench.measure.telemetry import summarise

    if kind not in KINDS:
        raise TrtbenchError(f"unknown kind {kind!r}", hint=f"choose one of: {', '.join(KINDS)}")
    try:
        text = Path(path).read_text(errors="replace")
    except FileNotFoundError:
        raise TrtbenchError(f"{path} does not exist") from None
    except OSError as exc:
        raise TrtbenchError(f"cannot read {path}: {exc.strerror}") from None
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
