"""`trtbench drift` end to end: saved series (JSON, CSV), database history, a live loop."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List

import numpy as np
import pytest
from conftest import cuda_available, has_module


def _noise(seed: int, n: int = 200, cv: float = 0.03) -> np.ndarray:
    return 10.0 * (1 + cv * np.random.default_rng(seed).standard_normal(n))


def _write(path: Path, data) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_flat_series_exits_0(cli, tmp_path: Path) -> None:
    f = _write(tmp_path / "flat.json", _noise(1).tolist())
    done = cli("drift", "--series", f)
    assert done.returncode == 0, done.stderr
    assert "no drift" in done.stdout


def test_step_series_exits_1_with_figures(cli, tmp_path: Path) -> None:
    y = _noise(2)
    y[120:] *= 1.10
    f = _write(tmp_path / "step.json", y.tolist())
    done = cli("drift", "--series", f, "--json", "-")
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    assert data["drift"] is True and data["drifted"] == ["total"]
    total = data["parts"]["total"]
    assert total["kind"] == "step" and abs(total["step_index"] - 120) <= 3
    assert 7 < total["step_pct"] < 13
    assert data["series"]["total"] == pytest.approx(y.tolist())
    # a higher threshold than the step: no drift, exit 0
    assert cli("drift", "--series", f, "--threshold", "20").returncode == 0


def test_parts_object_names_allocation(cli, tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    alloc = 1.0 * (1 + 0.005 * np.arange(200)) * (1 + 0.05 * rng.standard_normal(200))
    compute = _noise(6)
    f = _write(
        tmp_path / "parts.json",
        {
            "alloc": alloc.tolist(),
            "compute": compute.tolist(),
            "total": (alloc + compute).tolist(),
            "label": "not a series",
        },
    )
    done = cli("drift", "--series", f)
    assert done.returncode == 1
    assert "DRIFT: allocation: trend" in done.stdout
    assert "allocation" in done.stdout and "compute" in done.stdout
    # --json FILE written, and read back as a series gives the same verdict
    out = tmp_path / "out.json"
    assert cli("drift", "--series", f, "--json", out).returncode == 1
    saved = json.loads(out.read_text())
    again = cli("drift", "--series", out, "--json", "-")
    assert json.loads(again.stdout)["verdict"] == saved["verdict"]
    only = cli("drift", "--series", f, "--column", "compute", "--json", "-")
    assert only.returncode == 0 and list(json.loads(only.stdout)["parts"]) == ["compute"]


def test_csv_columns(cli, tmp_path: Path) -> None:
    y = _noise(8, n=100)
    y[50:] *= 1.2
    rows = ["loop,ms,alloc_ms"] + [f"{i},{v:.5f},0.1" for i, v in enumerate(y)]
    f = tmp_path / "loops.csv"
    f.write_text("\n".join(rows) + "\n")
    done = cli("drift", "--series", f, "--column", "ms", "--json", "-")
    assert done.returncode == 1
    assert json.loads(done.stdout)["parts"]["ms"]["step_index"] == pytest.approx(50, abs=2)
    assert cli("drift", "--series", f, "--column", "2").returncode == 1  # column by number
    plain = tmp_path / "plain.txt"
    plain.write_text("\n".join(f"{v:.5f}" for v in _noise(9, n=60)) + "\n")
    assert cli("drift", "--series", plain).returncode == 0


@pytest.mark.parametrize(
    "args, text",
    [
        ([], "exactly one of"),
        (["--series", "missing.json"], "does not exist"),
        (["--series", "bad.json"], "not valid JSON"),
        (["--series", "words.json"], "numbers only"),
        (["--series", "loops.csv", "--column", "nope"], "no numeric column 'nope'"),
        (["--history"], "--model"),
        (["--series", "words.json", "--history"], "exactly one of"),
        (["tiny.onnx", "--alloc", "fragment"], "needs a CUDA GPU"),
    ],
)
def test_user_errors_exit_2_with_one_line(cli, tmp_path: Path, args: List[str], text: str) -> None:
    (tmp_path / "bad.json").write_text("[1, 2,")
    (tmp_path / "words.json").write_text('["a", "b"]')
    (tmp_path / "loops.csv").write_text("ms\n1\n2\n")
    done = cli("drift", *args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert text in done.stderr and done.stderr.startswith("trtbench: error:")
    assert done.stderr.count("\n") == 1


def _record(i: int, ms: float, batch: int = 256):
    from trtbench.results.record import RunRecord

    return RunRecord(
        backend="onnxruntime",
        device="cpu",
        batch=batch,
        precision="fp32",
        model={"name": "c1d20-f1n128"},
        iterations=10,
        loops=3,
        loop_ms=[ms * 10] * 3,
        iteration_ms=[[ms] * 10] * 3,
        end_to_end_ms=ms,
        tiles_per_ms=batch / ms,
        device_name="test-cpu",
        categories={"conv": ms * 0.7, "fc": ms * 0.3},
        created=f"2026-11-{i + 1:02d}T10:00:00+00:00",
    )


def test_history_from_the_database(cli, tmp_path: Path) -> None:
    from trtbench.results.store import Store

    db = tmp_path / "runs.db"
    ms = _noise(11, n=20, cv=0.02)
    ms[12:] *= 1.25  # a driver update made conv slower from run 12 on
    with Store(db) as store:
        store.add([_record(i, float(v)) for i, v in enumerate(ms)])
        store.add([_record(3, 99.0, batch=16)])  # another batch: not mixed into the series
    done = cli("drift", "--history", "--model", "c1d20-f1n128", "--db", db, "--json", "-")
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    assert data["unit"] == "run" and data["series"]["total"] == pytest.approx(ms.tolist())
    assert data["parts"]["total"]["step_index"] == 12 and set(data["parts"]) == {"conv", "fc", "total"}
    assert len(data["source"]["run_ids"]) == 20 and "batch 256" in data["source"]["notes"][0]
    # tiles/ms falls when runs get slower: with --metric tiles_per_ms, "slower" means down
    tiles = cli(
        "drift",
        "--history",
        "--model",
        "c1d20-f1n128",
        "--db",
        db,
        "--metric",
        "tiles_per_ms",
        "--batch",
        "256",
        "--json",
        "-",
    )
    assert tiles.returncode == 1
    assert json.loads(tiles.stdout)["parts"]["total"]["step_pct"] < -15
    faster = cli("drift", "--history", "--model", "c1d20-f1n128", "--db", db, "--direction", "faster")
    assert faster.returncode == 0 and "goes the other way" in faster.stderr
    nothing = cli("drift", "--history", "--model", "other", "--db", db)
    assert nothing.returncode == 2 and "no runs of model 'other'" in nothing.stderr


def _tiny_onnx(path: Path) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.random.default_rng(0).standard_normal((784, 10)).astype(np.float32), "w")
    b = numpy_helper.from_array(np.zeros(10, np.float32), "b")
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["x"], ["f"]), helper.make_node("Gemm", ["f", "w", "b"], ["y"])],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 28, 28])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])],
        [w, b],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_live_loop_on_onnxruntime(cli, tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    model = _tiny_onnx(tmp_path / "tiny.onnx")
    done = cli(
        "drift",
        model,
        "--backend",
        "onnxruntime",
        "--loops",
        "40",
        "--iterations",
        "2",
        "--batch",
        "32",
        "--json",
        "-",
    )
    # a shared CPU may really drift; what must hold is the shape of the result
    assert done.returncode in (0, 1), done.stderr
    data = json.loads(done.stdout)
    assert set(data["series"]) == {"alloc", "compute", "total"}
    assert all(len(v) == 40 for v in data["series"].values())
    assert all(a > 0 for a in data["series"]["alloc"])
    assert all(t >= c for t, c in zip(data["series"]["total"], data["series"]["compute"]))
    assert data["source"]["backend"] == "onnxruntime" and data["source"]["alloc"] == "per-run"
    reuse = cli(
        "drift",
        model,
        "--backend",
        "onnxruntime",
        "--loops",
        "20",
        "--iterations",
        "2",
        "--batch",
        "32",
        "--alloc",
        "reuse",
        "--json",
        "-",
    )
    assert json.loads(reuse.stdout)["parts"]["alloc"]["kind"] == "constant"


@pytest.mark.gpu
def test_fragmenting_allocations_on_cuda() -> None:
    if not cuda_available():
        pytest.skip("needs a CUDA GPU")
    import time

    from trtbench.measure.drift_loop import CudaRuntime, Fragmenter

    fragmenter = Fragmenter(CudaRuntime.load(), seed=1, max_live_bytes=512 << 20)
    times = [fragmenter.step(time.perf_counter) for _ in range(60)]
    assert fragmenter.live and all(t > 0 for t in times)
    assert sum(size for _, size in fragmenter.live) <= 512 << 20
    fragmenter.release()
    assert fragmenter.live == []


@pytest.mark.gpu
def test_live_fragment_loop_on_cuda(cli, tmp_path: Path) -> None:
    if not cuda_available():
        pytest.skip("needs a CUDA GPU")
    if not has_module("torch"):
        pytest.skip("needs torch")
    model = _tiny_onnx(tmp_path / "tiny.onnx") if has_module("onnx") else None
    done = cli(
        "drift",
        model,
        "--device",
        "cuda",
        "--alloc",
        "fragment",
        "--loops",
        "50",
        "--iterations",
        "2",
        "--batch",
        "64",
        "--json",
        "-",
    )
    assert done.returncode in (0, 1), done.stderr
    data = json.loads(done.stdout)
    assert len(data["series"]["fragment"]) == 50 and "fragment" in data["parts"]


def test_series_from_saved_run_records(cli, tmp_path: Path) -> None:
    from trtbench.results.record import write_records

    ms = _noise(12, n=30, cv=0.01)
    ms[15:] *= 1.3
    runs = tmp_path / "runs.json"
    write_records([_record(i, float(v)) for i, v in enumerate(ms)], runs)
    done = cli("drift", "--series", runs, "--json", "-")
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["series"]["total"] == pytest.approx(ms.tolist())
    one = tmp_path / "one.json"
    write_records([_record(0, 5.0)], one)  # a single record: its loop_ms (3 loops) is too short
    done = cli("drift", "--series", one)
    assert done.returncode == 0 and "too few loops" in done.stdout


@pytest.mark.parametrize("width, counted", [(0.01, True), (0.10, False)])
def test_a_history_step_within_the_runs_own_intervals_is_not_drift(tmp_path: Path, width: float,
                                                                    counted: bool) -> None:
    """Twelve runs, the last six 6 % slower: drift when each run is known to ±1 %, not when to ±10 %."""
    from fake_runs import make_record

    from trtbench.api.drift import drift_history
    from trtbench.results.store import Store

    with Store(tmp_path / "runs.db") as store:
        for i in range(12):
            record = make_record(created=f"2026-01-{i + 1:02d}T00:00:00+00:00", seed=i)
            record.end_to_end_ms = 10.0 * (1.06 if i >= 6 else 1.0) * (1 + 0.002 * (i % 3))
            record.intervals = {"level": 0.96, "n": 10, "end_to_end_ms": [record.end_to_end_ms * (1 - width),
                                                                         record.end_to_end_ms * (1 + width)]}
            store.add([record])
    result = drift_history("c1d20-f1n1024", tmp_path / "runs.db", threshold=3.0)
    assert result.drift is counted
    raised = [n for n in result.source.get("notes", []) if "raised from 3 %" in n]
    assert bool(raised) is (not counted)
