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
