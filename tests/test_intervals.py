"""Intervals of a median and of a ratio of medians; the adaptive timing pass that stops on them.

The coverage tests draw thousands of samples from skewed distributions and count how often the
interval holds the true value: the contract is the coverage, not a formula.
"""
from __future__ import annotations

from typing import List

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trtbench.measure.method import MIN_LOOPS, MIN_SECONDS, adaptive_pass
from trtbench.results.intervals import (headline, mean_interval, median_interval, median_ranks, profiled,
                                        ratio_interval)
from trtbench.results.wellformed import problems


@pytest.mark.parametrize("n, ranks, coverage", [(3, (0, 2), 0.75), (5, (0, 4), 0.9375), (6, (0, 5), 0.96875),
                                                (10, (1, 8), 0.978515625), (20, (5, 14), 0.958611)])
def test_median_ranks_are_the_binomial_order_statistics(n, ranks, coverage):
    lo, hi, got = median_ranks(n)
    assert (lo, hi) == ranks and got == pytest.approx(coverage, abs=1e-6)


def test_the_median_interval_covers_the_true_median_95_percent_of_the_time():
    rng = np.random.default_rng(7)
    for n in (8, 25, 3000):  # exact binomial ranks, and the normal approximation past 2000
        hits = sum(median_interval(rng.lognormal(0.0, 0.6, n)).contains(1.0) for _ in range(600))
        assert 0.93 <= hits / 600 <= 0.995, (n, hits)


def test_a_ratio_interval_covers_the_true_speedup():
    rng = np.random.default_rng(11)
    hits = 0
    for _ in range(300):
        a = 2.0 * rng.lognormal(0.0, 0.05, 20)
        b = rng.lognormal(0.0, 0.05, 20)
        hits += ratio_interval(a, b).contains(2.0)
    assert hits / 300 >= 0.9
    same = ratio_interval(rng.normal(1.0, 0.02, 30), rng.normal(1.0, 0.02, 30))
    assert same.contains(1.0)  # no difference: the interval holds 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=1e-6, max_value=1e6), min_size=1, max_size=200))
def test_an_interval_brackets_the_median_it_belongs_to(values: List[float]):
    found = median_interval(values)
    assert found.low <= float(np.median(values)) <= found.high
    assert 0.0 <= found.level <= 1.0 and found.n == len(values)


def test_headline_intervals_of_a_run_are_over_its_loops_and_map_to_throughput():
    loops = [[1.0] * 10 for _ in range(9)] + [[1.2] * 10]
    data = headline([sum(l) for l in loops], loops, iterations=10, batch=64)
    assert data["unit"] == "loop" and data["n"] == 10 and data["level"] >= 0.95
    low, high = data["end_to_end_ms"]
    assert low == pytest.approx(1.0) and high <= 1.2
    assert data["tiles_per_ms"] == pytest.approx([64 / high, 64 / low])
    one = headline([12.0], [[1.0, 1.2, 0.9, 1.1]], iterations=4, batch=2)  # one loop: its iterations' mean
    assert one["unit"] == "iteration" and one["end_to_end_ms"][0] < 1.05 < one["end_to_end_ms"][1]


def test_profiled_intervals_sum_each_runs_layers_into_its_category():
    per_run = {"a": [1.0, 1.1, 0.9, 1.0], "b": [2.0, 2.0, 2.0, 2.0], "c": [0.5, 0.5, 0.5, 0.5]}
    data = profiled(per_run, {"a": "conv", "b": "conv", "c": "pool"})
    assert data["profile_runs"] == 4
    low, high = data["categories"]["conv"]
    assert low <= 3.0 <= high and high - low < 0.2
    assert data["categories"]["pool"] == [0.5, 0.5]
    assert mean_interval([3.0]).level == 0.0  # one run: no spread known


def test_a_stored_interval_that_is_not_low_high_is_named():
    from fake_runs import make_record

    data = make_record().to_dict()
    data["intervals"] = {"end_to_end_ms": [2.0, 1.0], "categories": {"conv": ["x", 1]}}
    found = {p.field for p in problems(data)}
    assert {"intervals.end_to_end_ms", "intervals.categories.conv"} <= found


# ---- the adaptive timing pass ----------------------------------------------------------------

class Noisy:
    """A session whose inference takes `ms` with multiplicative noise, on a fake clock."""

    def __init__(self, ms: float, noise: float, seed: int = 0) -> None:
        self.ms, self.noise = ms, noise
        self.rng = np.random.default_rng(seed)
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def run_timed(self, iterations: int) -> List[float]:
        times = list(self.ms * (1.0 + self.noise * self.rng.standard_normal(iterations)))
        self.now += sum(times) / 1000.0
        return times


def test_a_steady_session_stops_on_the_target():
    session = Noisy(1.0, 0.05)
    times, sampling = adaptive_pass(session, 100, clock=session.clock)
    assert sampling["ended_by"] == "precision" and sampling["mode"] == "adaptive"
    # per-loop means of 100 inferences vary by 0.5 %: the minimum time (20 loops of 0.1 s) does
    assert max(MIN_LOOPS, int(MIN_SECONDS / 0.1)) <= len(times) <= int(MIN_SECONDS / 0.1) + 2
    per_loop = [sum(t) for t in times]
    assert median_interval(per_loop).half_width(float(np.median(per_loop))) <= 0.02


def test_a_noisy_session_samples_until_the_budget_and_says_so():
    session = Noisy(10.0, 0.0)
    session.run_timed = lambda n: _slowed(session, n)  # type: ignore[method-assign]
    times, sampling = adaptive_pass(session, 2, budget_s=3.0, clock=session.clock)
    assert sampling["ended_by"] == "budget" and 3.0 <= sampling["seconds"] < 3.2
    assert len(times) > MIN_LOOPS


def _slowed(session: Noisy, n: int) -> List[float]:
    """Each loop slowed by its own factor (another program's bursts): the median wanders ±40 %."""
    times = [session.ms * float(session.rng.lognormal(0.0, 0.4))] * n
    session.now += sum(times) / 1000.0
    return times


def test_fixed_loops_are_exactly_that_many():
    session = Noisy(1.0, 0.5)
    times, sampling = adaptive_pass(session, 7, loops=3, clock=session.clock)
    assert [len(t) for t in times] == [7, 7, 7] and sampling["ended_by"] == "fixed"


def test_loops_that_wander_together_count_as_fewer_samples():
    """An AR(1) series (each loop 80 % like the one before, as on a machine whose speed wanders):
    the plain order-statistic interval misses the true median far more than 5 % of the time; the
    one widened by the effective number of loops keeps its promise."""
    from trtbench.results.intervals import lag1_autocorrelation, loop_interval

    rng = np.random.default_rng(5)
    plain = widened = 0
    for _ in range(400):
        x = np.empty(60)
        x[0] = rng.standard_normal()
        for t in range(1, 60):
            x[t] = 0.8 * x[t - 1] + 0.6 * rng.standard_normal()
        series = 10.0 + x  # true median 10
        plain += median_interval(series).contains(10.0)
        found, rho = loop_interval(series)
        widened += found.contains(10.0)
    assert plain / 400 < 0.8 and widened / 400 >= 0.9
    assert lag1_autocorrelation(rng.standard_normal(500)) < 0.1
