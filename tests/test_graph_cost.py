"""graph_cost: FLOPs, bytes and parameters per node of any ONNX graph.

Checked three ways: against `NetSpec.layers()` on exported specs (totals, per kind, geometry),
on small hand-built graphs whose counts are worked out by hand, and on the real public models in
``shared/fixtures/models`` (plausible totals, no unknown conv/fc nodes).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from trtbench.errors import TrtbenchError
from trtbench.models.graph_cost import GraphCost, graph_cost, node_costs
from trtbench.models.netspec import resolve_spec

SHARED = Path(os.environ.get("TRTBENCH_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
CORPUS = SHARED / "fixtures" / "models"
SPECS = ("c1d20-f1n128", "c3d20-f3n1024", "c2d50-f2n512", "c4d20-f2n256", "lenet5")


# ---- helpers -----------------------------------------------------------------------------------

def make(nodes, inputs, outputs, inits=(), opset=17, domains=()):
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(n, t, s) for n, s, t in inputs],
                              [helper.make_empty_tensor_value_info(n) for n in outputs],
                              initializer=list(inits))
    opsets = [helper.make_opsetid("", opset), *(helper.make_opsetid(d, 1) for d in domains)]
    return helper.make_model(graph, opset_imports=opsets)


def weight(name, shape, dtype=np.float32):
    return numpy_helper.from_array(np.ones(shape, dtype), name)


def single(node, x_shape, inits=(), batch=1):
    """The cost of the graph X -> node -> Y (its one node)."""
    model = make([node], [("X", x_shape, TensorProto.FLOAT)], ["Y"], inits)
    return node_costs(model, batch)[0]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    pytest.importorskip("torch")
    from trtbench.models.export import export_onnx

    folder = tmp_path_factory.mktemp("specs")
    return {name: export_onnx(resolve_spec(name), folder / f"{name}.onnx", verify=False).path for name in SPECS}


# ---- NetSpec equality --------------------------------------------------------------------------

@pytest.mark.parametrize("name", SPECS)
def test_an_exported_spec_costs_what_netspec_counts(exported, name: str) -> None:
    spec, cost = resolve_spec(name), graph_cost(exported[name])
    assert cost.flops == spec.flops and cost.params == spec.params and cost.unknown == []
    layers = spec.layers()
    by = cost.by_category()
    for kind in ("conv", "fc", "pool"):
        mine = [g for g in layers if g.kind == kind]
        activations = [0 if kind == "pool" else int(np.prod(g.out_shape)) for g in mine]  # NetSpec's ReLU/softmax
        assert by[kind]["flops"] == sum(g.flops for g in mine) - sum(activations)
        assert by[kind]["bytes"] + by[kind]["weight_bytes"] == sum(g.bytes for g in mine)
        graph = [g for g in cost.layer_geometry() if g.kind == kind]
        assert [(g.in_shape, g.out_shape, g.params, g.bytes) for g in graph] == \
               [(g.in_shape, g.out_shape, g.params, g.bytes) for g in mine]


@pytest.mark.parametrize("batch", [1, 16])
def test_layer_geometry_feeds_the_general_cost_model_like_a_spec(exported, batch: int) -> None:
    from trtbench.analysis.costmodel import general_features

    spec = resolve_spec("c3d20-f3n1024")
    from_graph = general_features(SimpleNamespace(layers=graph_cost(exported[spec.name]).layer_geometry), batch)
    from_spec = general_features(spec, batch)
    for feature in ("conv_mb", "fc_mb", "pool_mb"):
        assert from_graph[feature] == pytest.approx(from_spec[feature], rel=1e-12)


def test_flops_scale_with_the_batch_and_weights_do_not(exported) -> None:
    one, eight = graph_cost(exported["c2d50-f2n512"], 1), graph_cost(exported["c2d50-f2n512"], 8)
    assert eight.batch == 8 and eight.flops == 8 * one.flops and eight.flops_per_item == one.flops_per_item
    assert eight.activation_bytes_per_item == one.activation_bytes_per_item
    assert eight.weight_bytes == one.weight_bytes
    assert eight.bytes_per_item() == pytest.approx(one.activation_bytes_per_item + one.weight_bytes / 8)
    assert [n.out_shape for n in eight.nodes] == [n.out_shape for n in one.nodes]  # without the batch


# ---- hand-computed counts ----------------------------------------------------------------------

def test_depthwise_conv_counts_one_input_channel_per_output() -> None:
    node = helper.make_node("Conv", ["X", "W", "B"], ["Y"], group=8, pads=[1, 1, 1, 1])
    cost = single(node, [1, 8, 10, 10], [weight("W", (8, 1, 3, 3)), weight("B", (8,))])
    assert cost.flops == 2 * 8 * 10 * 10 * 1 * 3 * 3 and cost.params == 72 + 8
    assert cost.weight_bytes == 4 * 80 and cost.bytes == 4 * (800 + 800 + 80)
    assert cost.out_shape == (8, 10, 10) and cost.category == "conv"


def test_strided_padded_conv() -> None:
    node = helper.make_node("Conv", ["X", "W"], ["Y"], strides=[2, 2], pads=[1, 1, 1, 1])
    cost = single(node, [2, 3, 11, 11], [weight("W", (4, 3, 3, 3))], batch=2)
    assert cost.out_shape == (4, 6, 6)  # (11 + 2 - 3) // 2 + 1
    assert cost.flops == 2 * 2 * 4 * 6 * 6 * 3 * 3 * 3 and cost.flops_per_item == cost.flops / 2


def test_conv_transpose_counts_from_the_input_side() -> None:
    node = helper.make_node("ConvTranspose", ["X", "W"], ["Y"], strides=[2, 2], group=2)
    cost = single(node, [1, 4, 5, 5], [weight("W", (4, 3, 3, 3))])
    assert cost.out_shape == (6, 11, 11)  # C_out = 3 per group x 2 groups
    assert cost.flops == 2 * (4 * 5 * 5) * 3 * 3 * 3


def test_batched_and_broadcast_matmul() -> None:
    batched = make([helper.make_node("MatMul", ["A", "B"], ["Y"])],
                   [("A", [2, 3, 4, 5], TensorProto.FLOAT), ("B", [2, 3, 5, 6], TensorProto.FLOAT)], ["Y"])
    assert node_costs(batched, 2)[0].flops == 2 * (2 * 3 * 4 * 6) * 5
    broadcast = single(helper.make_node("MatMul", ["X", "B"], ["Y"]), [2, 3, 4, 5], [weight("B", (5, 6))], 2)
    assert broadcast.flops == 2 * (2 * 3 * 4 * 6) * 5 and broadcast.params == 30


def test_gemm_with_transposed_weights_does_not_count_the_bias() -> None:
    node = helper.make_node("Gemm", ["X", "W", "C"], ["Y"], transB=1)
    cost = single(node, [1, 16], [weight("W", (8, 16)), weight("C", (8,))])
    assert cost.flops == 2 * 8 * 16 and cost.params == 136 and cost.out_shape == (8,)


@pytest.mark.parametrize("op, per_value, inputs", [
    ("BatchNormalization", 2, ["X", "s", "b", "m", "v"]),
    ("Relu", 1, ["X"]), ("Sigmoid", 1, ["X"]), ("Softmax", 1, ["X"]), ("Dropout", 0, ["X"]),
    ("Sum", 2, ["X", "X2", "X3"]),
])
def test_elementwise_ops_count_per_output_value(op: str, per_value: int, inputs) -> None:
    inits = [weight(n, (4,)) for n in "sbmv"] + [weight(n, (1, 4, 5, 5)) for n in ("X2", "X3")]
    cost = single(helper.make_node(op, inputs, ["Y"]), [1, 4, 5, 5], inits)
    assert cost.flops == per_value * 100


def test_pooling_counts_input_values_and_resize_output_values() -> None:
    gap = single(helper.make_node("GlobalAveragePool", ["X"], ["Y"]), [1, 4, 5, 5])
    assert gap.flops == 100 and gap.out_shape == (4, 1, 1) and gap.bytes == 4 * (100 + 4)
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")
    resize = single(helper.make_node("Resize", ["X", "", "scales"], ["Y"], mode="linear"), [1, 2, 4, 4], [scales])
    assert resize.out_shape == (2, 8, 8) and resize.flops == 2 * 8 * 8


def test_reformat_ops_move_bytes_but_cost_no_flops() -> None:
    shape = numpy_helper.from_array(np.array([1, -1], np.int64), "shape")
    cost = single(helper.make_node("Reshape", ["X", "shape"], ["Y"]), [1, 4, 5, 5], [shape])
    assert cost.flops == 0 and cost.params == 0 and cost.bytes == 4 * 200 + 16 and cost.out_shape == (100,)
    assert single(helper.make_node("Shape", ["X"], ["Y"]), [1, 4, 5, 5]).bytes == 8 * 4  # reads no data


def test_weights_made_by_constant_of_shape_are_folded_and_counted_as_weights() -> None:
    dims = numpy_helper.from_array(np.array([4, 3, 3, 3], np.int64), "dims")
    model = make([helper.make_node("ConstantOfShape", ["dims"], ["W"]), helper.make_node("Conv", ["X", "W"], ["Y"])],
                 [("X", [1, 3, 8, 8], TensorProto.FLOAT)], ["Y"], [dims])
    cost = graph_cost(model)
    made, conv = cost.nodes
    assert made.folded and made.flops == 0 and made.bytes == 0
    assert conv.params == 108 and conv.weight_bytes == 4 * 108 and conv.flops == 2 * 4 * 6 * 6 * 27
    assert [g.name for g in cost.layer_geometry()] == ["Conv_1"]  # unnamed nodes: <OpType>_<index>


def test_data_dependent_shapes_come_from_onnxruntime_or_stay_unknown(monkeypatch) -> None:
    model = make([helper.make_node("NonZero", ["X"], ["i"]), helper.make_node("Cast", ["i"], ["f"], to=1),
                  helper.make_node("Relu", ["f"], ["Y"])], [("X", [1, 4], TensorProto.FLOAT)], ["Y"])
    if _has("onnxruntime"):
        known = graph_cost(model)
        assert known.shapes == "onnx+onnxruntime" and known.unknown == [] and known.flops == 2 * 4
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if not installed
    unknown = graph_cost(model)
    assert unknown.unknown == ["NonZero_0", "Cast_1", "Relu_2"] and unknown.flops == 0
    assert all(n.flops is None and "not installed" in n.note for n in unknown.nodes)


def test_ops_without_a_rule_are_unknown_never_zero() -> None:
    model = make([helper.make_node("Relu", ["X"], ["r"]), helper.make_node("Foo", ["r"], ["Y"], domain="my.ops")],
                 [("X", [1, 10], TensorProto.FLOAT)], ["Y"], domains=["my.ops"])
    cost = graph_cost(model)
    assert cost.unknown == ["Foo_1"] and cost.flops == 10 and "my.ops" in cost.nodes[1].note
    summary = cost.to_dict()
    assert summary["unknown"] == 1 and summary["unknown_ops"] == {"Foo": 1} and "nodes" not in json.dumps(
        summary["by_category"])
    json.dumps(summary)


def test_batch_errors_name_the_input_and_dim(tmp_path) -> None:
    relu = helper.make_node("Relu", ["X"], ["Y"])
    with pytest.raises(TrtbenchError, match=r"'X' has a symbolic dim 2 \('height'\)"):
        node_costs(make([relu], [("X", ["n", 3, "height"], TensorProto.FLOAT)], ["Y"]))
    fixed = make([relu], [("X", [10, 3], TensorProto.FLOAT)], ["Y"])
    with pytest.raises(TrtbenchError, match="batch is fixed at 10"):
        graph_cost(fixed, 4)
    assert graph_cost(fixed, None).batch == 10 and graph_cost(fixed, 10).flops_per_item == 3
    dynamic = make([relu], [("X", ["n", 3], TensorProto.FLOAT)], ["Y"])
    assert graph_cost(dynamic, None).batch == 1 and graph_cost(dynamic, 5).flops == 15
    with pytest.raises(TrtbenchError, match="at least 1"):
        graph_cost(dynamic, 0)
    with pytest.raises(TrtbenchError, match="does not exist"):
        graph_cost(tmp_path / "missing.onnx")


def test_external_weights_are_not_needed(tmp_path) -> None:
    model = make([helper.make_node("Conv", ["X", "W"], ["Y"])], [("X", [1, 3, 8, 8], TensorProto.FLOAT)], ["Y"],
                 [weight("W", (16, 3, 3, 3))])
    path = tmp_path / "ext.onnx"
    onnx.save_model(model, str(path), save_as_external_data=True, location="ext.data", size_threshold=0)
    (tmp_path / "ext.data").unlink()
    cost = graph_cost(path)
    assert cost.params == 432 and cost.flops == 2 * 16 * 6 * 6 * 27


# ---- property-based: the output-size arithmetic and the count agree with the formulas ----------

@settings(max_examples=40, deadline=None)
@given(batch=st.integers(1, 3), c_in=st.integers(1, 4), per_group=st.integers(1, 3), depthwise=st.booleans(),
       kernel=st.integers(1, 4), stride=st.integers(1, 3), pad=st.integers(0, 2), dilation=st.integers(1, 2),
       size=st.integers(4, 14))
def test_conv_flops_follow_the_formula(batch, c_in, per_group, depthwise, kernel, stride, pad, dilation, size) -> None:
    groups = c_in if depthwise else 1
    c_out = groups * per_group
    out = (size + 2 * pad - dilation * (kernel - 1) - 1) // stride + 1
    if out < 1:
        return
    node = helper.make_node("Conv", ["X", "W"], ["Y"], group=groups, strides=[stride] * 2, pads=[pad] * 4,
                            dilations=[dilation] * 2)
    cost = single(node, [batch, c_in, size, size], [weight("W", (c_out, c_in // groups, kernel, kernel))], batch)
    assert cost.out_shape == (c_out, out, out)
    assert cost.flops == 2 * batch * c_out * out * out * (c_in // groups) * kernel * kernel


@settings(max_examples=30, deadline=None)
@given(kernel=st.integers(1, 4), stride=st.integers(1, 3), pad=st.integers(0, 3), size=st.integers(4, 14),
       average=st.booleans())
def test_pool_flops_count_input_values(kernel, stride, pad, size, average) -> None:
    pad = min(pad, kernel - 1)  # ONNX: pads smaller than the window
    node = helper.make_node("AveragePool" if average else "MaxPool", ["X"], ["Y"], kernel_shape=[kernel] * 2,
                            strides=[stride] * 2, pads=[pad] * 4)
    cost = single(node, [1, 3, size, size])
    out = (size + 2 * pad - kernel) // stride + 1
    assert cost.out_shape == (3, out, out) and cost.flops == 3 * size * size


# ---- the public models in shared/fixtures/models -----------------------------------------------

# file: (batch, flops per item, params, op types without a FLOP rule); figures from graph_cost,
# the bounds from the architectures (multiply-adds count 2).
CORPUS_FIGURES = {
    "resnet50_light.onnx": (1, 8.2166e9, 25_610_152, []),  # conv+fc 8.178e9 = 2 x 4.09 GMACs
    "mnist_cntk_zoo.onnx": (1, 1.6014e6, 5_994, []),
    "lenet5_batch10.onnx": (10, 845_862, 61_706, []),  # = trtbench's own lenet5 spec, exactly
    "squeezenet_opset7_winml.onnx": (1, 5.7954e8, 727_638, ["ArrayFeatureExtractor", "ZipMap"]),
    "ultraface_rfb320.onnx": (1, 2.0971e8, 307_624, []),
    "blazeface_mp.onnx": (1, 6.2722e7, 101_390, []),
}


@pytest.mark.parametrize("name", sorted(CORPUS_FIGURES))
def test_public_models_are_costed_completely(name: str) -> None:
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"{path} not found")
    batch, flops, params, unknown_ops = CORPUS_FIGURES[name]
    cost = graph_cost(path, batch)
    assert isinstance(cost, GraphCost) and cost.batch == batch
    assert not [n for n in cost.nodes if n.category in ("conv", "fc") and n.flops is None]
    assert sorted(n.op_type for n in cost.nodes if n.flops is None) == unknown_ops
    assert cost.by_category()["conv"]["flops"] > 0
    assert cost.flops_per_item == pytest.approx(flops, rel=1e-4) and cost.params == params
    json.dumps(cost.to_dict())


def test_public_model_figures_are_plausible() -> None:
    if not (CORPUS / "resnet50_light.onnx").is_file():
        pytest.skip("shared/fixtures/models not found")
    resnet = graph_cost(CORPUS / "resnet50_light.onnx").by_category()
    assert 7.7e9 <= resnet["conv"]["flops"] + resnet["fc"]["flops"] <= 8.2e9  # ResNet-50 at 224: ~4.1 GMACs
    mnist = graph_cost(CORPUS / "mnist_cntk_zoo.onnx").by_category()
    assert mnist["conv"]["flops"] == 2 * (8 * 28 * 28 * 25 + 16 * 14 * 14 * 8 * 25) and mnist["fc"]["flops"] == 2 * 2560
    assert graph_cost(CORPUS / "lenet5_batch10.onnx", 10).flops_per_item == resolve_spec("lenet5").flops
    with pytest.raises(TrtbenchError, match="fixed at 10"):
        graph_cost(CORPUS / "lenet5_batch10.onnx", 1)
    squeeze = CORPUS / "squeezenet_opset7_winml.onnx"
    assert graph_cost(squeeze, 4).flops_per_item == graph_cost(squeeze, 1).flops_per_item  # dynamic batch


def test_without_onnxruntime_only_data_dependent_reshapes_stay_unknown(monkeypatch) -> None:
    if not (CORPUS / "blazeface_mp.onnx").is_file():
        pytest.skip("shared/fixtures/models not found")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    squeeze = graph_cost(CORPUS / "squeezenet_opset7_winml.onnx")  # ImageScaler: shape kept by a local rule
    assert squeeze.shapes == "onnx" and squeeze.flops_per_item == pytest.approx(5.7954e8, rel=1e-4)
    blaze = graph_cost(CORPUS / "blazeface_mp.onnx")  # Reshape targets from Shape of a Pad output
    assert {n.op_type for n in blaze.nodes if n.flops is None} == {"Reshape", "Concat"}
    assert blaze.by_category()["conv"]["flops"] == 61_521_920  # every conv known all the same
    assert graph_cost(CORPUS / "ultraface_rfb320.onnx").params == 307_624  # unknown nodes' weights too


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
