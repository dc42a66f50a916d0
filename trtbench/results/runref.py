"""Naming saved runs: a JSON run file, a database file, or a run id (or a unique prefix of one)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Sequence, Union

from trtbench.errors import TrtbenchError
from trtbench.results.record import RunRecord, read_records
from trtbench.results.store import Store

Ref = Union[str, Path]
SQLITE_HEADER = b"SQLite format 3\x00"


def looks_like_file(ref: str) -> bool:
    """A reference that can only mean a file (a path separator or a .json/.db suffix)."""
    return ref.endswith((".json", ".db", ".sqlite")) or "/" in ref or "\\" in ref


def is_database(path: Path) -> bool:
    """Whether `path` is an SQLite file (trtbench's database, or any other)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


def open_existing(db: Path) -> Store:
    """The store at `db`, refusing to create an empty database just to read from it."""
    if not Path(db).exists():
        raise TrtbenchError(
            f"database {db} does not exist",
            hint="run 'trtbench profile' first, or give the right file with --db FILE",
        )
    return Store(Path(db))


def _is_file(path: Path) -> bool:
    """Whether `path` is a file; False for what cannot be a path at all (a name too long)."""
    try:
        return path.is_file()
    except OSError:
        return False


def load_runs(refs: Sequence[Ref], db: Path, kind: str = "profile") -> List[RunRecord]:
    """The records named by `refs`, in order. A JSON file gives all its records (one or an array);
    a database file all its runs of `kind` (oldest first); any other reference is a run id, or a
    unique prefix of one, in database `db`."""
    records: List[RunRecord] = []
    store = None
    try:
        for ref in refs:
            path = Path(ref)
            if _is_file(path):
                if is_database(path):
                    with open_existing(path) as other:
                        records.extend(reversed(other.find(kind=kind)))
                else:
                    records.extend(read_records(path))
                continue
            if looks_like_file(str(ref)):
                raise TrtbenchError(f"run file {ref} does not exist")
            if store is None:
                if not Path(db).exists():
                    raise TrtbenchError(
                        f"{str(ref)!r} is neither a run file nor a run id: database {db} does not exist",
                        hint="give a JSON run file, or the database with --db FILE",
                    )
                store = Store(Path(db))
                store.open()
            records.append(store.get(str(ref)))
    finally:
        if store is not None:
            store.close()
    return records
