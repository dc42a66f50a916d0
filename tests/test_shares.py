"""Trust in per-layer shares, and the profiler's overhead spread as an equal cost per node."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trtbench.results.shares import APPROXIMATE, GOOD, POOR, spread_overhead, trust


def test_an_equal_cost_per_node_is_taken_off_and_the_layers_add_up_to_end_to_end() -> None:
    # three nodes of 10, 1 and 1 ms under a profiler that adds 0.5 ms to each: 13.5 profiled, 12 real
    assert spread_overhead([10.5, 1.5, 1.5], 12.0) == pytest.approx([10.0, 1.0, 1.0])
    # a node shorter than the per-node cost goes to zero, never below
    corrected = spread_overhead([10.0, 0.1, 3.0], 11.0)
    assert min(corrected) == 0.0 and sum(corrected) == pytest.approx(11.0)


def test_layers_that_add_up_to_less_than_end_to_end_are_left_as_they_are() -> None:
    assert spread_overhead([1.0, 2.0], 4.0) == [1.0, 2.0]
    assert trust([1.0, 2.0], 4.0).overhead == pytest.approx(-0.25)


def test_trust_levels_follow_the_overhead() -> None:
    assert trust([1.0, 1.0], 1.9).level == GOOD
    assert trust([1.0, 1.0], 1.5).level == APPROXIMATE
    low = trust([1.0, 1.0, 1.0, 1.0], 1.0)
    assert low.level == POOR and low.misattributed == pytest.approx(0.75) and low.per_node_ms == pytest.approx(0.75)
    assert "profiler overhead" in low.describe() and trust([], 1.0) is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=100.0), min_size=1, max_size=40),
       st.floats(min_value=0.01, max_value=1000.0))
def test_spread_keeps_order_sum_and_sign(layers, end_to_end) -> None:
    out = spread_overhead(layers, end_to_end)
    assert len(out) == len(layers) and all(v >= 0 for v in out)
    if sum(layers) > end_to_end:
        assert sum(out) == pytest.approx(end_to_end, rel=1e-6)
        # an equal cost per node keeps the order of the layers
        ranked = sorted(range(len(layers)), key=lambda i: layers[i])
        assert all(out[a] <= out[b] + 1e-9 for a, b in zip(ranked, ranked[1:]))
    else:
        assert out == [float(v) for v in layers]
