"""Rich tables for run records: headline, categories, layers, validity; and their JSON.

Used by `profile` (right after measuring) and `show` (re-rendering saved runs): the same record
always reads the same, on a terminal (box tables, colour) or in a pipe (plain ASCII).
"""

from __future__ import annotations

import math
import statistics
from itertools import groupby
from typing import List, Optional, Sequence, Tuple

from rich.console import Console

from trtbench.analysis.compare import Comparison
from trtbench.categories import CATEGORIES
from trtbench.render import console as house
from trtbench.render.sheet import Sheet
from trtbench.results import intervals
from trtbench.results.record import RunRecord

TOP_LAYERS = 15
_PASSING = {"pass", "passed", "ok", "valid"}


# ---- numbers -------------------------------------------------------------------------------
def spread(record: RunRecord) -> Tuple[Optional[float], Optional[float], Optional[float]]:
    """(CV %, min ms, max ms) over every per-iteration time of the timing pass; Nones when absent.

    CV uses the sample standard deviation, as the validity checks do.
    """
    times = [float(t) for loop in record.iteration_ms for t in loop]
    if not times:
        return None, None, None
    mean = statistics.fmean(times)
    cv = 100.0 * statistics.stdev(times) / mean if len(times) > 1 and mean > 0 else None
    return cv, min(times), max(times)


def _pct(value: Optional[float], digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f} %"


# ---- pieces ---------------------------------------------------------------------------------
def title(record: RunRecord) -> str:
    """One line naming the run: model, backend, device, precision, batch, id, time."""
    device = record.device + (f" ({record.device_name})" if record.device_name else "")
    backend = record.backend + (f" {record.backend_version}" if record.backend_version else "")
    return (
        f"{record.model_name} · {backend} on {device} · {record.precision} · batch {record.batch:,}"
        f" · run {record.run_id} · {record.created}"
    )


def plural(item: str) -> str:
    return f"{item}s"


def rate_label(records: Sequence[RunRecord]) -> str:
    """``images/s`` (``samples/s`` when every run's items are samples, not images or tiles)."""
    return "samples/s" if records and all(r.item == "sample" for r in records) else "images/s"


def headline(record: RunRecord) -> Sheet:
    """The measured throughput: items per second (and tiles/ms for the study's tiles), ms per
    batch and per item, spread, how it was timed."""
    cv, low, high = spread(record)
    t = Sheet(f"{record.model_name}, batch {record.batch}: throughput", ["what", "value"], header=False)
    t.add_row(rate_label([record]), house.fmt(record.images_per_s, 4))
    if record.item == "tile":
        t.add_row("tiles/ms", house.fmt(record.tiles_per_ms, 4))
    t.add_row("ms per batch", house.fmt(record.end_to_end_ms, 4))
    t.add_row(f"ms per {record.item}", house.fmt(record.ms_per_tile, 4))
    spread_text = _pct(cv)
    if low is not None and high is not None:
        spread_text = f"CV {spread_text}, {house.fmt(low)}–{house.fmt(high)} ms per iteration"
    interval = _interval_text(record)
    if interval:
        t.add_row("95 % interval", interval)
    t.add_row("spread", spread_text)
    t.add_row("timed", f"{record.loops} loops × {record.iterations} iterations, {record.warmup} warm-up"
              + _sampling_text(record))
    t.add_row("profiler overhead", "-" if record.overhead is None else _pct(100.0 * record.overhead))
    return t


def _interval_text(record: RunRecord) -> str:
    """The throughput's interval and its half-width: ``25,610–26,480 images/s (±1.7 %, 10 loops)``."""
    found = intervals.end_to_end(record)
    if found is None or found.low <= 0:
        return ""
    rate_low, rate_high = 1000.0 * record.batch / found.high, 1000.0 * record.batch / found.low
    width = found.half_width(record.end_to_end_ms)
    unit = "loops" if record.loops >= 2 else "iterations"
    cover = "" if found.level >= 0.95 else f", only {100 * found.level:.0f} % coverage"
    return (f"{house.fmt(rate_low, 4)}–{house.fmt(rate_high, 4)} {rate_label([record])} "
            f"(±{100 * width:.1f} %, {found.n} {unit}{cover})")


def _sampling_text(record: RunRecord) -> str:
    sampling = record.sampling or {}
    if sampling.get("mode") != "adaptive":
        return ""
    ended = {"precision": f"stopped at ±{100 * float(sampling.get('target') or 0):g} %",
             "budget": f"stopped by the {float(sampling.get('budget_s') or 0):g} s budget",
             "max-loops": "stopped at the most loops"}.get(str(sampling.get("ended_by")), "")
    return f"; adaptive, {ended} after {float(sampling.get('seconds') or 0):.1f} s" if ended else ""


def _width_pct(record: RunRecord) -> str:
    found = intervals.end_to_end(record)
    return "-" if found is None else f"±{100 * found.half_width(record.end_to_end_ms):.1f}"


def _category_interval(record: RunRecord, name: str) -> str:
    pair = intervals.from_list(((record.intervals or {}).get("categories") or {}).get(name))
    return "" if pair is None else f"{house.fmt(pair.low)}–{house.fmt(pair.high)}"


def _ordered_categories(record: RunRecord) -> List[Tuple[str, float]]:
    cats = dict(record.categories)
    ordered = [(c, cats.pop(c)) for c in CATEGORIES if c in cats]
    return ordered + sorted(cats.items())


def _shares(values: Sequence[float]) -> List[Optional[float]]:
    """Each value's share of their sum in %, scaled by the largest first so that a sum past the
    float range (a damaged file's 1e308 ms) still gives shares, not NaN; None without a sum."""
    scale = max((abs(v) for v in values), default=0.0)
    if not scale or not math.isfinite(scale):
        return [None] * len(values)
    scaled = [v / scale for v in values]
    total = sum(scaled)
    return [100.0 * v / total if total else None for v in scaled]


def category_table(record: RunRecord) -> Sheet:
    """Time per category (the study's operation classes), in canonical order, with a total."""
    cats = _ordered_categories(record)
    total = sum(ms for _, ms in cats)
    shares = _shares([ms for _, ms in cats])
    per_item = f"µs per {record.item}"
    has_ci = bool((record.intervals or {}).get("categories"))
    ci = ["95 % interval, ms"] if has_ci else []
    t = house.table(
        "Time per category (profiling pass)",
        ["category", "ms per batch", *ci, "%", per_item],
        right=["ms per batch", *ci, "%", per_item],
    )
    for (name, ms), share in zip(cats, shares):
        t.add_row(
            name,
            house.fmt(ms),
            *([_category_interval(record, name)] if has_ci else []),
            _pct(share),
            house.fmt(1000.0 * ms / record.batch),
        )
    t.add_row(
        "total", house.fmt(total), *([""] if has_ci else []),
        _pct(100.0 if any(s is not None for s in shares) else None), house.fmt(1000.0 * total / record.batch)
    )
    return t


def layer_table(record: RunRecord, verbose: bool = False) -> Sheet:
    """Per-layer times: all in execution order with `verbose`, else the slowest `TOP_LAYERS`."""
    layers = list(record.layers)
    has_type = any(layer.type for layer in layers)
    columns = ["layer", "category"] + (["type"] if has_type else []) + ["ms", "%"]
    if verbose or len(layers) <= TOP_LAYERS:
        shown, title = layers, f"Layers ({len(layers)}, execution order)"
    else:
        shown = sorted(layers, key=lambda layer: layer.ms, reverse=True)[:TOP_LAYERS]
        title = f"Slowest {TOP_LAYERS} of {len(layers)} layers"
    t = house.table(title, columns, right=["ms", "%"])
    for layer in shown:
        t.add_row(
            layer.name,
            layer.category,
            *([layer.type or ""] if has_type else []),
            house.fmt(layer.ms),
            _pct(layer.percent),
        )
    hidden = len(layers) - len(shown)
    if hidden:
        rest = sum(layer.ms for layer in layers) - sum(layer.ms for layer in shown)
        t.add_row(
            f"... {hidden} more (--verbose shows all)", "", *([""] if has_type else []), house.fmt(rest), ""
        )
    return t


def validity_lines(record: RunRecord) -> List[str]:
    """The verdict, then each check that did not pass with its fix."""
    verdict = record.validity.verdict
    lines = [f"verdict: {verdict}"] if verdict else []
    for check in record.validity.checks:
        status = check.status.lower()
        if status in _PASSING:
            continue
        line = f"  {status.upper() or '?'} {check.name}: {check.message}".rstrip()
        if check.fix:
            line += f" (fix: {check.fix})"
        lines.append(line)
    return lines


def batch_table(records: Sequence[RunRecord]) -> Sheet:
    """One row per batch size of one model/backend/device: the study's batch axis."""
    first = records[0]
    tiles = all(r.item == "tile" for r in records)
    columns = ["batch", rate_label(records), *(["tiles/ms"] if tiles else []), "ms per batch", "± % (95 %)", "CV %"]
    t = house.table(
        f"{first.model_name} · {first.backend} on {first.device} · {first.precision}: by batch", columns,
        right=columns,
    )
    for record in sorted(records, key=lambda r: r.batch):
        cv = spread(record)[0]
        t.add_row(
            f"{record.batch:,}",
            house.fmt(record.images_per_s, 4),
            *([house.fmt(record.tiles_per_ms, 4)] if tiles else []),
            house.fmt(record.end_to_end_ms, 4),
            _width_pct(record),
            "-" if cv is None else f"{cv:.1f}",
        )
    return t


def _series_key(record: RunRecord) -> Tuple[str, str, str, str, str]:
    return (record.model_name, record.backend, record.device, record.device_name, record.precision)


def _label(record: RunRecord) -> str:
    device = record.device_name or record.device
    return (
        f"{record.backend} on {device} ({record.device}), {record.precision}, "
        f"batch {record.batch:,}, run {record.run_id}"
    )


def _times(value: Optional[float]) -> str:
    return "-" if value is None else f"{house.fmt(value)}×"


def comparison_table(result: Comparison) -> Sheet:
    """Per category: µs per tile on each side, speedup B over A, what the peaks predict, flags."""
    has_prediction = result.prediction is not None
    columns = (
        ["category", "A µs/tile", "B µs/tile", "speedup B/A", "95 % interval"]
        + (["predicted"] if has_prediction else [])
        + ["note"]
    )
    t = house.table(
        "Time per tile and speedup of B over A (total: timing passes; categories: profiling passes)",
        columns,
        right=["A µs/tile", "B µs/tile", "speedup B/A", "95 % interval", "predicted"],
    )
    for row in list(result.categories) + [result.total]:
        notes = [f"departs >{2:g}× from overall"] if row.flagged else []
        if row.category != "total" and row.speedup is None:
            notes = ["only in A" if row.a_ms > 0 else "only in B"]
        if row.difference == "no difference":
            notes.insert(0, "no difference (holds 1)")
        if row.off_prediction:
            notes.append("far from predicted")
        interval = "-" if row.interval is None else f"{house.fmt(row.interval[0])}–{house.fmt(row.interval[1])}×"
        cells = [row.category, house.fmt(1000 * row.a_ms), house.fmt(1000 * row.b_ms), _times(row.speedup), interval]
        t.add_row(*cells, *([_times(row.predicted)] if has_prediction else []), "; ".join(notes))
    return t


def _names(names: Sequence[str]) -> str:
    """A group of layer names, shortened to first and last when the group is large."""
    if not names:
        return "-"
    short = [name if len(name) <= 48 else f"{name[:22]}...{name[-22:]}" for name in names]
    if len(short) <= 3:
        return " + ".join(short)
    return f"{short[0]} + ... + {short[-1]} ({len(short)} layers)"


def layer_pair_table(result: Comparison, verbose: bool = False) -> Sheet:
    """Layers aligned across the two runs (fused groups on one row), slowest on A first unless verbose."""
    pairs = list(result.layers)
    shown = (
        pairs
        if verbose or len(pairs) <= TOP_LAYERS
        else sorted(pairs, key=lambda p: max(p.a_ms, p.b_ms), reverse=True)[:TOP_LAYERS]
    )
    t = house.table(
        "Layers, aligned",
        ["A layers", "B layers", "category", "A µs/tile", "B µs/tile", "speedup", "matched by"],
        right=["A µs/tile", "B µs/tile", "speedup"],
    )
    for pair in shown:
        t.add_row(
            _names(pair.a_names),
            _names(pair.b_names),
            pair.category,
            house.fmt(1000 * pair.a_ms) if pair.a_names else "-",
            house.fmt(1000 * pair.b_ms) if pair.b_names else "-",
            _times(pair.speedup),
            pair.matched_by or "one side",
        )
    if len(shown) < len(pairs):
        t.add_row(f"... {len(pairs) - len(shown)} more (--verbose shows all)", "", "", "", "", "", "")
    return t


class _Out:
    """Where a renderer prints: the house console (tables kept for --csv/--markdown), or a given one."""

    def __init__(self, console: Optional[Console]) -> None:
        self.console = console

    def table(self, sheet: Sheet) -> None:
        if self.console is None:
            house.show(sheet)
        else:
            self.console.print(sheet.to_rich(self.console.is_terminal))

    def line(self, text: str = "", bold: bool = False) -> None:
        out = self.console or house.stdout()
        out.print(text, style="bold" if bold else None, markup=False, highlight=False)


def print_comparisons(
    results: Sequence[Comparison], verbose: bool = False, console: Optional[Console] = None
) -> None:
    """Render each comparison: which runs, the category table, the prediction, notes, the layers."""
    out = _Out(console)
    for index, result in enumerate(results):
        if index:
            out.line()
        out.line(f"A: {result.a.model_name} · {_label(result.a)}")
        out.line(f"B: {result.b.model_name} · {_label(result.b)}")
        out.table(comparison_table(result))
        prediction = result.prediction
        if prediction is not None:
            out.line(
                f"predicted from target profiles {prediction.a_target} → {prediction.b_target}: "
                f"peak FLOP/s {_times(prediction.compute)} (conv, fc), "
                f"bandwidth {_times(prediction.bandwidth)} (pool, elementwise, reformat)"
            )
        for note in result.notes:
            out.line(f"note: {note}")
        if result.layers:
            out.table(layer_pair_table(result, verbose))


def _gist(line: str, words: int = 6) -> str:
    """A repeated check or note by its first words (``WARN spread: per-iteration times vary…``)."""
    parts = line.strip().split()
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


# ---- entry points ---------------------------------------------------------------------------
def print_records(
    records: Sequence[RunRecord], verbose: bool = False, console: Optional[Console] = None
) -> None:
    """Render each record (headline, categories, layers, validity), then a batch table for every
    model/backend/device measured at several batch sizes."""
    out = _Out(console)
    shown: set = set()  # check lines and notes already printed for an earlier record
    for index, record in enumerate(records):
        if index:
            out.line()
        out.line(title(record), bold=True)
        out.table(headline(record))
        if record.categories:
            out.table(category_table(record))
        if record.layers:
            out.table(layer_table(record, verbose))
        lines = validity_lines(record)
        rest = lines[1:] if lines and lines[0].startswith("verdict:") else lines
        repeated: List[str] = []
        for line in lines[: len(lines) - len(rest)] + rest + [f"note: {n}" for n in record.notes]:
            if line.startswith("verdict:"):
                out.line(line)
            elif line in shown and not verbose:
                repeated.append(line)
            else:
                shown.add(line)
                out.line(line)
        if repeated:  # named, not hidden: the first words of each, the whole with -v
            out.line("  also, as for the batch above: " + "; ".join(_gist(line) for line in repeated))
    keyed = sorted(records, key=_series_key)
    for _, group in groupby(keyed, key=_series_key):
        series = list(group)
        if len({r.batch for r in series}) > 1:
            out.line()
            out.table(batch_table(series))


def report_unknown_layers(records: Sequence[RunRecord]) -> None:
    """With -v: the layers no naming rule knew (they fell to 'other'), so the tables can grow."""
    for record in records:
        for layer in record.layers:
            if layer.category == "other":
                house.detail(f"batch {record.batch}: '{layer.name}' ({layer.type or 'no layer type'}) fell to 'other'")
