"""Training: a tiny real run on a subset of MNIST, the record, early termination, the CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import MNIST_DIR

from trtbench.errors import TrtbenchError
from trtbench.models.mnist import load_mnist
from trtbench.models.netspec import resolve_spec
from trtbench.models.train import TrainConfig, split
from trtbench.study2016.table2 import table2_rows

torch = pytest.importorskip("torch")
from trtbench.models.train import train  # noqa: E402

TINY = dict(batch_size=32, validation=1000, limit=2000, checks_per_epoch=4, threads=1)


@pytest.fixture(scope="module")
def data():
    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"real MNIST not found at {MNIST_DIR}")
    return load_mnist(MNIST_DIR)


@pytest.fixture(scope="module")
def tiny_run(data):
    return train(resolve_spec("c1d5-f1n32"), config=TrainConfig(epochs=2, targets=(0.5, 0.8, 0.999), **TINY),
                 data=data)


def test_tiny_training_learns(tiny_run, data):
    record = tiny_run.record
    assert record["test_accuracy"] > 0.6  # chance is 0.1
    accs = [c["val_accuracy"] for c in record["checks"]]
    assert accs[-1] > accs[0] or accs[0] > 0.6
    # the returned model is the one whose accuracy is recorded
    from trtbench.models.mnist import normalise
    x = torch.from_numpy(normalise(data.test_images[:500], tiny_run.normalisation))
    with torch.inference_mode():
        pred = tiny_run.model(x).argmax(1).numpy()
    assert abs((pred == data.test_labels[:500]).mean() - record["test_accuracy"]) < 0.1


def test_record_times_and_checks(tiny_run):
    record = tiny_run.record
    assert record["kind"] == "trtbench-training" and record["spec"]["name"] == "c1d5-f1n32"
    assert record["data"] == {**record["data"], "train": 2000, "validation": 1000, "test": 10000}
    batches = record["batches_per_epoch"]
    assert batches == 63  # ceil(2000 / 32)
    checks = record["checks"]
    # 4 checks an epoch while a target is still open (99.9 % never is), the last at the epoch end
    assert [c["batches"] for c in checks[:4]] == [15, 30, 45, 63]
    assert [c["train_seconds"] for c in checks] == sorted(c["train_seconds"] for c in checks)
    times = record["times_to_accuracy"]
    assert set(times) == {"50", "80", "99.9"} and times["99.9"] is None
    first_50 = next(c for c in checks if c["val_accuracy"] >= 0.5)
    assert times["50"] == first_50["train_seconds"]
    assert times["80"] is None or times["80"] >= times["50"]
    assert len(record["epochs"]) == record["epochs_run"] == 2
    assert record["train_seconds"] > 0 and record["eval_seconds"] > 0
    assert record["host"]["threads"] == 1 and record["versions"]["torch"] == torch.__version__
    json.dumps(record)  # plain JSON


def test_normalisation_comes_from_the_training_part_only(tiny_run, data):
    train_x, _, val_x, _ = split(data, 1000, 2000)
    np.testing.assert_allclose(tiny_run.normalisation.mean, train_x.astype(np.float64).mean(0), rtol=1e-5)
    assert train_x.shape[0] == 2000 and val_x.shape[0] == 1000
    assert not np.shares_memory(train_x, val_x)


def test_early_termination(data):
    """A learning rate too small to change any prediction: validation accuracy never improves."""
    result = train(resolve_spec("c1d5-f1n32"),
                   config=TrainConfig(epochs=6, patience=2, lr=1e-12, **{**TINY, "limit": 320}), data=data)
    record = result.record
    assert record["epochs_run"] == 3 and record["best_epoch"] == 1
    assert record["stop_reason"].startswith("early termination")


@pytest.mark.parametrize("kwargs, words", [
    (dict(epochs=0), "epochs"), (dict(lr=0), "learning rate"), (dict(batch_size=0), "batch size"),
    (dict(validation=0), "validation"), (dict(device="tpu"), "unknown device"),
])
def test_bad_config(kwargs, words):
    with pytest.raises(TrtbenchError, match=words):
        TrainConfig(**kwargs).check()


def test_validation_larger_than_training_set(data):
    with pytest.raises(TrtbenchError, match="leaves none"):
        split(data, 60000)


def test_table2_rows_add_the_study_for_its_networks():
    record = {"spec": {"name": "c1d20-f5n1024"}, "times_to_accuracy": {"90": 1.0, "95": 2.0, "97": None},
              "test_accuracy": 0.96}
    rows = table2_rows(record)
    assert [r.source for r in rows] == ["trtbench", "study (GTX 960, Theano)"]
    assert rows[1].seconds == {"90": 63.8, "95": 139.6, "97": 260.4} and rows[0].seconds["97"] is None
    assert len(table2_rows({**record, "spec": {"name": "c1d20-f1n128"}})) == 1


@pytest.mark.slow
def test_cli_train_writes_checkpoint_record_and_row(cli, mnist_dir, tmp_path):
    result = cli("train", "c1d5-f1n32", "--data-dir", mnist_dir, "--epochs", "1", "--limit", "1000",
                 "--validation", "500", "--threads", "1", "--out", "m.pt", "--json", "r.json")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "m.pt").is_file() and (tmp_path / "m.train.json").is_file()
    record = json.loads((tmp_path / "r.json").read_text())
    assert record == json.loads((tmp_path / "m.train.json").read_text())
    assert "c1d5-f1n32" in result.stdout and "test accuracy" in result.stdout
    assert f"{100 * record['test_accuracy']:.2f} %" in result.stdout
    assert "epoch 1: validation accuracy" in result.stderr
    from trtbench.models.torchnet import load_checkpoint
    ckpt = load_checkpoint(tmp_path / "m.pt")
    assert ckpt.trained and ckpt.record["test_accuracy"] == record["test_accuracy"]


@pytest.mark.parametrize("args, words", [
    (["train", "c1d20-fXn3"], "unknown spec"),
    (["train", "c7d20-f1n128"], "at most 6 conv layers"),
    (["train", "c1d5-f1n32", "--data-dir", "{tmp}/nowhere"], "trtbench data fetch"),
    (["train", "c1d5-f1n32", "--data-dir", "{tmp}", "--epochs", "0"], "epochs must be at least 1"),
])
def test_cli_errors_are_one_line_exit_2(cli, tmp_path, args, words):
    result = cli(*[a.replace("{tmp}", str(tmp_path)) for a in args], env={"TRTBENCH_DATA_DIR": ""})
    assert result.returncode == 2
    assert result.stderr.startswith("trtbench: error:") and len(result.stderr.strip().splitlines()) == 1
    assert words in result.stderr


@pytest.mark.gpu
def test_tiny_training_on_a_gpu(data):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    result = train(resolve_spec("c1d5-f1n32"), config=TrainConfig(epochs=1, device="cuda", **TINY), data=data)
    assert result.record["test_accuracy"] > 0.5 and result.record["host"]["gpu"]
    assert next(result.model.parameters()).device.type == "cpu"  # returned ready to save and export
