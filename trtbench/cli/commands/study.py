"""`trtbench study`: re-run the 2016 study (sweeps, Table 2, drift, fit, figures) and judge its findings."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any, Dict, List

from trtbench.errors import TrtbenchError
from trtbench.render import console

NAME = "study"
HELP = "re-run the 2016 study end to end into a folder and write a report judging its eight findings"
EXAMPLE = "trtbench study --out study-cpu --threads 1 --data-dir ../shared/data/mnist"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from trtbench.study.plan import STEPS

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


def _options(args: argparse.Namespace) -> Any:
    from trtbench.study.plan import STEPS, StudyOptions

    skip = [s.strip() for s in args.skip.split(",") if s.strip()]
    unknown = [s for s in skip if s not in STEPS]
    if unknown:
        raise TrtbenchError(f"--skip: unknown step {', '.join(unknown)}", hint=f"steps: {', '.join(STEPS)}")
    if args.epochs < 1 or args.drift_loops < 8 or args.drift_iterations < 1:
        raise TrtbenchError("--epochs and --drift-iterations must be at least 1, --drift-loops at least 8")
    return StudyOptions(out=args.out, backend=args.backend, device=args.device, precision=args.precision,
                        threads=args.threads, data_dir=args.data_dir, epochs=args.epochs,
                        train_limit=args.train_limit, drift_loops=args.drift_loops,
                        drift_iterations=args.drift_iterations, drift_batch=args.drift_batch,
                        sweep_file=args.sweep_file, neurons_file=args.neurons_file, skip=skip,
                        iterations=args.iterations, loops=args.loops)


def _durations_path(out: Path) -> Path:
    return out / "durations.json"


def _load_durations(out: Path) -> Dict[str, float]:
    try:
        return {str(k): float(v) for k, v in json.loads(_durations_path(out).read_text()).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def run_steps(steps: List[Any], out: Path) -> List[str]:
    """Run each step not yet done, as the trtbench command it is; stop at the first failure."""
    from trtbench.cli.app import main

    durations = _load_durations(out)
    for i, step in enumerate(steps, start=1):
        if step.done():
            console.info(f"[{i}/{len(steps)}] {step.name}: already done ({step.command})")
            continue
        console.info(f"[{i}/{len(steps)}] {step.name}: {step.what}\n  $ {step.command}")
        t0 = time.monotonic()
        code = main(step.argv)
        if code not in step.ok_codes:
            raise TrtbenchError(f"study step '{step.name}' failed (exit {code}): {step.command}",
                                hint=f"fix what it says above, then run the same trtbench study command again: "
                                     f"finished steps in {out} are kept")
        durations[step.name] = durations.get(step.name, 0.0) + time.monotonic() - t0
        _durations_path(out).write_text(json.dumps(durations, indent=1) + "\n")
    return [s.command for s in steps]


def write_report(args: argparse.Namespace, commands: List[str]) -> Path:
    from trtbench.study import collect as study
    from trtbench.study.report import StudyContext, render_study_report

    results = study.collect(args.out)
    if not results.records:
        raise TrtbenchError(f"{args.out} holds no study runs", hint=f"run: trtbench study --out {args.out}")
    baseline = None
    if args.baseline is not None:
        if not (args.baseline / "study.db").is_file():
            raise TrtbenchError(f"--baseline {args.baseline} is not a study folder (no study.db)",
                                hint="give the --out folder of another trtbench study run")
        baseline = study.collect(args.baseline)
    found = study.judge_all(results, baseline)
    first = results.records[0]
    ctx = StudyContext(
        title=args.title or f"The 2016 study re-run with trtbench: {first.backend} on {first.device_name or first.device}",
        machine=study.machine_summary(results.records, results.training),
        backend=first.backend, device=first.device_name or first.device, precision=first.precision,
        commands=commands, table2_runs=study.table2_runs(results.records), training_rows=results.training,
        figures=[str(p.relative_to(args.out)) for p in results.figures],
        fit=results.fits.get("study"), drift=results.drift, durations=_load_durations(args.out),
        sweep_runs=results.sweep_runs, points=len(results.records),
    )
    if baseline is not None:
        ctx.notes.append(f"finding 6 compares this run (B) with the study folder {args.baseline} (A)")
    report = args.out / "report.md"
    report.write_text(render_study_report(found, ctx))
    if args.report is not None:
        publish(args.report, results.figures, found, ctx)
    (args.out / "findings.json").write_text(json.dumps(
        [{"number": f.number, "claim": f.claim, "verdict": f.verdict, "measured": f.measured,
          "figures": f.figures} for f in found], indent=1, default=str) + "\n")
    table = console.table("The study's findings", ["#", "verdict", "what trtbench measured"])
    for f in found:
        table.add_row(str(f.number), f.verdict, f.measured)
    console.stdout().print(table)
    return report


HAND_START, HAND_END = "<!-- written by hand: kept when the report is regenerated -->", "<!-- end of the hand-written part -->"


def kept_notes(path: Path) -> str:
    """The hand-written block of an earlier report at `path` (between HAND_START and HAND_END)."""
    try:
        text = path.read_text()
    except OSError:
        return ""
    start, end = text.find(HAND_START), text.find(HAND_END)
    return text[start:end + len(HAND_END)] if 0 <= start < end else ""


def publish(path: Path, figures: List[Path], found: List[Any], ctx: Any) -> None:
    """The report at `path` with its figures copied to ``<path without .md>/`` beside it."""
    import shutil

    from trtbench.study.report import render_study_report

    folder = path.with_suffix("")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    for figure in figures:
        shutil.copyfile(figure, folder / figure.name)
    ctx.figures = [f"{folder.name}/{figure.name}" for figure in figures]
    text = render_study_report(found, ctx)
    kept = kept_notes(path)
    if kept:  # the hand-written part of an earlier version goes under the new title
        title, rest = text.split("\n", 1)
        text = f"{title}\n\n{kept}\n{rest}"
    path.write_text(text)
    console.info(f"wrote {path} and {len(figures)} figures in {folder}")


def run(args: argparse.Namespace) -> int:
    from trtbench.study import plan as study

    opts = _options(args)
    steps = [] if args.report_only else study.plan_steps(opts)
    if args.dry_run:
        for step in steps:
            console.stdout().print(("(done) " if step.done() else "") + step.command, markup=False, highlight=False)
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    if "train" not in opts.skip and not args.report_only:
        _check_data(args)
    commands = run_steps(steps, args.out) if steps else _saved_commands(args.out)
    (args.out / "commands.txt").write_text("\n".join(commands) + "\n")
    report = write_report(args, commands)
    console.info(f"wrote {report} (figures in {opts.figures})")
    return 0


def _saved_commands(out: Path) -> List[str]:
    try:
        return [line for line in (out / "commands.txt").read_text().splitlines() if line.strip()]
    except OSError:
        return []


def _check_data(args: argparse.Namespace) -> None:
    """Fail before hours of sweeping when training will not find MNIST."""
    from trtbench import env

    data = args.data_dir or env.data_dir()
    if data is None or not Path(data).is_dir():
        raise TrtbenchError("the study trains the Table-2 networks and needs MNIST",
                            hint="give --data-dir DIR (fetch it with: trtbench data fetch DIR), or --skip train")


