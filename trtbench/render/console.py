"""The console every renderer writes to, the house table style, and the table exports.

On a terminal: colour and box-drawn tables. Not a terminal (a pipe, a file, CI, an old Jetson
serial console): plain ASCII tables without colour, so output stays greppable. ``NO_COLOR``
turns colour off on a terminal too. Results go to stdout; progress, notes and warnings to stderr
(``-q`` keeps only warnings and errors there). Tables shown with `show` are also collected for
``--csv``/``--markdown`` (`export_tables`).
"""
from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any, List, Optional, Sequence

from rich.console import Console

from trtbench import env
from trtbench.render.sheet import Sheet

_stdout: Optional[Console] = None
_stderr: Optional[Console] = None
_quiet = False
_verbose = False
_shown: List[Sheet] = []


def configure(quiet: bool = False, verbose: bool = False) -> None:
    """How much to say on stderr (`quiet`: only warnings and errors, `verbose`: every note), for
    one command: the tables kept for the exports start empty."""
    global _quiet, _verbose
    _quiet, _verbose = quiet, verbose
    _shown.clear()


def quiet() -> bool:
    return _quiet


def stdout() -> Console:
    global _stdout
    if _stdout is None:
        tty = sys.stdout.isatty()
        # no_color=None lets rich honour NO_COLOR on a terminal; a pipe never gets colour
        _stdout = Console(no_color=None if tty else True, highlight=False, soft_wrap=not tty,
                          width=None if tty else env.columns())
    return _stdout


def stderr() -> Console:
    global _stderr
    if _stderr is None:
        _stderr = Console(stderr=True, highlight=False, no_color=None if sys.stderr.isatty() else True)
    return _stderr


def table(title: str, columns: Sequence[str], right: Sequence[str] = (), no_wrap: Sequence[str] = ()) -> Sheet:
    """A table in the house style; columns named in `right` are right-aligned (numbers)."""
    return Sheet(title, columns, right, no_wrap)


def show(*items: Any) -> None:
    """Print tables (and anything else rich prints) on stdout; tables are kept for the exports."""
    out = stdout()
    for item in items:
        if isinstance(item, Sheet):
            _shown.append(item)
            item = item.to_rich(out.is_terminal)
        out.print(item)


def line(text: str = "", bold: bool = False) -> None:
    """One line of result text on stdout, printed as it is (no markup)."""
    stdout().print(text, style="bold" if bold else None, markup=False, highlight=False)


def shown_tables() -> List[Sheet]:
    return list(_shown)


def export_tables(csv: Optional[Path] = None, markdown: Optional[Path] = None) -> List[Path]:
    """Write the tables shown so far: Markdown, all in one file; CSV, one file for one table, else
    one file per table (FILE-<n>-<table>.csv). Returns the files written."""
    from trtbench import jsonio

    written: List[Path] = []
    if not _shown:
        return written
    if markdown is not None:
        jsonio.write_text("\n".join(s.to_markdown() for s in _shown), markdown, what="--markdown")
        written.append(Path(markdown))
    if csv is not None:
        csv = Path(csv)
        if len(_shown) == 1:
            jsonio.write_text(_shown[0].to_csv(), csv, what="--csv")
            written.append(csv)
        for i, sheet in enumerate(_shown if len(_shown) > 1 else [], start=1):
            path = csv.with_name(f"{csv.stem}-{i}-{sheet.slug()}{csv.suffix or '.csv'}")
            jsonio.write_text(sheet.to_csv(), path, what="--csv")
            written.append(path)
    return written


def warn(message: str) -> None:
    """One warning line on stderr (shown even with -q)."""
    err = stderr()
    if err.is_terminal and not err.no_color:
        err.print("[yellow]warning:[/yellow] ", end="", soft_wrap=True)
        err.print(message, markup=False, soft_wrap=True)
    else:
        err.print(f"warning: {message}", markup=False, soft_wrap=True)


def info(message: str) -> None:
    """One informational line on stderr (keeps stdout clean for tables and JSON); not with -q."""
    if not _quiet:
        stderr().print(message, markup=False, soft_wrap=True)


def detail(message: str) -> None:
    """A line only -v shows."""
    if _verbose:
        stderr().print(message, markup=False, soft_wrap=True)


def fmt(value: Any, digits: int = 3) -> str:
    """A number with `digits` significant figures, thousands separated; '-' for None or NaN."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    v = float(value)
    if not math.isfinite(v):
        return "-" if math.isnan(v) else ("∞" if v > 0 else "-∞")
    if v == 0:
        return "0"
    if abs(v) >= 1e15:  # 1e308 written out would be a 400-character cell
        return f"{v:.{digits}g}"
    if abs(v) >= 10 ** digits:
        return f"{v:,.0f}"
    if abs(v) < 1e-3:
        return f"{v:.{digits}g}"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(v)))))
    return f"{v:,.{decimals}f}"
