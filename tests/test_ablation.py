"""Ablation: a category's nodes replaced by the cheapest node writing the same output."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import SHARED, has_module

pytestmark = pytest.mark.skipif(not has_module("onnxruntime") or not has_module("torch"),
                                reason="needs onnxruntime and torch (to export a spec)")


def _run(model, batch: int) -> list:
    import onnxruntime as ort

    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    inp = session.get_inputs()[0]
    x = np.random.default_rng(0).random((batch, *inp.shape[1:]), dtype=np.float32)
    return session.run(None, {inp.name: x})


@pytest.fixture(scope="module")
def study_graph(tmp_path_factory):
    import onnx

    from trtbench.api.pipeline import resolve
    from trtbench.models.source import onnx_file

    return onnx.load(str(onnx_file(resolve("c2d20-f1n128", tmp_path_factory.mktemp("cache")))))


@pytest.mark.parametrize("category, replaced, op", [("conv", 2, "Expand"), ("pool", 1, "Slice"), ("fc", 2, "Slice"),
                                                    ("elementwise", 4, "Identity"), ("reformat", 1, "Reshape")])
def test_each_category_is_replaced_and_the_graph_keeps_its_shapes(study_graph, category, replaced, op) -> None:
    from trtbench.categories import onnx_ops
    from trtbench.models.ablation import ablate, output_shapes

    shapes = output_shapes(study_graph, 8)
    cut = ablate(study_graph, category, 8, shapes)
    assert len(cut.replaced) == replaced and not cut.kept
    assert not any(onnx_ops.categorize(n.op_type) == category and not n.name.endswith("__ablated")
                   and "__ablated_" not in n.name for n in cut.model.graph.node)
    assert any(n.op_type == op and n.name.endswith("__ablated") for n in cut.model.graph.node)
    assert not any(p.key == "trtbench.spec" for p in cut.model.metadata_props)  # torch must not rebuild the spec
    before, after = _run(study_graph, 8), _run(cut.model, 8)
    assert [a.shape for a in after] == [b.shape for b in before]


def test_an_opset_7_graph_is_ablated_without_expand() -> None:
    import onnx

    from trtbench.models.ablation import ablate
    from trtbench.models.onnx_prepare import cut_postprocessing

    path = SHARED / "fixtures" / "models" / "squeezenet_opset7_winml.onnx"
    if not path.is_file():
        pytest.skip("public models not found")
    graph = onnx.load(str(path))
    cut_postprocessing(graph)
    cut = ablate(graph, "conv", 1)
    assert len(cut.replaced) == 25 and any(n.op_type == "Add" and n.name.endswith("__ablated") for n in cut.model.graph.node)
    assert [a.shape for a in _run(cut.model, 1)] == [b.shape for b in _run(graph, 1)]


def test_ablate_command_compares_shares_with_the_drop(cli, tmp_path: Path) -> None:
    result = cli("ablate", "c2d20-f1n128", "--backend", "onnxruntime", "--batch", "32", "--iterations", "5",
                 "--loops", "2", "--json", "ablation.json")
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "ablation.json").read_text())
    rows = {row["category"]: row for row in data["rows"]}
    assert {"conv", "fc"} <= set(rows) and data["batch"] == 32
    # convolutions are most of this network: taking them out removes most of the time
    assert rows["conv"]["ablation_share"] > 0.3 and rows["conv"]["ablated_ms"] < data["end_to_end_ms"]
    assert all(0 <= row["profiled_share"] <= 1 and 0 <= row["spread_share"] <= 1 for row in rows.values())
