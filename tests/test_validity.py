"""Validity checks: each warning fires on the data that should trigger it and names its flag."""
from __future__ import annotations

import math

import numpy as np
import pytest

from trtbench.results.record import Check, RunRecord, Validity
from trtbench.results.validity import CHECKS, evaluate


def record(times, iterations=None, overhead=None, warmup=5) -> RunRecord:
    loops = times if isinstance(times[0], list) else [times]
    n = iterations or len(loops[0])
    loop_ms = [sum(l) for l in loops]
    med = float(np.median(loop_ms))
    return RunRecord(backend="fake", device="cpu", batch=8, precision="fp32", model={"name": "m"},
                     iterations=n, loops=len(loops), loop_ms=loop_ms, iteration_ms=loops,
                     end_to_end_ms=med / n, tiles_per_ms=8 * n / med, overhead=overhead, warmup=warmup)


def by_name(result):
    return {c.name: c for c in result.checks}


def steady(n=60, jitter=0.002):
    rng = np.random.default_rng(1)
    return list(10.0 * (1.0 + jitter * rng.standard_normal(n)))


def test_a_steady_run_is_valid() -> None:
    times = steady()
    result = evaluate(record([times[i:i + 6] for i in range(0, 60, 6)], overhead=0.05))  # 10 loops
    assert result.verdict == "VALID"
    assert all(c.status == "ok" for c in result.checks)
    assert set(by_name(result)) <= set(CHECKS)


def test_noisy_run_warns_and_names_the_flags() -> None:
    times = [10.0, 14.0] * 30
    check = by_name(evaluate(record(times)))["spread"]
    assert check.status == "warn"
    assert "--threads 1" in check.fix and "--budget" in check.fix


def test_wildly_spread_run_is_invalid() -> None:
    assert evaluate(record([1.0, 30.0] * 20)).verdict == "INVALID"


def test_slow_first_iteration_asks_for_more_warm_up() -> None:
    times = steady()
    times[0] = 30.0
    check = by_name(evaluate(record(times, warmup=4)))["first_iteration"]
    assert check.status == "warn" and "--warmup" in check.fix and "4" in check.fix
    no_warmup = by_name(evaluate(record(times, warmup=0)))["first_iteration"]
    assert "--warmup" in no_warmup.fix
    # after the automatic warm-up ran thousands of inferences, more warm-up is not the fix
    long = by_name(evaluate(record(times, warmup=10000)))["first_iteration"]
    assert long.status == "warn" and "--warmup" not in long.fix and "not a cold start" in long.message


@pytest.mark.parametrize("overhead", [0.4, -0.3])
def test_profiler_overhead_beyond_15_percent_warns(overhead: float) -> None:
    check = by_name(evaluate(record(steady(), overhead=overhead)))["profiler_overhead"]
    assert check.status == "warn" and "trtbench ablate" in check.fix
    assert f"{abs(overhead):.0%}" in check.message
    if overhead > 0:  # 0.4 / 1.4 of the profiled time is the profiler's own
        assert "29% of the profiled time is overhead" in check.message and "shares are" in check.message


def test_too_few_iterations() -> None:
    check = by_name(evaluate(record([10.0, 10.1, 9.9])))["too_few_iterations"]
    assert check.status == "warn" and "--loops" in check.fix


def test_three_loops_cannot_give_a_95_percent_interval() -> None:
    """The loops are the independent samples: 3 loops bracket the median with 75 % only."""
    check = by_name(evaluate(record([steady()[:20], steady()[20:40], steady()[40:]])))["too_few_iterations"]
    assert check.status == "warn" and "75 % interval over 3 loops" in check.message


@pytest.mark.parametrize("jitter, status", [(0.002, "ok"), (0.06, "warn"), (0.5, "invalid")])
def test_the_median_interval_over_the_loops_decides(jitter: float, status: str) -> None:
    rng = np.random.default_rng(3)
    loops = [list(10.0 * (1.0 + jitter * rng.standard_normal()) + 0.0 * np.ones(5)) for _ in range(20)]
    check = by_name(evaluate(record(loops)))["too_few_iterations"]
    assert check.status == status, check.message
    assert "interval over 20 loops" in check.message


def test_extra_checks_decide_the_verdict_and_cold_start_is_carried() -> None:
    rec = record(steady())
    rec.validity = Validity(cold_ms=123.0)
    result = evaluate(rec, extra=[Check("throttling", "invalid", "GPU throttled", "cool it")])
    assert result.verdict == "INVALID"
    assert result.cold_ms == 123.0
    assert by_name(result)["cold_start"].status == "ok"
    assert by_name(result)["throttling"].fix == "cool it"


def test_every_check_trtbench_makes_is_in_the_one_registry() -> None:
    from trtbench.measure import telemetry

    samples = [{"reasons": 0x20, "sm_mhz": 1000, "util_pct": 90, "temp_c": 90},
               {"reasons": 0, "sm_mhz": 1500, "util_pct": 95, "temp_c": 70}]
    made = telemetry.checks(samples, jetson={"clocks": None}, source="tegrastats")
    assert {c.name for c in made} == {"throttling", "clock-change", "temperature", "clocks-pinned"}
    assert {c.name for c in made} <= set(CHECKS)
    assert all(c.fix for c in made if c.status != "ok")  # each warning names its fix
