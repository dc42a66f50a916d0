"""`trtbench plot`: PNG figures like the study's, from saved runs (needs matplotlib)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, Sequence, Tuple

from trtbench import env
from trtbench.errors import TrtbenchError
from trtbench.render import console

NAME = "plot"
HELP = "draw PNG figures: tiles/ms per sweep group, time per category, speedup, drift series, fit check"
EXAMPLE = "trtbench plot sweep --sweep study-2016 --out plots"

KINDS = ("sweep", "categories", "speedup", "drift", "fit", "all")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=KINDS, metavar="KIND",
                        help="sweep (tiles/ms per group), categories (time per category), speedup (two "
                             "runs or sweep runs), drift (a series file), fit (predicted vs measured), all")
    parser.add_argument("--sweep", default=None, help="a sweep's name or .toml file (its saved points)")
    parser.add_argument("--sweep-run", nargs="+", default=None, metavar="RUN",
                        help="run(s) of the sweep ('latest' for the newest; two for speedup; default: all, averaged)")
    parser.add_argument("--runs", nargs="+", default=None, metavar="RUN",
                        help="run ids or JSON run files (speedup: A B, or A's and B's files)")
    parser.add_argument("--series", type=Path, default=None, help="drift: a JSON series file (trtbench drift --json)")
    parser.add_argument("--backend", default=None, help="only runs on this backend")
    parser.add_argument("--device-name", default=None, help="only runs on this device")
    parser.add_argument("--batch", type=int, default=1024, help="categories/fit: the batch to show (default: 1024)")
    parser.add_argument("--out", type=Path, default=Path("plots"), help="folder for the PNG files (default: plots)")
    parser.add_argument("--db", type=Path, default=None, help="database file (default: TRTBENCH_DB or ./trtbench.db)")
    parser.add_argument("--json", metavar="FILE|-", help="write the list of files written as JSON")


# ---- selecting runs ------------------------------------------------------------------------

def _sweep(text: str) -> Any:
    from trtbench.sweep.file import bundled_sweeps, load_sweep

    if text.endswith(".toml"):
        return load_sweep(Path(text))
    sweeps = bundled_sweeps()
    if text not in sweeps:
        raise TrtbenchError(f"no sweep file named {text}", hint=f"give its .toml file; bundled: {', '.join(sweeps) or 'none'}")
    return sweeps[text]


def _sweep_results(args: argparse.Namespace, run: Any = None) -> Tuple[Any, List[Any]]:
    from trtbench.results.runref import open_existing
    from trtbench.sweep import results as sweep_results

    if not args.sweep:
        raise TrtbenchError(f"plot {args.kind} needs --sweep NAME", hint="e.g. --sweep study-2016")
    sweep = _sweep(args.sweep)
    with open_existing(args.db or env.db_path()) as store:
        if run == "latest":
            run = sweep_results.latest_run(sweep_results.sweep_results(store, sweep.name, backend=args.backend,
                                                         device_name=args.device_name))
        results = sweep_results.sweep_results(store, sweep.name, run, backend=args.backend, device_name=args.device_name)
    return sweep, results


def _subtitle(records: Sequence[Any]) -> str:
    configs = sorted({f"{r.backend} on {r.device_name or r.device}" for r in records})
    return "; ".join(configs)[:110]


# ---- figures ---------------------------------------------------------------------------------

def sweep_figures(args: argparse.Namespace) -> List[Path]:
    from trtbench.analysis import sweep as sweep_analysis
    from trtbench.render import plots

    run = args.sweep_run[0] if args.sweep_run else None
    sweep, results = _sweep_results(args, run)
    sub = _subtitle([r.record for r in results])
    written = []
    for gs in sweep_analysis.group_series(sweep, results):
        written.append(plots.throughput_lines(gs.points, gs.x, gs.series, gs.title,
                                              args.out / f"{plots.safe_name(sweep.name)}-{gs.group}.png", sub))
    if not written:
        raise TrtbenchError(f"no group of sweep {sweep.name} has saved points to plot")
    return written


def category_figures(args: argparse.Namespace) -> List[Path]:
    """Stacked time per category at --batch: one figure per sweep group (the study's per-operation
    figures), or one for --runs."""
    from trtbench.render import plots

    if args.runs:
        from trtbench.results.runref import load_runs

        records = load_runs(args.runs, args.db or env.db_path())
        return [_category_figure(records, args.batch, "runs", "", args.out / f"runs-categories-b{args.batch}.png")]
    run = args.sweep_run[0] if args.sweep_run else None
    sweep, results = _sweep_results(args, run)
    written = []
    for group in sweep.groups:
        records = [r.record for r in results if r.tags.get("group") == group.name]
        if any(r.batch == args.batch and r.categories for r in records):
            out = args.out / f"{plots.safe_name(sweep.name)}-{group.name}-categories-b{args.batch}.png"
            written.append(_category_figure(records, args.batch, sweep.name, group.title, out))
    if not written:
        raise TrtbenchError(f"no runs at batch {args.batch} with per-category times", hint="pick another --batch")
    return written


def _category_figure(records: Sequence[Any], batch: int, label: str, title: str, out: Path) -> Path:
    from trtbench.render import plots

    cells: Dict[str, List[Mapping[str, float]]] = {}
    for r in records:
        if r.categories and r.batch == batch:
            cells.setdefault(r.model_name, []).append({c: 1e3 * ms / r.batch for c, ms in r.categories.items()})
    if not cells:
        raise TrtbenchError(f"no runs at batch {batch} with per-category times", hint="pick another --batch")
    rows = []
    for name in sorted(cells, key=_spec_order):
        cats = sorted({c for d in cells[name] for c in d})
        rows.append((name, {c: sum(d.get(c, 0.0) for d in cells[name]) / len(cells[name]) for c in cats}))
    heading = f"{title or label}: time per tile by category (profiling pass), batch {batch}\n{_subtitle(records)}"
    return plots.category_bars(rows, heading, out)


def _spec_order(name: str) -> Tuple[Any, ...]:
    from trtbench.models.netspec import parse_name

    spec = parse_name(name)
    if spec is None or not spec.family:
        return (1, name)
    f = spec.family
    return (0, f["conv_layers"], f["depth"], f["fc_layers"], f["neurons"])


def speedup_figure(args: argparse.Namespace) -> List[Path]:
    from trtbench.analysis import sweep as sweep_analysis
    from trtbench.render import plots
    from trtbench.results.runref import load_runs

    if args.runs and len(args.runs) == 2:
        db = args.db or env.db_path()
        a, b = load_runs([args.runs[0]], db), load_runs([args.runs[1]], db)
        names = args.runs
    elif args.sweep and args.sweep_run and len(args.sweep_run) == 2:
        _, ra = _sweep_results(args, args.sweep_run[0])
        _, rb = _sweep_results(args, args.sweep_run[1])
        a, b = [r.record for r in ra], [r.record for r in rb]
        names = args.sweep_run
    else:
        raise TrtbenchError("plot speedup needs two sides: --runs A B, or --sweep NAME --sweep-run RUN_A RUN_B")
    speed, overall, matched = sweep_analysis.speedups(a, b)
    title = (f"speedup of B over A, {matched} matched (network, batch) points\n"
             + f"A = {names[0]}: {_subtitle(a)}"[:90] + "\n" + f"B = {names[1]}: {_subtitle(b)}"[:90])
    out = args.out / f"speedup-{plots.safe_name(str(names[0]))[:24]}-{plots.safe_name(str(names[1]))[:24]}.png"
    return [plots.speedup_bars(speed, title, out, overall)]


def drift_figure(args: argparse.Namespace) -> List[Path]:
    from trtbench.render import plots

    if args.series is None:
        raise TrtbenchError("plot drift needs --series FILE", hint="write one with: trtbench drift ... --json FILE")
    series, markers = read_series(args.series)
    return [plots.drift_series(series, f"per-loop time: {args.series.name}", args.out / f"drift-{plots.safe_name(args.series.stem)}.png", markers)]


def read_series(path: Path) -> Tuple[Dict[str, List[float]], Dict[str, int]]:
    """Named series from a JSON file: a list of numbers, ``{name: [numbers]}``, or a drift result
    holding them under ``series``/``parts`` (with ``step_index``/``change_point`` marking a step)."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise TrtbenchError(f"series file {path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise TrtbenchError(f"{path} is not a JSON series file ({exc})") from None
    series: Dict[str, List[float]] = {}
    markers: Dict[str, int] = {}

    def numbers(value: Any) -> bool:
        return isinstance(value, list) and bool(value) and all(isinstance(v, (int, float)) for v in value)

    def walk(value: Any, name: str, depth: int) -> None:
        if numbers(value):
            series[name or "series"] = [float(v) for v in value]
        elif isinstance(value, dict) and depth < 4:
            for key in ("step_index", "change_point", "split"):
                if isinstance(value.get(key), int):
                    markers[name or "series"] = int(value[key])
            for key, item in value.items():
                walk(item, key if name in ("", "series", "parts", "results") else f"{name}.{key}", depth + 1)

    walk(data, "", 0)
    if not series:
        raise TrtbenchError(f"{path} holds no list of numbers to plot", hint="give a JSON list of per-loop ms")
    return series, markers


def fit_figure(args: argparse.Namespace) -> List[Path]:
    from trtbench.analysis import costmodel
    from trtbench.cli.commands.fit import by_config
    from trtbench.render import plots

    run = args.sweep_run[0] if args.sweep_run else None
    sweep, results = _sweep_results(args, run)
    written = []
    for (backend, device, device_name, precision), records in by_config([r.record for r in results]).items():
        fs = costmodel.fit_records(records, "study", args.batch)
        chosen = [r for r in records if r.batch == args.batch and costmodel.spec_of(r) is not None]
        measured = [r.ms_per_tile for r in chosen]
        predicted = [fs.predict(costmodel.spec_of(r), r.batch) for r in chosen]  # type: ignore[arg-type]
        title = (f"study model (eqs. 13-18), batch {args.batch}: R² {fs.total.r2:.3f}, "
                 f"k-fold MAPE {plots.nice(fs.total.mape)} %\n{backend} on {device_name or device}")
        written.append(plots.predicted_vs_measured(measured, predicted, [r.model_name for r in chosen], title,
                                                   args.out / f"{plots.safe_name(sweep.name)}-fit-{plots.safe_name(backend)}.png"))
    return written


def run(args: argparse.Namespace) -> int:
    from trtbench.render import plots

    plots.pyplot()  # fail first, in one line, when matplotlib is missing
    kinds = {"sweep": [sweep_figures], "categories": [category_figures], "speedup": [speedup_figure],
             "drift": [drift_figure], "fit": [fit_figure], "all": [sweep_figures, category_figures, fit_figure]}
    written: List[Path] = []
    for draw in kinds[args.kind]:
        written.extend(draw(args))
    for path in written:
        console.info(f"wrote {path}")
    if args.json:
        text = json.dumps([str(p) for p in written], indent=2)
        if args.json == "-":
            sys.stdout.write(text + "\n")
        else:
            Path(args.json).write_text(text + "\n")
    return 0
