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
"""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Set, Tuple

from trtbench import jsonio
from trtbench.errors import TrtbenchError
from trtbench.results.record import PROFILE, RunRecord, migrate

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
        try:
            data = migrate(json.loads(text))
        except (ValueError, TrtbenchError):
            continue  # a damaged row stays as it is; reading it says so
        data["tags"] = {**tags.get(run_id, {}), **(data.get("tags") or {})}
        conn.execute("UPDATE runs SET record = ? WHERE run_id = ?", (jsonio.dumps(data, indent=None), run_id))


def _to_v3(conn: sqlite3.Connection) -> None:
    """Each stored record becomes a version-3 record (``images_per_s`` beside ``tiles_per_ms``)."""
    for run_id, text in conn.execute("SELECT run_id, record FROM runs").fetchall():
        try:
            data = migrate(json.loads(text))
        except (ValueError, TrtbenchError):
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
        return (datetime.now(timezone.utc) - timedelta(hours=hours)).isoformat(timespec="seconds")
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise TrtbenchError(f"--since {text!r} is neither a date (2026-11-01) nor an age (36h, 7d)") from None
    return utc_time(text)


class Store:
    """The run database. Use as a context manager: ``with Store(path) as store: ...``.

    Opening creates the file and its tables if needed and applies pending migrations.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
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
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None)
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
        if "not a database" in text or "malformed" in text:
            return TrtbenchError(
                f"{self.path} is not a trtbench database ({text})", hint="give another file with --db FILE"
            )
        return TrtbenchError(f"database {self.path}: {text}")

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
        return int(row[0]) if row else 0

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
        """Raise the one-line 'not writable' error now, not after a long measurement.

        Opening only reads an up-to-date database, so a read-only file opens fine; this takes
        the write lock and releases it.
        """
        with self._transaction():
            pass

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
        """The run with this id, or with the one id starting with `run_id`."""
        full = self._resolve(run_id)
        rows = self._query("SELECT record FROM runs WHERE run_id = ?", (full,))
        return self._record(rows[0][0], full)

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
        `kind` is ``profile`` (the default), ``drift``, or None for every kind."""
        where, params = self._filters(model, backend, device, device_name, batch, tags, since, kind)
        sql = f"SELECT run_id, record FROM runs{where} ORDER BY created DESC, rowid DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [self._record(text, run_id) for run_id, text in self._query(sql, params)]

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

    def _record(self, text: str, run_id: str) -> RunRecord:
        return RunRecord.from_dict(json.loads(text), source=f"run {run_id} in {self.path}")

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
    """The indexed columns and the JSON of one record."""
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
        "record": jsonio.dumps(record.to_dict(), indent=None),
    }
