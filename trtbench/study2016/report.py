"""The study report: Markdown from judged findings, Table-2 runs, training rows and figures."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence

from trtbench.categories import CATEGORIES
from trtbench.render.console import fmt
from trtbench.results.record import RunRecord
from trtbench.study2016.findings import CLEAR_LEVEL, RUN_SPREAD_FLOOR, Finding
from trtbench.study2016.table2 import STUDY_TABLE2


@dataclass
class StudyContext:
    """Everything the report states besides the findings."""

    title: str
    machine: Dict[str, Any]  # host, CPU/GPU, versions
    backend: str
    device: str
    precision: str
    commands: List[str]  # the commands that produced the report
    table2_runs: Dict[str, RunRecord] = field(default_factory=dict)  # spec name → run at batch 1024
    training_rows: Sequence[Mapping[str, Any]] = field(default_factory=list)
    figures: List[str] = field(default_factory=list)  # relative PNG paths
    fit: Optional[Mapping[str, Any]] = None
    drift: Optional[Mapping[str, Any]] = None
    notes: List[str] = field(default_factory=list)
    durations: Dict[str, float] = field(default_factory=dict)  # step → seconds
    sweep_runs: Dict[str, str] = field(default_factory=dict)  # sweep name → the run reported
    points: int = 0  # measured (network, batch) points behind the findings



def _with_interval(record: RunRecord) -> str:
    """tiles/ms with its 95 % interval: ``4.47 (4.39-4.52)``."""
    from trtbench.results.intervals import end_to_end

    found = end_to_end(record)
    if found is None or found.low <= 0:
        return fmt(record.tiles_per_ms)
    return f"{fmt(record.tiles_per_ms)} ({fmt(record.batch / found.high)}–{fmt(record.batch / found.low)})"

def _row(cells: Sequence[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> List[str]:
    return [_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows)]


def table2_section(ctx: StudyContext) -> List[str]:
    lines = ["## Table 2: throughput and time to accuracy", ""]
    train = {}
    for row in ctx.training_rows:
        spec = row.get("spec")
        name = spec if isinstance(spec, str) else (spec or {}).get("name")
        train[name] = row
    rows = []
    for name, study in STUDY_TABLE2.items():
        rec = ctx.table2_runs.get(name)
        row = train.get(name) or {}
        times = row.get("times_to_accuracy") or {}
        ours = [times.get(str(a)) for a in (90, 95, 97)]
        accuracy = row.get("test_accuracy")
        rows.append([
            name, study["tiles_per_ms"], _with_interval(rec) if rec else "—",
            fmt(rec.tiles_per_ms / study["tiles_per_ms"]) if rec else "—",
            " / ".join(f"{study['seconds'][a]:.1f}" for a in (90, 95, 97)),
            " / ".join("not reached" if s is None else f"{s:.1f}" for s in ours) if row else "—",
            f"{100 * accuracy:.2f}" if accuracy is not None else "—",
            row.get("epochs_run", "—"),
        ])
    lines += _table(["network", "study tiles/ms (GTX 960, Theano)", f"tiles/ms here and its 95 % interval ({ctx.backend}, {ctx.device})",
                     "here / study", "study s to 90/95/97 %", "s to 90/95/97 % here", "test accuracy % here",
                     "epochs here"], rows)
    lines.append("")
    if ctx.table2_runs:
        lines += ["Time per category at batch 1024 (µs per tile):", ""]
        cats = [c for c in CATEGORIES if any(c in r.categories for r in ctx.table2_runs.values())]
        rows = []
        for name, rec in ctx.table2_runs.items():
            total = sum(rec.categories.values()) or 1.0
            rows.append([name, *(f"{1e3 * rec.categories.get(c, 0) / rec.batch:.3g} ({100 * rec.categories.get(c, 0) / total:.0f} %)"
                                 for c in cats),
                         f"{100 * rec.overhead:.0f} %" if rec.overhead is not None else "—"])
        lines += _table(["network", *cats, "profiler overhead"], rows)
        lines.append("")
    return lines


def verdict_note(findings: Sequence[Finding]) -> List[str]:
    """One paragraph under the findings: what the verdicts were decided against."""
    spreads = [f.figures.get("run_spread_pct") for f in findings if f.figures.get("run_spread_pct") is not None]
    if not spreads:
        return []
    repeats = [f.figures.get("repeat_spread_pct") for f in findings if f.figures.get("repeat_spread_pct") is not None]
    measured = (f"{repeats[0]:.1f} % between repeated points of these sweeps" if repeats
                else "no point was measured twice")
    return [f"Each verdict rests on an effect and its 95 % interval, bootstrapped from the runs' loops with a "
            f"run-to-run spread of {spreads[0]:.1f} % (relative SD; {measured}; never taken below "
            f"{100 * RUN_SPREAD_FLOOR:.1f} %). "
            f"An effect counts only when its {100 * CLEAR_LEVEL:.1f} % interval excludes no effect, so that a rerun "
            f"does not flip it; an effect inside the noise counts for nothing, whatever its sign "
            f"(docs/measurement.md, \"What a verdict means\").", ""]


def render_study_report(findings: Sequence[Finding], ctx: StudyContext) -> str:
    """The whole report as Markdown."""
    lines = [f"# {ctx.title}", ""]
    lines += ["Machine and versions:", ""]
    lines += [f"- {k}: {v}" for k, v in ctx.machine.items()]
    lines += [f"- backend: {ctx.backend}, device: {ctx.device}, precision: {ctx.precision}", ""]
    if ctx.sweep_runs:
        lines += ["Sweep runs reported: " + ", ".join(f"{k} run {v}" for k, v in ctx.sweep_runs.items())
                  + f" ({ctx.points} measured points).", ""]
    lines += ["## Findings", ""]
    lines += _table(["#", "the study found", "verdict here", "what trtbench measured"],
                    [[f.number, f.claim, f"**{f.verdict}**", f.measured] for f in findings])
    lines.append("")
    lines += verdict_note(findings)
    lines += table2_section(ctx)
    if ctx.fit:
        total = ctx.fit.get("total") or {}
        lines += ["## Cost model (equations 13-18)", ""]
        coeffs = total.get("coefficients") or {}
        if coeffs:
            lines += _table(["term", "coefficient (ms/tile per unit)"], [[k, f"{v:.3g}"] for k, v in coeffs.items()])
            lines.append("")
        r2, mape = total.get("r2"), total.get("mape")
        if r2 is not None:
            lines += [f"Fitted at batch {ctx.fit.get('batch') or 'all'} over {total.get('points', '?')} networks: "
                      f"in-sample R² {r2:.3f}" + (f", k-fold (out of sample) MAPE {mape:.1f} %" if mape is not None else "")
                      + (f"; repeated points differ from their mean by {ctx.fit['repeat_mape']:.1f} %"
                         if ctx.fit.get("repeat_mape") is not None else "") + ".", ""]
    if ctx.drift:
        source = ctx.drift.get("source") or {}
        lines += ["## Drift", "",
                  f"{source.get('model', '?')} at batch {source.get('batch', '?')}, {source.get('loops', '?')} loops of "
                  f"{source.get('iterations', '?')} inferences, fresh buffers every loop (--alloc {source.get('alloc', '?')}): "
                  + ("**drift**: " if ctx.drift.get("drift") else "") + str(ctx.drift.get("verdict", "")), ""]
        lines += [f"- {note}" for note in ctx.drift.get("notes", [])]
        lines.append("")
    if ctx.figures:
        lines += ["## Figures", ""]
        lines += [f"![{fig.rsplit('/', 1)[-1].rsplit('.', 1)[0]}]({fig})" for fig in ctx.figures]
        lines.append("")
    if ctx.durations:
        lines += ["## Run time", ""]
        lines += [f"- {step}: {seconds / 60:.1f} min" for step, seconds in ctx.durations.items()]
        lines.append("")
    if ctx.notes:
        lines += ["## Notes", ""]
        lines += [f"- {note}" for note in ctx.notes]
        lines.append("")
    lines += ["## Commands", "", "```bash", *ctx.commands, "```", ""]
    return "\n".join(lines)
