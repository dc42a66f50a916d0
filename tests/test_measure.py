"""measure(): the statistics of the timing pass, the warm-up rule, the profile pass, exactly,
driven by a scripted fake session (no backend, no clock)."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import pytest

from trtbench.backends.base import ProfileResult
from trtbench.errors import TrtbenchError
from trtbench.measure.method import WARMUP_MS, measure, warm_up
from trtbench.models.source import ModelSource
from trtbench.results.record import LayerTime


class ScriptedSession:
    """Returns scripted per-iteration times; records what it was asked."""

    backend = "fake"
    device = "cpu"
    precision = "fp32"

    def __init__(self, warm: List[float], timed: List[float], layers: List[LayerTime]) -> None:
        self.warm = list(warm)
        self.timed = list(timed)
        self.layers = layers
        self.batches: List[int] = []
        self.profiled: List[int] = []
        self.phase = "warm"

    def set_batch(self, batch: int) -> None:
        self.batches.append(batch)

    def run_timed(self, iterations: int) -> List[float]:
        source = self.warm if self.warm else self.timed
        out, source[:] = source[:iterations], source[iterations:]
        assert len(out) == iterations, "script ran out of times"
        return out

    def profile(self, iterations: int) -> ProfileResult:
        self.profiled.append(iterations)
        return ProfileResult(layers=[LayerTime(l.name, l.category, l.ms, type=l.type) for l in self.layers],
                             iterations=iterations, unknown=["Mystery"], notes=["fake profiler"])

    def info(self) -> Dict[str, str]:
        return {"backend_version": "9.9", "device_name": "Fake CPU", "threads": 2}

    def close(self) -> None:
        pass


MODEL = ModelSource(path=Path("m.onnx"), kind="onnx", name="m", sha256="ab")
LAYERS = [LayerTime("c", "conv", 6.0, type="Conv"), LayerTime("p", "pool", 1.0, type="MaxPool"),
          LayerTime("f", "fc", 2.5, type="Gemm"), LayerTime("x", "other", 0.5, type="Mystery")]


def test_timing_statistics_follow_equation_12() -> None:
    loops = [[10.0, 10.0, 10.0, 10.0], [9.0, 9.5, 9.5, 9.0], [12.0, 11.0, 11.0, 10.0]]
    session = ScriptedSession(warm=[50.0, 10.0], timed=[t for loop in loops for t in loop], layers=LAYERS)
    record = measure(session, MODEL, batch=64, iterations=4, loops=3, warmup=2, profile_iterations=7)
    assert session.batches == [64]
    assert record.iteration_ms == loops
    assert record.loop_ms == [40.0, 37.0, 44.0]
    assert record.end_to_end_ms == pytest.approx(40.0 / 4)  # median loop / iterations
    assert record.tiles_per_ms == pytest.approx(64 * 4 / 40.0)
    assert record.warmup == 2
    assert record.validity.cold_ms == 50.0
    assert session.profiled == [7]
    # layers: 10 ms in all against 10 ms end to end
    assert record.overhead == pytest.approx(0.0)
    assert record.categories == {"conv": 6.0, "pool": 1.0, "fc": 2.5, "other": 0.5}
    assert [l.percent for l in record.layers] == pytest.approx([60.0, 10.0, 25.0, 5.0])
    assert record.backend_version == "9.9" and record.device_name == "Fake CPU"
    assert record.session == {"threads": 2}
    assert record.host.cpu and record.host.trtbench  # the device fingerprint
    assert record.model["sha256"] == "ab"
    assert any("Mystery" in note for note in record.notes)


def test_overhead_is_relative_to_the_unprofiled_time() -> None:
    session = ScriptedSession(warm=[], timed=[8.0] * 6, layers=LAYERS)  # e2e 8 ms, layers 10 ms
    record = measure(session, MODEL, batch=8, iterations=2, loops=3, warmup=0)
    assert record.overhead == pytest.approx((10.0 - 8.0) / 8.0)
    assert record.warmup == 0 and record.validity.cold_ms is None
    names = {c.name: c.status for c in record.validity.checks}
    assert names["profiler_overhead"] == "warn"
    assert record.validity.verdict == "WARN"


def test_no_profile_leaves_layers_empty() -> None:
    session = ScriptedSession(warm=[], timed=[1.0] * 20, layers=LAYERS)
    record = measure(session, MODEL, batch=1, iterations=10, loops=2, warmup=0, profile=False)
    assert record.layers == [] and record.overhead is None and session.profiled == []


def test_default_warm_up_runs_at_least_half_a_second_of_inference() -> None:
    step = 120.0
    session = ScriptedSession(warm=[step] * 10, timed=[], layers=[])
    result = warm_up(session, None)
    expected = 1
    while expected * step < WARMUP_MS:
        expected += 1
    assert result == {"count": expected, "cold_ms": step, "ms": step}
    fast = ScriptedSession(warm=[1000.0, 1.0, 1.0, 1.0], timed=[], layers=[])
    assert warm_up(fast, None)["count"] == 3  # at least three, even when the first is slow


def test_bad_counts_are_user_errors() -> None:
    session = ScriptedSession(warm=[], timed=[1.0], layers=[])
    with pytest.raises(TrtbenchError):
        measure(session, MODEL, batch=1, iterations=0)


class ThrottlingSource:
    """A telemetry source (the sampler's protocol) reporting a thermal slowdown in every sample."""

    kind = "nvml"

    def __init__(self) -> None:
        self.closed = False

    def open(self) -> Dict[str, str]:
        return {"source": "nvml", "name": "Fake GPU"}

    def sample(self) -> Dict[str, float]:
        from trtbench.device.nvml import THERMAL_MASK

        return {"sm_mhz": 1500, "gpu_pct": 100, "temp_c": 90, "reasons": THERMAL_MASK}

    def close(self) -> None:
        self.closed = True


def test_telemetry_during_the_timing_pass_reaches_record_and_verdict() -> None:
    source = ThrottlingSource()
    session = ScriptedSession(warm=[50.0], timed=[2.0] * 20, layers=LAYERS)
    record = measure(session, MODEL, 16, iterations=10, loops=2, warmup=1, telemetry=source)
    assert source.closed
    assert record.telemetry.source == "nvml" and record.telemetry.samples
    checks = {c.name: c.status for c in record.validity.checks}
    assert checks["throttling"] == "invalid"
    assert record.validity.verdict == "INVALID"


def test_no_telemetry_on_a_plain_cpu() -> None:
    session = ScriptedSession(warm=[50.0], timed=[2.0] * 20, layers=LAYERS)
    record = measure(session, MODEL, 16, iterations=10, loops=2, warmup=1)
    assert record.telemetry is None
    assert "throttling" not in {c.name for c in record.validity.checks}


def test_a_short_inference_is_profiled_over_more_iterations() -> None:
    from trtbench.measure.method import MAX_PROFILE_ITERATIONS, profiling_iterations

    assert profiling_iterations(20, 50.0) == 20  # a ResNet at 50 ms: 1 s already
    assert profiling_iterations(20, 1.0) == MAX_PROFILE_ITERATIONS == 200  # 300 would cover 0.3 s; capped
    assert profiling_iterations(20, 5.0) == 60 and profiling_iterations(20, 0.0) == 20


def test_by_default_a_loop_lasts_about_0_1_s_and_loops_run_until_the_median_is_known():
    """Warm-up inferences of 10 ms give loops of 10 (0.1 s); steady loops reach ±2 % as soon as
    the minimum of inference time is timed; the record keeps the interval (over loops) and what
    ended the sampling."""
    from trtbench.measure.method import LOOP_MS, MIN_LOOPS, MIN_SECONDS

    needed = max(MIN_LOOPS, int(round(MIN_SECONDS / 0.1)))
    timed = [10.0 + 0.01 * (i % 7) for i in range(needed * 10)]
    session = ScriptedSession(warm=[30.0] + [10.0] * 47, timed=timed, layers=LAYERS)  # 0.5 s of warm-up
    record = measure(session, MODEL, batch=8, profile=False, budget_s=8.0)  # not the tests' TRTBENCH_BUDGET
    assert record.iterations == int(LOOP_MS / 10.0) and record.loops == needed
    assert record.sampling["mode"] == "adaptive" and record.sampling["ended_by"] == "precision"
    low, high = record.intervals["end_to_end_ms"]
    assert low <= record.end_to_end_ms <= high and (high - low) / record.end_to_end_ms < 0.01
    assert record.intervals["tiles_per_ms"] == pytest.approx([8 / high, 8 / low], rel=1e-5)
    assert record.to_dict()["intervals"]["n"] == needed


@pytest.mark.parametrize("cores, threads", [(1, 1), (2, 1), (4, 3), (8, None), (64, None)])
def test_a_small_cpu_leaves_one_core_to_the_os_and_says_so(cores, threads):
    from trtbench.api.pipeline import default_threads

    chosen, why = default_threads(cores)
    assert chosen == threads
    assert bool(why) is (threads is not None) and ("--threads" in why or not why)
