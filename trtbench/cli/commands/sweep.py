"""`trtbench sweep`: run every point of a sweep file, store each result, resume after a crash."""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from trtbench import env
from trtbench.errors import TrtbenchError
from trtbench.render import console
from trtbench.sweep import plan as sweep_plan
from trtbench.sweep import run as sweep_run
from trtbench.sweep.file import SweepPoint, load_sweep

NAME = "sweep"
HELP = "run a sweep file's points (e.g. the study's four groups), store every result, resume after a kill"
EXAMPLE = "trtbench sweep models/study.toml --backend onnxruntime --device cpu"

DEFAULT_CACHE = Path(".trtbench") / "onnx"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sweep_file", metavar="SWEEP.toml", help="a sweep file (kind = \"sweep\"), e.g. models/study.toml")
    parser.add_argument("--backend", default="onnxruntime", help="backend to run on (default: onnxruntime)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="device (default: cpu)")
    parser.add_argument("--precision", default="fp32", choices=("fp32", "fp16", "tf32"), help="precision (default: fp32)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for the backend (default: its own)")
    parser.add_argument("--iterations", type=int, default=None,
                        help="timed iterations per loop (default: about 16k tiles a loop, bounded per point)")
    parser.add_argument("--loops", type=int, default=None, help="timed loops per point (default: 3, 2 for heavy points)")
    parser.add_argument("--groups", default=None, help="comma-separated group names to run (default: all)")
    parser.add_argument("--order", default="interleave", choices=sweep_plan.ORDERS,
                        help="point order: groups spread evenly (interleave, default), shuffled (random), as written (file)")
    parser.add_argument("--seed", type=int, default=None, help="seed for --order random")
    parser.add_argument("--sessions", type=int, default=4, help="loaded networks kept for reuse across batches (default: 4)")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help=f"where exported ONNX files go (default: {DEFAULT_CACHE})")
    parser.add_argument("--train", action="store_true", help="also train each network and record its time to accuracy")
    parser.add_argument("--data-dir", type=Path, default=None, help="MNIST folder for --train (default: TRTBENCH_DATA_DIR)")
    parser.add_argument("--epochs", type=int, default=1, help="training epochs for --train (default: 1)")
    parser.add_argument("--train-limit", type=int, default=None,
                        help="--train on only the first N training tiles (a quick look, not the study's method)")
    parser.add_argument("--train-json", type=Path, default=None,
                        help="where --train writes its rows (default: <db>.<sweep>-train.json beside the database)")
    resume = parser.add_mutually_exclusive_group()
    resume.add_argument("--resume", metavar="RUN_ID", default=None, help="continue this sweep run")
    resume.add_argument("--new", action="store_true", help="start a new sweep run even if one is unfinished")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and exit")
    parser.add_argument("--db", type=Path, default=None, help="database file (default: TRTBENCH_DB or ./trtbench.db)")
    parser.add_argument("--json", metavar="FILE|-", help="write a summary of this run of the sweep as JSON")


def _groups(text: Optional[str]) -> Optional[List[str]]:
    return [g.strip() for g in text.split(",") if g.strip()] if text else None


def _plan_table(plan: sweep_plan.SweepPlan, done: set) -> Any:
    t = console.table(f"Sweep {plan.sweep.name}: {len(plan.points)} points, order {plan.order}",
                      ["#", "point", "iterations", "loops", "warm-up", "profiled", "GFLOP", "done"],
                      right=["#", "iterations", "loops", "warm-up", "profiled", "GFLOP"])
    for i, p in enumerate(plan.points, start=1):
        w = plan.work[p.key]
        t.add_row(str(i), p.key, str(w.iterations), str(w.loops), "auto" if w.warmup is None else str(w.warmup),
                  str(w.profile_iterations), console.fmt(p.spec.flops * p.batch * w.inferences() / 1e9),
                  "yes" if p.key in done else "")
    return t


@dataclass
class _Loaded:
    model: Any
    session: Any

    def close(self) -> None:
        self.session.close()


def _loader(args: argparse.Namespace) -> Any:
    from trtbench.backends import choose
    from trtbench.backends.base import LoadOptions
    from trtbench.models.source import resolve_model

    def load(spec: Any) -> _Loaded:
        model = resolve_model(spec.name, args.cache_dir)
        backend, _ = choose(args.backend, model, args.device)
        session = backend.load(model, LoadOptions(device=args.device, precision=args.precision, threads=args.threads))
        return _Loaded(model, session)
    return load


def _work_weight(point: SweepPoint, work: sweep_plan.Work) -> float:
    """Progress units for a point: its inferences (timed + ~3 warm-up/profiling) in GFLOP, plus a
    fixed cost for loading, so the ETA follows the work rather than the point count."""
    return point.spec.flops * point.batch * work.inferences() / 1e9 + 2.0


def _resolve_run(args: argparse.Namespace, store: Any, sweep_name: str, config: str, keys: List[str]) -> str:
    if args.resume:
        known = sweep_run.run_ids(store, sweep_name)
        if args.resume not in known:
            raise TrtbenchError(f"sweep {sweep_name} has no run {args.resume} in {store.path}",
                                hint=f"runs: {', '.join(known) or 'none'}; or start one with --new")
        if args.resume not in sweep_run.run_ids(store, sweep_name, config):
            configs = store.tag_values("sweep_config", sweep=sweep_name, sweep_run=args.resume)
            raise TrtbenchError(f"sweep run {args.resume} ran on {', '.join(sorted(configs))}, not {config}",
                                hint="give the same --backend/--device/--precision/--threads, or start one with --new")
        return str(args.resume)
    if not args.new:
        found = sweep_run.latest_unfinished_run(store, sweep_name, config, keys)
        if found:
            return found
    return sweep_run.new_run_id()


def run(args: argparse.Namespace) -> int:
    from trtbench.results.store import Store

    sweep = load_sweep(Path(args.sweep_file))
    plan = sweep_plan.plan_sweep(sweep, _groups(args.groups), args.order, args.seed, args.iterations, args.loops)
    db = args.db or env.db_path()
    config = sweep_plan.config_tag(args.backend, args.device, args.precision, args.threads)
    keys = [p.key for p in plan.points]
    if args.dry_run:
        done: set = set()
        run_id = "(new)"
        if db.is_file():
            with Store(db) as store:
                found = args.resume or (None if args.new else sweep_run.latest_unfinished_run(store, sweep.name, config, keys))
                if found:
                    run_id, done = found, sweep_run.done_points(store, sweep.name, found)
        console.stdout().print(_plan_table(plan, done))
        console.info(f"sweep run {run_id}: {len(done & set(keys))} of {len(keys)} points done; "
                     f"work {plan.total_gflop:,.0f} GFLOP on {config}")
        return 0

    with Store(db) as store:
        run_id = _resolve_run(args, store, sweep.name, config, keys)
        done = sweep_run.done_points(store, sweep.name, run_id)
        resumed = bool(done & set(keys))
        console.info(f"sweep {sweep.name} run {run_id} on {config}: "
                     + (f"resuming, {len(done & set(keys))} of {len(keys)} points already done" if resumed
                        else f"{len(keys)} points") + f"; results in {db}")
        tags = {"sweep": sweep.name, "sweep_run": run_id, "sweep_config": config}
        train_rows = _train_setup(args, db, sweep.name, run_id)
        outcome, loads = _run_with_progress(args, store, plan, run_id, done, tags, train_rows)
    summary = {
        "sweep": sweep.name, "run": run_id, "config": config, "db": str(db), "points": len(keys),
        "ran": len(outcome.ran), "skipped": len(outcome.skipped), "seconds": round(outcome.seconds, 1),
        "sessions_loaded": loads,
        "points_run": [{"point": r.point.key, "seconds": round(r.seconds, 2),
                        "tiles_per_ms": r.records[0].tiles_per_ms if r.records else None} for r in outcome.ran],
    }
    if train_rows is not None:
        summary["train_json"] = str(train_rows.path)
    if args.json:
        text = json.dumps(summary, indent=2)
        if args.json == "-":
            sys.stdout.write(text + "\n")
        else:
            Path(args.json).write_text(text + "\n")
    console.info(f"sweep {sweep.name} run {run_id}: ran {len(outcome.ran)} points in {outcome.seconds:.0f} s, "
                 f"{len(outcome.skipped)} were already done. Next: trtbench fit --sweep {sweep.name} --db {db}")
    return 0


def _run_with_progress(args: argparse.Namespace, store: Any, plan: sweep_plan.SweepPlan, run_id: str, done: set,
                       tags: Dict[str, str], train_rows: Any) -> Tuple[sweep_run.SweepOutcome, int]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from trtbench.measure.method import measure

    cache = sweep_run.SessionCache(_loader(args), size=args.sessions)
    weights = {p.key: _work_weight(p, plan.work[p.key]) for p in plan.points}
    progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[points]}"),
                        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                        console=console.stderr(), transient=False)
    total = sum(weights.values())
    already = sum((weights[k] for k in weights if k in done), 0.0)
    task = progress.add_task("sweep", total=total, completed=int(already),
                             points=f"{len(done & set(weights))}/{len(plan.points)}")

    def measure_point(point: SweepPoint, work: sweep_plan.Work) -> List[Any]:
        progress.update(task, description=point.key)
        if train_rows is not None:
            train_rows.ensure(point.spec)
        loaded = cache.get(point.spec)
        record = measure(loaded.session, loaded.model, point.batch, iterations=work.iterations, loops=work.loops,
                         warmup=work.warmup, profile_iterations=work.profile_iterations)
        record.notes.append(f"sweep {plan.sweep.name} run {run_id} point {point.key}")
        return [record]

    tty = console.stderr().is_terminal

    def advance(finished: int, total_points: int, point: SweepPoint, seconds: float) -> None:
        progress.update(task, advance=weights[point.key], points=f"{finished}/{total_points}")
        if not tty:  # a log file gets one line a point instead of a live bar
            console.info(f"[{finished}/{total_points}] {point.key}: {seconds:.1f} s")

    try:
        with progress:
            outcome = sweep_run.run_points(plan, run_id, done, measure_point, sweep_run.store_saver(store, tags), advance)
        return outcome, cache.loads
    finally:
        cache.close()


def _train_setup(args: argparse.Namespace, db: Path, sweep_name: str, run_id: str) -> Any:
    if not args.train:
        return None
    path = args.train_json or db.with_name(f"{db.stem}.{sweep_name}-train.json")
    return sweep_run.TrainRows(path, data_dir=args.data_dir or env.data_dir(), epochs=args.epochs, sweep_run=run_id,
                            limit=args.train_limit)
