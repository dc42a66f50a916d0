from __future__ import annotations

from pathlib import Path

import pytest

from trtbench.errors import TrtbenchError
from trtbench.models.netspec import NetSpec, parse_name, resolve_spec

REPO = Path(__file__).resolve().parent.parent


def test_study_geometry_shrinks_by_four_and_pools_once():
    spec = parse_name("c3d20-f3n1024")
    shapes = [(g.name, g.out_shape) for g in spec.layers()]
    assert shapes == [
        ("conv1", (20, 24, 24)), ("conv2", (20, 20, 20)), ("conv3", (20, 16, 16)),
        ("pool", (20, 8, 8)), ("fc1", (1024,)), ("fc2", (1024,)), ("fc3", (1024,)), ("out", (10,)),
    ]


def test_params_and_flops_follow_the_layer_formulas():
    spec = NetSpec.study(conv_layers=1, depth=20, fc_layers=1, neurons=128)
    conv_params = 5 * 5 * 1 * 20 + 20
    fc1_params = 20 * 12 * 12 * 128 + 128
    out_params = 128 * 10 + 10
    assert spec.params == conv_params + fc1_params + out_params
    conv = spec.layers()[0]
    assert conv.flops == 2 * 5 * 5 * 1 * 20 * 24 * 24 + 20 * 24 * 24


def test_second_conv_layer_costs_most():
    # the study's finding 2: conv2's input grows from 1 to D channels
    flops = [g.flops for g in parse_name("c5d20-f1n1024").layers() if g.kind == "conv"]
    assert flops.index(max(flops)) == 1
    assert flops[1] > flops[2] > flops[3] > flops[4]


def test_canonical_name_roundtrip():
    spec = NetSpec.study(4, 40, 2, 512)
    assert spec.name == "c4d40-f2n512"
    assert parse_name(spec.name) == spec
    assert parse_name("lenet5") is None


def test_impossible_spec_names_the_limit():
    with pytest.raises(TrtbenchError) as err:
        parse_name("c7d20-f1n128")
    assert "at most 6 conv layers" in str(err.value)


def test_zero_layers_rejected():
    with pytest.raises(TrtbenchError):
        NetSpec.study(0, 20, 1, 128)


def test_lenet5_from_toml():
    spec = resolve_spec(str(REPO / "models" / "lenet5.toml"))
    assert spec.name == "lenet5"
    assert [g.out_shape for g in spec.layers()][-3:] == [(120,), (84,), (10,)]
    assert spec.layers()[0].out_shape == (6, 28, 28)  # padded first convolution


def test_unknown_spec_is_a_user_error():
    with pytest.raises(TrtbenchError) as err:
        resolve_spec("resnet50")
    assert "unknown spec" in str(err.value)


def test_dict_roundtrip():
    spec = resolve_spec(str(REPO / "models" / "lenet5.toml"))
    again = NetSpec.from_dict(spec.to_dict())
    assert again.layers() == spec.layers()
    fam = parse_name("c2d10-f2n256")
    assert NetSpec.from_dict(fam.to_dict()) == fam


def test_malformed_toml_spec(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[[conv]]\nkernel = 5\n')  # no output channels
    with pytest.raises(TrtbenchError) as err:
        resolve_spec(str(bad))
    assert str(bad) in str(err.value)
