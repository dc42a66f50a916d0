"""A table as data: a title, columns and rows of text, rendered as a rich table, CSV or Markdown.

Every table trtbench prints is a `Sheet`, so ``--csv`` and ``--markdown`` write exactly what the
terminal shows (hyperfine's ``--export-csv``/``--export-markdown``, for any command's tables).
"""
from __future__ import annotations

import csv
import io
import re
from typing import Any, List, Sequence

from rich import box
from rich.table import Table


class Sheet:
    """Rows of cells under named columns; columns named in `right` hold numbers (right-aligned)."""

    def __init__(self, title: str, columns: Sequence[str], right: Sequence[str] = (), no_wrap: Sequence[str] = (),
                 header: bool = True) -> None:
        self.title = title
        self.columns = list(columns)
        self.right = set(right)
        self.no_wrap = set(no_wrap)
        self.header = header
        self.rows: List[List[str]] = []

    def add_row(self, *cells: Any) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"table {self.title!r} has {len(self.columns)} columns, got {len(cells)} cells")
        self.rows.append(["" if c is None else str(c) for c in cells])

    # ---- renderings ----------------------------------------------------------------------
    def to_rich(self, terminal: bool = True) -> Table:
        """A rich table in the house style: box-drawn on a terminal, plain ASCII in a pipe. Cells are
        text, never markup, so a layer called ``conv1 [/] tail`` shows as it is."""
        from rich.text import Text

        t = Table(title=(self.title or None) if self.header else None, box=(box.SIMPLE_HEAD if terminal else box.ASCII2) if self.header else None,
                  title_justify="left", show_edge=terminal and self.header, show_header=self.header,
                  pad_edge=self.header)
        for name in self.columns:
            t.add_column(name, justify="right" if name in self.right else "left", no_wrap=name in self.no_wrap)
        for row in self.rows:
            t.add_row(*(Text(cell) for cell in row))
        return t

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows(self.rows)
        return out.getvalue()

    def to_markdown(self) -> str:
        def cell(text: str) -> str:
            return text.replace("|", "\\|").replace("\n", " ")

        lines = [f"### {cell(self.title)}", ""] if self.title else []
        lines.append("| " + " | ".join(cell(c) for c in self.columns) + " |")
        lines.append("|" + "|".join("---:" if c in self.right else "---" for c in self.columns) + "|")
        lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in self.rows]
        return "\n".join(lines) + "\n"

    def slug(self) -> str:
        """The title as a short file-name part: ``Time per category (profiling pass)`` → ``time-per-category``."""
        words = re.findall(r"[a-z0-9]+", self.title.lower().split("(")[0])
        return "-".join(words)[:40] or "table"
