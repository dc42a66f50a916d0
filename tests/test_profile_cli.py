"""`trtbench profile` end to end in a subprocess: tables, JSON, database rows, error lines."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from conftest import has_module

pytestmark = pytest.mark.skipif(not has_module("onnxruntime"), reason="needs onnxruntime")

FAST = ["--iterations", "3", "--loops", "2", "--warmup", "1", "--threads", "1"]


def foreign_net(path: Path, batch=None, pinned: bool = False) -> Path:
    """A hand-built ONNX CNN with arbitrary node names and no trtbench metadata; `pinned`: it
    first flattens the whole batch into one vector of batch × 576 (a graph that pins its batch)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.standard_normal(s).astype(np.float32), n)
             for n, s in (("K", (4, 1, 5, 5)), ("W", (576, 32)), ("V", (32, 10)), ("b", (32,)))]
    inits.append(numpy_helper.from_array(np.array([batch or -1, 576], np.int64), "S"))
    if pinned:
        inits.append(numpy_helper.from_array(np.array([batch * 576], np.int64), "all"))
    nodes = [helper.make_node("Conv", ["in", "K"], ["c"], name="Node #1"),
             helper.make_node("Relu", ["c"], ["r"], name="act"),
             helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2], name="down"),
             *([helper.make_node("Reshape", ["p", "all"], ["p1"], name="flatten_all")] if pinned else []),
             helper.make_node("Reshape", ["p1" if pinned else "p", "S"], ["f"], name="to_vec"),
             helper.make_node("MatMul", ["f", "W"], ["h"], name="dense"),
             helper.make_node("Add", ["h", "b"], ["hb"], name="bias"),
             helper.make_node("Tanh", ["hb"], ["t"], name="squash"),
             helper.make_node("MatMul", ["t", "V"], ["l"], name="head"),
             helper.make_node("Softmax", ["l"], ["out"], axis=1, name="prob")]
    dim = batch or "B"
    graph = helper.make_graph(nodes, "from-elsewhere",
                              [helper.make_tensor_value_info("in", TensorProto.FLOAT, [dim, 1, 28, 28])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, [dim, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def one_error_line(result) -> str:
    assert result.returncode == 2, result.stderr
    lines = [l for l in result.stderr.splitlines() if l.strip()]
    errors = [l for l in lines if l.startswith("trtbench: error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    return errors[0]


def test_foreign_onnx_on_onnxruntime_writes_tables_json_db_and_profile(cli, tmp_path: Path) -> None:
    net = foreign_net(tmp_path / "net.onnx")
    result = cli("profile", net, "--backend", "onnxruntime", "--batch", "4,8", *FAST,
                 "--json", "runs.json", "--db", "runs.db", "--export-profile", "prof.json")
    assert result.returncode == 0, result.stderr
    assert "backend onnxruntime" in result.stderr
    assert "tiles/ms" in result.stdout and "profiler overhead" in result.stdout
    records = json.loads((tmp_path / "runs.json").read_text())
    assert [r["batch"] for r in records] == [4, 8]
    for record in records:
        assert {"conv", "pool", "fc", "elementwise"} <= set(record["categories"])
        assert record["overhead"] is not None and record["validity"]["verdict"] in ("VALID", "WARN", "INVALID")
        assert len(record["iteration_ms"]) == 2 and len(record["iteration_ms"][0]) == 3
        assert record["tiles_per_ms"] == pytest.approx(
            record["batch"] * 3 / float(np.median(record["loop_ms"])))
        assert any(layer["name"] == "Node #1" or layer["type"] == "Conv" for layer in record["layers"])
    with sqlite3.connect(str(tmp_path / "runs.db")) as db:
        ids = {row[0] for row in db.execute("SELECT run_id FROM runs")}
    assert ids == {r["run_id"] for r in records}
    profile = json.loads((tmp_path / "prof.b8.json").read_text())
    assert profile[0]["count"] == 3 and {"name", "timeMs", "averageMs", "percentage"} <= set(profile[1])
    # exported in trtexec's profile shape and imported again: the same run, not "trtexec on cuda"
    back = cli("import-trtexec", "--profile", "prof.b8.json", "--no-db", "--json", "-")
    assert back.returncode == 0, back.stderr
    imported, original = json.loads(back.stdout), records[1]
    for key in ("backend", "device", "precision", "batch", "device_name"):
        assert imported[key] == original[key], key
    assert set(imported["categories"]) == set(original["categories"])
    total = sum(original["categories"].values())
    for category, ms in original["categories"].items():
        assert abs(imported["categories"][category] - ms) <= 0.001 * total, category
    assert imported["model"]["name"] == original["model"]["name"]
    assert imported["images_per_s"] == pytest.approx(original["images_per_s"])


def test_json_to_stdout_is_only_json(cli, tmp_path: Path) -> None:
    net = foreign_net(tmp_path / "net.onnx")
    result = cli("profile", net, "--backend", "onnxruntime", "--batch", "2", *FAST, "--no-profile",
                 "--json", "-", "--no-db")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["batch"] == 2 and record["layers"] == [] and record["overhead"] is None
    assert not (tmp_path / "trtbench.db").exists()


def test_auto_says_what_it_picked(cli, tmp_path: Path) -> None:
    net = foreign_net(tmp_path / "net.onnx")
    result = cli("profile", net, "--batch", "2", *FAST, "--no-profile", "--no-db")
    assert result.returncode == 0, result.stderr
    assert "auto" in result.stderr and "backend" in result.stderr


def test_error_cases_are_one_line_exit_2(cli, tmp_path: Path) -> None:
    net = foreign_net(tmp_path / "net.onnx")
    (tmp_path / "bad.onnx").write_bytes(b"\x08\x07garbage" * 20)
    (tmp_path / "afile").write_text("x")
    cases = {
        "not a readable ONNX": ["profile", "bad.onnx", "--backend", "onnxruntime"],
        "whole number": ["profile", net, "--backend", "onnxruntime", "--batch", "8,lots"],
        "node 'flatten_all' (Reshape) pins the batch": [
            "profile", foreign_net(tmp_path / "pinned.onnx", batch=4, pinned=True), "--backend", "onnxruntime",
            "--batch", "16", "--no-db"],
        "unknown backend": ["profile", net, "--backend", "tensorflow"],
        "pip install": ["profile", net, "--backend", "tensorrt"],
        "not writable": ["profile", net, "--backend", "onnxruntime", "--db", "afile/runs.db"],
    }
    for expected, args in cases.items():
        line = one_error_line(cli(*args, *FAST))
        assert expected in line, (args, line)


@pytest.mark.slow
def test_spec_on_torch_cpu(cli, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("trtbench.models.export")
    result = cli("profile", "c1d4-f1n32", "--backend", "torch", "--device", "cpu", "--batch", "8", *FAST,
                 "--json", "t.json", "--db", "t.db")
    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / "t.json").read_text())
    assert record["backend"] == "torch" and record["model"]["spec"]["fc"] == [32]
    assert {"conv", "pool", "fc", "elementwise"} <= set(record["categories"])
    assert {"conv1.conv", "pool", "out", "softmax"} <= {layer["name"] for layer in record["layers"]}


def test_ctrl_c_keeps_finished_batches_and_no_half_run(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    from conftest import REPO

    net = foreign_net(tmp_path / "net.onnx")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "trtbench", "profile", str(net), "--backend", "onnxruntime",
                             "--batch", "2,20000", "--iterations", "500", "--loops", "50", "--threads", "1",
                             "--db", "runs.db"], cwd=str(tmp_path), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            # a suite started in the background (`cmd &`) ignores SIGINT, and a child
                            # inherits that: give it a terminal's Ctrl-C back
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    said: list = []
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            said.append(line)
            if "measuring" in line and "batch 20,000" in line:
                break
        import threading  # keep reading stderr, so that a full pipe can never block the child's exit

        reader = threading.Thread(target=lambda: said.extend(proc.stderr), daemon=True)
        reader.start()
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            raise AssertionError("no exit 120 s after Ctrl-C; stderr:\n" + "".join(said)[-3000:]) from None
    finally:
        proc.kill()
    assert proc.returncode == 130, "".join(said)[-3000:]
    with sqlite3.connect(str(tmp_path / "runs.db")) as db:
        assert [row[0] for row in db.execute("SELECT batch FROM runs")] == [2]
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
