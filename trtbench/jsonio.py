"""JSON in and out, one way for every file trtbench writes.

Numbers that JSON cannot hold (NaN, ±inf) are written as ``null``; paths and other objects as
their text; dataclasses and objects with ``to_dict()`` as their dict. A file is written
atomically (a temporary file renamed into place), so an interrupted write never leaves half a
file; ``-`` means standard output.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
from pathlib import Path
from typing import Any, Optional, Union

from trtbench.errors import TrtbenchError

Dest = Union[str, Path]


def plain(value: Any) -> Any:
    """`value` as plain JSON data: NaN/inf → None, paths → text, dataclasses → dicts."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if hasattr(value, "to_dict"):
        return plain(value.to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    if hasattr(value, "item"):  # numpy scalars
        return plain(value.item())
    if hasattr(value, "tolist"):  # numpy arrays
        return plain(value.tolist())
    return str(value)


def dumps(payload: Any, indent: Optional[int] = 2) -> str:
    """Strict JSON text (no NaN), ending without a newline."""
    return json.dumps(plain(payload), indent=indent, allow_nan=False)


def write_text(text: str, dest: Dest, what: str = "--json") -> None:
    """Write `text` (plus a final newline) to the file `dest` atomically, or to stdout for ``-``."""
    text = text if text.endswith("\n") else text + "\n"
    if str(dest) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    path = Path(dest)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text)
        tmp.replace(path)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise TrtbenchError(f"cannot write {path}: {exc.strerror or exc}", hint=f"give another path to {what}") from None


def check_writable(dest: Dest, what: str = "--json", creates_folders: bool = False) -> None:
    """Raise now, before any work, when `dest` cannot be written: its folder is missing or
    read-only (``-`` is stdout). A folder given as `dest` that exists is checked as the folder
    outputs go into; `creates_folders`: the command makes missing folders, so the nearest one that
    exists is checked. A probe file is created and removed."""
    if str(dest) == "-":
        return
    path = Path(dest)
    folder = path if path.is_dir() else path.parent
    while creates_folders and not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise TrtbenchError(f"cannot write {path}: the folder {folder} does not exist",
                            hint=f"create it, or give another path to {what}")
    probe = folder / f".trtbench-probe-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise TrtbenchError(f"cannot write into {folder}: {exc.strerror or exc}",
                            hint=f"give another path to {what}") from None


def write_json(payload: Any, dest: Dest, what: str = "--json", indent: Optional[int] = 2) -> None:
    """`payload` as JSON to the file `dest` (atomically) or to stdout for ``-``."""
    write_text(dumps(payload, indent=indent), dest, what)


def read_json(path: Path, what: str = "JSON file") -> Any:
    """Parsed JSON from `path`; one-line `TrtbenchError` when it is missing or not JSON."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise TrtbenchError(f"{what} {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TrtbenchError(f"cannot read {what} {path}: {exc}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise TrtbenchError(f"{path} is not valid JSON ({exc})") from None
