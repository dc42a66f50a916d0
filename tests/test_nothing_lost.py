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
