"""`trtbench study` end to end on small sweep files: every step runs for real (onnxruntime on the
CPU, torch training on real MNIST), the report judges the eight findings from what was saved, and
a second invocation finds every step done."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import has_module

pytestmark = pytest.mark.skipif(not (has_module("onnxruntime") and has_module("torch")),
                                reason="needs onnxruntime and torch")

MINI = """kind = "sweep"
name = "mini-study"
[defaults]
conv_layers = 1
depth = 5
fc_layers = 1
neurons = 128
batch = 64
[[group]]
name = "fc-batch"
title = "FC layers x batch"
fc_layers = [1, 2]
batch = [16, 64]
[[group]]
name = "fc-neurons"
title = "FC layers x neurons"
fc_layers = [1, 2, 3]
neurons = [64, 128]
[[group]]
name = "conv-depth"
title = "conv layers x depth"
conv_layers = [1, 2, 3]
depth = [5, 10]
"""

NEURONS = """kind = "sweep"
name = "mini-neurons"
[defaults]
conv_layers = 1
depth = 5
fc_layers = 1
neurons = 128
batch = 64
[[group]]
name = "neurons"
title = "neurons on and off multiples of 128"
neurons = [100, 128]
"""


def _study_args(tmp_path: Path, mnist_dir: Path, *extra: str) -> list:
    (tmp_path / "mini.toml").write_text(MINI)
    (tmp_path / "neurons.toml").write_text(NEURONS)
    return ["study", "--out", "out", "--threads", "1", "--sweep-file", "mini.toml", "--neurons-file", "neurons.toml",
            "--iterations", "2", "--loops", "2", "--data-dir", str(mnist_dir), "--epochs", "1",
            "--train-limit", "300", "--drift-loops", "12", "--drift-iterations", "1", "--drift-batch", "16", *extra]


def test_study_runs_every_step_and_reports_each_finding(cli, tmp_path, mnist_dir):
    done = cli(*_study_args(tmp_path, mnist_dir), timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    out = tmp_path / "out"
    report = (out / "report.md").read_text()
    findings = json.loads((out / "findings.json").read_text())
    assert [f["number"] for f in findings] == list(range(1, 9))
    for f in findings:
        assert f"| {f['number']} | {f['claim']} | **{f['verdict']}** |" in report
    by_number = {f["number"]: f for f in findings}
    # the fit, the drift check and training ran, so their findings are judged, not left untested
    assert by_number[8]["verdict"] != "not tested" and "R²" in by_number[8]["measured"]
    assert by_number[7]["verdict"] != "not tested" and "12 loops" in by_number[7]["measured"]
    assert by_number[6]["verdict"] == "not tested"  # one device, no --baseline
    # the Table-2 networks were trained (on 300 tiles) and their records are in the report
    for name in ("c5d20-f1n1024", "c1d20-f5n1024", "c3d20-f3n1024"):
        record = json.loads((out / "train" / f"{name}.train.json").read_text())
        assert record["data"]["train"] == 300
        assert name in report
    # fc-batch 2x2, fc-neurons 3x2, conv-depth 3x2, neurons 2, and the bundled table2 sweep's 3
    assert "(21 measured points)" in report
    assert "| c3d20-f3n1024 | 42.0 | " in report and "| c3d20-f3n1024 | 42.0 | — |" not in report
    figures = sorted(p.name for p in (out / "figures").glob("*.png"))
    assert any(n.startswith("mini-study-") for n in figures) and any(n.startswith("mini-neurons-") for n in figures)
    assert "drift-drift.png" in figures
    for name in figures:
        assert f"(figures/{name})" in report
    commands = (out / "commands.txt").read_text().splitlines()
    assert commands[0].startswith("trtbench sweep mini.toml") and any(c.startswith("trtbench drift") for c in commands)

    again = cli(*_study_args(tmp_path, mnist_dir), timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stderr.count("already done") == len(commands)

    rebuilt = cli("study", "--out", "out", "--report-only", "--title", "Rebuilt")
    assert rebuilt.returncode == 0, rebuilt.stderr[-2000:]
    assert (out / "report.md").read_text().startswith("# Rebuilt")

    # publishing: figures copied beside the page, a hand-written block survives regeneration
    from trtbench.study2016.publish import HAND_END, HAND_START

    page = tmp_path / "docs" / "repro.md"
    page.parent.mkdir()
    page.write_text(f"# old\n\n{HAND_START}\nWhat the numbers mean.\n{HAND_END}\n\nold body\n")
    published = cli("study", "--out", "out", "--report-only", "--report", "docs/repro.md")
    assert published.returncode == 0, published.stderr[-2000:]
    text = page.read_text()
    assert text.startswith("# The 2016 study re-run") and "What the numbers mean." in text and "old body" not in text
    for name in figures:
        assert (tmp_path / "docs" / "repro" / name).is_file() and f"(repro/{name})" in text

    # finding 6 against a baseline folder: the same runs on both sides give a speedup of exactly 1
    same = cli("study", "--out", "out", "--report-only", "--baseline", "out")
    assert same.returncode == 0, same.stderr[-2000:]
    six = {f["number"]: f for f in json.loads((out / "findings.json").read_text())}[6]
    assert six["measured"].startswith("overall 1.00×") and "no target profile" in six["measured"]
    assert all(abs(s - 1.0) < 1e-9 for s in six["figures"]["categories"].values())


def test_study_refuses_bad_input_in_one_line(cli, tmp_path):
    no_data = cli("study", "--out", "o", "--skip", "sweep,neurons,table2,drift,fit,plot", env={"TRTBENCH_DATA_DIR": ""})
    assert no_data.returncode == 2
    assert "needs MNIST" in no_data.stderr and "Traceback" not in no_data.stderr
    bad_skip = cli("study", "--out", "o", "--skip", "sweeps")
    assert bad_skip.returncode == 2 and "unknown step sweeps" in bad_skip.stderr
    empty = cli("study", "--out", "o", "--report-only")
    assert empty.returncode == 2 and "holds no study runs" in empty.stderr


def test_each_steps_command_line_is_the_call_the_study_makes(tmp_path):
    """The report lists each step as a command line; the study runs it as an API call with the
    same options. Parsing every printed command with the real CLI gives back those options."""
    from trtbench.cli.app import build_parser
    from trtbench.study2016.plan import StudyOptions, plan_steps

    opts = StudyOptions(out=tmp_path / "study", threads=1, data_dir=tmp_path / "mnist", train_limit=600,
                        iterations=4, loops=2)
    steps = plan_steps(opts)
    assert {s.verb for s in steps} == {"sweep", "train", "drift", "fit", "plot"}
    parser = build_parser()
    for step in steps:
        parsed = vars(parser.parse_args(step.argv))
        assert parsed["command"] == step.verb
        for key, value in step.options.items():
            if value is None:
                continue
            got = parsed[key]
            if isinstance(value, list):
                assert [str(v) for v in got] == [str(v) for v in value], (step.command, key)
            else:
                assert str(got) == str(value), (step.command, key)
