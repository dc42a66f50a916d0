"""Running a sweep: point order, work per point, session reuse, resuming, and the run loop.

Pure planning (`plan_sweep`, `order_points`, `work_for`) is separate from the loop (`run_points`),
which takes its measuring and saving steps as functions, so it is tested without a backend and the
command wires it to the real backends and the store.

Resuming: every saved point carries the tags ``sweep`` (the sweep's name), ``sweep_run`` (one id
per run of the sweep), ``sweep_config`` (backend/device/precision) and ``point`` (the point's
key), written in the same transaction as its record. A restarted sweep asks the store which
points of its run are tagged and skips them; so a point is either wholly saved or not at all,
whatever moment the process died.
"""
from __future__ import annotations

import random
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set

from trtbench.errors import TrtbenchError
from trtbench.sweep.file import Sweep, SweepPoint

ORDERS = ("interleave", "random", "file")

# Work per point: enough iterations for a stable median on light networks, bounded for heavy ones
# (the study's c5d80 at batch 1024 is ~290 GFLOP per batch, seconds each on a CPU).
TILES_PER_LOOP = 16384  # a loop classifies about this many tiles ...
GFLOP_PER_POINT = 60.0  # ... and the timed loops of one point do about this much work at most
MIN_ITERATIONS = 2
MAX_ITERATIONS = 20
MIN_LOOPS = 2


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
    n_loops = loops if loops is not None else 3
    if iterations is not None:
        its = iterations
    else:
        by_tiles = TILES_PER_LOOP // point.batch
        by_flops = int(GFLOP_PER_POINT / (gflop_per_batch * n_loops)) if gflop_per_batch > 0 else MAX_ITERATIONS
        its = max(MIN_ITERATIONS, min(MAX_ITERATIONS, by_tiles, by_flops))
        if loops is None and its == MIN_ITERATIONS and gflop_per_batch * its * n_loops > GFLOP_PER_POINT:
            n_loops = MIN_LOOPS  # a heavy point: fewer loops rather than fewer than 2 iterations
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


def plan_sweep(sweep: Sweep, groups: Optional[Sequence[str]] = None, order: str = "interleave",
               seed: Optional[int] = None, iterations: Optional[int] = None,
               loops: Optional[int] = None) -> SweepPlan:
    """Select groups (all when None), order the points and size the work for each."""
    known = [g.name for g in sweep.groups]
    if groups:
        unknown = [g for g in groups if g not in known]
        if unknown:
            raise TrtbenchError(f"sweep {sweep.name} has no group {', '.join(unknown)}",
                                hint=f"its groups: {', '.join(known)}")
    selected = [p for g in sweep.groups if not groups or g.name in groups for p in g.points]
    ordered = order_points(selected, order, seed)
    if iterations is not None and iterations < 1 or loops is not None and loops < 1:
        raise TrtbenchError("--iterations and --loops must be at least 1")
    return SweepPlan(sweep, ordered, {p.key: work_for(p, iterations, loops) for p in ordered}, order, seed)


# ---- sweep runs ------------------------------------------------------------------------------

def config_tag(backend: str, device: str, precision: str, threads: Optional[int] = None) -> str:
    """The ``sweep_config`` tag: runs of one sweep on different backends/devices/precisions (or
    CPU thread counts, when set) are never resumed into each other."""
    return f"{backend}/{device}/{precision}" + (f"/threads{threads}" if threads else "")


def new_run_id() -> str:
    """A sweep run id that sorts by start time: ``20161122T2105-3fa9c1``."""
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:6]


def done_points(store: Any, sweep_name: str, run_id: str) -> Set[str]:
    """Keys of the points of this sweep run already saved."""
    return set(store.tag_values("point", sweep=sweep_name, sweep_run=run_id))


def latest_unfinished_run(store: Any, sweep_name: str, config: str, keys: Iterable[str]) -> Optional[str]:
    """The most recent run of this sweep and config that lacks some of `keys`; None if none."""
    wanted = set(keys)
    for run_id in sorted(store.tag_values("sweep_run", sweep=sweep_name, sweep_config=config), reverse=True):
        if not wanted <= done_points(store, sweep_name, run_id):
            return run_id
        return None  # the latest run is complete: start a new one
    return None


def store_saver(store: Any, tags: Dict[str, str]) -> Callable[[SweepPoint, List[Any]], None]:
    """A `save_point` for `run_points`: a point's records and its ``point`` tag in ONE transaction."""
    def save_point(point: SweepPoint, records: List[Any]) -> None:
        store.add(records, tags={**tags, "point": point.key, "group": point.group})
    return save_point


def run_ids(store: Any, sweep_name: str, config: Optional[str] = None) -> List[str]:
    """Every run id of a sweep (oldest first), optionally of one config."""
    filters = {"sweep": sweep_name, **({"sweep_config": config} if config else {})}
    return sorted(store.tag_values("sweep_run", **filters))


# ---- sessions --------------------------------------------------------------------------------

class SessionCache:
    """Loaded sessions by network, least recently used first out (each holds a model in memory)."""

    def __init__(self, load: Callable[[Any], Any], size: int = 4) -> None:
        self._load = load
        self._size = max(1, size)
        self._sessions: "OrderedDict[str, Any]" = OrderedDict()
        self.loads = 0

    def get(self, spec: Any) -> Any:
        if spec.name in self._sessions:
            self._sessions.move_to_end(spec.name)
            return self._sessions[spec.name]
        while len(self._sessions) >= self._size:
            _, old = self._sessions.popitem(last=False)
            old.close()
        session = self._load(spec)
        self.loads += 1
        self._sessions[spec.name] = session
        return session

    def close(self) -> None:
        while self._sessions:
            self._sessions.popitem()[1].close()


# ---- the loop --------------------------------------------------------------------------------

@dataclass
class PointResult:
    point: SweepPoint
    seconds: float
    records: List[Any] = field(default_factory=list)


@dataclass
class SweepOutcome:
    run_id: str
    ran: List[PointResult]
    skipped: List[str]  # keys already done before this invocation
    seconds: float


def run_points(plan: SweepPlan, run_id: str, done: Set[str],
               measure_point: Callable[[SweepPoint, Work], List[Any]],
               save_point: Callable[[SweepPoint, List[Any]], None],
               progress: Optional[Callable[[int, int, SweepPoint, float], None]] = None) -> SweepOutcome:
    """Run every planned point not in `done`: measure it, then save it (record + done tag at once).

    `progress(finished, total, point, seconds)` is called after each point (for a progress bar).
    """
    start = time.monotonic()
    todo = [p for p in plan.points if p.key not in done]
    skipped = [p.key for p in plan.points if p.key in done]
    ran: List[PointResult] = []
    for i, point in enumerate(todo, start=1):
        t0 = time.monotonic()
        records = measure_point(point, plan.work[point.key])
        save_point(point, records)
        seconds = time.monotonic() - t0
        ran.append(PointResult(point, seconds, records))
        if progress is not None:
            progress(len(skipped) + i, len(plan.points), point, seconds)
    return SweepOutcome(run_id, ran, skipped, time.monotonic() - start)


# ---- reading results back --------------------------------------------------------------------

@dataclass
class Result:
    """A saved record with its sweep tags (empty for runs outside sweeps)."""

    record: Any
    tags: Dict[str, str]

    @property
    def variables(self) -> Dict[str, int]:
        """The study-family parameters of the record's network, and its batch."""
        spec = self.record.model.get("spec") or {}
        family = dict(spec.get("family") or {})
        if not family:
            from trtbench.models.netspec import parse_name

            parsed = parse_name(self.record.model_name)
            family = dict(parsed.family or {}) if parsed else {}
        family["batch"] = int(self.record.batch)
        return family


def sweep_results(store: Any, sweep_name: str, run_id: Optional[str] = None, config: Optional[str] = None,
                  backend: Optional[str] = None, device_name: Optional[str] = None) -> List[Result]:
    """The saved points of a sweep (one run of it, or every run when `run_id` is None)."""
    tags = {"sweep": sweep_name}
    if run_id:
        tags["sweep_run"] = run_id
    if config:
        tags["sweep_config"] = config
    records = store.find(backend=backend, device_name=device_name, tags=tags)
    if not records:
        known = sorted(store.tag_values("sweep"))
        where = f" run {run_id}" if run_id else ""
        raise TrtbenchError(f"no saved points of sweep {sweep_name}{where} in {store.path}",
                            hint=f"sweeps in this database: {', '.join(known) or 'none'}; "
                                 f"run one with: trtbench sweep models/study.toml")
    return [Result(r, store.tags(r.run_id)) for r in records]


def latest_run(results: Sequence[Result]) -> Optional[str]:
    """The most recent sweep run among results."""
    runs = sorted({r.tags.get("sweep_run", "") for r in results} - {""})
    return runs[-1] if runs else None


@dataclass
class GroupSeries:
    """One group's points for a figure: tiles/ms against `x` with one line per `series` value."""

    group: str
    title: str
    x: str
    series: str
    points: List[Any]  # (series value, x value, tiles/ms)


def group_series(sweep: Sweep, results: Sequence[Result]) -> List[GroupSeries]:
    """Per sweep group: the first varied parameter picks the line, the second the x axis (the
    study's layout: lines per FC/conv layer count against batch, neurons or depth). Repeated
    points (several runs) are averaged."""
    out = []
    for group in sweep.groups:
        varied = [v for v in group.varied]
        if len(varied) == 1:
            varied = ["", varied[0]]
        if len(varied) != 2:
            continue
        series_name, x_name = varied
        cells: Dict[Any, List[float]] = {}
        for r in results:
            if r.tags.get("group", r.tags.get("point", "").split("/")[0]) != group.name:
                continue
            v = r.variables
            if x_name not in v or (series_name and series_name not in v):
                continue
            cells.setdefault((v.get(series_name, 0), v[x_name]), []).append(float(r.record.tiles_per_ms))
        points = [(s, x, sum(ys) / len(ys)) for (s, x), ys in sorted(cells.items())]
        if points:
            out.append(GroupSeries(group.name, group.title, x_name, series_name, points))
    return out


# ---- --train: time-to-accuracy rows ----------------------------------------------------------

class TrainRows:
    """Training records of a sweep's networks in one JSON file, one per network, resumable.

    The file is ``{"kind": "trtbench-sweep-training", "sweep_run": ..., "rows": {spec name:
    training record of trtbench.models.train}}``, rewritten atomically (temporary file, then rename) after
    each network, so a killed sweep keeps every finished training and retrains none of them.
    """

    KIND = "trtbench-sweep-training"

    def __init__(self, path: Any, data_dir: Any = None, epochs: int = 1, sweep_run: str = "",
                 train: Optional[Callable[..., Any]] = None, limit: Optional[int] = None) -> None:
        import json
        from pathlib import Path

        self.path = Path(path)
        self.data_dir = data_dir
        self.epochs = epochs
        self.limit = limit
        self.sweep_run = sweep_run
        self._train = train
        self.rows: Dict[str, Any] = {}
        if self.path.is_file():
            try:
                data = json.loads(self.path.read_text())
            except ValueError as exc:
                raise TrtbenchError(f"{self.path} is not a training rows file ({exc})",
                                    hint="give another file with --train-json") from None
            if data.get("kind") != self.KIND:
                raise TrtbenchError(f"{self.path} is not a training rows file", hint="give another file with --train-json")
            self.rows = dict(data.get("rows", {}))

    def ensure(self, spec: Any) -> Optional[Any]:
        """Train `spec` unless it has a row already; return the row."""
        if spec.name in self.rows:
            return self.rows[spec.name]
        train = self._train
        if train is None:
            from trtbench.models.train import TrainConfig
            from trtbench.models.train import train as train_spec

            def train(s: Any) -> Dict[str, Any]:
                return train_spec(s, self.data_dir, TrainConfig(epochs=self.epochs, limit=self.limit)).record
        self.rows[spec.name] = train(spec)
        self._write()
        return self.rows[spec.name]

    def _write(self) -> None:
        import json

        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps({"kind": self.KIND, "sweep_run": self.sweep_run, "rows": self.rows}, indent=1) + "\n")
        tmp.replace(self.path)


def speedups(a: Sequence[Any], b: Sequence[Any]) -> "tuple[Dict[str, float], float, int]":
    """Speedup of side B over side A per category and in total, over the (network, batch) points
    both sides measured: A's summed ms per tile over B's. Repeats on one side are averaged.
    Returns (per category, total, number of matched points)."""
    def cells(records: Sequence[Any]) -> Dict[Any, List[Any]]:
        out: Dict[Any, List[Any]] = {}
        for r in records:
            out.setdefault((r.model_name, r.batch), []).append(r)
        return out

    ca, cb = cells(a), cells(b)
    common = sorted(set(ca) & set(cb))
    if not common:
        raise TrtbenchError("the two sides share no (network, batch) point to compare",
                            hint="pick runs of the same networks and batch sizes")

    def mean(rs: List[Any], cat: Optional[str]) -> float:
        if cat is None:
            return sum(r.ms_per_tile for r in rs) / len(rs)
        return sum(r.categories.get(cat, 0.0) / r.batch for r in rs) / len(rs)

    cats = [c for c in dict.fromkeys(c for k in common for r in ca[k] + cb[k] for c in r.categories)]
    per_cat: Dict[str, float] = {}
    for cat in cats:
        ta = sum(mean(ca[k], cat) for k in common)
        tb = sum(mean(cb[k], cat) for k in common)
        if ta > 0 and tb > 0:
            per_cat[cat] = ta / tb
    total = sum(mean(ca[k], None) for k in common) / sum(mean(cb[k], None) for k in common)
    return per_cat, total, len(common)
