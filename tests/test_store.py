"""The SQLite store: round trip, filters, tags, prefixes, migrations, atomic writes."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from fake_runs import make_record

from trtbench.errors import TrtbenchError
from trtbench.results import store as store_module
from trtbench.results.record import LayerTime, RunRecord
from trtbench.results.store import Store


def test_round_trip_keeps_the_whole_record(tmp_path: Path) -> None:
    record = make_record(batch=64)
    with Store(tmp_path / "runs.db") as store:
        store.add([record])
    with Store(tmp_path / "runs.db") as store:  # reopened: it was committed
        back = store.get(record.run_id)
    assert back.to_dict() == record.to_dict()


def test_layers_and_columns_are_indexed(tmp_path: Path) -> None:
    record = make_record(batch=256)
    with Store(tmp_path / "runs.db") as store:
        store.add([record])
        rows = store.conn.execute(
            "SELECT name, category, ms FROM layers WHERE run_id = ? ORDER BY position", (record.run_id,)
        ).fetchall()
        cols = store.conn.execute("SELECT model_name, batch, tiles_per_ms, verdict FROM runs").fetchone()
    assert [(r[0], r[1]) for r in rows] == [(layer.name, layer.category) for layer in record.layers]
    assert rows[0][2] == pytest.approx(record.layers[0].ms)
    assert cols == ("c1d20-f1n1024", 256, pytest.approx(record.tiles_per_ms), "VALID")


def test_find_filters_and_orders_newest_first(tmp_path: Path) -> None:
    old = make_record(batch=64, created="2026-01-01T10:00:00+00:00")
    new = make_record(batch=64, created="2026-03-01T10:00:00+01:00")
    other = make_record(
        model="c2d20-f1n1024", batch=1024, backend="torch", created="2026-02-01T00:00:00+00:00"
    )
    with Store(tmp_path / "runs.db") as store:
        store.add([old, other, new])
        assert [r.run_id for r in store.find()] == [new.run_id, other.run_id, old.run_id]
        assert [r.run_id for r in store.find(model="c1d20-f1n1024")] == [new.run_id, old.run_id]
        assert [r.run_id for r in store.find(backend="torch")] == [other.run_id]
        assert [r.run_id for r in store.find(batch=1024)] == [other.run_id]
        assert [r.run_id for r in store.find(since="2026-01-15")] == [new.run_id, other.run_id]
        assert [r.run_id for r in store.find(limit=1)] == [new.run_id]
        assert store.find(device="tx1") == []


def test_since_accepts_an_age_and_rejects_nonsense(tmp_path: Path) -> None:
    recent = make_record()
    with Store(tmp_path / "runs.db") as store:
        store.add([recent, make_record(created="2020-01-01T00:00:00+00:00")])
        assert [r.run_id for r in store.find(since="2d")] == [recent.run_id]
        with pytest.raises(TrtbenchError, match="since"):
            store.find(since="last tuesday")


def test_tags_filter_runs_and_answer_which_points_are_done(tmp_path: Path) -> None:
    with Store(tmp_path / "runs.db") as store:
        for point in ("fc1-b16", "fc1-b32"):
            store.add([make_record()], tags={"sweep": "fc-batch", "point": point, "sweep_run": "s1"})
        store.add([make_record()], tags={"sweep": "fc-batch", "point": "fc2-b16", "sweep_run": "s2"})
        store.add([make_record()], tags={"sweep": "conv-depth", "point": "c1-d5", "sweep_run": "s1"})
        assert store.tag_values("point", sweep="fc-batch", sweep_run="s1") == {"fc1-b16", "fc1-b32"}
        assert store.tag_values("point", sweep="fc-batch") == {"fc1-b16", "fc1-b32", "fc2-b16"}
        assert store.tag_values("sweep") == {"fc-batch", "conv-depth"}
        assert store.tag_values("point", sweep="none") == set()
        assert len(store.find(tags={"sweep_run": "s1"})) == 3
        run = store.find(tags={"point": "c1-d5"})[0]
        assert store.tags(run.run_id) == {"sweep": "conv-depth", "point": "c1-d5", "sweep_run": "s1"}


def test_prefix_lookup_unknown_and_ambiguous(tmp_path: Path) -> None:
    a, b = make_record(), make_record()
    a.run_id, b.run_id = "abc123000000", "abd456000000"
    with Store(tmp_path / "runs.db") as store:
        store.add([a, b])
        assert store.get("abc").run_id == a.run_id
        with pytest.raises(TrtbenchError, match="ambiguous"):
            store.get("ab")
        with pytest.raises(TrtbenchError, match="no run 'zzz'"):
            store.get("zzz")
        with pytest.raises(TrtbenchError, match="no run"):
            store.get("a_c")  # LIKE wildcards are taken literally


def test_adding_a_stored_run_again_is_a_no_op(tmp_path: Path) -> None:
    record = make_record()
    with Store(tmp_path / "runs.db") as store:
        store.add([record])
        store.add([record])
        assert len(store.find()) == 1
        assert store.conn.execute("SELECT COUNT(*) FROM layers").fetchone()[0] == len(record.layers)
        assert record.run_id in store


def test_delete_removes_run_layers_and_tags(tmp_path: Path) -> None:
    keep, drop = make_record(), make_record()
    with Store(tmp_path / "runs.db") as store:
        store.add([keep, drop], tags={"host": "tx1"})
        store.delete(drop.run_id[:8])
        assert [r.run_id for r in store.find()] == [keep.run_id]
        counts = [
            store.conn.execute(f"SELECT COUNT(*) FROM {t} WHERE run_id = ?", (drop.run_id,)).fetchone()[0]
            for t in ("runs", "layers", "tags")
        ]
        assert counts == [0, 0, 0]
        with pytest.raises(TrtbenchError):
            store.delete(drop.run_id)


class _Exploding(RunRecord):
    """A record whose serialisation is interrupted, like Ctrl-C in the middle of a batch."""

    def to_dict(self):  # type: ignore[override]
        raise KeyboardInterrupt


class _Unwritable(RunRecord):
    """A record whose layer rows fail to write (its JSON is written first, then float() fails)."""

    def to_dict(self):  # type: ignore[override]
        good = dict(vars(self))
        return RunRecord(**{**good, "layers": [LayerTime(l.name, l.category, 0.0) for l in self.layers]}).to_dict()


@pytest.mark.parametrize("failure", [KeyboardInterrupt, ValueError])
def test_an_interrupted_batch_leaves_no_half_run(tmp_path: Path, failure: type) -> None:
    first = make_record(batch=64)
    bad = make_record(batch=1024)
    if failure is KeyboardInterrupt:
        bad.__class__ = _Exploding
    else:
        bad.layers[-1].ms = "not a number"  # type: ignore[assignment]  # fails float() midway
        bad.__class__ = _Unwritable
    with Store(tmp_path / "runs.db") as store:
        with pytest.raises(failure):
            store.add([first, bad], tags={"sweep": "x"})
        assert store.find() == []
        assert store.conn.execute("SELECT COUNT(*) FROM layers").fetchone()[0] == 0
        assert store.conn.execute("SELECT COUNT(*) FROM tags").fetchone()[0] == 0
        store.add([first])  # the store is still usable
        assert len(store.find()) == 1


def test_schema_version_and_migration_from_an_older_file(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "runs.db"
    with Store(path) as store:
        assert store.schema_version == store_module.SCHEMA_VERSION
        store.add([make_record()])
    # a second migration step, as a future version would add it
    added = lambda conn: conn.execute("ALTER TABLE runs ADD COLUMN energy_mj REAL")  # noqa: E731
    monkeypatch.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS + (added,))
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", store_module.SCHEMA_VERSION + 1)
    with Store(path) as store:
        assert store.schema_version == store_module.SCHEMA_VERSION
        columns = [row[1] for row in store.conn.execute("PRAGMA table_info(runs)")]
        assert "energy_mj" in columns
        assert len(store.find()) == 1


def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    with Store(path):
        pass
    conn = sqlite3.connect(str(path))
    conn.execute("UPDATE schema_version SET version = 99")
    conn.commit()
    conn.close()
    with pytest.raises(TrtbenchError, match="schema version 99"):
        Store(path).open()


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    path.write_text("hello, this is text and not SQLite at all" * 50)
    with pytest.raises(TrtbenchError, match="not a trtbench database"):
        Store(path).open()


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_paths_are_one_line_errors(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(TrtbenchError, match="is not writable"):
            Store(locked / "runs.db").open()
        with pytest.raises(TrtbenchError, match="is not writable"):
            Store(locked / "sub" / "runs.db").open()
    finally:
        locked.chmod(0o700)
    # an existing, read-only database still reads, and refuses writes with the same message
    path = tmp_path / "ro.db"
    with Store(path) as store:
        store.add([make_record()])
    path.chmod(0o400)
    with Store(path) as store:
        assert len(store.find()) == 1
        with pytest.raises(TrtbenchError, match="is not writable"):
            store.check_writable()
        with pytest.raises(TrtbenchError, match="is not writable"):
            store.add([make_record()])


def test_a_directory_is_not_a_database(tmp_path: Path) -> None:
    with pytest.raises(TrtbenchError, match="directory"):
        Store(tmp_path).open()


def test_a_path_below_a_file_is_not_writable(tmp_path: Path) -> None:
    (tmp_path / "plain.txt").write_text("x")
    with pytest.raises(TrtbenchError, match="database path .* is not writable"):
        Store(tmp_path / "plain.txt" / "runs.db").open()


_WRITER = """
import sys
sys.path[:0] = [sys.argv[2], sys.argv[3]]
from fake_runs import make_record
from trtbench.results.store import Store
layers = [("layer%03d" % i, "conv", 0.01, "Conv") for i in range(300)]
with Store(sys.argv[1]) as store:
    print("ready", flush=True)
    point = 0
    while True:
        point += 1
        store.add([make_record(layers=layers, batch=b) for b in (64, 1024)], tags={"point": str(point)})
"""


@pytest.mark.slow
def test_kill_9_in_the_middle_of_writes_leaves_only_whole_batches(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    db = tmp_path / "runs.db"
    tests, repo = str(Path(__file__).parent), str(Path(__file__).parent.parent)
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(db), tests, repo], stdout=subprocess.PIPE)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == b"ready"
        time.sleep(1.0)
    finally:
        writer.kill()  # SIGKILL: no cleanup, maybe mid-transaction
        writer.wait()
    with Store(db) as store:
        runs = store.find()
        assert runs, "the writer stored nothing in a second"
        for point in store.tag_values("point"):
            assert sorted(r.batch for r in store.find(tags={"point": point})) == [64, 1024]
        layer_counts = store.conn.execute("SELECT COUNT(*) FROM layers GROUP BY run_id").fetchall()
        assert {count for (count,) in layer_counts} == {300}
        assert len(layer_counts) == len(runs)
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# ---- damage: bad rows are skipped and named, bad files refused before any write ---------------

import json  # noqa: E402
import logging  # noqa: E402

from trtbench.results import health  # noqa: E402
from trtbench.results.wellformed import BadRecord  # noqa: E402


def _damage(path: Path, run_id: str, text: str) -> None:
    """Write a row's record JSON behind the store's back, as a bad disk or another tool would."""
    conn = sqlite3.connect(str(path))
    conn.execute("UPDATE runs SET record = ? WHERE run_id = ?", (text, run_id))
    conn.commit()
    conn.close()


def _nan_batch_text(record: RunRecord) -> str:
    data = record.to_dict()
    data["end_to_end_ms"], data["batch"] = float("nan"), "12"
    return json.dumps(data)  # Python's json writes NaN


@pytest.fixture
def damaged_db(tmp_path: Path):
    """Four runs, newest first: ok, garbage JSON, NaN and a text batch, ok."""
    records = [make_record(batch=b, created=f"2026-01-0{i}T00:00:00+00:00") for i, b in enumerate((8, 16, 32, 64), 1)]
    path = tmp_path / "runs.db"
    with Store(path) as store:
        store.add(records)
    _damage(path, records[1].run_id, '{"schema_version": 3, "run_id": ')
    _damage(path, records[2].run_id, _nan_batch_text(records[2]))
    return path, records


def test_find_skips_damaged_rows_and_names_each(damaged_db) -> None:
    path, records = damaged_db
    said = []
    with Store(path, warn=said.append) as store:
        assert [r.run_id for r in store.find()] == [records[3].run_id, records[0].run_id]
        assert [r.run_id for r in store.find(limit=2)] == [records[3].run_id, records[0].run_id]  # limit counts good ones
        assert {row.run_id for row in store.skipped} == {records[1].run_id, records[2].run_id}
    assert any(records[1].run_id in s and "does not parse" in s for s in said)
    assert any(records[2].run_id in s and "batch is the text '12'" in s and "end_to_end_ms is NaN" in s
               for s in said)
    assert all("trtbench runs check --repair" in s for s in said)


def test_without_a_warn_callback_skips_go_to_logging(damaged_db, caplog) -> None:
    path, records = damaged_db
    with caplog.at_level(logging.WARNING, logger="trtbench.results.store"), Store(path) as store:
        assert len(store.find()) == 2
    assert records[2].run_id in caplog.text


def test_many_damaged_rows_are_summed_up(tmp_path: Path) -> None:
    records = [make_record(batch=b) for b in range(1, 9)]
    path = tmp_path / "runs.db"
    with Store(path) as store:
        store.add(records)
    for record in records[1:]:
        _damage(path, record.run_id, "[]")
    said = []
    with Store(path, warn=said.append) as store:
        assert [r.run_id for r in store.find()] == [records[0].run_id]
    assert len(said) == store_module.SHOWN_SKIPS + 1 and "skipped 4 more damaged runs" in said[-1]


def test_get_names_a_damaged_run_and_the_fix(damaged_db) -> None:
    path, records = damaged_db
    with Store(path) as store:
        with pytest.raises(TrtbenchError) as err:
            store.get(records[2].run_id[:10])
        assert store.get(records[0].run_id).batch == 8  # the others still read
    assert records[2].run_id in str(err.value) and "runs check --repair" in str(err.value)


def test_a_newer_record_is_skipped_with_upgrade_and_never_quarantined(tmp_path: Path) -> None:
    newer, ok = make_record(), make_record()
    path = tmp_path / "runs.db"
    with Store(path) as store:
        store.add([newer, ok])
    _damage(path, newer.run_id, json.dumps({**newer.to_dict(), "schema_version": 99}))
    said = []
    with Store(path, warn=said.append) as store:
        assert [r.run_id for r in store.find()] == [ok.run_id]
    assert "upgrade trtbench" in said[0]
    found = health.repair(path, health.inspect(path))
    assert found.clean and [row.run_id for row in found.newer] == [newer.run_id] and not found.moved


def test_add_refuses_a_record_that_is_not_well_formed(tmp_path: Path) -> None:
    good, bad = make_record(), make_record()
    bad.end_to_end_ms = float("nan")
    with Store(tmp_path / "runs.db") as store:
        with pytest.raises(BadRecord, match=f"run {bad.run_id} cannot be stored: end_to_end_ms is null"):
            store.add([good, bad])
        assert store.find() == []  # one transaction: nothing of the batch


def test_check_finds_damaged_rows_and_repair_quarantines_them(damaged_db) -> None:
    path, records = damaged_db
    before = path.read_bytes()
    found = health.inspect(path)
    assert path.read_bytes() == before  # looking writes nothing
    assert not found.clean and found.runs == 4 and not found.file_damaged
    assert {row.run_id for row in found.damaged} == {records[1].run_id, records[2].run_id}
    fixed = health.repair(path, found)
    assert fixed.clean and len(fixed.moved) == 2 and fixed.quarantined == 2
    with Store(path) as store:
        said = []
        store.warn = said.append
        assert len(store.find()) == 2 and said == []
        columns = [row[1] for row in store.conn.execute("PRAGMA table_info(quarantine)")]
        kept = store.conn.execute("SELECT run_id, record, reason, quarantined FROM quarantine ORDER BY run_id").fetchall()
        left = store.conn.execute("SELECT COUNT(*) FROM layers WHERE run_id IN (?, ?)",
                                  (records[1].run_id, records[2].run_id)).fetchone()[0]
    assert set(store_module._COLUMNS) <= set(columns) and {"reason", "quarantined"} <= set(columns)
    assert sorted(k[0] for k in kept) == sorted([records[1].run_id, records[2].run_id]) and left == 0
    assert all(k[2] and k[3].startswith("20") for k in kept)  # why, and when
    assert health.inspect(path).clean


@pytest.mark.parametrize("damage", ["random", "truncated mid-page", "truncated at a page", "header only"])
def test_a_damaged_file_is_refused_before_anything_is_written(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "runs.db"
    with Store(path) as store:
        store.add([make_record(batch=b, layers=[(f"l{i}", "conv", 0.1, "Conv") for i in range(40)])
                   for b in range(1, 30)])
    whole = path.read_bytes()
    page = int.from_bytes(whole[16:18], "big")
    path.write_bytes({"random": os.urandom(len(whole)), "truncated mid-page": whole[: len(whole) // 2 + 100],
                      "truncated at a page": whole[: page * 3], "header only": whole[:100]}[damage])
    before = path.read_bytes()
    for attempt in (lambda s: s.find(), lambda s: s.add([make_record()])):
        with pytest.raises(TrtbenchError) as err:
            with Store(path) as store:
                attempt(store)
        assert "not a trtbench database" in str(err.value) and "trtbench runs check" in str(err.value)
    assert path.read_bytes() == before
    assert health.inspect(path).file_problem


def test_an_interrupted_write_is_left_to_sqlite_to_roll_back(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    with Store(path) as store:
        store.add([make_record()])
    path.write_bytes(path.read_bytes()[:-100])  # torn, but a hot journal would make SQLite mend it
    assert store_module.file_problem(path)
    Path(f"{path}-journal").write_bytes(b"")
    assert store_module.file_problem(path) is None


def test_another_programs_database_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    conn = sqlite3.connect(str(path))
    conn.execute("CREATE TABLE notes (text TEXT)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(TrtbenchError, match="not trtbench's .*notes"):
        Store(path).open()
    assert path.read_bytes() == before
    assert health.inspect(path).file_kind == health.FOREIGN


def test_damage_inside_the_file_is_reported_not_repaired(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    with Store(path) as store:
        store.add([make_record(batch=b, layers=[(f"l{i}", "conv", 0.1, "Conv") for i in range(40)])
                   for b in range(1, 30)])
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    for p in range(3, 8):
        data[p * page + 8: p * page + 200] = os.urandom(192)
    path.write_bytes(bytes(data))
    found = health.inspect(path)
    assert found.integrity and not found.clean
    before = path.read_bytes()
    assert not health.repair(path, found).moved and path.read_bytes() == before
    assert "sqlite3" in found.salvage() and ".dump" in found.salvage()
