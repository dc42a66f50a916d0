"""`trtbench import-trtexec` run as a subprocess."""
from __future__ import annotations

import json
import sqlite3

from tests.conftest import TRTEXEC_FIXTURES

F = TRTEXEC_FIXTURES
A100 = F / "NVIDIA__TensorRT__trex-A100-fp32-resnet.onnx.engine"


def test_import_prints_tables_and_stores_the_run(cli, tmp_path):
    db = tmp_path / "runs.db"
    result = cli("import-trtexec", "--profile", f"{A100}.profile.json", "--layers", f"{A100}.graph.json",
                 "--log", f"{A100}.profile.metadata.json", "--target", "a100", "--db", db)
    assert result.returncode == 0, result.stderr
    assert "Time per category" in result.stdout and "Conv_0 + Relu_1" in result.stdout
    assert "NVIDIA A100 80GB PCIe" in result.stdout and "batch 32" in result.stdout
    assert "stored run" in result.stderr
    with sqlite3.connect(str(db)) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert tables
    shown = cli("runs", "--db", db, "--json", "-")
    assert shown.returncode == 0, shown.stderr
    runs = json.loads(shown.stdout)
    runs = runs if isinstance(runs, list) else [runs]
    assert any(r.get("backend") == "trtexec" and r.get("device") == "a100" for r in runs)


def test_import_json_to_stdout_without_db(cli, tmp_path):
    times = F / "NVIDIA__TensorRT__trex-RTX3090-fp32-resnet.onnx.engine.timing.json"
    profile = F / "ismetdagli__HaX-CoNN__trt7.1.3-XavierAGX-googlenet_gpu_transition_at_-1.profile.json"
    result = cli("import-trtexec", "--profile", profile, "--times", times, "--batch", "16", "--no-db", "--json", "-")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["backend"] == "trtexec" and record["batch"] == 16 and record["iterations"] == 263
    assert record["tiles_per_ms"] > 0 and set(record["categories"]) >= {"conv", "pool", "reformat"}
    assert not (tmp_path / "trtbench.db").exists()


def test_import_from_a_log_table_only(cli, tmp_path):
    log = F / "XMR13__ALPR_Jetson__trt8.5.2-XavierNX-LPRNet-dumpProfile.excerpt.log"
    out = tmp_path / "run.json"
    result = cli("import-trtexec", "--log", log, "--no-db", "--json", out, "--verbose")
    assert result.returncode == 0, result.stderr
    record = json.loads(out.read_text())
    assert record["device_name"] == "Xavier" and record["backend_version"] == "8.5.2"
    assert record["validity"]["verdict"] == "WARN"  # timing came from the profiled run
    assert "transfer" in record["categories"] and "[HostToDeviceCopy 0]" in result.stdout


def test_missing_file_is_one_line_exit_2(cli, tmp_path):
    result = cli("import-trtexec", "--profile", tmp_path / "absent.json", "--no-db")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("trtbench: error:") and "absent.json" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_nothing_given_is_a_user_error(cli):
    result = cli("import-trtexec", "--no-db")
    assert result.returncode == 2 and "nothing to import" in result.stderr


def test_wrong_kind_of_file(cli):
    result = cli("import-trtexec", "--profile", F / "NVIDIA__TensorRT__trex-A100-fp32-resnet.onnx.engine.graph.json",
                 "--no-db")
    assert result.returncode == 2 and "--exportProfile" in result.stderr and "Traceback" not in result.stderr


def test_help_names_the_inputs(cli):
    result = cli("import-trtexec", "--help")
    assert result.returncode == 0
    for flag in ("--profile", "--layers", "--times", "--log", "--batch", "--target", "--db", "--json", "--no-db"):
        assert flag in result.stdout
