"""Drift statistics (trend, step, attribution) and the live drift loop with a scripted session."""

from __future__ import annotations

import math
from typing import List

import numpy as np
import pytest

from trtbench.analysis import drift
from trtbench.errors import TrtbenchError
from trtbench.measure.drift_loop import run_drift


# ---- the statistics against hand-worked values ----------------------------------------------
def test_mann_kendall_hand_computed() -> None:
    # 1..5: S = 10, Var = 5*4*15/18 = 16.667, z = (10 - 1)/sqrt(16.667) = 2.2045
    z, p = drift.mann_kendall([1, 2, 3, 4, 5])
    assert z == pytest.approx(9 / math.sqrt(50 / 3))
    assert p == pytest.approx(math.erfc(z / math.sqrt(2)))
    # ties: [1, 1, 2]: S = 0 + 1 + 1 = 2; Var = (3*2*11 - 2*1*9)/18 = 8/3; z = 1/sqrt(8/3)
    z, _ = drift.mann_kendall([1, 1, 2])
    assert z == pytest.approx(1 / math.sqrt(8 / 3))
    z, p = drift.mann_kendall([5, 4, 3, 2, 1])
    assert z < 0 and p < 0.05


def test_theil_sen_ignores_an_outlier() -> None:
    y = [2.0 + 0.5 * i for i in range(20)]
    y[7] = 1000.0
    assert drift.theil_sen(y) == pytest.approx(0.5)


def test_theil_sen_subsamples_long_series() -> None:
    y = 3.0 + 0.01 * np.arange(1200)  # 719,400 pairs > the exact limit
    assert drift.theil_sen(y) == pytest.approx(0.01)


def test_mann_whitney_separates_shifted_samples() -> None:
    assert drift.mann_whitney_p([1, 2, 3, 4, 5, 6], [11, 12, 13, 14, 15, 16]) < 0.01
    assert drift.mann_whitney_p([1, 3, 5, 7], [2, 4, 6, 8]) > 0.5


def test_best_split_finds_the_step_despite_a_spike() -> None:
    y = [10.0] * 30 + [12.0] * 30
    y[5] = 500.0  # one wild loop must not move the split
    assert drift.best_split(y, min_size=5) == 30


# ---- the acceptance criteria: 200 seeds each ------------------------------------------------
SEEDS = range(200)


def _noise(rng: np.random.Generator, n: int = 200, cv: float = 0.03) -> np.ndarray:
    return 10.0 * (1 + cv * rng.standard_normal(n))


def test_stationary_noise_gives_no_finding_in_95_percent_of_seeds() -> None:
    found = [seed for seed in SEEDS if drift.analyse(_noise(np.random.default_rng(seed))).drift]
    assert len(found) <= 0.05 * len(SEEDS), f"false findings for seeds {found}"


def test_heavy_tailed_stationary_noise_is_not_drift() -> None:
    found = 0
    for seed in SEEDS:
        rng = np.random.default_rng(10_000 + seed)
        y = 10.0 * (1 + 0.03 * rng.standard_t(3, 200))  # occasional big spikes
        found += drift.analyse(y).drift
    assert found <= 0.05 * len(SEEDS)


def test_ten_percent_step_is_found_with_its_place_and_size() -> None:
    missed = []
    for seed in SEEDS:
        rng = np.random.default_rng(1_000 + seed)
        at = int(rng.integers(20, 181))
        y = _noise(rng)
        y[at:] *= 1.10
        r = drift.analyse(y)
        if not (r.drift and r.kind == "step" and abs(r.step_index - at) <= 5 and 6 < r.step_pct < 14):
            missed.append(seed)
    assert len(missed) <= 0.05 * len(SEEDS), f"missed steps for seeds {missed}"


def test_trend_of_a_tenth_percent_per_loop_is_found() -> None:
    missed = []
    for seed in SEEDS:
        rng = np.random.default_rng(2_000 + seed)
        y = 10.0 * (1 + 0.001 * np.arange(200)) * (1 + 0.03 * rng.standard_normal(200))
        r = drift.analyse(y)
        # 0.1 %/loop of the start is ~9 %/100 loops of the series median (which is ~10 % higher)
        if not (r.drift and r.kind == "trend" and 6 < r.slope_pct_per_100 < 12):
            missed.append(seed)
    assert len(missed) <= 0.05 * len(SEEDS), f"missed trends for seeds {missed}"


def test_tiny_significant_trend_is_not_practical_drift() -> None:
    # 0.01 %/loop with little noise: Mann-Kendall is certain, but 2 % over the run is below 5 %
    rng = np.random.default_rng(7)
    y = 10.0 * (1 + 0.0001 * np.arange(200)) * (1 + 0.002 * rng.standard_normal(200))
    r = drift.analyse(y)
    assert r.trend_p < 1e-6 and not r.drift
    assert drift.analyse(y, threshold=0.01).drift  # a tighter threshold counts it


def test_min_slope_floor() -> None:
    y = 10.0 * (1 + 0.001 * np.arange(200))
    r = drift.analyse(y)
    assert r.drift and r.kind == "trend" and r.trend_found
    floored = drift.analyse(y, min_slope_pct_per_100=20.0)  # ~9 %/100 loops is under the floor
    assert not floored.trend_found
    assert floored.kind == "step"  # the halves still differ by ~10 %: the step test says so


def test_short_and_constant_series() -> None:
    assert drift.analyse([1.0, 2.0, 3.0]).kind == "too-short"
    r = drift.analyse([0.0] * 50, name="transfer")
    assert r.kind == "constant" and not r.drift


def test_parts_name_the_part_that_drifted() -> None:
    rng = np.random.default_rng(3)
    alloc = 2.0 * (1 + 0.004 * np.arange(200)) * (1 + 0.05 * rng.standard_normal(200))
    compute = _noise(rng)
    report = drift.analyse_parts({"total": alloc + compute, "compute": compute, "alloc": alloc})
    assert report.drift and report.drifted[0] == "alloc"
    assert not report.results["compute"].drift
    assert list(report.results) == ["alloc", "compute", "total"]  # canonical order
    assert "allocation" in report.verdict
    data = report.to_dict()
    assert data["drift"] is True and data["parts"]["alloc"]["kind"] == "trend"
    quiet = drift.analyse_parts({"total": _noise(rng)})
    assert not quiet.drift and quiet.drifted == []


# ---- the live loop with a scripted session and a fake clock ----------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class GrowingAllocSession:
    """Allocation takes 1 ms + 0.02 ms more each call; inference a steady 2 ms per iteration."""

    device = "cpu"
    backend = "fake"

    def __init__(self, clock: FakeClock, transfer: bool = False) -> None:
        self.clock = clock
        self.allocs = 0
        self.batches: List[int] = []
        self.transfer = transfer
        self.last_transfer_ms = None

    def set_batch(self, batch: int) -> None:
        self.clock.now += (1.0 + 0.02 * self.allocs) / 1000.0
        self.allocs += 1
        self.batches.append(batch)

    def run_timed(self, iterations: int) -> List[float]:
        self.clock.now += 2.0 * iterations / 1000.0
        if self.transfer:
            self.last_transfer_ms = 0.5
        return [2.0] * iterations


def test_per_run_loop_attributes_drift_to_allocation() -> None:
    clock = FakeClock()
    session = GrowingAllocSession(clock)
    series = run_drift(session, batch=64, loops=100, iterations=3, clock=clock, warmup=1)
    assert session.allocs == 101 and set(session.batches) == {64}
    assert series.parts["alloc"][0] == pytest.approx(1.02)  # the warm-up loop is dropped
    assert series.parts["alloc"][-1] == pytest.approx(1.0 + 0.02 * 100)
    assert series.parts["compute"] == [pytest.approx(6.0)] * 100
    assert series.parts["total"][-1] == pytest.approx(3.0 + 6.0)
    assert "transfer" not in series.parts
    report = drift.analyse_parts(series.parts)
    assert report.drifted[0] == "alloc" and not report.results["compute"].drift


def test_reuse_allocates_once_and_transfer_is_kept_when_given() -> None:
    clock = FakeClock()
    session = GrowingAllocSession(clock, transfer=True)
    series = run_drift(session, batch=8, loops=20, iterations=2, alloc="reuse", clock=clock)
    assert session.allocs == 1
    assert series.parts["alloc"] == [0.0] * 20 and series.parts["transfer"] == [0.5] * 20
    assert not drift.analyse_parts(series.parts).drift
    assert series.to_dict()["series"]["compute"] == [4.0] * 20


def test_fragment_needs_cuda_and_bad_modes_are_user_errors() -> None:
    clock = FakeClock()
    with pytest.raises(TrtbenchError, match="CUDA"):
        run_drift(GrowingAllocSession(clock), batch=8, loops=5, alloc="fragment", clock=clock)
    with pytest.raises(TrtbenchError, match="unknown --alloc"):
        run_drift(GrowingAllocSession(clock), batch=8, loops=5, alloc="sometimes", clock=clock)


def test_direction_counts_only_the_chosen_way() -> None:
    y = _noise(np.random.default_rng(41))
    y[100:] *= 0.85  # got faster
    assert drift.analyse(y).drift  # "both" by default
    up = drift.analyse(y, direction="up")
    assert not up.drift and "step" in up.other_way and "-1" in up.other_way
    assert drift.analyse(y, direction="down").drift
    report = drift.analyse_parts({"total": y, "tiles_per_ms": 1 / y}, direction={"total": "up"})
    assert report.drifted == ["tiles_per_ms"]  # unnamed parts count both ways
    with pytest.raises(ValueError):
        drift.analyse(y, direction="sideways")
