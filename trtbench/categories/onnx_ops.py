"""ONNX operator types → categories (onnxruntime node events carry ``args.op_name``)."""
from __future__ import annotations

from typing import Dict

from trtbench.categories import CONV, ELEMENTWISE, FC, OTHER, POOL, REFORMAT

TABLE: Dict[str, str] = {
    # convolution
    "Conv": CONV, "ConvTranspose": CONV, "ConvInteger": CONV, "QLinearConv": CONV,
    "FusedConv": CONV, "NhwcConv": CONV, "NchwcConv": CONV,
    # pooling
    "MaxPool": POOL, "AveragePool": POOL, "GlobalMaxPool": POOL, "GlobalAveragePool": POOL,
    "LpPool": POOL, "GlobalLpPool": POOL, "MaxRoiPool": POOL, "QLinearAveragePool": POOL,
    "QLinearGlobalAveragePool": POOL, "NchwcMaxPool": POOL, "NchwcAveragePool": POOL,
    "NchwcGlobalMaxPool": POOL, "NchwcGlobalAveragePool": POOL,
    # fully connected
    "Gemm": FC, "MatMul": FC, "MatMulInteger": FC, "QLinearMatMul": FC, "FusedGemm": FC,
    "FusedMatMul": FC, "MatMulNBits": FC, "QGemm": FC, "DynamicQuantizeMatMul": FC,
    # elementwise: activations, arithmetic, softmax, normalisation
    "Relu": ELEMENTWISE, "LeakyRelu": ELEMENTWISE, "PRelu": ELEMENTWISE, "Sigmoid": ELEMENTWISE,
    "Tanh": ELEMENTWISE, "Elu": ELEMENTWISE, "Selu": ELEMENTWISE, "Gelu": ELEMENTWISE,
    "FastGelu": ELEMENTWISE, "BiasGelu": ELEMENTWISE, "HardSigmoid": ELEMENTWISE,
    "HardSwish": ELEMENTWISE, "Softplus": ELEMENTWISE, "Softsign": ELEMENTWISE, "Clip": ELEMENTWISE,
    "Add": ELEMENTWISE, "Sub": ELEMENTWISE, "Mul": ELEMENTWISE, "Div": ELEMENTWISE, "Pow": ELEMENTWISE,
    "Sqrt": ELEMENTWISE, "Exp": ELEMENTWISE, "Log": ELEMENTWISE, "Abs": ELEMENTWISE, "Neg": ELEMENTWISE,
    "Max": ELEMENTWISE, "Min": ELEMENTWISE, "Sum": ELEMENTWISE, "Mean": ELEMENTWISE, "Erf": ELEMENTWISE,
    "Reciprocal": ELEMENTWISE, "Softmax": ELEMENTWISE, "LogSoftmax": ELEMENTWISE,
    "BatchNormalization": ELEMENTWISE, "InstanceNormalization": ELEMENTWISE,
    "LayerNormalization": ELEMENTWISE, "GroupNormalization": ELEMENTWISE, "LRN": ELEMENTWISE,
    "Dropout": ELEMENTWISE, "BiasAdd": ELEMENTWISE, "SkipLayerNormalization": ELEMENTWISE,
    # reformat
    "Reshape": REFORMAT, "Flatten": REFORMAT, "Transpose": REFORMAT, "Cast": REFORMAT,
    "Concat": REFORMAT, "Identity": REFORMAT, "Squeeze": REFORMAT, "Unsqueeze": REFORMAT,
    "Slice": REFORMAT, "Split": REFORMAT, "Gather": REFORMAT, "Expand": REFORMAT, "Pad": REFORMAT,
    "ReorderInput": REFORMAT, "ReorderOutput": REFORMAT, "MemcpyFromHost": REFORMAT,
    "MemcpyToHost": REFORMAT, "QuantizeLinear": REFORMAT, "DequantizeLinear": REFORMAT,
    "Shape": REFORMAT, "Tile": REFORMAT,
}


def categorize(op_type: str) -> str:
    """The category of an ONNX op type (``other`` when unknown)."""
    return TABLE.get(op_type, OTHER)
