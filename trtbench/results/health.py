"""Is a run database sound? What ``trtbench runs check`` looks at, and what ``--repair`` does.

Three looks, cheapest first: the file (SQLite's header and the size, `store.file_problem`),
SQLite's own ``PRAGMA integrity_check`` (``quick_check`` with `quick`: skips the index
cross-checks, for very large files) over every page, and every stored record read back the way
`Store.find` reads it (`store.parse_row`). Looking writes nothing.

Repairing moves the damaged runs into the ``quarantine`` table (`Store.quarantine`), so every
command reads the others without a warning. Damage to the file itself (a truncated file, a
broken page or index) is not repaired here: writing into a damaged file can lose more, so the
report says how to copy out what can still be read (`SALVAGE`) instead.
"""
from __future__ import annotations

import dataclasses
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from trtbench.errors import TrtbenchError
from trtbench.results.store import SQLITE_HEADER, BadRow, BadRowError, Store, connect, file_problem, parse_row

# .dump copies every row SQLite can still read; on damage it ends with ROLLBACK, made COMMIT here so the
# rows it did read are kept. (.recover digs deeper where the sqlite3 shell has it: 3.29+, built with dbpage.)
SALVAGE = "sqlite3 {path} .dump | sed 's/^ROLLBACK; -- due to errors$/COMMIT;/' | sqlite3 recovered.db"
NOT_SQLITE, DAMAGED, FOREIGN = "not-sqlite", "damaged", "foreign"  # Health.file_kind


@dataclass
class Health:
    """What a check found in one database file."""

    path: str
    file_problem: Optional[str] = None  # not SQLite, truncated, another program's database
    file_kind: Optional[str] = None  # NOT_SQLITE, DAMAGED or FOREIGN when there is a file problem
    integrity: List[str] = field(default_factory=list)  # what SQLite's integrity check said, when not ok
    runs: int = 0  # stored runs read back
    bad: List[BadRow] = field(default_factory=list)  # runs that cannot be read (newer ones included)
    quarantined: int = 0  # rows in the quarantine table (after a repair: including those it moved)
    moved: List[BadRow] = field(default_factory=list)  # what --repair moved into the quarantine table
    check: str = "integrity_check"

    @property
    def damaged(self) -> List[BadRow]:
        """Damaged runs still in ``runs`` (a run from a newer trtbench is not damaged)."""
        moved = {row.rowid for row in self.moved}
        return [row for row in self.bad if not row.newer and row.rowid not in moved]

    @property
    def newer(self) -> List[BadRow]:
        return [row for row in self.bad if row.newer]

    @property
    def file_damaged(self) -> bool:
        return bool(self.file_problem or self.integrity)

    @property
    def clean(self) -> bool:
        """Nothing left to repair: the file is sound and every run reads (or was moved aside)."""
        return not self.file_damaged and not self.damaged

    def salvage(self) -> str:
        """The command that copies what SQLite can still read into a new file."""
        return SALVAGE.format(path=self.path)

    def to_dict(self) -> Dict[str, Any]:
        return {"db": self.path, "clean": self.clean, "file_problem": self.file_problem,
                "file_kind": self.file_kind, "check": self.check,
                "integrity": list(self.integrity), "runs": self.runs,
                "damaged": [row.to_dict() for row in self.damaged],
                "newer": [row.to_dict() for row in self.newer],
                "moved": [row.to_dict() for row in self.moved], "quarantined": self.quarantined}


def inspect(path: Path, quick: bool = False) -> Health:
    """Look at the database at `path` without writing to it."""
    path = Path(path)
    if not path.exists():
        raise TrtbenchError(f"database {path} does not exist", hint="give the right file with --db FILE")
    if path.is_dir():
        raise TrtbenchError(f"database path {path} is a directory", hint="give a file with --db FILE")
    health = Health(str(path), check="quick_check" if quick else "integrity_check")
    health.file_problem = file_problem(path)
    if health.file_problem:
        with open(path, "rb") as handle:
            health.file_kind = DAMAGED if handle.read(len(SQLITE_HEADER)) == SQLITE_HEADER else NOT_SQLITE
        return health
    conn = _connect(path)
    try:
        _look(conn, health)
    except sqlite3.DatabaseError as exc:  # a page too broken to read at all
        _integrity(health, [str(exc)])
    finally:
        conn.close()
    return health


def repair(path: Path, health: Health) -> Health:
    """Move the damaged runs `health` found into the quarantine table; a damaged file is left
    as it is (see the module's docstring). Returns `health` with `moved` and `quarantined`."""
    if health.file_damaged or not health.damaged:
        return health
    with Store(path) as store:
        health.moved = store.quarantine(health.damaged)
        health.quarantined = int(store.conn.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0])
    return health


def _connect(path: Path) -> sqlite3.Connection:
    """A connection that never creates the file; read-write when allowed, so that SQLite can roll
    back a write interrupted by a crash (a hot journal) before the check, else read-only."""
    uri = path.resolve().as_uri()
    try:
        return connect(f"{uri}?mode=rw", uri=True, timeout=30.0, isolation_level=None)
    except sqlite3.Error:
        try:
            return connect(f"{uri}?mode=ro", uri=True, timeout=30.0, isolation_level=None)
        except sqlite3.Error as exc:
            raise TrtbenchError(f"cannot open database {path} ({exc})") from None


def _look(conn: sqlite3.Connection, health: Health) -> None:
    rows = conn.execute(f"PRAGMA {health.check}").fetchall()
    said: List[str] = []
    for row in rows:  # one row may hold many lines
        said.extend(line for line in str(row[0]).splitlines() if line.strip() and line not in said)
    if said != ["ok"]:
        _integrity(health, said)
    tables = {str(row[0]) for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "runs" not in tables:
        others = sorted(t for t in tables if not t.startswith("sqlite_") and t != "schema_version")
        if others:
            health.file_problem = f"it is an SQLite database but not trtbench's (its tables: {', '.join(others[:5])})"
            health.file_kind = FOREIGN
        return  # an empty database: nothing stored yet
    if "quarantine" in tables:
        health.quarantined = int(conn.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0])
    for rowid, run_id, text in conn.execute("SELECT rowid, run_id, record FROM runs ORDER BY rowid"):
        health.runs += 1
        try:
            parse_row(run_id, text)
        except BadRowError as exc:
            health.bad.append(dataclasses.replace(exc.row, rowid=int(rowid)))


def _integrity(health: Health, said: List[str]) -> None:
    """Add what SQLite said of the file, each line once."""
    health.integrity.extend(line for line in said if line not in health.integrity)
