"""PNG figures like the study's, drawn with matplotlib (an optional extra, imported lazily).

Every function takes plain data (records, points, series) and a path, draws one figure with the
Agg backend (no display needed) and returns the path written. The study's figures:

- tiles/ms against batch size, one line per number of FC layers (group 1) or conv layers (group 2);
  against neurons per number of FC layers (group 3); against depth per number of conv layers (4);
- time per tile by category (the study's per-operation figures);
- speedup of one device over another, per category and in total (the study's GTX 960 over TX1);
- a drift series: time per loop over the loops.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from trtbench.categories import CATEGORIES
from trtbench.errors import TrtbenchError

LABELS = {
    "batch": "batch size (tiles)", "neurons": "neurons per FC layer", "depth": "conv depth (feature maps)",
    "fc_layers": "FC layers", "conv_layers": "conv layers",
}
COLOURS = {"conv": "#1f77b4", "pool": "#ff7f0e", "fc": "#2ca02c", "elementwise": "#d62728",
           "reformat": "#9467bd", "dla": "#bcbd22", "transfer": "#8c564b", "alloc": "#e377c2", "other": "#7f7f7f"}


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend; a one-line error naming the extra when missing."""
    try:
        import matplotlib
    except ImportError:
        raise TrtbenchError("plots need matplotlib, which is not installed",
                            hint="pip install 'trtbench[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


# Largest magnitude drawn: matplotlib computes axis spans and ticks in floats, and values near
# 1e308 overflow them (an error deep in its tick code). 1e15 ms is 30,000 years.
MAX_VALUE = 1e15


def _drawable(values: Sequence[float], title: str) -> None:
    """Refuse values no figure can show (NaN, infinite, beyond MAX_VALUE) in one line, naming the
    figure; they come from damaged or hand-edited files."""
    for value in values:
        if not (isinstance(value, (int, float)) and abs(value) <= MAX_VALUE):  # also NaN
            heading = title.splitlines()[0] if title else "a figure"
            raise TrtbenchError(f"cannot draw '{heading}': it holds the value {value!r}, beyond what a "
                                f"figure shows (more than {MAX_VALUE:g} or not a number)",
                                hint="is the file damaged?")


def _set_title(fig: Any, ax: Any, text: str) -> None:
    """The title wrapped to the figure's width (a long model or device name was clipped at the
    edge), each given line kept as a line."""
    import textwrap

    width = max(30, int(fig.get_figwidth() * 12))  # characters of 10 pt text per inch, about
    lines = [wrapped for line in text.splitlines() for wrapped in (textwrap.wrap(line, width) or [""])]
    ax.set_title("\n".join(lines), fontsize=10)


def _save(fig: Any, path: Path) -> Path:
    import warnings

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with warnings.catch_warnings():  # numpy's overflow warnings would be lines on stderr
            warnings.simplefilter("ignore", RuntimeWarning)
            fig.tight_layout()
            fig.savefig(str(path), dpi=110)
    except (ValueError, OverflowError) as exc:  # a layout matplotlib cannot compute
        reason = str(exc).splitlines()[0] if str(exc) else repr(exc)
        raise TrtbenchError(f"cannot draw {path.name}: {reason}") from None
    finally:
        pyplot().close(fig)
    return path


def throughput_lines(points: Sequence[Tuple[int, float, float]], x_name: str, series_name: str,
                     title: str, path: Path, subtitle: str = "") -> Path:
    """tiles/ms against `x_name`, one line per value of `series_name`.

    `points`: (series value, x, tiles/ms). A log2 x axis when x spans more than a factor of 8,
    as batch sizes 16..4096 do.
    """
    if not points:
        raise TrtbenchError(f"nothing to plot for '{title}'")
    _drawable([v for p in points for v in p[1:]], title)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    by_series: Dict[int, List[Tuple[float, float]]] = {}
    for s, x, y in points:
        by_series.setdefault(s, []).append((x, y))
    cmap = plt.get_cmap("viridis")
    for i, (s, xy) in enumerate(sorted(by_series.items())):
        xy.sort()
        colour = cmap(i / max(len(by_series) - 1, 1) * 0.9)
        ax.plot([p[0] for p in xy], [p[1] for p in xy], marker="o", ms=4, color=colour,
                label=f"{s} {LABELS.get(series_name, series_name)}" if series_name else None)
    xs = [p[1] for p in points]
    if min(xs) > 0 and max(xs) / min(xs) > 8:
        ax.set_xscale("log", base=2)
        ticks = sorted(set(xs))
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{t:g}" for t in ticks], fontsize=8)
    ax.set_xlabel(LABELS.get(x_name, x_name))
    ax.set_ylabel("tiles/ms")
    ax.set_ylim(bottom=0)
    _set_title(fig, ax, title + (f"\n{subtitle}" if subtitle else ""))
    ax.grid(True, alpha=0.3)
    if series_name:  # one line needs no legend
        ax.legend(fontsize=8)
    return _save(fig, path)


def category_bars(rows: Sequence[Tuple[str, Mapping[str, float]]], title: str, path: Path,
                  unit: str = "µs/tile") -> Path:
    """Stacked bars of time per tile by category, one bar per (label, {category: value})."""
    if not rows:
        raise TrtbenchError(f"nothing to plot for '{title}'")
    tops = [sum(r[1].values()) for r in rows]  # the stacked bars' tops must be drawable too
    _drawable(tops + [v for r in rows for v in r[1].values()], title)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(max(6, 0.45 * len(rows) + 2), 4.5))
    present = [c for c in CATEGORIES if any(r[1].get(c, 0) > 0 for r in rows)]
    present += sorted({c for r in rows for c in r[1]} - set(present) - set(CATEGORIES))
    bottoms = [0.0] * len(rows)
    for cat in present:
        values = [r[1].get(cat, 0.0) for r in rows]
        ax.bar(range(len(rows)), values, bottom=bottoms, label=cat, color=COLOURS.get(cat))
        bottoms = [b + v for b, v in zip(bottoms, values)]
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([r[0] for r in rows], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel(unit)
    _set_title(fig, ax, title)
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    return _save(fig, path)


def speedup_bars(speedups: Mapping[str, float], title: str, path: Path, overall: Optional[float] = None) -> Path:
    """Speedup per category (log scale), with the overall speedup as a line."""
    if not speedups:
        raise TrtbenchError(f"nothing to plot for '{title}'")
    _drawable(list(speedups.values()) + ([overall] if overall is not None else []), title)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    names = list(speedups)
    ax.bar(names, [speedups[n] for n in names], color=[COLOURS.get(n, "#444444") for n in names])
    for i, n in enumerate(names):
        ax.annotate(f"{speedups[n]:.2g}×", (i, speedups[n]), ha="center", va="bottom", fontsize=8)
    if overall is not None:
        ax.axhline(overall, color="black", ls="--", lw=1, label=f"total {overall:.2g}×")
        ax.legend(fontsize=8)
    values = [v for v in speedups.values() if v > 0]
    if values and max(values) / min(values) > 20:
        ax.set_yscale("log")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set_ylabel("speedup (×)")
    _set_title(fig, ax, title)
    ax.grid(True, axis="y", alpha=0.3)
    return _save(fig, path)


def drift_series(series: Mapping[str, Sequence[float]], title: str, path: Path,
                 markers: Optional[Mapping[str, int]] = None, unit: str = "ms") -> Path:
    """Each named series (one value per loop) against the loop number; a dashed line at a step."""
    series = {k: list(v) for k, v in series.items() if len(v)}
    if not series:
        raise TrtbenchError(f"nothing to plot for '{title}': the series are empty")
    _drawable([v for values in series.values() for v in values], title)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for i, (name, values) in enumerate(series.items()):
        line, = ax.plot(range(1, len(values) + 1), values, lw=1, label=name)
        at = (markers or {}).get(name)
        if at is not None:
            ax.axvline(at, color=line.get_color(), ls="--", lw=1)
    ax.set_xlabel("loop")
    ax.set_ylabel(unit)
    _set_title(fig, ax, title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def predicted_vs_measured(measured: Sequence[float], predicted: Sequence[float], labels: Sequence[str],
                          title: str, path: Path) -> Path:
    """A fit's check: predicted against measured ms/tile, log-log, with the identity line."""
    if not measured:
        raise TrtbenchError(f"nothing to plot for '{title}'")
    _drawable(list(measured) + list(predicted), title)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.scatter(measured, predicted, s=14)
    lo = min(min(measured), min(p for p in predicted if p > 0) if any(p > 0 for p in predicted) else min(measured))
    hi = max(max(measured), max(predicted))
    ax.plot([lo, hi], [lo, hi], color="grey", lw=1)
    if lo > 0 and hi / lo > 20:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel("measured ms/tile")
    ax.set_ylabel("predicted ms/tile")
    _set_title(fig, ax, title)
    ax.grid(True, alpha=0.3)
    return _save(fig, path)


def nice(value: float) -> str:
    return "nan" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3g}"
