"""ONNX export: checker, dynamic batch, metadata, node names, onnxruntime against PyTorch, the CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest

from trtbench.errors import TrtbenchError
from trtbench.models.netspec import resolve_spec

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
from trtbench.models import export, torchnet  # noqa: E402

# A representative subset of the study grid (every group's extremes) and LeNet-5; `trtbench export`
# of the whole grid is checked by hand (docs/models-and-training.md).
SUBSET = ["c1d20-f1n128", "c5d20-f1n1024", "c3d20-f3n1024", "c1d5-f5n256", "c5d80-f1n1024", "lenet5"]


def _dims(value_info):
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


@pytest.mark.parametrize("name", SUBSET)
def test_export_spec(tmp_path, name, mnist_dir):
    ort = pytest.importorskip("onnxruntime")
    spec = resolve_spec(name)
    out = tmp_path / f"{name}.onnx"
    result = export.export_onnx(spec, out, data_dir=mnist_dir)
    assert result.path == out and result.trained is False and result.spec == spec

    model = onnx.load(str(out))
    onnx.checker.check_model(model, full_check=True)
    assert [i.name for i in model.graph.input] == ["tiles"]
    assert [o.name for o in model.graph.output] == ["probs"]
    assert _dims(model.graph.input[0]) == ["batch", 1, 28, 28]
    assert _dims(model.graph.output[0]) == ["batch", 10]
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("Conv") == len(spec.conv) and ops.count("Gemm") == len(spec.fc) + 1
    assert ops[-1] == "Softmax" and "Dropout" not in ops
    names = [n.name for n in model.graph.node]
    assert "/conv1/conv/Conv" in names and "/out/Gemm" in names and "/softmax/Softmax" in names
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta["trtbench.spec"])["name"] == name and meta["trtbench.trained"] == "false"
    assert "trtbench.normalisation" not in meta

    # onnxruntime at batch sizes the export never saw, against the seeded torch model
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    net = torchnet.with_softmax(torchnet.build_model(spec, seed=torchnet.DEFAULT_SEED)).eval()
    for batch in (3, 17):
        x = np.random.default_rng(batch).standard_normal((batch, 1, 28, 28)).astype(np.float32)
        got = session.run(["probs"], {"tiles": x})[0]
        with torch.inference_mode():
            want = net(torch.from_numpy(x)).numpy()
        assert got.shape == (batch, 10)
        assert np.abs(got - want).max() <= 1e-4 * np.abs(want).max()
    checks = result.checks["onnxruntime"]
    assert checks["relative_error"] <= 1e-4 and "MNIST test tiles" in checks["tiles"]


@pytest.fixture
def trained_checkpoint(tmp_path, mnist_dir):
    """A briefly trained checkpoint (a few hundred tiles), enough to beat chance."""
    from trtbench.models.train import TrainConfig, train

    spec = resolve_spec("c1d5-f1n32")
    result = train(spec, mnist_dir, TrainConfig(epochs=1, limit=1500, validation=500, threads=1))
    path = tmp_path / "m.pt"
    torchnet.save_checkpoint(path, spec, result.model, result.normalisation, True, result.record)
    return path, result


def test_export_checkpoint(tmp_path, trained_checkpoint, mnist_dir):
    pytest.importorskip("onnxruntime")
    path, _ = trained_checkpoint
    result = export.export_onnx(path, tmp_path / "m.onnx", data_dir=mnist_dir)
    assert result.trained is True and result.spec.name == "c1d5-f1n32"
    meta = export.read_metadata(result.path)
    assert meta["trtbench.trained"] == "true"
    assert json.loads(meta["trtbench.normalisation"])["kind"] == "per-pixel"
    ort_checks = result.checks["onnxruntime"]
    assert ort_checks["argmax_agreement"] == 1.0
    assert ort_checks["accuracy_on_tiles"] > 0.3  # a trained model, on real tiles


def test_export_without_verify_and_other_opset(tmp_path):
    result = export.export_onnx(resolve_spec("c1d5-f1n32"), tmp_path / "a" / "m.onnx", opset=13, verify=False)
    assert "onnxruntime" not in result.checks and result.checks["checker"] == "passed"
    assert onnx.load(str(result.path)).opset_import[0].version == 13


def test_mismatch_fails_and_removes_the_file(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    monkeypatch.setattr(export, "TOLERANCE", -1.0)  # any difference, even none, is too much
    out = tmp_path / "m.onnx"
    with pytest.raises(TrtbenchError, match="onnxruntime and PyTorch differ"):
        export.export_onnx(resolve_spec("c1d5-f1n32"), out)
    assert not out.exists()


def test_random_tiles_when_mnist_is_absent(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    monkeypatch.delenv("TRTBENCH_DATA_DIR", raising=False)
    result = export.export_onnx(resolve_spec("c1d5-f1n32"), tmp_path / "m.onnx", data_dir=tmp_path / "none")
    assert result.checks["onnxruntime"]["tiles"].startswith("random")


def test_cli_export(cli, tmp_path, mnist_dir):
    result = cli("export", "c2d10-f2n64", "--out", "n.onnx", "--data-dir", mnist_dir, "--json", "-")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["spec"] == "c2d10-f2n64" and summary["checks"]["dynamic_batch"] is True
    assert (tmp_path / "n.onnx").is_file()
    plain = cli("export", "c1d5-f1n32", "--no-verify")
    assert plain.returncode == 0 and "c1d5-f1n32.onnx" in plain.stdout
    assert (tmp_path / "c1d5-f1n32.onnx").is_file()


@pytest.mark.parametrize("args, words", [
    (["export", "nonsense"], "unknown spec"),
    (["export", "c9d20-f1n128"], "at most 6 conv layers"),
    (["export", "bad.pt"], "not a trtbench checkpoint"),
    (["export", "missing.pt"], "does not exist"),
])
def test_cli_errors_are_one_line_exit_2(cli, tmp_path, args, words):
    (tmp_path / "bad.pt").write_bytes(b"\x00" * 64)
    result = cli(*args)
    assert result.returncode == 2
    assert result.stderr.startswith("trtbench: error:") and len(result.stderr.strip().splitlines()) == 1
    assert words in result.stderr


@pytest.mark.slow
def test_falls_back_to_the_new_exporter_when_the_old_one_fails(tmp_path, monkeypatch):
    """If a later torch drops the TorchScript exporter, the torch.export-based one still works."""
    import functools

    pytest.importorskip("onnxscript", reason="the torch.export-based exporter needs onnxscript (in the dev extra)")

    real = torch.onnx.export

    @functools.wraps(real)
    def without_old_exporter(*args, **kwargs):
        if kwargs.get("dynamo") is False:
            raise RuntimeError("the TorchScript exporter was removed")
        return real(*args, **kwargs)

    monkeypatch.setattr(torch.onnx, "export", without_old_exporter)
    result = export.export_onnx(resolve_spec("c1d5-f1n32"), tmp_path / "m.onnx")
    assert result.checks["exporter"].startswith("dynamo") and "was removed" in result.checks["exporter"]
    assert result.checks["dynamic_batch"] and result.checks["softmax"]
    if "onnxruntime" in result.checks and "relative_error" in result.checks["onnxruntime"]:
        assert result.checks["onnxruntime"]["relative_error"] <= 1e-4
