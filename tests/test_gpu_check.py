"""benchmarks/gpu_check.sh, bare_loop.py and summarise_gpu_check.py, on the CPU.

The script is run for real: without a CUDA GPU every CUDA step is skipped with its reason and it
exits 0 with a summary; GPU_CHECK_DEVICE=cpu rehearses the same steps on the CPU (the run, timeout,
failure and budget machinery); a short budget skips whole steps. The bare loop and the summariser
run on real records. Only the CUDA bare loop needs a GPU.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Dict, List

import pytest
from conftest import REPO, cuda_available, has_module, run_cli

SCRIPT = REPO / "benchmarks" / "gpu_check.sh"
BARE = REPO / "benchmarks" / "bare_loop.py"
SUMMARISE = REPO / "benchmarks" / "summarise_gpu_check.py"

needs_bash = pytest.mark.skipif(shutil.which("bash") is None or shutil.which("timeout") is None,
                                reason="needs bash and coreutils timeout")
needs_torch = pytest.mark.skipif(not has_module("torch"), reason="needs torch")
needs_ort = pytest.mark.skipif(not has_module("onnxruntime"), reason="needs onnxruntime")


def gpu_check(out: Path, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "OUT": str(out), "PYTHONPATH": str(REPO), "GPU_CHECK_PYTHON": sys.executable, **env}
    return subprocess.run(["bash", str(SCRIPT)], cwd=str(REPO), env=full, capture_output=True, text=True,
                          timeout=timeout)


def status_lines(out: Path) -> List[Dict[str, str]]:
    keys = ("step", "item", "status", "seconds", "json", "detail")
    return [dict(zip(keys, line.split("\t"))) for line in (out / "status.tsv").read_text().splitlines()]


def test_script_parses() -> None:
    result = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    if shutil.which("shellcheck"):
        result = subprocess.run(["shellcheck", str(SCRIPT)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout


@needs_bash
@pytest.mark.skipif(cuda_available(), reason="with a CUDA GPU the check runs for minutes")
def test_without_cuda_every_cuda_step_is_skipped(tmp_path: Path) -> None:
    out = tmp_path / "out with space"
    result = gpu_check(out, GPU_CHECK_BUDGET_S="90")
    assert result.returncode == 0, result.stderr + result.stdout

    summary = (out / "summary.md").read_text()
    assert "CUDA steps SKIPPED" in summary and "no CUDA GPU" in summary
    assert summary in result.stdout  # printed at the end too
    lines = status_lines(out)
    assert {line["step"] for line in lines} == {"table2", "fidelity", "drift", "corpus"}
    for line in lines:  # one line per step, with the reason
        assert line["status"] == "SKIPPED" and "no CUDA GPU" in line["detail"], line
    assert summary.count("- SKIPPED") == 4

    env = (out / "env.txt").read_text()
    for key in ("python:", "torch", "onnxruntime", "nvidia-smi:"):
        assert key in env
    assert not list((out / "runs").iterdir())


@needs_bash
@needs_torch
@needs_ort
def test_cpu_rehearsal_runs_every_step_and_records_failures(tmp_path: Path) -> None:
    out = tmp_path / "out dir"
    models = tmp_path / "my models"
    models.mkdir()
    (models / "broken model.onnx").write_bytes(b"not an onnx file")
    result = gpu_check(out, GPU_CHECK_DEVICE="cpu", GPU_CHECK_MODELS=str(models),
                       GPU_CHECK_NETWORKS="c1d20-f1n128", GPU_CHECK_BATCH="8", GPU_CHECK_ITERATIONS="3",
                       GPU_CHECK_LOOPS="2", GPU_CHECK_PROFILE_ITERATIONS="2", GPU_CHECK_DRIFT_LOOPS="8",
                       GPU_CHECK_DRIFT_ITERATIONS="2", GPU_CHECK_BUDGET_S="200")
    assert result.returncode == 0, result.stderr + result.stdout

    by_item = {(line["step"], line["item"]): line for line in status_lines(out)}
    assert by_item[("table2", "c1d20-f1n128 fp32")]["status"] == "OK"
    assert by_item[("fidelity", "c1d20-f1n128 fp32 bare loop")]["status"] == "OK"
    assert by_item[("drift", "c1d20-f1n128 --alloc per-run")]["status"] == "OK"
    for backend in ("torch", "onnxruntime"):  # a broken model fails, is recorded, and the script goes on
        line = by_item[("corpus", f"broken_model {backend}-fp32")]
        assert line["status"] == "FAILED" and line["detail"].startswith("exit "), line

    record = json.loads((out / "runs" / "c1d20-f1n128-fp32.json").read_text())
    assert record["backend"] == "torch" and record["batch"] == 8 and record["images_per_s"] > 0
    bare = json.loads((out / "bare" / "c1d20-f1n128-fp32.json").read_text())
    assert bare["model"] == "c1d20-f1n128" and bare["ms_per_batch"] > 0
    drift = json.loads((out / "drift" / "c1d20-f1n128-per-run.json").read_text())
    assert drift["source"]["alloc"] == "per-run"

    summary = (out / "summary.md").read_text()
    assert "REHEARSAL" in summary
    assert "| c1d20-f1n128 | torch/cpu | fp32 | 8 |" in summary
    assert "ratio trtbench / bare" in summary and "no trtbench run to compare" not in summary
    assert "| c1d20-f1n128 | per-run | 8 |" in summary
    assert "- FAILED broken_model torch-fp32: exit" in summary


@needs_bash
def test_a_spent_budget_skips_whole_steps_and_pack_leaves_few_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = gpu_check(out, GPU_CHECK_DEVICE="cpu", GPU_CHECK_BUDGET_S="10", GPU_CHECK_STEPS="table2 drift",
                       GPU_CHECK_PACK="1")
    assert result.returncode == 0, result.stderr + result.stdout
    lines = status_lines(out)
    assert [(line["step"], line["status"]) for line in lines] == [("table2", "SKIPPED"), ("drift", "SKIPPED")]
    assert all("budget nearly spent" in line["detail"] for line in lines)
    assert "budget nearly spent" in (out / "summary.md").read_text()
    # the device tool brings back at most 8 files: packed, $OUT holds four
    names = sorted(p.name for p in out.iterdir())
    assert names == ["env.txt", "gpu-check.tar.gz", "status.tsv", "summary.md"]
    with tarfile.open(out / "gpu-check.tar.gz") as archive:
        assert {"summary.md", "env.txt", "status.tsv", "runs", "logs"} <= set(archive.getnames())


def run_bare(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BARE), *args], cwd=str(REPO), capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})


@needs_torch
def test_bare_loop_on_the_cpu(tmp_path: Path) -> None:
    target = tmp_path / "a b" / "bare.json"
    result = run_bare("c1d20-f1n128", "--device", "cpu", "--batch", "8", "--iterations", "3", "--loops", "2",
                      "--warmup", "2", "--warmup-ms", "0", "--json", str(target))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data == json.loads(target.read_text())
    assert (data["model"], data["device"], data["precision"]) == ("c1d20-f1n128", "cpu", "fp32")
    assert data["batch"] == 8
    assert data["iterations"] == 3 and data["loops"] == 2 and data["warmup"] >= 2
    assert data["ms_per_batch"] > 0
    assert data["images_per_s"] == pytest.approx(8 * 1000.0 / data["ms_per_batch"])
    assert data["min_ms"] <= data["ms_per_batch"] <= data["max_ms"]

    refused = run_bare("c1d20-f1n128", "--device", "cpu", "--precision", "fp16", "--batch", "8")
    assert refused.returncode != 0 and "needs --device cuda" in refused.stderr


@pytest.mark.gpu
@pytest.mark.skipif(not cuda_available(), reason="needs a CUDA GPU")
def test_bare_loop_on_cuda() -> None:
    result = run_bare("c1d20-f1n128", "--device", "cuda", "--precision", "fp16", "--batch", "64",
                      "--iterations", "5", "--loops", "2", "--warmup-ms", "50")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["device"] == "cuda" and data["device_name"] and data["ms_per_batch"] > 0


@needs_ort
def test_summarise_real_records(tmp_path: Path) -> None:
    out = tmp_path / "check"
    (out / "runs").mkdir(parents=True)
    for name in ("a", "b"):
        result = run_cli(["profile", "c1d20-f1n128", "--backend", "onnxruntime", "--batch", "8",
                          "--iterations", "2", "--loops", "1", "--no-db",
                          "--json", str(out / "runs" / f"{name}.json"),
                          "--cache-dir", str(tmp_path / "cache")], cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    records = [json.loads((out / "runs" / f"{name}.json").read_text()) for name in ("a", "b")]

    result = subprocess.run([sys.executable, str(SUMMARISE), str(out)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    summary = (out / "summary.md").read_text()
    assert result.stdout == summary
    rows = [line for line in summary.splitlines() if line.startswith("| c1d20-f1n128 |")]
    assert len(rows) == 2
    for row, record in zip(rows, records):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[1:4] == ["onnxruntime/cpu", "fp32", "8"]
        assert cells[4] == f"{record['images_per_s']:,.0f}"
        shares = [float(c) for c in cells[6:12]]
        assert sum(shares) == pytest.approx(100.0, abs=0.5)
        assert float(cells[12]) == pytest.approx(1 + record["overhead"], rel=0.01)
        assert cells[13].startswith(record["validity"]["verdict"])

    # The other shape: a list of records in one file, one without images_per_s (tiles_per_ms used).
    other = tmp_path / "other"
    (other / "runs").mkdir(parents=True)
    second = dict(records[1])
    del second["images_per_s"]
    (other / "runs" / "both.json").write_text(json.dumps([records[0], second]))
    (other / "runs" / "junk.json").write_text("{not json")
    result = subprocess.run([sys.executable, str(SUMMARISE), str(other), "--out", str(tmp_path / "s.md"),
                             "--quiet"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    text = (tmp_path / "s.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| c1d20-f1n128 |")]
    assert len(rows) == 2
    assert f"| {records[1]['tiles_per_ms'] * 1000:,.0f} |" in rows[1]
    assert "junk.json" in text
