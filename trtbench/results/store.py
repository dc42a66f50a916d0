"""The SQLite history of runs: every RunRecord, its layers and its tags.

One file (default ``./trtbench.db``, ``--db`` or ``TRTBENCH_DB`` to choose) holds:

- ``schema_version``: one row, the version of these tables; `MIGRATIONS` brings older files up;
- ``runs``: the full record JSON plus indexed columns for filtering (model, backend, device, batch...);
- ``layers``: one row per layer of each run (name, category, type, ms, percent);
- ``tags``: free ``key = value`` labels per run (a sweep stores ``sweep``, ``point``, ``sweep_run``),
  an index of what each record's own ``tags`` hold (the record is the truth; the table is for
  queries).

Every `Store.add` is one transaction: an interrupted write (Ctrl-C, ``kill -9``, an exception while
serialising the second record of a batch) leaves no part of any of its runs behind. The default
rollback journal keeps the database a single file, easy to copy off a Jetson.

Damage is contained. `Store.add` stores only well-formed records (`trtbench.results.wellformed`).
Every row read goes through `parse_row`: a row that does not parse or is not well formed is
skipped by `find` with one warning naming it (through ``warn``, else the ``logging`` module), and
named in the error `get` raises, so one bad row never hides the others; ``trtbench runs check
--repair`` (`trtbench.results.health`) moves such rows into a ``quarantine`` table. A file that is
not SQLite, or is shorter than its header says, is refused on opening before anything is written
into it (`file_problem`: a look at the header and the size, never a scan of the whole file).
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Set, Tuple

from trtbench import jsonio
from trtbench.errors import TrtbenchError
from trtbench.results import record as record_module
from trtbench.results import wellformed
from trtbench.results.record import PROFILE, RunRecord, migrate

SQLITE_HEADER = b"SQLite format 3\x00"
SHOWN_SKIPS = 3  # damaged runs named one by one per read; the rest are counted in one line
_log = logging.getLogger(__name__)

_SCHEMA_V1 = """
CREATE TABLE runs (
    run_id        TEXT PRIMARY KEY,
    created       TEXT NOT NULL,
    model_name    TEXT NOT NULL,
    model_sha256  TEXT,
    backend       TEXT NOT NULL,
    device        TEXT NOT NULL,
    device_name   TEXT,
    precision     TEXT,
    batch         INTEGER NOT NULL,
    tiles_per_ms  REAL,
    end_to_end_ms REAL,
    verdict       TEXT,
    record        TEXT NOT NULL
);
CREATE INDEX runs_model ON runs (model_name, device, backend, batch);
CREATE INDEX runs_created ON runs (created);
CREATE TABLE layers (
    run_id   TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name     TEXT NOT NULL,
    category TEXT NOT NULL,
    type     TEXT,
    ms       REAL NOT NULL,
    percent  REAL,
    PRIMARY KEY (run_id, position)
);
CREATE TABLE tags (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
);
CREATE INDEX tags_key_value ON tags (key, value);
"""

def _to_v2(conn: sqlite3.Connection) -> None:
    """Runs get a ``kind`` column, and each stored record becomes a version-2 record carrying the
    tags the tags table holds for it (so an exported run keeps its sweep membership)."""
    conn.execute("ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'profile'")
    conn.execute("CREATE INDEX runs_kind ON runs (kind)")
    tags: Dict[str, Dict[str, str]] = {}
    for run_id, key, value in conn.execute("SELECT run_id, key, value FROM tags"):
        tags.setdefault(run_id, {})[key] = value
    for run_id, text in conn.execute("SELECT run_id, record FROM runs").fetchall():
        if isinstance(text, Undecodable):
            continue  # a damaged row stays as it is; reading it says so
        try:
            data = migrate(json.loads(text))
        except (ValueError, TypeError, AttributeError, RecursionError, TrtbenchError):
            continue  # a damaged row stays as it is; reading it says so
        data["tags"] = {**tags.get(run_id, {}), **(data.get("tags") or {})}
        conn.execute("UPDATE runs SET record = ? WHERE run_id = ?", (jsonio.dumps(data, indent=None), run_id))


def _to_v3(conn: sqlite3.Connection) -> None:
    """Each stored record becomes a version-3 record (``images_per_s`` beside ``tiles_per_ms``)."""
    for run_id, text in conn.execute("SELECT run_id, record FROM runs").fetchall():
        if isinstance(text, Undecodable):
            continue  # a damaged row stays as it is; reading it says so
        try:
            data = migrate(json.loads(text))
        except (ValueError, TypeError, AttributeError, RecursionError, TrtbenchError):
            continue  # a damaged row stays as it is; reading it says so
        conn.execute("UPDATE runs SET record = ? WHERE run_id = ?", (jsonio.dumps(data, indent=None), run_id))


# Migration n takes a database at version n-1 to version n. Append; never edit a released entry.
MIGRATIONS: Tuple[Callable[[sqlite3.Connection], None], ...] = (
    lambda conn: _executescript(conn, _SCHEMA_V1),
    _to_v2,
    _to_v3,
)
SCHEMA_VERSION = len(MIGRATIONS)

_COLUMNS = (
    "run_id",
    "created",
    "model_name",
    "model_sha256",
    "backend",
    "device",
    "device_name",
    "precision",
    "batch",
    "tiles_per_ms",
    "end_to_end_ms",
    "verdict",
    "kind",
    "record",
)


def _executescript(conn: sqlite3.Connection, script: str) -> None:
    # executescript() would COMMIT first; run statement by statement inside our transaction.
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def utc_time(text: str) -> str:
    """An ISO 8601 time as UTC ``YYYY-MM-DDTHH:MM:SS+00:00``, so text order is time order."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def parse_since(text: str) -> str:
    """``--since`` as a UTC ISO time: a date/time (``2026-11-01``) or an age (``36h``, ``7d``)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([hdw])\s*", text)
    if match:
        hours = float(match.group(1)) * {"h": 1, "d": 24, "w": 168}[match.group(2)]
        try:
            return (datetime.now(timezone.utc) - timedelta(hours=hours)).isoformat(timespec="seconds")
        except (OverflowError, ValueError):
            raise TrtbenchError(f"--since {text.strip()} reaches back before the year 1",
                                hint="give an age such as 36h, 7d or 52w, or a date such as 2026-11-01") from None
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise TrtbenchError(f"--since {text!r} is neither a date (2026-11-01) nor an age (36h, 7d)") from None
    return utc_time(text)


def check_hint(path: Path, repair: bool = False) -> str:
    """The command that looks into (or, with `repair`, sets aside) what is damaged in `path`."""
    return f"trtbench runs check{' --repair' if repair else ''} --db {path}"


def file_problem(path: Path) -> Optional[str]:
    """Why the file at `path` cannot be a sound SQLite database, from its first 100 bytes and its
    size (cheap at any size); None when it looks sound, is empty or absent (SQLite starts a new
    one), cannot be read (opening says why), or has an interrupted write pending (a ``-journal``
    or ``-wal`` file: SQLite finishes or rolls it back on opening, and the size may lag till then).
    Damage inside the file shows in ``PRAGMA integrity_check`` (``trtbench runs check``)."""
    try:
        size = path.stat().st_size
        if size == 0 or not path.is_file():
            return None
        if any(Path(f"{path}{suffix}").exists() for suffix in ("-journal", "-wal")):
            return None
        with open(path, "rb") as handle:
            head = handle.read(100)
    except OSError:
        return None
    if len(head) < 100 or not head.startswith(SQLITE_HEADER):
        return "it is not an SQLite file (it does not start with SQLite's header)"
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    if page < 512 or page & (page - 1):
        return f"its header is damaged (a page size of {page})"
    pages = int.from_bytes(head[28:32], "big")
    header_size_valid = head[24:28] == head[92:96]  # SQLite's rule for trusting the in-header size
    if size % page:
        return f"it is truncated or damaged ({size:,} bytes is not a whole number of {page:,}-byte pages)"
    if header_size_valid and size < pages * page:
        return f"it is truncated ({size // page:,} of its {pages:,} pages are there)"
    return None


@dataclass(frozen=True)
class BadRow:
    """A stored run that cannot be read: its id, why, and whether a newer trtbench wrote it
    (then it is skipped but never quarantined: upgrading reads it)."""

    run_id: str
    reason: str
    newer: bool = False
    rowid: Optional[int] = None  # SQLite's own row number: a damaged row may not even have a sound id

    def to_dict(self) -> Dict[str, Any]:
        return {"run_id": self.run_id, "reason": self.reason, "newer": self.newer}


class BadRowError(TrtbenchError):
    """`parse_row` could not give a record; `row` says which and why."""

    def __init__(self, row: BadRow, hint: Optional[str] = None) -> None:
        super().__init__(f"run {row.run_id}: {row.reason}", hint)
        self.row = row


class _Probe(Exception):
    """Rolls back `Store.check_writable`'s probe write."""


class Undecodable(str):
    """Text of a column that is not UTF-8 (a damaged row), with the bad bytes replaced: reading it
    never fails the query, and `parse_row` calls such a record a bad row."""


def decode_column(data: bytes) -> str:
    """The connections' text factory: UTF-8, or `Undecodable` for bytes that are not (Python's
    own strict decoding would fail the whole query, hiding every sound row behind one bad one)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return Undecodable(data.decode("utf-8", "replace"))


def connect(target: str, **options: Any) -> sqlite3.Connection:
    """An SQLite connection that reads a damaged text column as `Undecodable` instead of failing."""
    conn = sqlite3.connect(target, **options)
    conn.text_factory = decode_column
    return conn


def parse_row(run_id: Any, text: Any) -> RunRecord:
    """The record of one ``runs`` row (its ``run_id`` and ``record`` columns), or `BadRowError`:
    JSON that does not parse, a record that is not well formed, or one that names another run."""
    run_id = str(run_id)
    if isinstance(text, Undecodable):
        raise BadRowError(BadRow(run_id, "its record is not UTF-8 text (damaged bytes)"))
    try:
        data = json.loads(text)
    except (TypeError, ValueError, RecursionError) as exc:
        raise BadRowError(BadRow(run_id, f"its JSON does not parse ({str(exc)[:80]})")) from None
    version = data.get("schema_version") if isinstance(data, dict) else None
    if isinstance(version, int) and not isinstance(version, bool) and version > record_module.SCHEMA_VERSION:
        reason = f"a newer trtbench wrote it (record schema version {version})"
        raise BadRowError(BadRow(run_id, reason, newer=True), hint="upgrade trtbench")
    try:
        record = RunRecord.from_dict(data, source="its record")
    except wellformed.BadRecord as exc:
        raise BadRowError(BadRow(run_id, exc.reason)) from None
    except TrtbenchError as exc:
        raise BadRowError(BadRow(run_id, exc.message)) from None
    if record.run_id != run_id:
        raise BadRowError(BadRow(run_id, f"its record holds another run id ({str(record.run_id)[:40]!r})"))
    return record


class Store:
    """The run database. Use as a context manager: ``with Store(path) as store: ...``.

    Opening creates the file and its tables if needed and applies pending migrations; a file that
    is not a sound SQLite database, or is another program's, is refused before anything is
    written. `warn` hears of each damaged run a read skips (None: the ``logging`` module);
    `skipped` lists them.
    """

    def __init__(self, path: Path, warn: Optional[Callable[[str], None]] = None) -> None:
        self.path = Path(path)
        self.warn = warn
        self.skipped: List[BadRow] = []
        self._conn: Optional[sqlite3.Connection] = None

    # ---- opening -----------------------------------------------------------------------
    def __enter__(self) -> "Store":
        self.open()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def open(self) -> None:
        if self._conn is not None:
            return
        if self.path.is_dir():
            raise TrtbenchError(
                f"database path {self.path} is a directory", hint="give a file with --db FILE"
            )
        problem = file_problem(self.path)
        if problem:
            raise TrtbenchError(f"{self.path} is not a trtbench database: {problem}", hint=self._damaged_hint())
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = connect(str(self.path), timeout=30.0, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise self._not_writable(exc) from None
        self._conn = conn
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except BaseException:
            conn.close()
            self._conn = None
            raise

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("Store used outside 'with Store(path) as store:'")
        return self._conn

    def _not_writable(self, exc: BaseException) -> TrtbenchError:
        return TrtbenchError(
            f"database path {self.path} is not writable ({exc})",
            hint="choose another file with --db FILE or TRTBENCH_DB",
        )

    def _database_error(self, exc: sqlite3.Error) -> TrtbenchError:
        text = str(exc)
        if isinstance(exc, sqlite3.OperationalError) and (
            "readonly" in text or "unable to open" in text or "disk I/O" in text or "full" in text
        ):
            return self._not_writable(exc)
        if "not a database" in text:
            return TrtbenchError(f"{self.path} is not a trtbench database ({text})", hint=self._damaged_hint())
        if "malformed" in text:
            return TrtbenchError(f"{self.path} is damaged ({text})", hint=self._damaged_hint())
        return TrtbenchError(f"database {self.path}: {text}")

    def _damaged_hint(self) -> str:
        return (f"see what is damaged with: {check_hint(self.path)}; or move the file aside and give "
                "another with --db FILE")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN ... COMMIT; any exception, KeyboardInterrupt included, rolls everything back."""
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._database_error(exc) from None
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise self._database_error(exc) from None
            raise

    def _version(self) -> int:
        try:
            exists = self.conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
            ).fetchone()
            if not exists:
                return 0
            row = self.conn.execute("SELECT version FROM schema_version").fetchone()
        except sqlite3.Error as exc:
            raise self._database_error(exc) from None
        if row and (isinstance(row[0], bool) or not isinstance(row[0], int)):
            raise TrtbenchError(f"{self.path} is damaged: its schema_version table holds {str(row[0])[:20]!r}",
                                hint=self._damaged_hint())
        return int(row[0]) if row else 0

    def _foreign_tables(self) -> List[str]:
        """Tables in a file with no trtbench version: another program's database."""
        rows = self._query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
                           "ESCAPE '\\' AND name != 'schema_version' ORDER BY name")
        return [str(row[0]) for row in rows]

    def _migrate(self) -> None:
        version = self._version()
        if version > SCHEMA_VERSION:
            raise TrtbenchError(
                f"database {self.path} has schema version {version}, newer than this "
                f"trtbench knows ({SCHEMA_VERSION})",
                hint="upgrade trtbench",
            )
        if version == SCHEMA_VERSION:
            return
        foreign = self._foreign_tables() if version == 0 else []
        if foreign:
            shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
            raise TrtbenchError(f"{self.path} is an SQLite database but not trtbench's (its tables: {shown})",
                                hint="give another file with --db FILE")
        with self._transaction() as conn:
            version = self._version()  # another process may have migrated meanwhile
            if version == 0:
                conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            for step in MIGRATIONS[version:]:
                step(conn)
            conn.execute("DELETE FROM schema_version")
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))

    @property
    def schema_version(self) -> int:
        return self._version()

    # ---- writing -----------------------------------------------------------------------
    def check_writable(self) -> None:
        """Raise the one-line 'not writable' or 'damaged' error now, not after a long measurement.

        Opening only reads an up-to-date database, so a read-only file opens fine, and SQLite
        lets even a read-only file take the write lock: only a write tells. So a probe row is
        written and rolled back (a full disk fails it too, at the journal). And SQLite's quick
        check reads every page: a write into a file damaged inside its pages can fail after the
        measurement, or succeed and spread the damage.
        """
        try:
            with self._transaction() as conn:
                conn.execute("INSERT INTO schema_version (version) VALUES (-1)")
                raise _Probe
        except _Probe:
            pass
        try:
            said = [str(row[0]) for row in self.conn.execute("PRAGMA quick_check(3)").fetchall()]
        except sqlite3.Error as exc:
            raise self._database_error(exc) from None
        if said != ["ok"]:
            raise TrtbenchError(f"{self.path} is damaged inside ({said[0][:120]}); nothing was written into it",
                                hint=self._damaged_hint())

    def add(self, records: Sequence[RunRecord], tags: Optional[Mapping[str, str]] = None) -> None:
        """Store records (with their layers and tags) in one transaction: all or none.

        `tags` are added to each record's own tags first, so the stored record carries them.
        A record whose run_id is already stored is left as it is, so importing twice adds nothing.
        """
        for record in records:
            record.tags.update({str(k): str(v) for k, v in (tags or {}).items()})
        with self._transaction() as conn:
            for record in records:
                if conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (record.run_id,)).fetchone():
                    continue
                row = _row(record)
                conn.execute(
                    f"INSERT INTO runs ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                    [row[c] for c in _COLUMNS],
                )
                conn.executemany(
                    "INSERT INTO layers (run_id, position, name, category, type, ms, percent) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            record.run_id,
                            i,
                            layer.name,
                            layer.category,
                            layer.type,
                            float(layer.ms),
                            layer.percent,
                        )
                        for i, layer in enumerate(record.layers)
                    ],
                )
                conn.executemany(
                    "INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)",
                    [(record.run_id, str(k), str(v)) for k, v in record.tags.items()],
                )

    def quarantine(self, rows: Sequence[BadRow]) -> List[BadRow]:
        """Move damaged runs (by rowid) out of ``runs`` into the ``quarantine`` table, with the reason
        and the time, in one transaction; their ``layers`` and ``tags`` rows go (the record JSON,
        kept whole, holds them). A row that reads well by now, or is gone, stays as it is; a run
        written by a newer trtbench is never moved. Returns the rows moved."""
        moved: List[BadRow] = []
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self._transaction() as conn:
            columns = self._quarantine_table(conn)
            names = ", ".join(f'"{c}"' for c in columns)
            for bad in rows:
                if bad.newer or bad.rowid is None:
                    continue
                found = conn.execute("SELECT run_id, record FROM runs WHERE rowid = ?", (bad.rowid,)).fetchone()
                if found is None:
                    continue
                try:
                    parse_row(found[0], found[1])
                    continue  # mended (or replaced) since it was checked
                except BadRowError as exc:
                    if exc.row.newer:
                        continue
                conn.execute(f"INSERT INTO quarantine ({names}, reason, quarantined) "
                             f"SELECT {names}, ?, ? FROM runs WHERE rowid = ?", (bad.reason, now, bad.rowid))
                for table in ("layers", "tags"):
                    conn.execute(f"DELETE FROM {table} WHERE run_id = ?", (found[0],))
                conn.execute("DELETE FROM runs WHERE rowid = ?", (bad.rowid,))
                moved.append(bad)
        return moved

    @staticmethod
    def _quarantine_table(conn: sqlite3.Connection) -> List[str]:
        """The ``quarantine`` table, created on first use (no migration: an older trtbench still
        opens the file) with every column ``runs`` has now, plus ``reason`` and ``quarantined``."""
        columns = [(str(r[1]), str(r[2] or "")) for r in conn.execute("PRAGMA table_info(runs)")]
        conn.execute("CREATE TABLE IF NOT EXISTS quarantine (reason TEXT NOT NULL, quarantined TEXT NOT NULL)")
        have = {str(r[1]) for r in conn.execute("PRAGMA table_info(quarantine)")}
        for name, kind in columns:
            if name not in have:  # no constraints: a damaged row may break any of them
                conn.execute(f'ALTER TABLE quarantine ADD COLUMN "{name}" {kind}')
        return [name for name, _ in columns]

    def delete(self, run_id: str) -> None:
        """Remove one run (an id or a unique prefix of one), its layers and tags."""
        full = self._resolve(run_id)
        with self._transaction() as conn:
            for table in ("layers", "tags", "runs"):
                conn.execute(f"DELETE FROM {table} WHERE run_id = ?", (full,))

    # ---- reading -----------------------------------------------------------------------
    def __contains__(self, run_id: object) -> bool:
        return bool(self._query("SELECT 1 FROM runs WHERE run_id = ?", (str(run_id),)))

    def get(self, run_id: str) -> RunRecord:
        """The run with this id, or with the one id starting with `run_id`. A damaged run is a
        one-line error naming it and ``runs check --repair``."""
        full = self._resolve(run_id)
        rows = self._query("SELECT record FROM runs WHERE run_id = ?", (full,))
        try:
            return parse_row(full, rows[0][0])
        except BadRowError as exc:
            hint = exc.hint or f"set it aside with: {check_hint(self.path, repair=True)}"
            raise TrtbenchError(f"run {full} in {self.path} cannot be read: {exc.row.reason}", hint=hint) from None

    def find(
        self,
        model: Optional[str] = None,
        backend: Optional[str] = None,
        device: Optional[str] = None,
        device_name: Optional[str] = None,
        batch: Optional[int] = None,
        tags: Optional[Mapping[str, str]] = None,
        since: Optional[str] = None,
        limit: Optional[int] = None,
        kind: Optional[str] = PROFILE,
    ) -> List[RunRecord]:
        """Runs matching every given filter, newest first. `since` is a date/time or an age (``7d``);
        `kind` is ``profile`` (the default), ``drift``, or None for every kind. Damaged runs are
        skipped (and reported, see `Store`); `limit` counts the runs returned."""
        where, params = self._filters(model, backend, device, device_name, batch, tags, since, kind)
        sql = f"SELECT run_id, record FROM runs{where} ORDER BY created DESC, rowid DESC"
        records: List[RunRecord] = []
        skipped: List[BadRow] = []
        for run_id, text in self._rows(sql, params):
            if limit is not None and len(records) >= limit:
                break
            try:
                records.append(parse_row(run_id, text))
            except BadRowError as exc:
                skipped.append(exc.row)
        self._report(skipped)
        return records

    def tags(self, run_id: str) -> Dict[str, str]:
        """The tags stored with one run."""
        rows = self._query(
            "SELECT key, value FROM tags WHERE run_id = ? ORDER BY key", (self._resolve(run_id),)
        )
        return {key: value for key, value in rows}

    def tag_values(self, key: str, **tag_filter: str) -> Set[str]:
        """Distinct values of tag `key` over the runs that carry every tag in `tag_filter`.

        A resumable sweep asks ``tag_values("point", sweep="fc-batch", sweep_run=id)`` for the points
        already done.
        """
        where, params = self._filters(tags=tag_filter)
        sql = (
            "SELECT DISTINCT t.value FROM tags t WHERE t.key = ? "
            f"AND t.run_id IN (SELECT run_id FROM runs{where})"
        )
        return {row[0] for row in self._query(sql, [key, *params])}

    # ---- helpers -----------------------------------------------------------------------
    def _query(self, sql: str, params: Sequence[Any] = ()) -> List[Tuple[Any, ...]]:
        try:
            return self.conn.execute(sql, list(params)).fetchall()
        except sqlite3.Error as exc:
            raise self._database_error(exc) from None

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> Iterator[Tuple[Any, ...]]:
        """The rows of a query one at a time (a `limit` stops early), errors as one line."""
        try:
            cursor = self.conn.execute(sql, list(params))
        except sqlite3.Error as exc:
            raise self._database_error(exc) from None
        try:
            while True:
                try:
                    row = cursor.fetchone()
                except sqlite3.Error as exc:
                    raise self._database_error(exc) from None
                if row is None:
                    return
                yield row
        finally:
            cursor.close()  # ends the read at once when a limit stops early

    def _report(self, skipped: Sequence[BadRow]) -> None:
        """Say which runs a read skipped: the first few by id, then how many more."""
        self.skipped.extend(skipped)
        say = self.warn or _log.warning
        for row in skipped[:SHOWN_SKIPS]:
            fix = "upgrade trtbench" if row.newer else f"set it aside with: {check_hint(self.path, repair=True)}"
            say(f"skipped run {row.run_id} in {self.path}: {row.reason} ({fix})")
        if len(skipped) > SHOWN_SKIPS:
            say(f"skipped {len(skipped) - SHOWN_SKIPS} more damaged runs in {self.path} "
                f"(list them with: {check_hint(self.path)})")

    def _resolve(self, prefix: str) -> str:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self._query(
            "SELECT run_id FROM runs WHERE run_id LIKE ? ESCAPE '\\' ORDER BY run_id LIMIT 6",
            (escaped + "%",),
        )
        ids = [row[0] for row in rows]
        if prefix in ids:
            return prefix
        if not prefix or not ids:
            raise TrtbenchError(f"no run {prefix!r} in {self.path}", hint="list the runs with: trtbench runs")
        if len(ids) > 1:
            shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
            raise TrtbenchError(
                f"run id {prefix!r} is ambiguous in {self.path}: {shown}",
                hint="give more characters of the id",
            )
        return ids[0]

    @staticmethod
    def _filters(
        model: Optional[str] = None,
        backend: Optional[str] = None,
        device: Optional[str] = None,
        device_name: Optional[str] = None,
        batch: Optional[int] = None,
        tags: Optional[Mapping[str, str]] = None,
        since: Optional[str] = None,
        kind: Optional[str] = None,
    ) -> Tuple[str, List[Any]]:
        clauses: List[str] = []
        params: List[Any] = []
        for column, value in (
            ("model_name", model),
            ("backend", backend),
            ("device", device),
            ("device_name", device_name),
            ("batch", batch),
            ("kind", kind),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if since is not None:
            clauses.append("created >= ?")
            params.append(parse_since(since))
        for key, value in (tags or {}).items():
            clauses.append(
                "EXISTS (SELECT 1 FROM tags WHERE tags.run_id = runs.run_id AND key = ? AND value = ?)"
            )
            params.extend([key, str(value)])
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _row(record: RunRecord) -> Dict[str, Any]:
    """The indexed columns and the JSON of one record (well formed, or `wellformed.BadRecord`)."""
    data = jsonio.plain(record.to_dict())  # as it will be read back: NaN is null
    wellformed.require(data, f"run {record.run_id} cannot be stored", hint=None)
    verdict = record.validity.verdict
    return {
        "run_id": record.run_id,
        "created": utc_time(record.created),
        "model_name": record.model_name,
        "model_sha256": record.model.get("sha256"),
        "backend": record.backend,
        "device": record.device,
        "device_name": record.device_name,
        "precision": record.precision,
        "batch": int(record.batch),
        "tiles_per_ms": record.tiles_per_ms,
        "end_to_end_ms": record.end_to_end_ms,
        "verdict": verdict,
        "kind": record.kind,
        "record": jsonio.dumps(data, indent=None),
    }
