"""`trtbench.read_telemetry` and `trtbench.sample_telemetry`: what the device did, from a capture or live."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict, Union

from trtbench.device.recordings import read_recording
from trtbench.errors import TrtbenchError

__all__ = ["read_telemetry", "sample_telemetry"]


def read_telemetry(path: Union[str, Path], kind: str = "auto") -> Dict[str, Any]:
    """A captured tegrastats log, ``jetson_clocks --show``, ``nvpmodel -q`` or nvpmodel.conf, parsed."""
    return {"file": str(path), **read_recording(Path(path), kind)}


def sample_telemetry(seconds: float = 5.0, period: float = 0.2, device: str = "cuda") -> Dict[str, Any]:
    """Sample this device (tegrastats on a Jetson, NVML on a desktop GPU) for `seconds`: the
    samples, their summary and the validity checks they support."""
    from trtbench.measure.sampler import Sampler, auto_source
    from trtbench.measure.telemetry import record_checks, summarise

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
