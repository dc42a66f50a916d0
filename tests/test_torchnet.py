"""The torch model of a spec: shapes, layer names, dropout, softmax; checkpoints."""
from __future__ import annotations

import zipfile

import numpy as np
import pytest

from trtbench.errors import TrtbenchError
from trtbench.models.mnist import Normalisation
from trtbench.models.netspec import ConvLayer, NetSpec, resolve_spec

torch = pytest.importorskip("torch")
from trtbench.models import torchnet  # noqa: E402


@pytest.mark.parametrize("name", ["c1d20-f1n128", "c5d5-f1n256", "c2d40-f3n512", "c4d10-f2n64", "lenet5"])
def test_model_matches_the_spec(name):
    spec = resolve_spec(name)
    model = torchnet.build_model(spec, seed=1).eval()
    out = model(torch.zeros(3, 1, 28, 28))
    assert out.shape == (3, 10)
    layer_names = [g.name for g in spec.layers()]
    children = [n for n, _ in model.named_children() if n != "flatten"]
    assert children == layer_names
    assert sum(p.numel() for p in model.parameters()) == spec.params
    # every layer's output has the spec's shape
    x = torch.zeros(2, 1, 28, 28)
    shapes = {}
    for child_name, child in model.named_children():
        x = child(x)
        shapes[child_name] = tuple(x.shape[1:])
    for layer in spec.layers():
        assert shapes[layer.name] == layer.out_shape, layer.name


def test_relu_and_dropout_placement():
    spec = resolve_spec("c2d20-f2n128")
    model = torchnet.build_model(spec)
    assert isinstance(model.conv1.relu, torch.nn.ReLU) and isinstance(model.conv2.relu, torch.nn.ReLU)
    assert isinstance(model.fc1.drop, torch.nn.Dropout) and model.fc1.drop.p == spec.dropout
    assert isinstance(model.out, torch.nn.Linear)  # logits: no ReLU or dropout on the output layer
    assert not any(isinstance(m, torch.nn.Dropout) for m in model.conv1.modules())
    x = torch.randn(8, 1, 28, 28)
    model.train()
    assert not torch.equal(model(x), model(x))  # dropout active in training
    model.eval()
    assert torch.equal(model(x), model(x))


def test_seeded_build_is_reproducible_and_leaves_global_rng_alone():
    spec = resolve_spec("c1d5-f1n32")
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = torchnet.build_model(spec, seed=7)
    after = torch.rand(1)
    b = torchnet.build_model(spec, seed=7)
    c = torchnet.build_model(spec, seed=8)
    assert torch.equal(before, after)
    assert torch.equal(a.conv1.conv.weight, b.conv1.conv.weight)
    assert not torch.equal(a.conv1.conv.weight, c.conv1.conv.weight)


def test_with_softmax_shares_weights_and_gives_probabilities():
    model = torchnet.build_model(resolve_spec("c1d5-f1n32"), seed=0).eval()
    classifier = torchnet.with_softmax(model)
    assert list(dict(classifier.named_children()))[-1] == "softmax"
    x = torch.randn(4, 1, 28, 28)
    probs = classifier(x)
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(4))
    torch.testing.assert_close(probs, torch.softmax(model(x), dim=1))
    assert classifier.conv1 is model.conv1 and classifier.fc1.linear is model.fc1.linear
    assert not any(isinstance(m, torch.nn.Dropout) for m in classifier.modules())
    assert set(classifier.state_dict()) == set(model.state_dict())


def test_impossible_spec_is_a_user_error():
    too_deep = NetSpec(name="seven-convs", conv=(ConvLayer(20),) * 7, fc=(128,))  # 28 -> 0 after 7 valid 5x5
    with pytest.raises(TrtbenchError, match="conv layer 7"):
        torchnet.build_model(too_deep)


@pytest.mark.parametrize("name", ["c3d10-f2n64", "lenet5"])
def test_checkpoint_roundtrip(tmp_path, name):
    spec = resolve_spec(name)
    model = torchnet.build_model(spec, seed=3).eval()
    rng = np.random.default_rng(0)
    norm = Normalisation(rng.random((28, 28)).astype(np.float32), 1 + rng.random((28, 28)).astype(np.float32))
    record = {"test_accuracy": 0.5, "epochs": [{"epoch": 1}], "times_to_accuracy": {"90": None}}
    path = tmp_path / "m.pt"
    torchnet.save_checkpoint(path, spec, model, norm, trained=True, record=record)
    ckpt = torchnet.load_checkpoint(path)
    assert ckpt.spec == spec and ckpt.spec.family == spec.family
    assert ckpt.trained is True and ckpt.record == record
    assert not ckpt.model.training
    np.testing.assert_array_equal(ckpt.normalisation.mean, norm.mean)
    np.testing.assert_array_equal(ckpt.normalisation.std, norm.std)
    x = torch.randn(5, 1, 28, 28)
    torch.testing.assert_close(ckpt.model(x), model(x), rtol=0, atol=0)


def test_checkpoint_without_normalisation(tmp_path):
    spec = resolve_spec("c1d5-f1n32")
    torchnet.save_checkpoint(tmp_path / "u.pt", spec, torchnet.build_model(spec), None, False, None)
    ckpt = torchnet.load_checkpoint(tmp_path / "u.pt")
    assert ckpt.normalisation is None and ckpt.trained is False and ckpt.record is None


def test_corrupt_checkpoints_are_one_line_errors(tmp_path):
    spec = resolve_spec("c1d5-f1n32")
    good = tmp_path / "good.pt"
    torchnet.save_checkpoint(good, spec, torchnet.build_model(spec), None, False, None)
    cases = {
        "text.pt": b"not a checkpoint at all",
        "truncated.pt": good.read_bytes()[:1000],
    }
    for name, blob in cases.items():
        (tmp_path / name).write_bytes(blob)
    torch.save({"weights": torch.zeros(2)}, str(tmp_path / "other.pt"))
    for name in [*cases, "other.pt", "missing.pt"]:
        with pytest.raises(TrtbenchError) as err:
            torchnet.load_checkpoint(tmp_path / name)
        assert "\n" not in str(err.value) and name in str(err.value)


def test_checkpoint_with_weights_of_another_spec(tmp_path):
    """A checkpoint whose weights do not fit its spec (edited by hand) is a user error."""
    path = tmp_path / "m.pt"
    spec = resolve_spec("c1d5-f1n32")
    torchnet.save_checkpoint(path, spec, torchnet.build_model(spec), None, False, None)
    payload = torch.load(str(path), weights_only=True)
    payload["spec"] = resolve_spec("c1d5-f1n64").to_dict()
    torch.save(payload, str(path))
    assert zipfile.is_zipfile(str(path))
    with pytest.raises(TrtbenchError, match="do not fit spec c1d5-f1n64"):
        torchnet.load_checkpoint(path)
