"""Planning a sweep: which points, in which order, and how much work for each (no backend needed)."""
from __future__ import annotations

import random
from collections import OrderedDict
import dataclasses
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

from trtbench.errors import TrtbenchError
from trtbench.sweeps.file import MAX_POINTS, Sweep, SweepPoint

ORDERS = ("interleave", "random", "file")


# Work per point: enough iterations for a stable median on light networks, bounded for heavy ones
# (the study's c5d80 at batch 1024 is ~290 GFLOP per batch, seconds each on a CPU).
TILES_PER_LOOP = 8192  # a loop classifies about this many tiles ...


GFLOP_PER_POINT = 60.0  # ... and the timed loops of one point do about this much work at most


MIN_ITERATIONS = 2


MAX_ITERATIONS = 20


MIN_LOOPS = 2
LOOPS = 6  # the fewest loops whose range is a 95 % interval of the median (96.9 %)


HEAVY_GFLOP_PER_BATCH = 20.0  # above this, one warm-up and one profiled inference are enough


MAX_PROFILE_ITERATIONS = 5


@dataclass(frozen=True)
class Work:
    """How much to run one point: iterations per loop, loops, warm-up (None: the measurement's
    default) and profiled iterations."""

    iterations: int
    loops: int
    warmup: Optional[int] = None
    profile_iterations: int = 1

    def inferences(self) -> int:
        """Inferences of one batch the point runs (warm-up counted as 3 when left to default)."""
        return (3 if self.warmup is None else self.warmup) + self.iterations * self.loops + self.profile_iterations


@dataclass
class SweepPlan:
    """The points to run, in order, with the work for each."""

    sweep: Sweep
    points: List[SweepPoint]
    work: Dict[str, Work]  # by point key
    order: str
    seed: Optional[int]

    @property
    def total_gflop(self) -> float:
        """Work of the whole plan: every inference, warm-up and profiling included."""
        return sum(p.spec.flops * p.batch * self.work[p.key].inferences() for p in self.points) / 1e9


def work_for(point: SweepPoint, iterations: Optional[int] = None, loops: Optional[int] = None) -> Work:
    """Default iterations/loops for a point: ~TILES_PER_LOOP tiles a loop, ≤ GFLOP_PER_POINT a point.

    Explicit `iterations`/`loops` win.
    """
    gflop_per_batch = point.spec.flops * point.batch / 1e9
    heavy = gflop_per_batch > HEAVY_GFLOP_PER_BATCH
    warmup = 1 if heavy else None
    n_loops = loops if loops is not None else LOOPS
    if iterations is not None:
        its = iterations
    else:
        by_tiles = TILES_PER_LOOP // point.batch
        by_flops = int(GFLOP_PER_POINT / (gflop_per_batch * n_loops)) if gflop_per_batch > 0 else MAX_ITERATIONS
        its = max(MIN_ITERATIONS, min(MAX_ITERATIONS, by_tiles, by_flops))
        if loops is None and its == MIN_ITERATIONS and gflop_per_batch * its * n_loops > GFLOP_PER_POINT:
            # a heavy point: as many loops as the budget allows (its interval is then the range, with
            # the coverage it has) rather than fewer than 2 iterations
            n_loops = max(MIN_LOOPS, min(LOOPS, int(GFLOP_PER_POINT / (gflop_per_batch * its))))
    profile_its = 1 if heavy else max(1, min(its, MAX_PROFILE_ITERATIONS))
    return Work(its, n_loops, warmup, profile_its)


def order_points(points: Sequence[SweepPoint], order: str = "interleave", seed: Optional[int] = None) -> List[SweepPoint]:
    """The points in run order.

    - ``file``: as the sweep file lists them.
    - ``interleave``: groups spread evenly through the run (each group's i-th of n points sits at
      fraction (i+½)/n), so slow drift over the run (heat, allocator growth) touches every group
      alike; within a group the file order is kept, so one network's batches stay close and its
      loaded session is reused.
    - ``random``: shuffled with `seed` (reproducible when given).
    """
    if order not in ORDERS:
        raise TrtbenchError(f"unknown order '{order}'", hint=f"use one of: {', '.join(ORDERS)}")
    if order == "file":
        return list(points)
    if order == "random":
        shuffled = list(points)
        random.Random(seed).shuffle(shuffled)
        return shuffled
    by_group: "OrderedDict[str, List[SweepPoint]]" = OrderedDict()
    for p in points:
        by_group.setdefault(p.group, []).append(p)
    keyed = []
    for g_index, members in enumerate(by_group.values()):
        for i, p in enumerate(members):
            keyed.append(((i + 0.5) / len(members), g_index, p))
    return [p for _, _, p in sorted(keyed, key=lambda t: (t[0], t[1]))]


def check_points(name: str, points: Sequence[SweepPoint]) -> None:
    """Before the first point runs: not too many points, and every point's batch fits in memory."""
    from trtbench.models.inputs import ModelInput
    from trtbench.models.memory import available_bytes, check_batches_fit

    if len(points) > MAX_POINTS:
        raise TrtbenchError(f"sweep {name} has {len(points):,} points, more than the {MAX_POINTS:,} trtbench runs",
                            hint="select groups with --group, or use fewer values")
    free = available_bytes()
    for point in points:
        spec = point.spec
        tiles = [ModelInput("tiles", [None, spec.input_channels, spec.input_size, spec.input_size])]
        check_batches_fit(f"{point.key} of sweep {name}", tiles, 4.0 * spec.params, [point.batch], free,
                          fix="a batch of")


def plan_sweep(sweep: Sweep, groups: Optional[Sequence[str]] = None, order: str = "interleave",
               seed: Optional[int] = None, iterations: Optional[int] = None,
               loops: Optional[int] = None, warmup: Optional[int] = None) -> SweepPlan:
    """Select groups (all when None), order the points and size the work for each (`warmup`:
    inferences before timing at every point; None: the measurement's rule, one for heavy points)."""
    known = [g.name for g in sweep.groups]
    if groups:
        unknown = [g for g in groups if g not in known]
        if unknown:
            raise TrtbenchError(f"sweep {sweep.name} has no group {', '.join(unknown)}",
                                hint=f"its groups: {', '.join(known)}")
    selected = [p for g in sweep.groups if not groups or g.name in groups for p in g.points]
    check_points(sweep.name, selected)
    ordered = order_points(selected, order, seed)
    if iterations is not None and iterations < 1 or loops is not None and loops < 1:
        raise TrtbenchError("--iterations and --loops must be at least 1")
    if warmup is not None and not 0 <= warmup <= 1_000_000:
        raise TrtbenchError(f"--warmup must be from 0 to 1,000,000, got {warmup}")
    work = {p.key: work_for(p, iterations, loops) for p in ordered}
    if warmup is not None:
        work = {key: dataclasses.replace(w, warmup=warmup) for key, w in work.items()}
    return SweepPlan(sweep, ordered, work, order, seed)


def config_tag(backend: str, device: str, precision: str, threads: Optional[int] = None) -> str:
    """The ``sweep_config`` tag: runs of one sweep on different backends/devices/precisions (or
    CPU thread counts, when set) are never resumed into each other."""
    return f"{backend}/{device}/{precision}" + (f"/threads{threads}" if threads else "")
