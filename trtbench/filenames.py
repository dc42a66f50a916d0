"""Labels (sweep, group and model names) turned into file names that stay in their folder."""
from __future__ import annotations


def safe_name(text: str) -> str:
    """A file-name-safe version of a label: letters, digits, ``-``, ``_`` and ``.`` only, never
    ``..`` or a leading dot, so it cannot climb out of or hide in the folder it is written to."""
    out = "".join(c if c.isalnum() or c in "-_." else "-" for c in str(text))
    while ".." in out:
        out = out.replace("..", "-")
    return out.strip("-.") or "figure"
