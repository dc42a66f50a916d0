"""The rich console and table style shared by every renderer.

On a terminal: colour and box-drawn tables. Not a terminal (a pipe, a file, CI, an old Jetson
serial console): plain ASCII tables without colour, so output stays greppable.
"""
from __future__ import annotations

import math
import sys
from typing import Any, Optional, Sequence

from rich import box
from rich.console import Console
from rich.table import Table

_stdout: Optional[Console] = None
_stderr: Optional[Console] = None


def stdout() -> Console:
    global _stdout
    if _stdout is None:
        tty = sys.stdout.isatty()
        _stdout = Console(no_color=not tty, highlight=False, soft_wrap=not tty, width=None if tty else 120)
    return _stdout


def stderr() -> Console:
    global _stderr
    if _stderr is None:
        _stderr = Console(stderr=True, highlight=False, no_color=not sys.stderr.isatty())
    return _stderr


def table(title: str, columns: Sequence[str], right: Sequence[str] = ()) -> Table:
    """A table in the house style; columns named in `right` are right-aligned (numbers)."""
    tty = stdout().is_terminal
    t = Table(title=title, box=box.SIMPLE_HEAD if tty else box.ASCII2, title_justify="left",
              show_edge=tty)
    for name in columns:
        t.add_column(name, justify="right" if name in right else "left")
    return t


def warn(message: str) -> None:
    """One warning line on stderr."""
    stderr().print(f"[yellow]warning:[/yellow] {message}" if stderr().is_terminal else f"warning: {message}",
                   markup=stderr().is_terminal, soft_wrap=True)


def info(message: str) -> None:
    """One informational line on stderr (keeps stdout clean for tables and JSON)."""
    stderr().print(message, markup=False, soft_wrap=True)


def fmt(value: Any, digits: int = 3) -> str:
    """A number with `digits` significant figures, thousands separated; '-' for None."""
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    v = float(value)
    if v == 0:
        return "0"
    if abs(v) >= 10 ** digits:
        return f"{v:,.0f}"
    if abs(v) < 1e-3:
        return f"{v:.{digits}g}"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(v)))))
    return f"{v:,.{decimals}f}"
