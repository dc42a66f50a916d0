"""Saved runs: load them from files or the database, list, import, export, delete and check them."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from trtbench import env, jsonio
from trtbench.errors import TrtbenchError
from trtbench.results import health as health_module
from trtbench.results.health import Health
from trtbench.results.record import RunRecord, write_records
from trtbench.results.runref import Ref, open_existing
from trtbench.results.runref import load_runs as _load
from trtbench.results.store import Store
from trtbench.results.wellformed import BadRecord

Warn = Callable[[str], None]  # where a damaged run that was skipped is reported (the CLI: a warning line)

Source = Union[Ref, RunRecord, Sequence[Union[Ref, RunRecord]]]


def _db(db: Optional[Ref]) -> Path:
    return Path(db) if db is not None else env.db_path()


def load_runs(source: Source, db: Optional[Ref] = None, kind: str = "profile") -> List[RunRecord]:
    """Saved runs, in order: from a JSON run file, from a database file (all its runs of `kind`,
    oldest first), or run ids (or unique prefixes) looked up in `db` (default: TRTBENCH_DB or
    ./trtbench.db). `source` may be one of these, a `RunRecord`, or a list mixing them."""
    items: Sequence[Any] = source if isinstance(source, (list, tuple)) else [source]
    records: List[RunRecord] = []
    for item in items:
        if isinstance(item, RunRecord):
            records.append(item)
        else:
            records.extend(_load([item], _db(db), kind=kind))
    return records


def find_runs(db: Optional[Ref] = None, *, model: Optional[str] = None, backend: Optional[str] = None,
              device: Optional[str] = None, device_name: Optional[str] = None, batch: Optional[int] = None,
              tags: Optional[Mapping[str, str]] = None, since: Optional[str] = None,
              limit: Optional[int] = None, kind: Optional[str] = None, warn: Optional[Warn] = None
              ) -> List[RunRecord]:
    """Runs in `db` matching every filter, newest first (`kind` None: profile and drift runs).
    An absent database has no runs. A damaged run is skipped and reported to `warn` (None: the
    ``logging`` module); `check_runs` sets such runs aside."""
    path = _db(db)
    if not path.exists():
        return []
    store = open_existing(path)
    store.warn = warn
    with store:
        return store.find(model=model, backend=backend, device=device, device_name=device_name, batch=batch,
                          tags=tags, since=since, limit=limit, kind=kind)


def export_runs(records: Sequence[RunRecord], path: Ref) -> None:
    """Write runs to one JSON file (``-``: stdout), tags and all, for `import_runs` elsewhere."""
    write_records(records, path)


def import_runs(files: Sequence[Ref], db: Optional[Ref] = None, *, skip_bad: bool = False,
                warn: Optional[Warn] = None) -> Tuple[List[RunRecord], int]:
    """Add the runs of JSON run files to `db` in one transaction; return (the runs added, how many
    were there already).

    Every record is checked first (`trtbench.results.wellformed`): one that is not well formed
    stops the import with one line naming its file, position, run id and field, and nothing is
    stored; with `skip_bad`, the good records are imported and each bad one is reported to `warn`.
    """
    records: Dict[str, RunRecord] = {}  # by run id: a file listing a run twice imports it once
    bad: List[TrtbenchError] = []
    for source, item in _file_items(files):
        try:
            record = RunRecord.from_dict(item, source=source)
        except TrtbenchError as exc:
            bad.append(exc)
            continue
        records.setdefault(record.run_id, record)
    if bad and not skip_bad:
        more = f"; {len(bad) - 1} more record(s) have problems too" if len(bad) > 1 else ""
        hint = bad[0].hint if bad[0].hint and not isinstance(bad[0], BadRecord) else \
            "correct the file, or add --skip-bad to import the other records"
        raise TrtbenchError(f"{bad[0].message}{more}; nothing was imported", hint=hint)
    if warn is not None:
        for problem in bad:
            warn(f"not imported: {problem.message}")
    with Store(_db(db)) as store:
        new = [record for record in records.values() if record.run_id not in store]
        store.add(new)
    return new, len(records) - len(new)


def _file_items(files: Sequence[Ref]) -> Iterator[Tuple[str, Any]]:
    """Each record's JSON data in run files, with words that name it: file, position, run id."""
    for name in files:
        data = jsonio.read_json(Path(name), "run file")
        items = data if isinstance(data, list) else [data]
        for i, item in enumerate(items, start=1):
            run_id = item.get("run_id") if isinstance(item, dict) else None
            where = f"{name}, record {i} of {len(items)}" if isinstance(data, list) else str(name)
            yield where + (f" (run {run_id})" if isinstance(run_id, str) else ""), item


def check_runs(db: Optional[Ref] = None, *, repair: bool = False, quick: bool = False) -> Health:
    """Check the database `db`: the file, SQLite's integrity check (`quick`: its quick check, for
    very large files) and every stored run. With `repair`, damaged runs move into the
    ``quarantine`` table; a damaged file is only reported (`Health.salvage` says how to save it).
    Writes nothing without `repair`."""
    path = _db(db)
    health = health_module.inspect(path, quick=quick)
    return health_module.repair(path, health) if repair else health


def delete_runs(run_ids: Sequence[str], db: Optional[Ref] = None) -> int:
    """Remove runs (ids or unique prefixes) from `db`; return how many."""
    if not run_ids:
        raise TrtbenchError("name the runs to delete", hint="list them with: trtbench runs")
    with open_existing(_db(db)) as store:
        for run_id in run_ids:
            store.delete(run_id)
    return len(run_ids)


def import_trtexec(profile: Optional[Ref] = None, layers: Optional[Ref] = None, times: Optional[Ref] = None,
                   log: Optional[Ref] = None, *, batch: Optional[int] = None, target: Optional[str] = None,
                   db: Optional[Ref] = None) -> RunRecord:
    """One run from trtexec's exports (``--exportProfile``, ``--exportLayerInfo``,
    ``--exportTimes``) and console log, measured on any device (a Jetson's, say); stored in `db`
    when given. `target` names the device's target profile (tx1, gtx960, ...)."""
    from trtbench.backends.trtexec.importer import import_outputs

    if batch is not None and batch < 1:
        raise TrtbenchError(f"--batch {batch} must be at least 1")
    if not (profile or times or log):
        raise TrtbenchError("nothing to import", hint="give --profile P.json (and --layers, --times, --log)")
    as_path = (lambda p: Path(p) if p is not None else None)  # noqa: E731
    record = import_outputs(as_path(profile), as_path(layers), as_path(times), as_path(log), batch=batch)
    if target:
        from trtbench.device.targets import get_target

        record.device = get_target(target).name
        record.host.target = record.device
    if db is not None:
        with Store(Path(db)) as store:
            store.add([record])
    return record
