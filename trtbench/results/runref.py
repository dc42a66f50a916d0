"""Naming saved runs on the command line: a JSON run file, or a run id (or its prefix) in the database."""

from __future__ import annotations

from pathlib import Path
from typing import List, Sequence

from trtbench.errors import TrtbenchError
from trtbench.results.record import RunRecord, read_records
from trtbench.results.store import Store


def looks_like_file(ref: str) -> bool:
    """A reference that can only mean a file (a path separator or a .json suffix)."""
    return ref.endswith(".json") or "/" in ref or "\\" in ref


def open_existing(db: Path) -> Store:
    """The store at `db`, refusing to create an empty database just to read from it."""
    if not Path(db).exists():
        raise TrtbenchError(
            f"database {db} does not exist",
            hint="run 'trtbench profile' first, or give the right file with --db FILE",
        )
    return Store(Path(db))


def load_runs(refs: Sequence[str], db: Path) -> List[RunRecord]:
    """The records named by `refs`, in order. A JSON file gives all its records (one or an array);
    any other reference is a run id, or a unique prefix of one, in database `db`."""
    records: List[RunRecord] = []
    store = None
    try:
        for ref in refs:
            if Path(ref).is_file():
                records.extend(read_records(Path(ref)))
                continue
            if looks_like_file(ref):
                raise TrtbenchError(f"run file {ref} does not exist")
            if store is None:
                if not Path(db).exists():
                    raise TrtbenchError(
                        f"{ref!r} is neither a run file nor a run id: database {db} does not exist",
                        hint="give a JSON run file, or the database with --db FILE",
                    )
                store = Store(Path(db))
                store.open()
            records.append(store.get(ref))
    finally:
        if store is not None:
            store.close()
    return records
