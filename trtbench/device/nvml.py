"""NVML samples on desktop and datacenter GPUs (via ``nvidia-ml-py``, module ``pynvml``).

``pynvml`` is imported lazily: without it `available()` is False and nothing else here is called.
Each sample holds the SM and memory clocks (MHz), the GPU temperature (°C), power (mW), utilisation
(%) and the clock-event ("throttle") reason bitmask, decoded by `decode_reasons`. Jetsons have no
NVML (or one that answers NotSupported); they use tegrastats instead.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, List, Optional

# Clock-event reason bits (shared docs/targets.md §9); same values under the old "throttle" names.
REASONS = {
    0x001: "gpu_idle",
    0x002: "applications_clocks_setting",
    0x004: "sw_power_cap",
    0x008: "hw_slowdown",
    0x010: "sync_boost",
    0x020: "sw_thermal_slowdown",
    0x040: "hw_thermal_slowdown",
    0x080: "hw_power_brake_slowdown",
    0x100: "display_clock_setting",
}
THERMAL_MASK = 0x008 | 0x020 | 0x040 | 0x080  # slowdowns that invalidate a timing
POWER_CAP_MASK = 0x004


def decode_reasons(mask: int) -> List[str]:
    """Names of the bits set in a clock-event reason mask; unknown bits as ``bit_0x...``."""
    names = [name for bit, name in REASONS.items() if mask & bit]
    unknown = mask & ~sum(REASONS)
    bit = 1
    while unknown >= bit:
        if unknown & bit:
            names.append(f"bit_{bit:#x}")
        bit <<= 1
    return names


def available() -> bool:
    """Whether pynvml imports and NVML initialises here."""
    try:
        import pynvml  # noqa: F401
    except ImportError:
        return False
    try:
        pynvml.nvmlInit()
        pynvml.nvmlShutdown()
    except Exception:  # NVMLError_LibraryNotFound, DriverNotLoaded, ...
        return False
    return True


class NvmlSource:
    """Reads one GPU. ``open()`` before sampling, ``close()`` after (the sampler does both)."""

    kind = "nvml"

    def __init__(self, index: int = 0) -> None:
        self.index = index
        self._nvml: Any = None
        self._handle: Any = None
        self._reasons: Optional[Callable[[Any], int]] = None

    def open(self) -> Dict[str, Any]:
        """Initialise NVML; return the device description (name, driver, power limit)."""
        import pynvml

        pynvml.nvmlInit()
        self._nvml = pynvml
        self._handle = pynvml.nvmlDeviceGetHandleByIndex(self.index)
        # the new name (R535+ drivers); old bindings only have the "throttle" one
        self._reasons = getattr(pynvml, "nvmlDeviceGetCurrentClocksEventReasons", None) or getattr(
            pynvml, "nvmlDeviceGetCurrentClocksThrottleReasons", None
        )
        info: Dict[str, Any] = {"source": "nvml", "index": self.index}
        info["name"] = _text(self._call(pynvml.nvmlDeviceGetName))
        info["driver"] = _text(self._optional(pynvml.nvmlSystemGetDriverVersion))
        info["power_limit_mw"] = self._call(getattr(pynvml, "nvmlDeviceGetEnforcedPowerLimit", None))
        info["max_sm_mhz"] = self._call(
            getattr(pynvml, "nvmlDeviceGetMaxClockInfo", None), pynvml.NVML_CLOCK_SM
        )
        return info

    def _call(self, fn: Optional[Callable[..., Any]], *args: Any) -> Any:
        """A device query; None where the call is missing or NotSupported."""
        if fn is None:
            return None
        try:
            return fn(self._handle, *args)
        except Exception:
            return None

    def _optional(self, fn: Optional[Callable[[], Any]]) -> Any:
        if fn is None:
            return None
        try:
            return fn()
        except Exception:
            return None

    def sample(self) -> Dict[str, Any]:
        n = self._nvml
        util = self._call(n.nvmlDeviceGetUtilizationRates)
        mask = self._call(self._reasons) if self._reasons is not None else None
        sample: Dict[str, Any] = {
            "sm_mhz": self._call(n.nvmlDeviceGetClockInfo, n.NVML_CLOCK_SM),
            "mem_mhz": self._call(n.nvmlDeviceGetClockInfo, n.NVML_CLOCK_MEM),
            "temp_c": self._call(n.nvmlDeviceGetTemperature, n.NVML_TEMPERATURE_GPU),
            "power_mw": self._call(n.nvmlDeviceGetPowerUsage),
            "util_pct": getattr(util, "gpu", None),
            "reasons": mask,
        }
        if mask is not None:
            sample["reason_names"] = decode_reasons(int(mask))
        return sample

    def close(self) -> None:
        if self._nvml is not None:
            try:
                self._nvml.nvmlShutdown()
            except Exception:
                pass
            self._nvml = None


def _text(value: Any) -> Any:
    return value.decode() if isinstance(value, bytes) else value


@contextmanager
def _initialised() -> Iterator[Any]:
    """``pynvml`` with NVML initialised (shut down after), or None without the package, the
    library or a driver."""
    try:
        import pynvml  # nvidia-ml-py
    except ImportError:
        yield None
        return
    try:
        pynvml.nvmlInit()
    except Exception:  # NVMLError_LibraryNotFound, DriverNotLoaded, ...
        yield None
        return
    try:
        yield pynvml
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:
            pass


def free_memory(index: int = 0) -> Optional[int]:
    """Free memory of GPU `index` in bytes; None without NVML, or where it answers NotSupported
    (a Jetson's) or the index is wrong."""
    with _initialised() as pynvml:
        if pynvml is None:
            return None
        try:
            return int(pynvml.nvmlDeviceGetMemoryInfo(pynvml.nvmlDeviceGetHandleByIndex(index)).free)
        except Exception:
            return None


def gpu_facts(index: int = 0) -> Optional[Dict[str, Optional[str]]]:
    """Name, compute capability, driver and CUDA version of GPU `index`; None without NVML or GPU."""
    with _initialised() as pynvml:
        if pynvml is None:
            return None
        try:
            return _facts(pynvml, index)
        except Exception:
            return None


def _facts(pynvml: Any, index: int) -> Optional[Dict[str, Optional[str]]]:
    if pynvml.nvmlDeviceGetCount() <= index:
        return None
    handle = pynvml.nvmlDeviceGetHandleByIndex(index)
    facts: Dict[str, Optional[str]] = {"name": str(_text(pynvml.nvmlDeviceGetName(handle)))}
    try:
        major, minor = pynvml.nvmlDeviceGetCudaComputeCapability(handle)
        facts["compute_capability"] = f"{major}.{minor}"
    except Exception:
        facts["compute_capability"] = None
    try:
        facts["driver"] = str(_text(pynvml.nvmlSystemGetDriverVersion()))
    except Exception:
        facts["driver"] = None
    try:
        code = int(pynvml.nvmlSystemGetCudaDriverVersion())  # e.g. 12040
        facts["cuda"] = f"{code // 1000}.{(code % 1000) // 10}"
    except Exception:
        facts["cuda"] = None
    return facts
