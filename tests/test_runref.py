"""load_runs: JSON files (one record or an array) and run ids (prefixes) in the database, in order."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_runs import make_record

from trtbench.errors import TrtbenchError
from trtbench.results.record import write_records
from trtbench.results.runref import load_runs
from trtbench.results.store import Store


def test_files_and_ids_mixed_in_order(tmp_path: Path) -> None:
    one, stored = make_record(batch=64), make_record(batch=128)
    sweep = [make_record(batch=b) for b in (256, 512)]
    write_records([one], tmp_path / "one.json")
    write_records(sweep, tmp_path / "sweep.json")
    db = tmp_path / "runs.db"
    with Store(db) as store:
        store.add([stored])
    refs = [str(tmp_path / "sweep.json"), stored.run_id[:6], str(tmp_path / "one.json")]
    assert [r.batch for r in load_runs(refs, db)] == [256, 512, 128, 64]


def test_missing_file_and_unknown_id_are_user_errors(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    with pytest.raises(TrtbenchError, match="run file .*missing.json does not exist"):
        load_runs([str(tmp_path / "missing.json")], db)
    with pytest.raises(TrtbenchError, match="database .* does not exist"):
        load_runs(["abc123"], db)
    assert not db.exists()  # reading never creates a database
    with Store(db) as store:
        store.add([make_record()])
    with pytest.raises(TrtbenchError, match="no run 'zzz'"):
        load_runs(["zzz"], db)


def test_a_json_file_that_is_not_a_run(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"hello": 1}')
    with pytest.raises(TrtbenchError, match="not a trtbench run record"):
        load_runs([str(path)], tmp_path / "runs.db")
