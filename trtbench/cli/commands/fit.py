"""`trtbench fit`: fit the study's cost model (eqs. 13-18) or the FLOPs/bytes model to saved runs."""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from trtbench import env
from trtbench.analysis import costmodel
from trtbench.errors import TrtbenchError
from trtbench.render import console

NAME = "fit"
HELP = "fit ms/tile to the study's cost model or a FLOPs/bytes model from saved runs (R², k-fold MAPE)"
EXAMPLE = "trtbench fit --sweep study-2016 --model study --save fit.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--sweep", help="the runs of this sweep (its name, or its .toml file)")
    source.add_argument("--runs", nargs="+", metavar="RUN", help="these run ids or JSON run files")
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
    parser.add_argument("--db", type=Path, default=None, help="database file (default: TRTBENCH_DB or ./trtbench.db)")
    parser.add_argument("--json", metavar="FILE|-", help="write the fit(s) as JSON ('-' for stdout)")


def sweep_name(text: str) -> str:
    """A sweep's name from its name or its file."""
    if text.endswith(".toml"):
        from trtbench.sweep.file import load_sweep

        return load_sweep(Path(text)).name
    return text


def load_records(args: argparse.Namespace) -> List[Any]:
    """The records the options select: a sweep's saved points, named runs (ids or JSON files), or
    every run in the database; then narrowed by --backend and --device-name."""
    from trtbench.results.runref import load_runs, open_existing
    from trtbench.sweep import results as sweep_results

    db = args.db or env.db_path()
    if args.runs:
        records = load_runs(args.runs, db)
    else:
        with open_existing(db) as store:
            if args.sweep:
                name = sweep_name(args.sweep)
                run_id = args.sweep_run
                if run_id == "latest":
                    run_id = sweep_results.latest_run(sweep_results.sweep_results(store, name, backend=args.backend,
                                                                    device_name=args.device_name))
                results = sweep_results.sweep_results(store, name, run_id, backend=args.backend, device_name=args.device_name)
                records = [r.record for r in results]
            else:
                records = store.find(backend=args.backend, device_name=args.device_name)
    if args.backend:
        records = [r for r in records if r.backend == args.backend]
    if args.device_name:
        records = [r for r in records if r.device_name == args.device_name]
    if not records:
        raise TrtbenchError("no runs match", hint="check --sweep/--runs/--backend/--device-name, or list runs with: trtbench runs")
    return records


def by_config(records: Sequence[Any]) -> Dict[Tuple[str, str, str, str], List[Any]]:
    """Records grouped per backend, device, device name and precision (a fit is per device)."""
    groups: Dict[Tuple[str, str, str, str], List[Any]] = {}
    for r in records:
        groups.setdefault((r.backend, r.device, r.device_name, r.precision), []).append(r)
    return groups


def fit_all(records: Sequence[Any], model: str, batch: Optional[int], folds: int, nonnegative: bool,
            weighting: str = "relative") -> List[costmodel.FitSet]:
    if batch is None and model == "study":
        batch = 1024
    return [costmodel.fit_records(rs, model, batch, nonnegative=nonnegative, folds=folds, weighting=weighting)
            for rs in by_config(records).values()]


def _pct(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.1f} %"


def render(fits: Sequence[costmodel.FitSet]) -> None:
    out = console.stdout()
    for fs in fits:
        where = f"{fs.backend} on {fs.device} ({fs.device_name or '?'}), {fs.precision}"
        at = (f"batch {fs.batch}" if fs.batch else "all batches") + f", {fs.total.weighting} least squares"
        t = console.table(f"{fs.model} model, ms/tile, {where}, {at}: {fs.total.points} points",
                          ["term", "coefficient", "meaning"], right=["coefficient"])
        names = costmodel.STUDY_DESCRIPTIONS if fs.model == "study" else {}
        for name, c in fs.total.coefficients.items():
            t.add_row(name, f"{c:.3g}", names.get(name, name.replace("_", " ")))
        out.print(t)
        q = console.table("fit quality (MAPE: k-fold, out of sample)",
                          ["equation", "points", "R² (in sample)", "MAPE in sample", "MAPE k-fold", "terms"],
                          right=["points", "R² (in sample)", "MAPE in sample", "MAPE k-fold"])
        for f in [fs.total, *fs.categories.values()]:
            terms = " + ".join(f"{c:.2g}·{n}" if n != "overhead" else f"{c:.2g}" for n, c in f.coefficients.items() if c)
            q.add_row(f.target, str(f.points), f"{f.r2:.3f}", _pct(f.in_sample_mape), _pct(f.mape), terms)
        out.print(q)
        if fs.repeat_mape is not None:
            console.info(f"repeat spread: {fs.repeated_points} points were measured more than once; their "
                         f"measurements differ from their mean by {fs.repeat_mape:.1f} % on average (a floor "
                         "for any model's MAPE; a noisy machine raises it)")


def write_json(payload: Any, target: str) -> None:
    text = json.dumps(payload, indent=2, default=lambda v: None)
    if target == "-":
        sys.stdout.write(text + "\n")
    else:
        Path(target).write_text(text + "\n")


def run(args: argparse.Namespace) -> int:
    records = load_records(args)
    fits = fit_all(records, args.model, args.batch, args.folds, not args.free, args.weighting)
    payload = [f.to_dict() for f in fits]
    if args.save:
        write_json(payload, str(args.save))
        console.info(f"saved {len(fits)} fit(s) to {args.save}; use: trtbench predict SPEC --target T --fit {args.save}")
    if args.json:
        write_json(payload, args.json)
        if args.json == "-":
            return 0
    render(fits)
    return 0
