"""`trtbench study`: re-run the 2016 study (sweeps, Table 2, drift, fit, figures) and judge its findings."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import List

from trtbench.cli import args as common
from trtbench.errors import TrtbenchError
from trtbench.render import console

NAME = "study"
HELP = "re-run the 2016 study end to end into a folder and write a report judging its eight findings"
EXAMPLE = "trtbench study --out study-cpu --threads 1 --data-dir ../shared/data/mnist"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from trtbench.study2016.plan import STEPS

    parser.add_argument("--out", type=Path, required=True,
                        help="the study folder (results, figures, report); one per backend/device/precision")
    parser.add_argument("--backend", default="onnxruntime", help="backend (default: onnxruntime)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="device (default: cpu)")
    parser.add_argument("--precision", default="fp32", choices=("fp32", "fp16", "tf32"), help="precision (default: fp32)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for the backend and training (default: their own)")
    parser.add_argument("--data-dir", type=Path, default=None, help="MNIST folder for training (default: TRTBENCH_DATA_DIR)")
    parser.add_argument("--epochs", type=int, default=3, help="training epochs per Table-2 network (default: 3; the study ran up to 60)")
    parser.add_argument("--train-limit", type=int, default=None, help="train on only the first N tiles (a quick look)")
    parser.add_argument("--drift-loops", type=int, default=200, help="loops of the drift check (default: 200)")
    parser.add_argument("--drift-iterations", type=int, default=4, help="inferences per drift loop (default: 4)")
    parser.add_argument("--drift-batch", type=int, default=1024, help="batch of the drift check (default: 1024)")
    parser.add_argument("--iterations", type=int, default=None, help="timed iterations per sweep point (default: sized per point)")
    parser.add_argument("--loops", type=int, default=None, help="timed loops per sweep point (default: 3)")
    parser.add_argument("--sweep-file", type=Path, default=None, help="the four groups' sweep file (default: models/study.toml)")
    parser.add_argument("--neurons-file", type=Path, default=None, help="the neurons sweep file (default: models/study-neurons.toml)")
    parser.add_argument("--skip", default="", help=f"comma-separated steps to leave out: {', '.join(STEPS)}")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another study folder (e.g. the CPU run) to compare this one with (finding 6)")
    parser.add_argument("--report-only", action="store_true", help="run nothing; write the report from what --out holds")
    parser.add_argument("--title", default=None, help="the report's title")
    parser.add_argument("--report", type=Path, default=None,
                        help="also write the report here (e.g. docs/reproduction.md), its figures copied into a "
                             "folder of the same name beside it")
    parser.add_argument("--dry-run", action="store_true", help="print the commands the study would run and exit")
    common.add_exports(parser)


def _check(args: argparse.Namespace, skip: List[str]) -> None:
    """Every option the study passes on is checked here, before the first step: a bad --loops or
    --drift-batch would otherwise fail at the drift step, hours of sweeps later (and --dry-run
    would print commands that cannot run)."""
    from trtbench.study2016.plan import STEPS

    if args.epochs < 1 or args.drift_loops < 8 or args.drift_iterations < 1:
        raise TrtbenchError("--epochs and --drift-iterations must be at least 1, --drift-loops at least 8")
    for flag in ("threads", "iterations", "loops", "drift_batch", "train_limit"):
        common.at_least(getattr(args, flag), 1, "--" + flag.replace("_", "-"))
    unknown = [s for s in skip if s not in STEPS]
    if unknown:
        raise TrtbenchError(f"--skip: unknown step {', '.join(unknown)}", hint=f"steps: {', '.join(STEPS)}")
    if args.out.exists() and not args.out.is_dir():
        raise TrtbenchError(f"--out {args.out} is not a folder",
                            hint="give a folder for the study; it is created when missing")


def run(args: argparse.Namespace) -> int:
    from trtbench.api.study import StudyOptions, plan_steps, study
    from trtbench.cli.progress import SweepBar

    skip = [s.strip() for s in args.skip.split(",") if s.strip()]
    _check(args, skip)
    options = dict(backend=args.backend, device=args.device, precision=args.precision, threads=args.threads,
                   data_dir=args.data_dir, epochs=args.epochs, train_limit=args.train_limit,
                   drift_loops=args.drift_loops, drift_iterations=args.drift_iterations, drift_batch=args.drift_batch,
                   sweep_file=args.sweep_file, neurons_file=args.neurons_file, skip=skip, iterations=args.iterations,
                   loops=args.loops)
    if args.dry_run:
        steps = [] if args.report_only else plan_steps(StudyOptions(out=args.out, **options))
        for step in steps:
            console.line(("(done) " if step.done() else "") + step.command)
        return 0
    found = study(args.out, report_only=args.report_only, baseline=args.baseline, title=args.title,
                  report=args.report, progress=SweepBar, log=console.info, **options)
    table = console.table("The study's findings", ["#", "verdict", "what trtbench measured"])
    for f in found:
        table.add_row(str(f.number), f.verdict, f.measured)
    console.show(table)
    if args.report is not None:
        console.info(f"wrote {args.report} and its figures in {args.report.with_suffix('')}")
    console.info(f"wrote {args.out / 'report.md'} (figures in {args.out / 'figures'})")
    return 0
