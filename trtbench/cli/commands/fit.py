"""`trtbench fit`: fit the study's cost model (eqs. 13-18) or the FLOPs/bytes model to saved runs."""
from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Optional, Sequence

from trtbench.analysis import costmodel
from trtbench.cli import args as common
from trtbench.errors import TrtbenchError
from trtbench.render import console

NAME = "fit"
HELP = "fit ms/tile to the study's cost model or a FLOPs/bytes model from saved runs (R², k-fold MAPE)"
EXAMPLE = "trtbench fit --sweep study-2016 --model study --save fit.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sweep", help="the runs of this sweep (its name, or its .toml file)")
    parser.add_argument("--runs", nargs="+", metavar="RUN",
                        help="these run ids, JSON run files or database files (with --sweep: that sweep's runs in them)")
    parser.add_argument("--sweep-run", default=None, help="only this run of the sweep ('latest' for the newest; default: all runs, averaged)")
    parser.add_argument("--backend", default=None, help="only runs on this backend")
    parser.add_argument("--device-name", default=None, help="only runs on this device (as stored, e.g. the CPU or GPU name)")
    parser.add_argument("--model", default="study", choices=costmodel.MODELS,
                        help="study: eqs. 13-18 (default); general: GFLOP and MB per layer kind")
    parser.add_argument("--batch", type=int, default=None,
                        help="only runs at this batch (default: 1024 for the study model, every batch for general)")
    parser.add_argument("--folds", type=int, default=5, help="folds for the out-of-sample MAPE (default: 5)")
    parser.add_argument("--weighting", default="relative", choices=costmodel.WEIGHTINGS,
                        help="least squares on relative errors (default: times span decades) or absolute ones")
    parser.add_argument("--free", action="store_true", help="allow negative coefficients (plain least squares)")
    parser.add_argument("--save", type=Path, default=None, help="write the fit(s) to this file for 'trtbench predict --fit'")
    common.add_db(parser)
    common.add_json(parser, "the fit(s)")
    common.add_exports(parser)


def _pct(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.1f} %"


def render(fits: Sequence[costmodel.FitSet]) -> None:
    for fs in fits:
        where = f"{fs.backend} on {fs.device} ({fs.device_name or '?'}), {fs.precision}"
        at = (f"batch {fs.batch}" if fs.batch else "all batches") + f", {fs.total.weighting} least squares"
        t = console.table(f"{fs.model} model, ms/tile, {where}, {at}: {fs.total.points} points",
                          ["term", "coefficient", "meaning"], right=["coefficient"])
        names = costmodel.STUDY_DESCRIPTIONS if fs.model == "study" else {}
        for name, c in fs.total.coefficients.items():
            t.add_row(name, f"{c:.3g}", names.get(name, name.replace("_", " ")))
        console.show(t)
        q = console.table("fit quality (MAPE: k-fold, out of sample)",
                          ["equation", "points", "R² (in sample)", "MAPE in sample", "MAPE k-fold", "terms"],
                          right=["points", "R² (in sample)", "MAPE in sample", "MAPE k-fold"])
        for f in [fs.total, *fs.categories.values()]:
            terms = " + ".join(f"{c:.2g}·{n}" if n != "overhead" else f"{c:.2g}" for n, c in f.coefficients.items() if c)
            q.add_row(f.target, str(f.points), f"{f.r2:.3f}", _pct(f.in_sample_mape), _pct(f.mape), terms)
        console.show(q)
        if fs.repeat_mape is not None:
            console.info(f"repeat spread: {fs.repeated_points} points were measured more than once; their "
                         f"measurements differ from their mean by {fs.repeat_mape:.1f} % on average (a floor "
                         "for any model's MAPE; a noisy machine raises it)")


def _check_save(save: Optional[Path]) -> None:
    """--save is written after the fit: checked first, like --json, so a bad name fails at once."""
    from trtbench import jsonio

    if save is None or str(save) == "-":  # "-": the fits on stdout
        return
    if not str(save).strip() or str(save) == ".":
        raise TrtbenchError(f"--save {str(save)!r} is not a file name", hint="e.g. --save fit.json")
    if save.is_dir():
        raise TrtbenchError(f"--save {save} is a folder", hint="give a file name, e.g. --save fit.json")
    jsonio.check_writable(save, "--save")


def run(args: argparse.Namespace) -> int:
    from trtbench import jsonio
    from trtbench.api.fit import fit

    common.at_least(args.batch, 1, "--batch")  # batch 0 would select no run and blame the specs
    _check_save(args.save)
    fits = fit(args.runs, sweep=args.sweep, sweep_run=args.sweep_run, db=common.db_path(args), model=args.model,
               batch=args.batch, folds=args.folds, weighting=args.weighting, nonnegative=not args.free,
               backend=args.backend, device_name=args.device_name, save=args.save)
    if args.save:
        console.info(f"saved {len(fits)} fit(s) to {args.save}; use: trtbench predict SPEC --target T --fit {args.save}")
    if args.json:
        jsonio.write_json([f.to_dict() for f in fits], args.json)
        if args.json == "-":
            return 0
    render(fits)
    return 0
