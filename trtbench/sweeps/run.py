"""Running a sweep: resuming, session reuse and the run loop.

The loop (`run_points`) takes its measuring and saving steps as functions, so it is tested
without a backend; `trtbench.api.sweep` wires it to the real backends and the store.

Resuming: every saved point carries the tags ``sweep`` (the sweep's name), ``sweep_run`` (one id
per run of the sweep), ``sweep_config`` (backend/device/precision) and ``point`` (the point's
key), written in the same transaction as its record. A restarted sweep asks the store which
points of its run are tagged and skips them; so a point is either wholly saved or not at all,
whatever moment the process died.
"""
from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Set

from trtbench.errors import Interrupted, TrtbenchError
from trtbench.sweeps.file import SweepPoint
from trtbench.sweeps.plan import SweepPlan, Work

# ---- sweep runs ------------------------------------------------------------------------------


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
    interrupted: bool = False  # Ctrl-C stopped it: `ran` holds the points saved before


def run_points(plan: SweepPlan, run_id: str, done: Set[str],
               measure_point: Callable[[SweepPoint, Work], List[Any]],
               save_point: Callable[[SweepPoint, List[Any]], None],
               progress: Optional[Callable[[int, int, SweepPoint, float], None]] = None) -> SweepOutcome:
    """Run every planned point not in `done`: measure it, then save it (record + done tag at once).

    `progress(finished, total, point, seconds)` is called after each point (for a progress bar).
    Ctrl-C raises `Interrupted` holding the outcome so far (the points saved, each whole), for the
    caller's other outputs; the point being measured is not saved and runs again on resume.
    """
    start = time.monotonic()
    todo = [p for p in plan.points if p.key not in done]
    skipped = [p.key for p in plan.points if p.key in done]
    ran: List[PointResult] = []
    try:
        for i, point in enumerate(todo, start=1):
            t0 = time.monotonic()
            records = measure_point(point, plan.work[point.key])
            save_point(point, records)
            ran.append(PointResult(point, time.monotonic() - t0, records))
            if progress is not None:
                progress(len(skipped) + i, len(plan.points), point, ran[-1].seconds)
    except KeyboardInterrupt:
        raise Interrupted([SweepOutcome(run_id, ran, skipped, time.monotonic() - start, interrupted=True)]) from None
    return SweepOutcome(run_id, ran, skipped, time.monotonic() - start)


# ---- reading results back --------------------------------------------------------------------


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
            from trtbench.jsonio import read_file_text

            try:
                data = json.loads(read_file_text(self.path, what="--train-json"))
            except (ValueError, RecursionError) as exc:
                raise TrtbenchError(f"{self.path} is not a training rows file ({exc})",
                                    hint="give another file with --train-json") from None
            if not isinstance(data, dict) or data.get("kind") != self.KIND or not isinstance(data.get("rows", {}), dict):
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
        from trtbench import jsonio

        self.path.parent.mkdir(parents=True, exist_ok=True)
        jsonio.write_json({"kind": self.KIND, "sweep_run": self.sweep_run, "rows": self.rows}, self.path,
                          what="--train-json", indent=1)
