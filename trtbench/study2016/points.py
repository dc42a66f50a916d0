"""The study's saved runs grouped by measured point, (conv_layers, depth, fc_layers, neurons, batch):
every run of a point, and its per-loop times pooled into one `Point` that the findings judge."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from trtbench.results.record import RunRecord

Key = Tuple[int, int, int, int, int]  # (conv_layers, depth, fc_layers, neurons, batch)
Runs = Mapping[Key, Union[RunRecord, Sequence[RunRecord]]]


@dataclass
class Point:
    """One measured (network, batch) point: the per-loop times of every run of it, pooled."""

    samples: List[float]
    runs: int

    @property
    def value(self) -> float:
        return float(np.median(self.samples))


def loop_ms_per_item(record: RunRecord) -> List[float]:
    """A record's per-loop ms per item (loop time over iterations x batch); its median ms per item
    alone when it kept no loops (an imported run)."""
    per = max(1, record.iterations) * max(1, record.batch)
    values = [float(v) / per for v in record.loop_ms if isinstance(v, (int, float)) and math.isfinite(v) and v > 0]
    return values if values else [record.ms_per_tile]


def relative_loops(record: RunRecord) -> List[float]:
    """Each loop's time over the median loop: the run's own scatter, applied to a category's time
    (the profiling pass measures a category once)."""
    loops = loop_ms_per_item(record)
    mid = float(np.median(loops))
    return [v / mid for v in loops] if mid > 0 else [1.0]


def _family(record: RunRecord) -> Optional[Dict[str, int]]:
    spec = record.model.get("spec") or {}
    fam = spec.get("family") if isinstance(spec, dict) else None
    return dict(fam) if fam else None


def _key(record: RunRecord) -> Optional[Key]:
    fam = _family(record)
    if not fam:
        return None
    return (fam["conv_layers"], fam["depth"], fam["fc_layers"], fam["neurons"], record.batch)


def index_runs(records: Iterable[RunRecord]) -> Dict[Key, RunRecord]:
    """Study-family runs by (conv_layers, depth, fc_layers, neurons, batch); the newest wins."""
    table: Dict[Key, RunRecord] = {}
    for rec in sorted(records, key=lambda r: r.created):
        key = _key(rec)
        if key:
            table[key] = rec
    return table


def index_repeats(records: Iterable[RunRecord]) -> Dict[Key, List[RunRecord]]:
    """Study-family runs by (conv_layers, depth, fc_layers, neurons, batch), every run of a point
    (repeats, and the same point in several sweeps), oldest first: what the findings judge."""
    table: Dict[Key, List[RunRecord]] = {}
    for rec in sorted(records, key=lambda r: r.created):
        key = _key(rec)
        if key:
            table.setdefault(key, []).append(rec)
    return table


def records_of(value: Union[RunRecord, Sequence[RunRecord], None]) -> List[RunRecord]:
    """A point's runs as a list, whether `Runs` holds one run of it or several."""
    if value is None:
        return []
    if isinstance(value, RunRecord):
        return [value]
    return list(value)


def all_records(runs: Runs) -> List[RunRecord]:
    """Every run of every point."""
    return [r for v in runs.values() for r in records_of(v)]


def point_at(runs: Runs, key: Key) -> Optional[Point]:
    """The point at `key`, its runs' loops pooled; None when it was not measured."""
    recs = records_of(runs.get(key))
    if not recs:
        return None
    return Point([v for r in recs for v in loop_ms_per_item(r)], len(recs))
