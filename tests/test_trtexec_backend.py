"""The trtexec backend, driven by a scripted stand-in for trtexec (this machine has no TensorRT).

The stand-in records its argv and writes real fixture files where trtexec would: the A100 ResNet
profile and engine graph, and the RTX 3090 per-query times.
"""
from __future__ import annotations

import json
import os
import stat
import sys

import pytest

from tests.conftest import TRTEXEC_FIXTURES
from trtbench.backends.base import LoadOptions
from trtbench.backends.trtexec import BACKEND
from trtbench.device import tensorrt_install as trtexec_cli
from trtbench.errors import TrtbenchError
from trtbench.models.source import ModelSource

F = TRTEXEC_FIXTURES
A100 = F / "NVIDIA__TensorRT__trex-A100-fp32-resnet.onnx.engine"
TIMES = F / "NVIDIA__TensorRT__trex-RTX3090-fp32-resnet.onnx.engine.timing.json"

STAND_IN = '''#!{python}
import os, shutil, sys
args = sys.argv[1:]
with open(os.environ["FAKE_TRTEXEC_ARGV"], "a") as log:
    log.write(" ".join(args) + "\\n")
print("&&&& RUNNING TensorRT.trtexec [TensorRT v8601] # trtexec " + " ".join(args))
if args == ["--help"]:
    sys.exit(0)
if os.environ.get("FAKE_TRTEXEC_FAIL"):
    print("[11/22/2026-10:00:00] [E] Error[1]: engine plan was built for another GPU")
    sys.exit(1)
print("[11/22/2026-10:00:00] [I] === Device Information ===")
print("[11/22/2026-10:00:00] [I] Selected Device: NVIDIA A100 80GB PCIe")
print("[11/22/2026-10:00:00] [I] TensorRT version: 8.6.1")
for arg in args:
    key, _, value = arg.partition("=")
    source = {{"--exportProfile": "{profile}", "--exportLayerInfo": "{graph}", "--exportTimes": "{times}"}}.get(key)
    if source:
        shutil.copy(source, value)
print("&&&& PASSED TensorRT.trtexec [TensorRT v8601]")
'''


@pytest.fixture
def fake_trtexec(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "trtexec"
    script.write_text(STAND_IN.format(python=sys.executable, profile=f"{A100}.profile.json",
                                      graph=f"{A100}.graph.json", times=TIMES))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    argv_log = tmp_path / "argv.txt"
    monkeypatch.setenv("FAKE_TRTEXEC_ARGV", str(argv_log))
    monkeypatch.setenv("PATH", str(bindir) + os.pathsep + os.environ.get("PATH", ""))
    return argv_log


@pytest.fixture
def plan(tmp_path) -> ModelSource:
    path = tmp_path / "resnet.plan"
    path.write_bytes(b"not a real engine")
    # the build metadata beside the engine names its inputs (what `trtbench build` writes)
    (tmp_path / "resnet.plan.json").write_text(json.dumps(
        {"model": {"inputs": [{"name": "input.1", "dims": [None, 1, 28, 28], "dtype": "float32"}]}}))
    return ModelSource(path=path, kind="plan", name="resnet")


def test_available_false_gives_a_one_line_hint(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(trtexec_cli, "JETSON_TRTEXEC", str(tmp_path / "no" / "trtexec"))
    assert BACKEND.available() is False
    hint = BACKEND.install_hint()
    assert "\n" not in hint and "JetPack" in hint and "trtexec" in hint


def test_profile_without_trtexec_is_one_line(cli, tmp_path):
    plan_path = tmp_path / "x.plan"
    plan_path.write_bytes(b"plan")
    result = cli("profile", plan_path, "--backend", "trtexec", "--no-db", env={"PATH": str(tmp_path)})
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "trtexec" in result.stderr
    assert "Traceback" not in result.stderr


def test_load_refuses_onnx(fake_trtexec, tmp_path):
    onnx = ModelSource(path=tmp_path / "m.onnx", kind="onnx", name="m")
    with pytest.raises(TrtbenchError, match="engine plans"):
        BACKEND.load(onnx, LoadOptions(device="cuda"))


def test_session_runs_trtexec_and_reads_its_outputs(fake_trtexec, plan):
    session = BACKEND.load(plan, LoadOptions(device="cuda", precision="fp32"))
    try:
        assert str(session.version) == "8.6.1"
        session.set_batch(32)
        compute = [r["computeMs"] for r in json.loads(TIMES.read_text())]
        assert session.run_timed(5) == compute[:5]
        assert session.run_timed(3) == compute[5:8]
        assert session.runs == 1
        more = session.run_timed(300)  # more than one run gave: trtexec runs again
        assert session.runs == 2 and len(more) == 300 and more[-1] == compute[(8 + 300 - 1) % len(compute)]
        result = session.profile(10)
        assert result.iterations == 1 and len(result.layers) == 32
        assert {layer.category for layer in result.layers} == {"conv", "pool", "fc", "reformat"}
        assert result.unknown == []
        info = session.info()
        assert info["device_name"] == "NVIDIA A100 80GB PCIe" and info["backend_version"] == "8.6.1"
    finally:
        session.close()
    assert not session.workdir.exists()
    calls = fake_trtexec.read_text().splitlines()
    assert calls[0] == "--help"
    run = calls[1].split()
    assert f"--loadEngine={plan.path}" in run and "--shapes=input.1:32x1x28x28" in run
    assert "--separateProfileRun" in run and "--dumpProfile" in run
    assert any(a.startswith("--exportLayerInfo=") for a in run)


def test_measure_with_the_trtexec_backend(fake_trtexec, plan):
    from trtbench.measure.method import measure
    session = BACKEND.load(plan, LoadOptions(device="cuda"))
    try:
        record = measure(session, plan, 32, iterations=10, loops=3, warmup=2)
    finally:
        session.close()
    assert record.backend == "trtexec" and record.batch == 32 and record.iterations == 10
    assert len(record.iteration_ms) == 3 and record.tiles_per_ms > 0
    assert record.categories["conv"] > record.categories["pool"] > 0


def test_trtexec_failure_is_a_user_error(fake_trtexec, plan, monkeypatch):
    session = BACKEND.load(plan, LoadOptions(device="cuda"))
    monkeypatch.setenv("FAKE_TRTEXEC_FAIL", "1")
    try:
        with pytest.raises(TrtbenchError, match="another GPU") as err:
            session.set_batch(8)
        assert "run.log" in str(err.value)
    finally:
        session.close()


def test_missing_plan(fake_trtexec, tmp_path):
    missing = ModelSource(path=tmp_path / "gone.plan", kind="plan", name="gone")
    with pytest.raises(TrtbenchError, match="does not exist"):
        BACKEND.load(missing, LoadOptions(device="cuda"))
