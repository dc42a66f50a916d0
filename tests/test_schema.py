"""The shipped JSON Schema, record schema 2, and the migration of version-1 files and databases."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import schema_check
from fake_runs import make_record

from trtbench.errors import TrtbenchError
from trtbench.results import store as store_module
from trtbench.results.record import SCHEMA_FILE, SCHEMA_VERSION, Host, RunRecord, read_records
from trtbench.results.store import Store


def v1_record(record: RunRecord, run_id: str = "3f2a9c0d1e2b") -> dict:
    """`record` as trtbench wrote it before schema 2: the session inside host, no kind, tags, drift."""
    data = record.to_dict()
    for key in ("kind", "tags", "session", "drift"):
        data.pop(key)
    data.update(schema_version=1, run_id=run_id, host={"hostname": "jetson", "cpu": "ARMv8", "cores": 4,
                                                       "session": {"threads": 4}})
    data["telemetry"] = {}
    return data


def test_the_schema_ships_inside_the_package_and_is_a_valid_schema():
    assert SCHEMA_FILE.parent.name == "results" and SCHEMA_FILE.is_file()
    check = schema_check.validator()  # raises SchemaError when the schema itself is wrong
    assert not list(check.iter_errors(make_record().to_dict()))
    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    assert '"results/*.json"' in pyproject  # a wheel carries the schema


@pytest.mark.parametrize("field, value", [("run_id", "not-hex"), ("batch", 0), ("kind", "profiling"),
                                          ("end_to_end_ms", -1.0), ("tags", {"sweep": 3})])
def test_records_that_break_the_schema_are_caught(field, value):
    data = make_record().to_dict()
    data[field] = value
    assert list(schema_check.validator().iter_errors(data))


def test_a_drift_run_needs_its_series():
    data = make_record().to_dict()
    data["kind"] = "drift"
    assert list(schema_check.validator().iter_errors(data))
    data["drift"] = {"alloc": "per-run", "unit": "loop", "series": {"total": [1.0, 2.0]}, "report": {}}
    assert not list(schema_check.validator().iter_errors(data))


def test_version_1_files_are_read_as_version_2(tmp_path):
    old = make_record(batch=64)
    path = tmp_path / "old.json"
    path.write_text(json.dumps([v1_record(old), v1_record(make_record(batch=1024), "aa11bb22cc33")]))
    records = read_records(path)
    assert [r.schema_version for r in records] == [SCHEMA_VERSION, SCHEMA_VERSION]
    first = records[0]
    assert first.run_id == "3f2a9c0d1e2b" and first.kind == "profile" and first.tags == {}
    assert first.session == {"threads": 4} and isinstance(first.host, Host) and first.host.cores == 4
    assert first.telemetry is None and first.tiles_per_ms == pytest.approx(old.tiles_per_ms)
    first.to_dict()  # validates (conftest checks every to_dict)


def test_a_version_1_database_migrates_with_its_tags_into_each_record(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    conn.execute("INSERT INTO schema_version VALUES (1)")
    store_module.MIGRATIONS[0](conn)  # the version-1 tables as they were created
    old = make_record()
    data = v1_record(old)
    conn.execute("INSERT INTO runs (run_id, created, model_name, backend, device, batch, record) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (data["run_id"], data["created"], old.model_name, old.backend, old.device, old.batch,
                  json.dumps(data)))
    conn.executemany("INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)",
                     [(data["run_id"], "sweep", "study-2016"), (data["run_id"], "point", "fc-batch/x@1024")])
    conn.close()
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        record = store.get("3f2a")
        assert record.tags == {"sweep": "study-2016", "point": "fc-batch/x@1024"}
        assert record.kind == "profile" and record.session == {"threads": 4}
        assert [r.run_id for r in store.find(tags={"sweep": "study-2016"})] == ["3f2a9c0d1e2b"]
        stored = json.loads(store.conn.execute("SELECT record FROM runs").fetchone()[0])
    assert stored["schema_version"] == SCHEMA_VERSION and stored["tags"]["sweep"] == "study-2016"
    assert not list(schema_check.validator().iter_errors(stored))


def test_newer_records_are_refused_with_one_line():
    data = make_record().to_dict()
    data["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(TrtbenchError, match="upgrade trtbench"):
        RunRecord.from_dict(data)


def test_new_run_ids_are_full_length_and_old_prefixes_still_find_runs(tmp_path):
    record = make_record()
    assert len(record.run_id) == 32
    with Store(tmp_path / "runs.db") as store:
        store.add([record])
        assert store.get(record.run_id[:6]).run_id == record.run_id
