"""A study folder's report written out: report.md, findings.json, commands.txt, and optionally a
published copy (e.g. docs/reproduction.md) with its figures beside it and its hand-written part kept."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional

from trtbench import jsonio
from trtbench.errors import TrtbenchError
from trtbench.study2016 import collect
from trtbench.study2016.findings import Finding
from trtbench.study2016.report import StudyContext, render_study_report

HAND_START = "<!-- written by hand: kept when the report is regenerated -->"
HAND_END = "<!-- end of the hand-written part -->"


def durations_path(out: Path) -> Path:
    return out / "durations.json"


def load_durations(out: Path) -> Dict[str, float]:
    """Seconds each step took, summed over the sessions that ran it."""
    try:
        data = jsonio.read_json(durations_path(out), "durations file")
        return {str(k): float(v) for k, v in data.items()}
    except (TrtbenchError, AttributeError, TypeError, ValueError):
        return {}


def saved_commands(out: Path) -> List[str]:
    try:
        text = jsonio.read_file_text(out / "commands.txt", "study commands", errors="replace")
    except TrtbenchError:
        return []
    return [line for line in text.splitlines() if line.strip()]


def write_report(out: Path, commands: List[str], baseline: Optional[Path] = None, title: Optional[str] = None,
                 report: Optional[Path] = None) -> List[Finding]:
    """Judge the findings from what `out` holds and write report.md, findings.json, commands.txt;
    with `report`, also publish the report there (see `publish`)."""
    results = collect.collect(out)
    if not results.records:
        raise TrtbenchError(f"{out} holds no study runs", hint=f"run: trtbench study --out {out}")
    base = None
    if baseline is not None:
        if not (Path(baseline) / "study.db").is_file():
            raise TrtbenchError(f"--baseline {baseline} is not a study folder (no study.db)",
                                hint="give the --out folder of another trtbench study run")
        base = collect.collect(Path(baseline))
    found = collect.judge_all(results, base)
    first = results.records[0]
    ctx = StudyContext(
        title=title or f"The 2016 study re-run with trtbench: {first.backend} on {first.device_name or first.device}",
        machine=collect.machine_summary(results.records, results.training),
        backend=first.backend, device=first.device_name or first.device, precision=first.precision,
        commands=commands, table2_runs=collect.table2_runs(results.records), training_rows=results.training,
        figures=[str(p.relative_to(out)) for p in results.figures],
        fit=results.fits.get("study"), drift=results.drift, durations=load_durations(out),
        sweep_runs=results.sweep_runs, points=len(results.records),
    )
    if baseline is not None:
        ctx.notes.append(f"finding 6 compares this run (B) with the study folder {baseline} (A)")
    jsonio.write_text("\n".join(commands), out / "commands.txt")
    jsonio.write_text(render_study_report(found, ctx), out / "report.md")
    if report is not None:
        publish(report, results.figures, found, ctx)
    jsonio.write_json([f.to_dict() for f in found], out / "findings.json", indent=1)
    return found


def kept_notes(path: Path) -> str:
    """The hand-written block of an earlier report at `path` (between HAND_START and HAND_END)."""
    try:
        text = jsonio.read_file_text(path, "report", errors="replace")
    except TrtbenchError:
        return ""
    start, end = text.find(HAND_START), text.find(HAND_END)
    return text[start:end + len(HAND_END)] if 0 <= start < end else ""


def publish(path: Path, figures: List[Path], found: List[Any], ctx: StudyContext) -> None:
    """The report at `path` with its figures copied to ``<path without .md>/`` beside it."""
    folder = path.with_suffix("")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    for figure in figures:
        shutil.copyfile(figure, folder / figure.name)
    ctx.figures = [f"{folder.name}/{figure.name}" for figure in figures]
    text = render_study_report(found, ctx)
    kept = kept_notes(path)
    if kept:  # the hand-written part of an earlier version goes under the new title
        heading, rest = text.split("\n", 1)
        text = f"{heading}\n\n{kept}\n{rest}"
    jsonio.write_text(text, path, what="--report")
