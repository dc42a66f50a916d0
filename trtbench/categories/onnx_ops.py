"""ONNX operator types → categories (onnxruntime node events carry ``args.op_name``).

Also onnxruntime's own kernels (fused, NCHWc/NHWC layout, quantized ``QLinear*``), which its
profile names after the node they replaced. Reductions over axes are filed under pooling (what a
global average pool is); Resize/Upsample under reformat (each output reads a few inputs); ArgMax,
TopK, NonMaxSuppression and control flow stay ``other``: post-processing, listed with -v.
"""
from __future__ import annotations

from typing import Dict

from trtbench.categories import CONV, ELEMENTWISE, FC, OTHER, POOL, REFORMAT

TABLE: Dict[str, str] = {
    # convolution
    "Conv": CONV, "ConvTranspose": CONV, "ConvInteger": CONV, "QLinearConv": CONV,
    "FusedConv": CONV, "NhwcConv": CONV, "NchwcConv": CONV, "NhwcFusedConv": CONV, "FusedConvTranspose": CONV,
    "DeformConv": CONV,
    # pooling
    "MaxPool": POOL, "AveragePool": POOL, "GlobalMaxPool": POOL, "GlobalAveragePool": POOL,
    "LpPool": POOL, "GlobalLpPool": POOL, "MaxRoiPool": POOL, "QLinearAveragePool": POOL,
    "QLinearGlobalAveragePool": POOL, "NchwcMaxPool": POOL, "NchwcAveragePool": POOL,
    "NchwcGlobalMaxPool": POOL, "NchwcGlobalAveragePool": POOL, "NhwcMaxPool": POOL,
    "ReduceMean": POOL, "ReduceSum": POOL, "ReduceMax": POOL,
    "ReduceMin": POOL, "ReduceProd": POOL, "ReduceL1": POOL, "ReduceL2": POOL, "ReduceLogSum": POOL,
    "ReduceLogSumExp": POOL, "ReduceSumSquare": POOL, "RoiAlign": POOL,
    # fully connected
    "Gemm": FC, "MatMul": FC, "MatMulInteger": FC, "QLinearMatMul": FC, "FusedGemm": FC,
    "FusedMatMul": FC, "MatMulNBits": FC, "QGemm": FC, "DynamicQuantizeMatMul": FC, "Einsum": FC,
    "MatMulIntegerToFloat": FC, "QAttention": FC, "Attention": FC,
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
    "ImageScaler": ELEMENTWISE, "Affine": ELEMENTWISE, "ScaledTanh": ELEMENTWISE, "ThresholdedRelu": ELEMENTWISE,
    "Celu": ELEMENTWISE, "Mish": ELEMENTWISE, "QuickGelu": ELEMENTWISE, "Swish": ELEMENTWISE,
    "Floor": ELEMENTWISE, "Ceil": ELEMENTWISE, "Round": ELEMENTWISE, "Sign": ELEMENTWISE, "Mod": ELEMENTWISE,
    "Sin": ELEMENTWISE, "Cos": ELEMENTWISE, "Atan": ELEMENTWISE, "IsNaN": ELEMENTWISE, "IsInf": ELEMENTWISE,
    "Equal": ELEMENTWISE, "Greater": ELEMENTWISE, "Less": ELEMENTWISE, "GreaterOrEqual": ELEMENTWISE,
    "LessOrEqual": ELEMENTWISE, "And": ELEMENTWISE, "Or": ELEMENTWISE, "Xor": ELEMENTWISE, "Not": ELEMENTWISE,
    "Where": ELEMENTWISE, "BitShift": ELEMENTWISE, "LpNormalization": ELEMENTWISE, "MeanVarianceNormalization":
    ELEMENTWISE, "SimplifiedLayerNormalization": ELEMENTWISE, "BiasSoftmax": ELEMENTWISE,
    "QLinearAdd": ELEMENTWISE, "QLinearMul": ELEMENTWISE, "QLinearSigmoid": ELEMENTWISE,
    "QLinearLeakyRelu": ELEMENTWISE, "QLinearSoftmax": ELEMENTWISE, "QLinearHardSigmoid": ELEMENTWISE,
    "FusedActivation": ELEMENTWISE, "Acos": ELEMENTWISE, "Acosh": ELEMENTWISE, "Asin": ELEMENTWISE,
    "Asinh": ELEMENTWISE, "Atanh": ELEMENTWISE, "Cosh": ELEMENTWISE, "Sinh": ELEMENTWISE, "Tan": ELEMENTWISE,
    "Shrink": ELEMENTWISE, "Hardmax": ELEMENTWISE, "RMSNormalization": ELEMENTWISE, "SwiGLU": ELEMENTWISE,
    "CumProd": ELEMENTWISE, "BitwiseAnd": ELEMENTWISE, "BitwiseOr": ELEMENTWISE, "BitwiseXor": ELEMENTWISE,
    "BitwiseNot": ELEMENTWISE,
    # reformat
    "Reshape": REFORMAT, "Flatten": REFORMAT, "Transpose": REFORMAT, "Cast": REFORMAT,
    "Concat": REFORMAT, "Identity": REFORMAT, "Squeeze": REFORMAT, "Unsqueeze": REFORMAT,
    "Slice": REFORMAT, "Split": REFORMAT, "Gather": REFORMAT, "Expand": REFORMAT, "Pad": REFORMAT,
    "ReorderInput": REFORMAT, "ReorderOutput": REFORMAT, "MemcpyFromHost": REFORMAT,
    "MemcpyToHost": REFORMAT, "QuantizeLinear": REFORMAT, "DequantizeLinear": REFORMAT,
    "Shape": REFORMAT, "Tile": REFORMAT, "Resize": REFORMAT, "Upsample": REFORMAT, "Size": REFORMAT,
    "Constant": REFORMAT, "ConstantOfShape": REFORMAT, "Range": REFORMAT, "NonZero": REFORMAT,
    "GatherElements": REFORMAT, "GatherND": REFORMAT, "ScatterND": REFORMAT, "ScatterElements": REFORMAT,
    "DepthToSpace": REFORMAT, "SpaceToDepth": REFORMAT, "ReverseSequence": REFORMAT, "Trilu": REFORMAT,
    "DynamicQuantizeLinear": REFORMAT, "QLinearConcat": REFORMAT, "CastLike": REFORMAT, "OneHot": REFORMAT,
    "Compress": REFORMAT, "CumSum": ELEMENTWISE, "QLinearReshape": REFORMAT, "QLinearTranspose": REFORMAT,
    "NhwcTranspose": REFORMAT, "TransposeMatMul": FC, "NchwcUpsample": REFORMAT, "Col2Im": REFORMAT,
    "CenterCropPad": REFORMAT, "EyeLike": REFORMAT, "Scatter": REFORMAT, "BitCast": REFORMAT,
    "GridSample": REFORMAT, "AffineGrid": REFORMAT, "MaxUnpool": POOL,
}


def categorize(op_type: str) -> str:
    """The category of an ONNX op type (``other`` when unknown)."""
    return TABLE.get(op_type, OTHER)
