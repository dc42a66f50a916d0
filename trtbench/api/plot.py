"""`trtbench.plot`: PNG figures like the study's, drawn from saved runs (needs matplotlib).

Kinds: ``sweep`` (tiles/ms per sweep group), ``categories`` (time per tile per category),
``speedup`` (B over A per category), ``drift`` (a series file's parts), ``fit`` (predicted
against measured), ``all`` (sweep, categories and fit).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from trtbench import env
from trtbench.errors import TrtbenchError
from trtbench.filenames import safe_name
from trtbench.results.record import RunRecord
from trtbench.results.runref import Ref

KINDS = ("sweep", "categories", "speedup", "drift", "fit", "all")


def _subtitle(records: Sequence[RunRecord]) -> str:
    configs = sorted({f"{r.backend} on {r.device_name or r.device}" for r in records})
    return "; ".join(configs)[:110]


def _sweep_results(sweep: Optional[Union[str, Path]], kind: str, db: Path, run: Optional[str],
                   backend: Optional[str], device_name: Optional[str], runs: Any = None) -> Tuple[Any, List[Any]]:
    from trtbench.api.sweep import load
    from trtbench.results.runref import open_existing
    from trtbench.sweeps import results as sweep_results

    if not sweep:
        raise TrtbenchError(f"plot {kind} needs --sweep NAME", hint="e.g. --sweep study-2016")
    chosen = load(sweep)
    if runs is not None:  # the sweep's runs from files (e.g. an export), no database needed
        from trtbench.api.runs import load_runs

        found = sweep_results.select(load_runs(runs, db), chosen.name, run)
        if not found:
            raise TrtbenchError(f"the runs given hold no points of sweep {chosen.name}")
        return chosen, found
    with open_existing(db) as store:
        return chosen, sweep_results.sweep_results(store, chosen.name, run, backend=backend, device_name=device_name)


def sweep_figures(sweep: Union[str, Path], out: Path, *, db: Optional[Ref] = None, sweep_run: Optional[str] = None,
                  backend: Optional[str] = None, device_name: Optional[str] = None, runs: Any = None) -> List[Path]:
    """Tiles/ms per sweep group: one line per series value against the x parameter."""
    from trtbench.analysis.sweep import group_series
    from trtbench.render import plots

    chosen, results = _sweep_results(sweep, "sweep", _db(db), sweep_run, backend, device_name, runs)
    sub = _subtitle([r.record for r in results])
    written = [plots.throughput_lines(gs.points, gs.x, gs.series, gs.title,
                                      Path(out) / f"{safe_name(chosen.name)}-{safe_name(gs.group)}.png", sub)
               for gs in group_series(chosen, results)]
    if not written:
        raise TrtbenchError(f"no group of sweep {chosen.name} has saved points to plot")
    return written


def category_figures(out: Path, *, batch: int = 1024, sweep: Optional[Union[str, Path]] = None,
                     sweep_run: Optional[str] = None, runs: Any = None, db: Optional[Ref] = None,
                     backend: Optional[str] = None, device_name: Optional[str] = None) -> List[Path]:
    """Stacked time per tile by category at `batch`: one figure per sweep group (the study's
    per-operation figures), or one for `runs`."""

    if runs is not None and not sweep:
        from trtbench.api.runs import load_runs

        records = load_runs(runs, _db(db))
        return [_category_figure(records, batch, "runs", "", Path(out) / f"runs-categories-b{batch}.png")]
    chosen, results = _sweep_results(sweep, "categories", _db(db), sweep_run, backend, device_name, runs)
    written = []
    for group in chosen.groups:
        records = [r.record for r in results if r.tags.get("group") == group.name]
        if any(r.batch == batch and r.categories for r in records):
            path = Path(out) / f"{safe_name(chosen.name)}-{safe_name(group.name)}-categories-b{batch}.png"
            written.append(_category_figure(records, batch, chosen.name, group.title, path))
    if not written:
        raise TrtbenchError(f"no runs at batch {batch} with per-category times", hint="pick another --batch")
    return written


def _category_figure(records: Sequence[RunRecord], batch: int, label: str, title: str, out: Path) -> Path:
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


def speedup_figure(out: Path, *, runs: Optional[Sequence[Any]] = None, sweep: Optional[Union[str, Path]] = None,
                   sweep_runs: Optional[Sequence[str]] = None, db: Optional[Ref] = None,
                   backend: Optional[str] = None, device_name: Optional[str] = None) -> List[Path]:
    """Speedup of side B over side A per category: two runs (or run files), or two runs of a sweep."""
    from trtbench.analysis.sweep import speedups
    from trtbench.api.runs import load_runs
    from trtbench.render import plots

    if runs and len(runs) == 2:
        a, b = load_runs(runs[0], _db(db)), load_runs(runs[1], _db(db))
        names = [str(x) for x in runs]
    elif sweep and sweep_runs and len(sweep_runs) == 2:
        _, ra = _sweep_results(sweep, "speedup", _db(db), sweep_runs[0], backend, device_name)
        _, rb = _sweep_results(sweep, "speedup", _db(db), sweep_runs[1], backend, device_name)
        a, b = [r.record for r in ra], [r.record for r in rb]
        names = list(sweep_runs)
    else:
        raise TrtbenchError("plot speedup needs two sides: --runs A B, or --sweep NAME --sweep-run RUN_A RUN_B")
    speed, overall, matched = speedups(a, b)
    title = (f"speedup of B over A, {matched} matched (network, batch) points\n"
             + f"A = {names[0]}: {_subtitle(a)}"[:90] + "\n" + f"B = {names[1]}: {_subtitle(b)}"[:90])
    path = Path(out) / f"speedup-{safe_name(names[0])[:24]}-{safe_name(names[1])[:24]}.png"
    return [plots.speedup_bars(speed, title, path, overall)]


def drift_figure(series: Path, out: Path) -> List[Path]:
    """A drift series file's parts over loops, with the step each part took (when one was found)."""
    from trtbench.analysis.series import read_series, step_markers
    from trtbench.render import plots

    parts = read_series(Path(series))
    path = Path(out) / f"drift-{safe_name(Path(series).stem)}.png"
    return [plots.drift_series(parts, f"per-loop time: {Path(series).name}", path, step_markers(Path(series)))]


def fit_figures(sweep: Union[str, Path], out: Path, *, batch: int = 1024, db: Optional[Ref] = None,
                sweep_run: Optional[str] = None, backend: Optional[str] = None,
                device_name: Optional[str] = None, runs: Any = None) -> List[Path]:
    """The study model's predicted against measured ms/tile at `batch`, one figure per device."""
    from trtbench.analysis import costmodel
    from trtbench.api.fit import by_config
    from trtbench.render import plots

    chosen, results = _sweep_results(sweep, "fit", _db(db), sweep_run, backend, device_name, runs)
    written = []
    for (backend_name, device, name, _), records in by_config([r.record for r in results]).items():
        fs = costmodel.fit_records(records, "study", batch)
        picked = [r for r in records if r.batch == batch and costmodel.spec_of(r) is not None]
        measured = [r.ms_per_tile for r in picked]
        predicted = [fs.predict(costmodel.spec_of(r), r.batch) for r in picked]  # type: ignore[arg-type]
        title = (f"study model (eqs. 13-18), batch {batch}: R² {fs.total.r2:.3f}, "
                 f"{_mape_text(fs.total)}\n{backend_name} on {name or device}")
        written.append(plots.predicted_vs_measured(
            measured, predicted, [r.model_name for r in picked], title,
            Path(out) / f"{safe_name(chosen.name)}-fit-{safe_name(backend_name)}.png"))
    return written


def _mape_text(fit: Any) -> str:
    """The fit's out-of-sample error for a title; with too few points for k folds, the in-sample
    error, said as such (a title read "MAPE nan %")."""
    import math

    if fit.mape is not None and math.isfinite(fit.mape):
        return f"k-fold MAPE {fit.mape:.3g} %"
    if fit.in_sample_mape is not None and math.isfinite(fit.in_sample_mape):
        return f"in-sample MAPE {fit.in_sample_mape:.3g} % ({fit.points} points: too few for k-fold)"
    return f"no MAPE ({fit.points} points)"


def _db(db: Optional[Ref]) -> Path:
    return Path(db) if db is not None else env.db_path()


def plot(kind: str, out: Union[str, Path] = "plots", *, sweep: Optional[Union[str, Path]] = None,
         sweep_run: Optional[Sequence[str]] = None, runs: Optional[Sequence[Any]] = None,
         series: Optional[Union[str, Path]] = None, batch: int = 1024, db: Optional[Ref] = None,
         backend: Optional[str] = None, device_name: Optional[str] = None) -> List[Path]:
    """Draw the figures of `kind` into the folder `out`; return the files written."""
    from trtbench.render import plots

    if kind not in KINDS:
        raise TrtbenchError(f"unknown figure kind {kind!r}", hint=f"choose one of: {', '.join(KINDS)}")
    plots.pyplot()  # fail first, in one line, when matplotlib is missing
    out = Path(out)
    if out.exists() and not out.is_dir():  # else mkdir fails with a bare "File exists" after the reading
        raise TrtbenchError(f"--out {out} is not a folder", hint="give a folder for the PNG files")
    run = sweep_run[0] if sweep_run else None
    common: Dict[str, Any] = dict(db=db, backend=backend, device_name=device_name)
    if kind == "drift":
        if series is None:
            raise TrtbenchError("plot drift needs --series FILE", hint="write one with: trtbench drift ... --json FILE")
        return drift_figure(Path(series), out)
    if kind == "speedup":
        return speedup_figure(out, runs=runs, sweep=sweep, sweep_runs=sweep_run, **common)
    written: List[Path] = []
    if kind in ("sweep", "all"):
        written += sweep_figures(sweep, out, sweep_run=run, runs=runs, **common)  # type: ignore[arg-type]
    if kind in ("categories", "all"):
        written += category_figures(out, batch=batch, sweep=sweep, sweep_run=run, runs=runs, **common)
    if kind in ("fit", "all"):
        written += fit_figures(sweep, out, batch=batch, sweep_run=run, runs=runs, **common)  # type: ignore[arg-type]
    return written
