"""`trtbench.study2016`: the 2016 study re-run end to end into one folder, and its eight findings judged.

The steps (`trtbench.study2016.plan`) are ordinary trtbench commands; here each is run through the
API function of the same name with the same options, skipped when its output is there already.
"""
from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from trtbench import env, jsonio
from trtbench.api.pipeline import Log, no_log
from trtbench.errors import TrtbenchError
from trtbench.study2016.findings import Finding
from trtbench.study2016.plan import STEPS, Step, StudyOptions, plan_steps
from trtbench.study2016.publish import durations_path, load_durations, saved_commands, write_report

__all__ = ["STEPS", "StudyOptions", "plan_steps", "run_step", "study"]


def run_step(step: Step, progress: Optional[Callable[[], Any]] = None, log: Log = no_log) -> None:
    """Run one step through the API function its command calls. `progress` makes a sweep's
    progress reporter (a context manager, see `trtbench.api.sweep.Progress`)."""
    options = {k: v for k, v in step.options.items() if v is not None}
    if step.verb == "sweep":
        from trtbench.api.sweep import sweep

        with (progress() if progress else contextlib.nullcontext()) as bar:
            sweep(step.positionals[0], **options, progress=bar, log=log)
    elif step.verb == "train":
        from trtbench.api.train import train

        train(step.positionals[0], options.pop("data_dir", None), **options)
    elif step.verb == "drift":
        from trtbench.api.drift import drift

        target = options.pop("json")
        jsonio.write_json(drift(step.positionals[0], **options, log=log).to_dict(), target)
    elif step.verb == "fit":
        from trtbench.api.fit import fit

        fit(**options)
    elif step.verb == "plot":
        from trtbench.api.plot import plot

        plot(step.positionals[0], **options)
    else:
        raise ValueError(f"a study step runs no {step.verb!r} command")


def _check_data(opts: StudyOptions) -> None:
    """Fail before hours of sweeping when training will not find MNIST."""
    data = opts.data_dir or env.data_dir()
    if data is None or not Path(data).is_dir():
        raise TrtbenchError("the study trains the Table-2 networks and needs MNIST",
                            hint="give --data-dir DIR (fetch it with: trtbench data fetch DIR), or --skip train")


def study(out: Path, *, report_only: bool = False, baseline: Optional[Path] = None, title: Optional[str] = None,
          report: Optional[Path] = None, progress: Optional[Callable[[], Any]] = None, log: Log = no_log,
          **options: Any) -> List[Finding]:
    """Run every step of the study not yet done into `out`, then write its report and return the
    findings. `options`: `StudyOptions` fields (backend, device, precision, threads, data_dir,
    epochs, train_limit, drift_loops, drift_iterations, drift_batch, sweep_file, neurons_file,
    skip, iterations, loops). `report_only` runs nothing; `baseline` is another study folder to
    judge finding 6 against; `report` also publishes the report there with its figures."""
    opts = StudyOptions(out=Path(out), **options)
    unknown = [s for s in opts.skip if s not in STEPS]
    if unknown:
        raise TrtbenchError(f"--skip: unknown step {', '.join(unknown)}", hint=f"steps: {', '.join(STEPS)}")
    steps = [] if report_only else plan_steps(opts)
    opts.out.mkdir(parents=True, exist_ok=True)
    if "train" not in opts.skip and not report_only:
        _check_data(opts)
    durations: Dict[str, float] = load_durations(opts.out)
    for i, step in enumerate(steps, start=1):
        if step.done():
            log(f"[{i}/{len(steps)}] {step.name}: already done ({step.command})")
            continue
        log(f"[{i}/{len(steps)}] {step.name}: {step.what}\n  $ {step.command}")
        t0 = time.monotonic()
        try:
            run_step(step, progress, log)
        except TrtbenchError as exc:
            raise TrtbenchError(f"study step '{step.name}' failed: {exc}",
                                hint=f"fix it, then run the same trtbench study command again: finished steps "
                                     f"in {opts.out} are kept ({step.command})") from None
        durations[step.name] = durations.get(step.name, 0.0) + time.monotonic() - t0
        jsonio.write_json(durations, durations_path(opts.out), indent=1)
    commands = [s.command for s in steps] if steps else saved_commands(opts.out)
    return write_report(opts.out, commands, baseline, title, report)
