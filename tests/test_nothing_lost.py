"""Nothing measured is lost: outputs are checked before the work starts, and Ctrl-C writes the
batches that finished to every requested output."""
from __future__ import annotations

import json
import os

import pytest

from trtbench.cli.app import main


@pytest.mark.parametrize("flag, value", [("--json", "missing/x.json"), ("--export-profile", "f.txt/p.json"),
                                         ("--csv", "missing/t.csv")])
def test_an_output_that_cannot_be_written_stops_before_measuring(cli, tmp_path, flag, value):
    (tmp_path / "f.txt").write_text("a file, not a folder")
    result = cli("profile", "c1d20-f1n128", "--batch", "2", "--backend", "onnxruntime", "--iterations", "1",
                 "--loops", "1", "--no-db", flag, value)
    assert result.returncode == 2 and result.stderr.count("trtbench: error:") == 1, result.stderr
    assert "cannot write" in result.stderr and "measuring" not in result.stderr
    assert not (tmp_path / ".trtbench").exists()  # not even the export of the spec was made


def test_ctrl_c_writes_the_finished_batches_to_json_and_the_database(tmp_path, monkeypatch, capsys):
    import trtbench.measure.method as method

    real = method.measure
    calls = []

    def measure_then_interrupt(*args, **kwargs):
        calls.append(args[2])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(method, "measure", measure_then_interrupt)
    monkeypatch.chdir(tmp_path)
    code = main(["profile", "c1d20-f1n128", "--batch", "2,4", "--backend", "onnxruntime", "--iterations", "2",
                 "--loops", "1", "--json", "runs.json", "--db", "runs.db"])
    assert code == 130 and "interrupted" in capsys.readouterr().err
    saved = json.loads((tmp_path / "runs.json").read_text())
    saved = saved if isinstance(saved, list) else [saved]
    assert [r["batch"] for r in saved] == [2]
    import sqlite3

    with sqlite3.connect(str(tmp_path / "runs.db")) as db:
        assert {row[0] for row in db.execute("SELECT run_id FROM runs")} == {saved[0]["run_id"]}


@pytest.mark.parametrize("failure", [KeyboardInterrupt, OSError])
def test_an_export_that_fails_midway_leaves_no_file(tmp_path, monkeypatch, failure):
    """A truncated .onnx in the cache or at --out would be read as a model later: exports are
    written to a temporary file and renamed only once checked."""
    import trtbench.models.export as export
    from trtbench.models.netspec import parse_name

    def fail(*args, **kwargs):
        raise failure("stopped")

    monkeypatch.setattr(export, "_check_and_annotate", fail)
    with pytest.raises(failure):
        export.export_onnx(parse_name("c1d20-f1n128"), tmp_path / "m.onnx", verify=False)
    assert list(tmp_path.iterdir()) == []


def _interrupt_on_call(n: int, real):
    calls = []

    def wrapper(*args, **kwargs):
        calls.append(1)
        if len(calls) == n:
            raise KeyboardInterrupt
        return real(*args, **kwargs)
    return wrapper


def test_ctrl_c_in_a_sweep_writes_the_saved_points_to_json_and_the_same_command_resumes(tmp_path, monkeypatch,
                                                                                         capsys):
    import sqlite3

    import trtbench.measure.method as method

    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.toml").write_text('kind = "sweep"\nname = "tiny"\n[[group]]\nname = "a"\n'
                                        'fc_layers = [1, 2, 3]\nbatch = [2]\n')
    argv = ["sweep", "tiny.toml", "--iterations", "2", "--loops", "1", "--order", "file", "--db", "runs.db",
            "--json", "sweep.json"]
    with monkeypatch.context() as patch:
        patch.setattr(method, "measure", _interrupt_on_call(3, method.measure))
        assert main(argv) == 130
    assert "interrupted after 2 points" in capsys.readouterr().err
    first = json.loads((tmp_path / "sweep.json").read_text())
    assert first["interrupted"] is True and first["ran"] == 2 and first["points"] == 3
    with sqlite3.connect(str(tmp_path / "runs.db")) as db:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 2

    assert main(argv) == 0  # the same command continues the run: only the third point is measured
    second = json.loads((tmp_path / "sweep.json").read_text())
    assert (second["run"], second["ran"], second["skipped"], second["interrupted"]) == (first["run"], 1, 2, False)


def test_ctrl_c_in_a_drift_loop_keeps_the_finished_loops(tmp_path, monkeypatch, capsys):
    import sqlite3

    import trtbench.measure.drift_loop as drift_loop

    monkeypatch.chdir(tmp_path)
    # one synchronize per loop (--alloc per-run): the 4th is loop 3, after warm-up loop 0 and loops 1, 2
    monkeypatch.setattr(drift_loop, "_synchronize", _interrupt_on_call(4, drift_loop._synchronize))
    code = main(["drift", "c1d20-f1n128", "--backend", "onnxruntime", "--batch", "2", "--loops", "50",
                 "--iterations", "1", "--warmup", "1", "--no-telemetry", "--db", "runs.db", "--json", "drift.json"])
    assert code == 130 and "interrupted" in capsys.readouterr().err
    saved = json.loads((tmp_path / "drift.json").read_text())
    assert saved["source"]["loops"] == 2
    assert {len(series) for series in saved["series"].values()} == {2}
    with sqlite3.connect(str(tmp_path / "runs.db")) as db:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1


# ---- a database that cannot take the runs is refused before measuring --------------------------

def _fixture_db(tmp_path, runs: int = 8):
    from fake_runs import make_record

    from trtbench.results.store import Store

    path = tmp_path / "runs.db"
    with Store(path) as store:
        for i in range(runs):
            store.add([make_record(seed=i, loops=10)])
    return path


def _without_root_override() -> list:
    """A prefix that makes permission bits bind: none for a normal user; for root, setpriv
    dropping the capabilities that override them (else the test cannot run)."""
    import shutil

    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        pytest.skip("root ignores permission bits and setpriv is not here")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]


def test_a_read_only_database_is_refused_before_measuring(tmp_path):
    """SQLite lets a read-only file take the write lock: only a write tells, so the probe writes."""
    import subprocess
    import sys

    from conftest import REPO

    db = _fixture_db(tmp_path)
    db.chmod(0o444)
    prefix = _without_root_override()
    result = subprocess.run([*prefix, sys.executable, "-m", "trtbench", "profile", "c1d20-f1n128", "--backend",
                             "onnxruntime", "--batch", "2", "--iterations", "2", "--loops", "2", "--db", str(db)],
                            cwd=str(tmp_path), capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 2 and "not writable" in result.stderr, result.stderr
    assert "measuring" not in result.stderr and result.stderr.count("trtbench: error:") == 1


def test_a_database_damaged_inside_its_pages_is_refused_before_measuring(tmp_path):
    import sqlite3

    from trtbench.errors import TrtbenchError
    from trtbench.results.store import Store

    db = _fixture_db(tmp_path, runs=20)
    with sqlite3.connect(str(db)) as conn:
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    assert pages > 6
    with open(db, "r+b") as handle:  # a b-tree page's header overwritten
        handle.seek((pages - 2) * size)
        handle.write(b"\x0d\xff\xff\xff\xff" * 12)
    before = db.read_bytes()
    with Store(db) as store, pytest.raises(TrtbenchError, match="damaged inside"):
        store.check_writable()
    assert db.read_bytes() == before


def test_a_record_that_is_not_utf8_is_one_bad_row_not_a_dead_database(tmp_path, cli):
    import sqlite3

    db = _fixture_db(tmp_path, runs=3)
    with sqlite3.connect(str(db)) as conn:
        conn.execute("UPDATE runs SET record = CAST(X'7B2272756E5F6964223A20FF7D' AS TEXT) WHERE rowid = 1")
    listed = cli("runs", "--db", db, "--json", "-")
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 2
    assert "not UTF-8" in listed.stderr
    repaired = cli("runs", "check", "--repair", "--db", db)
    assert repaired.returncode == 0, repaired.stderr
    with sqlite3.connect(str(db)) as conn:
        assert conn.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0] == 1
