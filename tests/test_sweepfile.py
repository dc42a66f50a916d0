from __future__ import annotations

from pathlib import Path

import pytest

from trtbench.errors import TrtbenchError
from trtbench.sweeps.file import load_sweep, parse_sweep

REPO = Path(__file__).resolve().parent.parent


def test_study_sweep_has_the_four_groups():
    sweep = load_sweep(REPO / "models" / "study.toml")
    sizes = {g.name: len(g.points) for g in sweep.groups}
    assert sizes == {"fc-batch": 45, "conv-batch": 45, "fc-neurons": 25, "conv-depth": 25}
    group4 = next(g for g in sweep.groups if g.name == "conv-depth")
    assert {p.batch for p in group4.points} == {1024}  # batch 1024 where it is not the variable
    assert {p.spec.name for p in group4.points} >= {"c1d5-f1n1024", "c5d80-f1n1024"}
    group1 = next(g for g in sweep.groups if g.name == "fc-batch")
    assert {p.spec.family["conv_layers"] for p in group1.points} == {1}  # FC varies → 1 conv layer


def test_point_keys_are_unique_and_stable():
    sweep = load_sweep(REPO / "models" / "study.toml")
    keys = [p.key for p in sweep.points]
    assert len(keys) == len(set(keys))
    assert "fc-batch/c1d20-f3n1024@64" in keys


def test_explicit_points():
    sweep = load_sweep(REPO / "models" / "table2.toml")
    assert [p.spec.name for p in sweep.points] == ["c5d20-f1n1024", "c1d20-f5n1024", "c3d20-f3n1024"]


def test_unknown_key_is_rejected():
    with pytest.raises(TrtbenchError) as err:
        parse_sweep({"kind": "sweep", "group": [{"name": "g", "layers": [1, 2]}]}, "x.toml")
    assert "layers" in str(err.value)


def test_not_a_sweep_file():
    with pytest.raises(TrtbenchError):
        load_sweep(REPO / "models" / "lenet5.toml")
