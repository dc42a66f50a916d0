"""Nothing measured is lost: outputs are checked before the work starts, and Ctrl-C writes the
batches that finished to every requested output."""
from __future__ import annotations

import json

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
