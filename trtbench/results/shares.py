"""How far a run's per-layer shares can be trusted, and the profiler's overhead spread over layers.

A profiler that records every node costs about the same per node, however long the node runs
(onnxruntime's event per kernel, torch.profiler's range per module). When the per-layer sum
exceeds the unprofiled end-to-end time, that excess is overhead, and it inflates every node by
about the same amount: short nodes (activations, reshapes) look much more expensive than they
are, and the shares of long ones (convolutions) shrink. `spread_overhead` takes the excess off
as an equal cost per node and rescales to the end-to-end time; `trust` says how much of the
profiled time was overhead, so how far any share can be off.

A per-layer sum *below* end-to-end (TensorRT on a GPU: launch gaps between layers) is time the
profiler did not see; it is not spread, only reported.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence

GOOD, APPROXIMATE, POOR = "good", "approximate", "poor"
APPROXIMATE_FROM = 0.15  # overhead (fraction of end-to-end) from which shares are approximate
POOR_FROM = 0.5


@dataclass
class Trust:
    """How far the shares of one run can be trusted."""

    level: str  # good | approximate | poor
    overhead: float  # (sum of layers - end-to-end) / end-to-end
    misattributed: float  # the share of the profiled time that is profiler overhead (0..1)
    per_node_ms: float  # the overhead charged to each node by `spread_overhead` (0 when none)

    def describe(self) -> str:
        if self.overhead < 0:
            return (f"the layers add up to {-self.overhead:.0%} less than end-to-end (time between layers); "
                    "shares are of the profiled time")
        if self.level == GOOD:
            return f"the profiler added {self.overhead:.0%}: shares hold to a few points"
        return (f"{self.misattributed:.0%} of the profiled time is profiler overhead ({self.per_node_ms * 1000:.3g} µs "
                f"per node): shares are {self.level}; the overhead is spread as an equal cost per node")


def trust(layer_ms: Sequence[float], end_to_end_ms: float) -> Optional[Trust]:
    """The trust in shares of layers timed at `layer_ms` in a run of `end_to_end_ms` per batch."""
    total = float(sum(layer_ms))
    if not layer_ms or total <= 0 or end_to_end_ms <= 0:
        return None
    overhead = (total - end_to_end_ms) / end_to_end_ms
    excess = max(total - end_to_end_ms, 0.0)
    level = GOOD if abs(overhead) < APPROXIMATE_FROM else APPROXIMATE if abs(overhead) < POOR_FROM else POOR
    return Trust(level, overhead, excess / total, excess / len(layer_ms))


def spread_overhead(layer_ms: Sequence[float], end_to_end_ms: float) -> List[float]:
    """Layer times with the profiler's excess over `end_to_end_ms` taken off as an equal cost per
    node (never below zero), then rescaled so they add up to `end_to_end_ms`. Unchanged when the
    layers add up to no more than end-to-end."""
    total = float(sum(layer_ms))
    if not layer_ms or total <= end_to_end_ms or end_to_end_ms <= 0:
        return [float(ms) for ms in layer_ms]
    # the equal per-node cost δ with Σ max(t - δ, 0) = end-to-end, by bisection (monotone in δ)
    low, high = 0.0, max(layer_ms)
    for _ in range(60):
        mid = (low + high) / 2.0
        if sum(max(ms - mid, 0.0) for ms in layer_ms) > end_to_end_ms:
            low = mid
        else:
            high = mid
    corrected = [max(ms - high, 0.0) for ms in layer_ms]
    kept = sum(corrected)
    return [ms * end_to_end_ms / kept for ms in corrected] if kept > 0 else [end_to_end_ms / len(layer_ms)] * len(layer_ms)
