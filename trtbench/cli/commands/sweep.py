"""`trtbench sweep`: run every point of a sweep file, store each result, resume after a crash."""
from __future__ import annotations

import argparse
from pathlib import Path
from collections import Counter
from typing import Any, Dict, List, Optional

from trtbench.cli import args as common
from trtbench.errors import Interrupted
from trtbench.render import console
from trtbench.sweeps.plan import ORDERS

NAME = "sweep"
HELP = "run a sweep file's points (e.g. the study's four groups), store every result, resume after a kill"
EXAMPLE = "trtbench sweep models/study.toml --backend onnxruntime --device cpu"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sweep_file", metavar="SWEEP.toml",
                        help="a sweep file (kind = \"sweep\"), e.g. models/study.toml, or a bundled sweep's name")
    common.add_runtime(parser, backend="onnxruntime", device="cpu")
    parser.add_argument("--iterations", type=int, default=None,
                        help="timed iterations per loop (default: about 16k tiles a loop, bounded per point)")
    parser.add_argument("--loops", type=int, default=None, help="timed loops per point (default: 6, the fewest giving a 95 %% interval; fewer for heavy points)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="warm-up inferences at each point (default: 0.5 s of inference, 1 for heavy points)")
    parser.add_argument("--groups", default=None, help="comma-separated group names to run (default: all)")
    parser.add_argument("--order", default="interleave", choices=ORDERS,
                        help="point order: groups spread evenly (interleave, default), shuffled (random), as written (file)")
    parser.add_argument("--seed", type=int, default=None, help="seed for --order random")
    parser.add_argument("--sessions", type=int, default=4, help="loaded networks kept for reuse across batches (default: 4)")
    common.add_cache_dir(parser)
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
    common.add_db(parser)
    common.add_json(parser, "a summary of this run of the sweep")
    common.add_exports(parser)


def _groups(text: Optional[str]) -> Optional[List[str]]:
    return [g.strip() for g in text.split(",") if g.strip()] if text else None


def _plan_table(plan: Any, done: set) -> Any:
    t = console.table(f"Sweep {plan.sweep.name}: {len(plan.points)} points, order {plan.order}",
                      ["#", "point", "iterations", "loops", "warm-up", "profiled", "GFLOP", "done"],
                      right=["#", "iterations", "loops", "warm-up", "profiled", "GFLOP"])
    for i, p in enumerate(plan.points, start=1):
        w = plan.work[p.key]
        t.add_row(str(i), p.key, str(w.iterations), str(w.loops), "auto" if w.warmup is None else str(w.warmup),
                  str(w.profile_iterations), console.fmt(p.spec.flops * p.batch * w.inferences() / 1e9),
                  "yes" if p.key in done else "")
    return t


def _summary_table(ran: List[Any]) -> Any:
    """What the sweep measured, per group: points, batches, the throughput range, how well each
    point is known (the widest interval) and the verdicts."""
    from trtbench.results.intervals import end_to_end

    t = console.table("Measured, by group", ["group", "points", "batches", "tiles/ms", "widest ±", "verdicts"],
                      right=["points", "tiles/ms", "widest ±"])
    groups: Dict[str, List[Any]] = {}
    for result in ran:
        groups.setdefault(result.point.group, []).extend(result.records)
    for group, records in groups.items():
        rates = [r.tiles_per_ms for r in records]
        widths = [w for w in (_width(end_to_end(r), r.end_to_end_ms) for r in records) if w is not None]
        verdicts = Counter(str(r.validity.verdict or "?") for r in records)
        batches = sorted({r.batch for r in records})
        t.add_row(group, str(len(records)), ", ".join(f"{b:,}" for b in batches) if len(batches) <= 4
                  else f"{batches[0]:,}–{batches[-1]:,}",
                  f"{console.fmt(min(rates))}–{console.fmt(max(rates))}" if len(rates) > 1 else console.fmt(rates[0]),
                  f"{100 * max(widths):.1f} %" if widths else "-",
                  ", ".join(f"{n} {v}" for v, n in sorted(verdicts.items())))
    return t


def _width(found: Any, centre: float) -> Optional[float]:
    return None if found is None else found.half_width(centre)


def run(args: argparse.Namespace) -> int:
    from trtbench import jsonio
    from trtbench.api.sweep import status, sweep
    from trtbench.cli.progress import SweepBar
    from trtbench.sweeps.plan import config_tag

    common.at_least(args.sessions, 1, "--sessions")
    db = common.db_path(args)
    shared = dict(backend=args.backend, device=args.device, precision=args.precision, threads=args.threads,
                  db=db, groups=_groups(args.groups), order=args.order, seed=args.seed,
                  iterations=args.iterations, loops=args.loops, resume=args.resume, new=args.new,
                  warmup=args.warmup)
    if args.dry_run:
        plan, run_id, done = status(args.sweep_file, **shared)
        console.show(_plan_table(plan, done))
        config = config_tag(args.backend, args.device, args.precision, args.threads)
        console.info(f"sweep run {run_id or '(new)'}: {len(done & {p.key for p in plan.points})} of "
                     f"{len(plan.points)} points done; work {plan.total_gflop:,.0f} GFLOP on {config}")
        return 0
    interrupted: Optional[Interrupted] = None
    try:
        with SweepBar() as bar:
            result = sweep(args.sweep_file, **shared, sessions=args.sessions, cache_dir=args.cache_dir,
                           train=args.train, data_dir=args.data_dir, epochs=args.epochs,
                           train_limit=args.train_limit, train_json=args.train_json, progress=bar, log=console.info)
    except Interrupted as exc:  # Ctrl-C: the points saved so far go to --json too
        result, interrupted = exc.done[0], exc
    if args.json:
        jsonio.write_json(result.to_dict(), args.json)
    outcome = result.outcome
    if interrupted is not None:
        console.info(f"sweep {result.sweep.name} run {result.run_id}: interrupted after {len(outcome.ran)} points "
                     f"({len(outcome.skipped)} were already done); each saved point is whole. The same command "
                     f"continues this run (or name it: --resume {result.run_id})")
        raise interrupted
    if outcome.ran and args.json != "-":  # stdout is the JSON then
        console.show(_summary_table(outcome.ran))
    console.info(f"sweep {result.sweep.name} run {result.run_id}: ran {len(outcome.ran)} points in "
                 f"{outcome.seconds:.0f} s, {len(outcome.skipped)} were already done. "
                 f"Next: trtbench fit --sweep {result.sweep.name} --db {db}")
    return 0
