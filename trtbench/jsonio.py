"""JSON in and out, one way for every file trtbench writes, and the one way to read a user's file.

Numbers that JSON cannot hold (NaN, ±inf) are written as ``null``; paths and other objects as
their text; dataclasses and objects with ``to_dict()`` as their dict. A file is written
atomically (a temporary file renamed into place), so an interrupted write never leaves half a
file; ``-`` means standard output.

Reading (`read_file_bytes`, `read_file_text`, `read_json`): every file a user names is hostile
until read. Only a regular file is opened (a FIFO would block forever, a device never end), up
to `MAX_FILE_BYTES`; text that is not UTF-8, JSON that is not JSON or nests too deep: each ends in
one `TrtbenchError` line naming the file.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import stat
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
    check_regular_destination(path, what)
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


def check_regular_destination(path: Path, what: str) -> None:
    """Refuse a FIFO or a device as a file to write: the atomic rename would silently replace it."""
    if path.exists() and not path.is_dir() and not path.is_file():
        raise TrtbenchError(f"cannot write {path}: it is not a regular file (a FIFO or a device)",
                            hint=f"give a file path to {what}, or - for stdout")


def check_writable(dest: Dest, what: str = "--json", creates_folders: bool = False) -> None:
    """Raise now, before any work, when `dest` cannot be written: its folder is missing or
    read-only (``-`` is stdout). A folder given as `dest` that exists is checked as the folder
    outputs go into; `creates_folders`: the command makes missing folders, so the nearest one that
    exists is checked. A probe file is created and removed."""
    if str(dest) == "-":
        return
    path = Path(dest)
    check_regular_destination(path, what)
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


MAX_FILE_BYTES = 512 * 2 ** 20  # larger than any log, export or run file trtbench reads

_NOT_FILES = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
              (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _named(what: str, path: Path) -> str:
    return f"{what} {path}" if what else str(path)


def _refuse_unless_regular(mode: int, what: str, path: Path) -> None:
    for test, kind in _NOT_FILES:
        if test(mode):
            raise TrtbenchError(f"{_named(what, path)} is {kind}, not a regular file", hint="give the file itself")
    if not stat.S_ISREG(mode):
        raise TrtbenchError(f"{_named(what, path)} is not a regular file", hint="give the file itself")


def _too_large(what: str, path: Path, size: str, limit: int) -> TrtbenchError:
    most = f"{limit // 2 ** 20} MiB" if limit >= 2 ** 20 else f"{limit:,} bytes"
    return TrtbenchError(f"{_named(what, path)} is {size} than the {most} trtbench reads",
                         hint="is it the right file? cut it to the part you need")


def require_regular_file(path: Union[str, Path], what: str = "") -> None:
    """A one-line `TrtbenchError` unless `path` is an existing regular file (checked from its
    `stat`, so a FIFO is refused without being opened), for files another library opens."""
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise TrtbenchError(f"{_named(what, path)} does not exist") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        raise TrtbenchError(f"cannot read {_named(what, path)}: {getattr(exc, 'strerror', None) or exc}") from None
    _refuse_unless_regular(info.st_mode, what, path)


def read_file_bytes(path: Union[str, Path], what: str = "", limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the file a user named: a regular file only (a FIFO, device or directory is
    refused from its `stat`, without opening it, so it cannot block), at most `limit` bytes.
    `what` ("log", "run file") starts the one-line `TrtbenchError` that names the file."""
    path = Path(path)
    require_regular_file(path, what)
    info = os.stat(path)
    if info.st_size > limit:
        raise _too_large(what, path, f"{info.st_size:,} bytes, more", limit)
    try:
        # O_NONBLOCK: a file swapped for a FIFO after the stat still cannot block the open
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as handle:
            _refuse_unless_regular(os.fstat(handle.fileno()).st_mode, what, path)
            data = handle.read(limit + 1)
    except OSError as exc:
        raise TrtbenchError(f"cannot read {_named(what, path)}: {exc.strerror or exc}") from None
    if len(data) > limit:  # it grew since the stat (a log still being written)
        raise _too_large(what, path, "larger", limit)
    return data


def read_file_text(path: Union[str, Path], what: str = "", errors: str = "strict",
                   limit: int = MAX_FILE_BYTES) -> str:
    """The text of the file a user named (`read_file_bytes`), decoded as UTF-8 (a leading BOM
    dropped). ``errors="replace"`` suits logs, where a stray byte must not lose the rest; with
    ``"strict"`` bytes that are not UTF-8 are a one-line `TrtbenchError` naming the file."""
    data = read_file_bytes(path, what, limit)
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        return data[bom:].decode("utf-8", errors)
    except UnicodeDecodeError as exc:
        raise TrtbenchError(f"{_named(what, Path(path))} is not UTF-8 text (byte 0x{data[bom + exc.start]:02x} at "
                            f"offset {bom + exc.start})", hint="save it as UTF-8; is it the right file?") from None


def read_json(path: Path, what: str = "JSON file") -> Any:
    """Parsed JSON from `path`; one-line `TrtbenchError` when it is missing, not a regular file,
    too large, not UTF-8, not JSON or nested too deep."""
    text = read_file_text(path, what)
    try:
        return json.loads(text)
    except ValueError as exc:
        raise TrtbenchError(f"{path} is not valid JSON ({exc})") from None
    except RecursionError:
        raise TrtbenchError(f"{path} is not JSON trtbench reads: its arrays or objects nest too deep") from None
