"""TensorRT engine layer names and layer-info records → categories."""
from __future__ import annotations

import json

import pytest

from tests.conftest import TRTEXEC_FIXTURES
from trtbench.categories import CATEGORIES, tensorrt_layers
from trtbench.categories.tensorrt_layers import categorize, classify, normalize_name, onnx_origins


@pytest.mark.parametrize("name, expected", [
    # ONNX-style names and fusions, charged to the dominant op
    ("Conv_0 + Relu_1", "conv"),
    ("Conv_5 + Add_6 + Relu_7", "conv"),
    ("MaxPool_2", "pool"),
    ("GlobalAveragePool_46", "pool"),
    ("Gemm_48", "fc"),
    ("MatMul-9 + ReLU-11", "fc"),
    ("Conv-1 + ReLU-2", "conv"),
    ("/model/layer2/layer2.0/downsample/downsample.0/Conv", "conv"),
    ("/pool/Conv", "conv"),  # the op is the last path segment, not the module name
    ("/cls/cls.0/Gemm + /cls/cls.1/Relu", "fc"),
    ("features.0.0.weight + QuantizeLinear_8 + Conv_12 + PWN(Clip_16)", "conv"),
    ("MatMul + b3/read:0 + (Unnamed Layer* 21) [Shuffle] + add_2 + Relu_2", "fc"),
    ("Softmax-14 + ArgMax-15", "elementwise"),
    ("PWN(PWN(Sigmoid_3), Mul_4)", "elementwise"),
    # reformat and copies
    ("Reformatting CopyNode for Input Tensor 0 to Conv_35 + Relu_36", "reformat"),
    ("Reformatting CopyNode for Input Tensor 0 to {ForeignNode[conv1/7x7_s2...loss3/classifier]}", "reformat"),
    ("Transpose-7 + Reshape-7 + reshape_before_MatMul-9", "reformat"),
    ("reshape_after_Gemm_48", "reformat"),
    ("copied_squeeze_after_(Unnamed Layer* 850) [ElementWise]", "reformat"),
    ("(Unnamed Layer* 52) [Shuffle]", "reformat"),
    ("(Unnamed Layer* 7) [Convolution]", "conv"),
    ("QuantizeLinear_2", "reformat"),
    # TensorRT 7 and DLA (Jetson Xavier)
    ("conv1/7x7_s2 + conv1/relu_7x7 input reformatter 0", "reformat"),
    ("pool2/3x3_s2 output reformatter 0", "reformat"),
    ("pool1/3x3_s2", "pool"),
    ("inception_3a/3x3 + inception_3a/relu_3x3", "conv"),
    ("inception_3a/pool_proj + inception_3a/relu_pool_proj", "conv"),
    ("inception_3a/pool", "pool"),
    ("inception_3a/1x1 + inception_3a/relu_1x1 || inception_3a/3x3_reduce + inception_3a/relu_3x3_reduce",
     "conv"),
    ("inception_3a/1x1 copy", "reformat"),
    ("pool1/norm1", "elementwise"),
    ("loss3/classifier", "fc"),
    ("prob", "elementwise"),
    ("data to nvm", "transfer"),
    ("data copy finish", "transfer"),
    ("(Unnamed Layer* 10) [Convolution]_output copy finish", "transfer"),
    ("(Unnamed Layer* 10) [Convolution]_output from nvm", "dla"),  # waits while the DLA computes
    ("loss3/classifier finish", "dla"),
    ("{conv1/7x7_s2,conv1/relu_7x7,pool1/3x3_s2}", "dla"),  # a TensorRT 7 DLA block
    # TensorRT 8.5 (Xavier NX, Keras/TF names) and data copies
    ("[HostToDeviceCopy 0]", "transfer"),
    ("[DeviceToHostCopy 1]", "transfer"),
    ("res2a_branch1", "conv"),
    ("res2a_branch2b + tf_op_layer_add/add + PWN(re_lu_2_clip)", "conv"),
    ("re_lu/Relu:0_pooling", "pool"),
    ("tf_op_layer_Sum/Sum_reduce_min", "other"),
    ("{ForeignNode[lstm_W...Max_reduce_min]}", "other"),
    # TensorRT 10 Myelin kernels
    ("node_conv2d_myl0_1", "conv"),
    ("node_linear_1_2_myl5_3", "fc"),
    ("__myl_MaxrSubExpSum_myl5_4", "elementwise"),
    ("__myl_CastReshCast_myl5_6", "reformat"),
    ("__myl_Resh_myl5_1", "reformat"),
    ("__myl_DivMulTopk_myl5_5", "other"),
    ("__mye59_0_myl0_0", "other"),
    ("_gemm_mha_v2_myl56_8", "other"),
    ("dummy_shape_call__mye5965_0_myl56_0", "other"),
    ("y + z", "other"),
])
def test_names(name, expected):
    decided = classify(name)
    assert decided.category == expected, decided.rule
    assert decided.by_name


def _layer(**kw):
    return {"Name": kw.pop("Name", "x"), **kw}


def test_fc_run_as_1x1_convolution_is_fc_when_name_or_origin_says_so():
    conv1x1 = _layer(LayerType="CaskConvolution", ParameterType="Convolution", Kernel=[1, 1])
    assert categorize("Gemm_48", conv1x1) == "fc"
    assert categorize("features.2.conv.2.weight + QuantizeLinear_90 + Conv_94", conv1x1) == "conv"
    with_origin = dict(conv1x1, Metadata="[ONNX Layer: /fc1/Gemm]\x1e[ONNX Layer: /relu/Relu]")
    assert categorize("layer_7", with_origin) == "fc"
    assert categorize("layer_7", dict(conv1x1, LayerType="CublasConvolution")) == "fc"
    # a real kernel overrides a misleading name
    assert categorize("fc_like_conv", dict(conv1x1, Kernel=[3, 3])) == "conv"


def test_layer_info_decides_over_the_name():
    assert categorize("weird_name_0", _layer(LayerType="CaskConvolution", ParameterType="Convolution",
                                             Kernel=[5, 5])) == "conv"
    assert categorize("weird_name_1", _layer(LayerType="TiledPooling", ParameterType="Pooling")) == "pool"
    assert categorize("Conv_3 copy", _layer(LayerType="NoOp")) == "reformat"
    assert categorize("QuantizeLinear_98", _layer(LayerType="Reformat", ParameterType="Reformat",
                                                  Origin="QDQ")) == "reformat"
    assert categorize("sm", _layer(LayerType="CudaSoftMax", ParameterType="SoftMax")) == "elementwise"
    assert categorize("pw", _layer(LayerType="PointWiseV2", ParameterType="PointWise")) == "elementwise"
    assert categorize("node_linear_myl4_0", _layer(LayerType="gemm")) == "fc"
    assert categorize("sc", _layer(LayerType="shape_call")) == "other"
    decided = classify("weird_name_0", _layer(LayerType="CaskConvolution", ParameterType="Convolution"))
    assert not decided.by_name and decided.rule.startswith("type:")


def test_unknown_layer_type_falls_back_to_the_name():
    decided = classify("Conv_9 + Relu_10", _layer(LayerType="SomethingNew"))
    assert decided.category == "conv" and decided.by_name


def test_kgen_uses_onnx_origin_then_kernel_tokens():
    assert categorize("__myl_MulSum_myl4_1", _layer(LayerType="kgen", Metadata="[ONNX Layer: node_linear_1]")) == "fc"
    softmax = _layer(LayerType="kgen", Metadata="[ONNX Layer: node_linear_1]\x1f[ONNX Layer: node_softmax]",
                     TacticName="__myl_AddMaxrSubExpSum_0x574acd01f7517732d5f2fd1c9042a089")
    assert categorize("__myl_AddMaxrSubExpSum_myl4_2", softmax) == "elementwise"
    renamed = _layer(LayerType="kgen", TacticName="__myl_CastReshCast_0x5baf1ddb7083512f99818d0d7872c872")
    assert categorize("region_7", renamed) == "reformat"


def test_names_are_normalised():
    assert normalize_name("Conv_0 + Relu_1 [profile 2]") == "Conv_0 + Relu_1"
    assert categorize("MaxPool_2 [profile 1]") == "pool"
    assert onnx_origins({"Metadata": "[ONNX Layer: a]\x1e[ONNX Layer: b/c]"}) == ["a", "b/c"]
    assert onnx_origins(None) == []


def test_every_category_is_a_known_one():
    assert set(tensorrt_layers.TYPE_TABLE.values()) <= set(CATEGORIES)
    assert set(tensorrt_layers.DOMINANCE) <= set(CATEGORIES)


DETAILED = sorted(p for p in TRTEXEC_FIXTURES.glob("*.json")
                  if "graph" in p.name or "exportLayerInfo" in p.name)


@pytest.mark.parametrize("path", DETAILED, ids=lambda p: p.name[:60])
def test_detailed_fixture_layers_follow_their_types(path):
    """Every convolution/pooling layer of the real engine graphs is conv, fc or pool — never other."""
    layers = json.loads(path.read_text())["Layers"]
    for layer in layers:
        category = categorize(layer["Name"], layer)
        param = layer.get("ParameterType")
        if param == "Pooling":
            assert category == "pool", layer["Name"]
        elif param == "Convolution":
            assert category in ("conv", "fc"), layer["Name"]
            if category == "fc":
                assert layer.get("Kernel") == [1, 1], layer["Name"]
        elif layer["LayerType"] in ("Reformat", "NoOp"):
            assert category == "reformat", layer["Name"]
        elif layer["LayerType"] == "gemm":
            assert category == "fc"
