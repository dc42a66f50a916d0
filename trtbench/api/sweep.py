"""`trtbench.sweeps`: every point of a sweep file measured and stored, resumable after a crash or a kill."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Protocol, Sequence, Set, Union

from trtbench import env
from trtbench.api.pipeline import Log, Method, Opened, measure_batches, no_log, open_session
from trtbench.errors import Interrupted, TrtbenchError
from trtbench.models.source import DEFAULT_CACHE
from trtbench.results.store import Store
from trtbench.sweeps import run as runs
from trtbench.sweeps.file import Sweep, SweepPoint, load_sweep
from trtbench.sweeps.plan import SweepPlan, Work, config_tag, plan_sweep

SweepRef = Union[str, Path, Sweep]


class Progress(Protocol):
    """What a sweep reports as it goes (the CLI draws a progress bar from it)."""

    def start(self, plan: SweepPlan, done: Set[str], weights: Dict[str, float]) -> None: ...

    def point_started(self, point: SweepPoint) -> None: ...

    def point_done(self, finished: int, total: int, point: SweepPoint, seconds: float) -> None: ...


@dataclass
class SweepRun:
    """What `sweep` did: the plan, the run id (resume with it), what ran and what was done before."""

    sweep: Sweep
    plan: SweepPlan
    run_id: str
    config: str
    db: Path
    outcome: runs.SweepOutcome
    sessions_loaded: int = 0
    train_json: Optional[Path] = None
    resumed: bool = False

    def to_dict(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {
            "sweep": self.sweep.name, "run": self.run_id, "config": self.config, "db": str(self.db),
            "points": len(self.plan.points), "ran": len(self.outcome.ran), "skipped": len(self.outcome.skipped),
            "seconds": round(self.outcome.seconds, 1), "sessions_loaded": self.sessions_loaded,
            "interrupted": self.outcome.interrupted,
            "points_run": [{"point": r.point.key, "seconds": round(r.seconds, 2),
                            "tiles_per_ms": r.records[0].tiles_per_ms if r.records else None}
                           for r in self.outcome.ran],
        }
        if self.train_json is not None:
            data["train_json"] = str(self.train_json)
        return data


def load(sweep: SweepRef) -> Sweep:
    """A sweep from its file, or its name among the bundled sweep files."""
    if isinstance(sweep, Sweep):
        return sweep
    text = str(sweep)
    if text.endswith(".toml") or Path(text).is_file():
        return load_sweep(Path(text))
    from trtbench.sweeps.file import bundled_sweeps

    found = bundled_sweeps()
    if text not in found:
        raise TrtbenchError(f"no sweep file named {text}", hint=f"give its .toml file; bundled: {', '.join(found) or 'none'}")
    return found[text]


def work_weight(point: SweepPoint, work: Work) -> float:
    """Progress units for a point: its inferences in GFLOP plus a fixed cost for loading, so an
    ETA follows the work rather than the point count."""
    return point.spec.flops * point.batch * work.inferences() / 1e9 + 2.0


def status(sweep: SweepRef, backend: str = "onnxruntime", device: str = "cpu", precision: str = "fp32",
           threads: Optional[int] = None, db: Optional[Union[str, Path]] = None, *,
           groups: Optional[Sequence[str]] = None, order: str = "interleave", seed: Optional[int] = None,
           iterations: Optional[int] = None, loops: Optional[int] = None, resume: Optional[str] = None,
           new: bool = False, warmup: Optional[int] = None) -> "tuple[SweepPlan, Optional[str], Set[str]]":
    """The plan a `sweep` call would run, the run it would continue (None: a new one) and the
    points of that run already done. Measures nothing."""
    plan = plan_sweep(load(sweep), groups, order, seed, iterations, loops, warmup)
    path = Path(db) if db is not None else env.db_path()
    keys = [p.key for p in plan.points]
    config = config_tag(backend, device, precision, threads)
    if not path.is_file():
        return plan, None, set()
    with Store(path) as store:
        found = resume or (None if new else runs.latest_unfinished_run(store, plan.sweep.name, config, keys))
        return plan, found, runs.done_points(store, plan.sweep.name, found) if found else set()


def _resolve_run(store: Store, sweep_name: str, config: str, keys: List[str], resume: Optional[str],
                 new: bool) -> str:
    if resume:
        known = runs.run_ids(store, sweep_name)
        if resume not in known:
            raise TrtbenchError(f"sweep {sweep_name} has no run {resume} in {store.path}",
                                hint=f"runs: {', '.join(known) or 'none'}; or start one with --new")
        if resume not in runs.run_ids(store, sweep_name, config):
            configs = store.tag_values("sweep_config", sweep=sweep_name, sweep_run=resume)
            raise TrtbenchError(f"sweep run {resume} ran on {', '.join(sorted(configs))}, not {config}",
                                hint="give the same --backend/--device/--precision/--threads, or start one with --new")
        return resume
    if not new:
        found = runs.latest_unfinished_run(store, sweep_name, config, keys)
        if found:
            return found
    return runs.new_run_id()


def sweep(sweep: SweepRef, backend: str = "onnxruntime", device: str = "cpu", precision: str = "fp32",
          threads: Optional[int] = None, db: Optional[Union[str, Path]] = None, *,
          groups: Optional[Sequence[str]] = None, order: str = "interleave", seed: Optional[int] = None,
          iterations: Optional[int] = None, loops: Optional[int] = None, sessions: int = 4,
          cache_dir: Path = DEFAULT_CACHE, train: bool = False, data_dir: Optional[Path] = None, epochs: int = 1,
          train_limit: Optional[int] = None, train_json: Optional[Path] = None, resume: Optional[str] = None,
          new: bool = False, warmup: Optional[int] = None, progress: Optional[Progress] = None,
          log: Log = no_log) -> SweepRun:
    """Run every point of `sweep` (a sweep file, or a bundled sweep's name) not yet done, storing
    each in `db` (default: TRTBENCH_DB or ./trtbench.db) with its sweep tags in one transaction.

    The latest unfinished run of the same sweep and configuration is continued unless `new`;
    `resume` names a run. `iterations`/`loops`: None sizes the work per point; `warmup`: None
    warms each point up by the measurement's rule (0.5 s of inference, one for heavy points). With `train`, each
    network is also trained on MNIST and its time to accuracy kept in `train_json`.
    """
    plan = plan_sweep(load(sweep), groups, order, seed, iterations, loops, warmup)
    path = Path(db) if db is not None else env.db_path()
    config = config_tag(backend, device, precision, threads)
    keys = [p.key for p in plan.points]
    with Store(path) as store:
        store.check_writable()
        run_id = _resolve_run(store, plan.sweep.name, config, keys, resume, new)
        done = runs.done_points(store, plan.sweep.name, run_id)
        resumed = bool(done & set(keys))
        log(f"sweep {plan.sweep.name} run {run_id} on {config}: "
            + (f"resuming, {len(done & set(keys))} of {len(keys)} points already done" if resumed
               else f"{len(keys)} points") + f"; results in {path}")
        tags = {"sweep": plan.sweep.name, "sweep_run": run_id, "sweep_config": config}
        rows = None
        if train:
            rows = runs.TrainRows(train_json or path.with_name(f"{path.stem}.{plan.sweep.name}-train.json"),
                                  data_dir=data_dir or env.data_dir(), epochs=epochs, sweep_run=run_id,
                                  limit=train_limit)

        def load_point(spec: Any) -> Opened:
            return open_session(spec.name, backend, device, precision, threads, cache_dir=cache_dir)

        cache = runs.SessionCache(load_point, size=sessions)
        weights = {p.key: work_weight(p, plan.work[p.key]) for p in plan.points}

        def measure_point(point: SweepPoint, work: Work) -> List[Any]:
            if progress is not None:
                progress.point_started(point)
            if rows is not None:
                rows.ensure(point.spec)
            opened = cache.get(point.spec)
            method = Method(iterations=work.iterations, loops=work.loops, warmup=work.warmup,
                            profile_iterations=work.profile_iterations)
            note = f"sweep {plan.sweep.name} run {run_id} point {point.key}"
            return list(measure_batches(opened, [point.batch], method, extra_notes=[note]))

        def advance(finished: int, total: int, point: SweepPoint, seconds: float) -> None:
            if progress is not None:
                progress.point_done(finished, total, point, seconds)

        if progress is not None:
            progress.start(plan, done, weights)
        try:
            outcome = runs.run_points(plan, run_id, done, measure_point, runs.store_saver(store, tags), advance)
        except Interrupted as exc:  # Ctrl-C: what ran is saved; hand the run on for the caller's outputs
            raise Interrupted([SweepRun(plan.sweep, plan, run_id, config, path, exc.done[0], cache.loads,
                                        rows.path if rows is not None else None, resumed)]) from None
        finally:
            cache.close()
    return SweepRun(plan.sweep, plan, run_id, config, path, outcome, cache.loads,
                    rows.path if rows is not None else None, resumed)
