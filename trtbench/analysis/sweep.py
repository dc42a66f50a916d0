"""Sweep results as figures' series, and the speedup of one set of runs over another (pure)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from trtbench.errors import TrtbenchError
from trtbench.sweeps.file import Sweep
from trtbench.sweeps.results import Result


@dataclass
class GroupSeries:
    """One group's points for a figure: tiles/ms against `x` with one line per `series` value."""

    group: str
    title: str
    x: str
    series: str
    points: List[Any]  # (series value, x value, tiles/ms)


def group_series(sweep: Sweep, results: Sequence[Result]) -> List[GroupSeries]:
    """Per sweep group: the first varied parameter picks the line, the second the x axis (the
    study's layout: lines per FC/conv layer count against batch, neurons or depth). Repeated
    points (several runs) are averaged."""
    out = []
    for group in sweep.groups:
        varied = [v for v in group.varied]
        if len(varied) == 1:
            varied = ["", varied[0]]
        if len(varied) != 2:
            continue
        series_name, x_name = varied
        cells: Dict[Any, List[float]] = {}
        for r in results:
            if r.tags.get("group", r.tags.get("point", "").split("/")[0]) != group.name:
                continue
            v = r.variables
            if x_name not in v or (series_name and series_name not in v):
                continue
            cells.setdefault((v.get(series_name, 0), v[x_name]), []).append(float(r.record.tiles_per_ms))
        points = [(s, x, sum(ys) / len(ys)) for (s, x), ys in sorted(cells.items())]
        if points:
            out.append(GroupSeries(group.name, group.title, x_name, series_name, points))
    return out


def by_point(records: Sequence[Any]) -> Dict[Tuple[str, int], List[Any]]:
    """Records grouped by the (network, batch) point they measured; repeats share a point."""
    out: Dict[Tuple[str, int], List[Any]] = {}
    for r in records:
        out.setdefault((r.model_name, r.batch), []).append(r)
    return out


def speedups(a: Sequence[Any], b: Sequence[Any]) -> "tuple[Dict[str, float], float, int]":
    """Speedup of side B over side A per category and in total, over the (network, batch) points
    both sides measured: A's summed ms per tile over B's. Repeats on one side are averaged.
    Returns (per category, total, number of matched points)."""
    ca, cb = by_point(a), by_point(b)
    common = sorted(set(ca) & set(cb))
    if not common:
        raise TrtbenchError("the two sides share no (network, batch) point to compare",
                            hint="pick runs of the same networks and batch sizes")

    def mean(rs: List[Any], cat: Optional[str]) -> float:
        if cat is None:
            return sum(r.ms_per_tile for r in rs) / len(rs)
        return sum(r.categories.get(cat, 0.0) / r.batch for r in rs) / len(rs)

    cats = [c for c in dict.fromkeys(c for k in common for r in ca[k] + cb[k] for c in r.categories)]
    per_cat: Dict[str, float] = {}
    for cat in cats:
        ta = sum(mean(ca[k], cat) for k in common)
        tb = sum(mean(cb[k], cat) for k in common)
        if ta > 0 and tb > 0:
            per_cat[cat] = ta / tb
    total = sum(mean(ca[k], None) for k in common) / sum(mean(cb[k], None) for k in common)
    return per_cat, total, len(common)
