"""NVML sampling through a scripted fake `pynvml` module, reason decoding, and the sampler thread."""

from __future__ import annotations

import sys
import types
from typing import Any, List

import pytest

from trtbench.device import nvml
from trtbench.measure import telemetry
from trtbench.measure.sampler import Sampler


def test_decode_reasons() -> None:
    assert nvml.decode_reasons(0) == []
    assert nvml.decode_reasons(0x1) == ["gpu_idle"]
    assert nvml.decode_reasons(0x20 | 0x4) == ["sw_power_cap", "sw_thermal_slowdown"]
    assert nvml.decode_reasons(0x40 | 0x800) == ["hw_thermal_slowdown", "bit_0x800"]


class _Util:
    def __init__(self, gpu: int) -> None:
        self.gpu = gpu


def fake_pynvml(clocks: List[int], reasons: List[int], new_api: bool = True) -> types.ModuleType:
    """A module with the pynvml calls NvmlSource uses; clocks/reasons are played in order."""
    m = types.ModuleType("pynvml")
    state = {"clock": 0, "reason": 0, "init": 0}
    m.NVML_CLOCK_SM, m.NVML_CLOCK_MEM, m.NVML_TEMPERATURE_GPU = 1, 2, 0

    def init() -> None:
        state["init"] += 1

    def shutdown() -> None:
        state["init"] -= 1

    def clock(handle: Any, kind: int) -> int:
        if kind == m.NVML_CLOCK_MEM:
            return 2619
        value = clocks[min(state["clock"], len(clocks) - 1)]
        state["clock"] += 1
        return value

    def reason(handle: Any) -> int:
        value = reasons[min(state["reason"], len(reasons) - 1)]
        state["reason"] += 1
        return value

    def not_supported(handle: Any) -> int:
        raise RuntimeError("NVML_ERROR_NOT_SUPPORTED")

    m.nvmlInit, m.nvmlShutdown = init, shutdown
    m.nvmlDeviceGetHandleByIndex = lambda index: ("gpu", index)
    m.nvmlDeviceGetName = lambda h: b"NVIDIA H100 80GB HBM3"
    m.nvmlSystemGetDriverVersion = lambda: "580.00"
    m.nvmlDeviceGetEnforcedPowerLimit = lambda h: 700000
    m.nvmlDeviceGetMaxClockInfo = lambda h, kind: 1980
    m.nvmlDeviceGetClockInfo = clock
    m.nvmlDeviceGetTemperature = lambda h, kind: 55
    m.nvmlDeviceGetPowerUsage = not_supported  # a NotSupported query becomes None, not a crash
    m.nvmlDeviceGetUtilizationRates = lambda h: _Util(97)
    if new_api:
        m.nvmlDeviceGetCurrentClocksEventReasons = reason
    else:
        m.nvmlDeviceGetCurrentClocksThrottleReasons = reason
    m._state = state
    return m


@pytest.mark.parametrize("new_api", [True, False])
def test_nvml_source_samples(monkeypatch: pytest.MonkeyPatch, new_api: bool) -> None:
    fake = fake_pynvml([1980, 1980, 1410], [0, 0, 0x40], new_api=new_api)
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    assert nvml.available()
    source = nvml.NvmlSource(0)
    info = source.open()
    assert info["name"] == "NVIDIA H100 80GB HBM3" and info["max_sm_mhz"] == 1980
    samples = [source.sample() for _ in range(3)]
    source.close()
    assert fake._state["init"] == 0
    assert [s["sm_mhz"] for s in samples] == [1980, 1980, 1410]
    assert samples[0]["power_mw"] is None and samples[0]["util_pct"] == 97 and samples[0]["mem_mhz"] == 2619
    assert samples[2]["reason_names"] == ["hw_thermal_slowdown"]
    checks = {c.name: c for c in telemetry.checks(samples)}
    assert checks["throttling"].status == "invalid"
    assert checks["clock-change"].status == "warn"


def test_nvml_unavailable_without_pynvml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # makes `import pynvml` raise ImportError
    assert nvml.available() is False


class _FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        self.now += 0.1
        return self.now


class _ScriptedSource:
    kind = "nvml"

    def __init__(self, fail_after: int = 10**9) -> None:
        self.calls = 0
        self.closed = False
        self.fail_after = fail_after

    def open(self) -> dict:
        return {"source": "nvml", "name": "fake"}

    def sample(self) -> dict:
        self.calls += 1
        if self.calls > self.fail_after:
            raise RuntimeError("device lost")
        return {"sm_mhz": 1000 + self.calls, "reasons": 0}

    def close(self) -> None:
        self.closed = True


def test_sampler_collects_in_background_and_stops() -> None:
    import time

    source = _ScriptedSource()
    with Sampler(source, period_s=0.01, clock=_FakeClock()) as sampler:
        deadline = time.monotonic() + 5
        while source.calls < 3 and time.monotonic() < deadline:
            time.sleep(0.005)
    result = sampler.result()
    assert source.closed
    assert result["source"] == "nvml" and result["device"]["name"] == "fake"
    assert len(result["samples"]) >= 3
    ts = [s["t"] for s in result["samples"]]
    assert ts == sorted(ts) and all(t > 0 for t in ts)
    assert [s["sm_mhz"] for s in result["samples"]][:3] == [1001, 1002, 1003]


def test_sampler_survives_a_failing_source() -> None:
    import time

    source = _ScriptedSource(fail_after=2)
    with Sampler(source, period_s=0.01) as sampler:
        deadline = time.monotonic() + 5
        while source.calls < 3 and time.monotonic() < deadline:
            time.sleep(0.005)
    result = sampler.result()
    assert len(result["samples"]) == 2 and "device lost" in result["notes"][0]


def test_sampler_without_source_is_a_no_op() -> None:
    with Sampler(None) as sampler:
        pass
    assert sampler.result() == {}


def test_free_memory_and_facts_init_and_shut_nvml_down_once_each(monkeypatch):
    import sys
    import types

    from trtbench.device import nvml

    calls = []
    fake = types.ModuleType("pynvml")
    fake.nvmlInit = lambda: calls.append("init")
    fake.nvmlShutdown = lambda: calls.append("shutdown")
    fake.nvmlDeviceGetCount = lambda: 1
    fake.nvmlDeviceGetHandleByIndex = lambda i: ("gpu", i)
    fake.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(free=123 * 2 ** 20)
    fake.nvmlDeviceGetName = lambda h: b"NVIDIA H200"
    fake.nvmlDeviceGetCudaComputeCapability = lambda h: (9, 0)
    fake.nvmlSystemGetDriverVersion = lambda: "580.1"
    fake.nvmlSystemGetCudaDriverVersion = lambda: 13000
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    assert nvml.free_memory(0) == 123 * 2 ** 20
    assert nvml.gpu_facts(0) == {"name": "NVIDIA H200", "compute_capability": "9.0", "driver": "580.1",
                                 "cuda": "13.0"}
    assert nvml.gpu_facts(3) is None  # no such GPU
    assert calls == ["init", "shutdown"] * 3
