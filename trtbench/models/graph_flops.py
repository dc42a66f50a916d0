"""FLOPs of one ONNX node from its tensors' shapes, counted the way `NetSpec.layers()` counts.

- A multiply-add counts 2; bias adds are not counted. Conv: 2 · numel(Y) · (C_in/groups) · kh · kw
  (the weight's dims after the first); ConvTranspose the same from the input side,
  2 · numel(X) · (C_out/groups) · kh · kw; Gemm and MatMul (batched and broadcast too):
  2 · numel(Y) · K.
- Activations, arithmetic and Softmax: 1 per output value. BatchNormalization and ImageScaler
  (scale and shift): 2. Layer/Instance/Group normalisation (mean, variance, normalise, scale,
  shift): 5. Variadic Sum/Mean/Max/Min: (inputs − 1) per output value. Resize/Upsample: 1 per output
  value, whatever the mode. Dropout (identity at inference): 0.
- Pooling (any window, global too), reductions, ArgMax/ArgMin, TopK: 1 per INPUT value.
- Reformat and shape ops (Reshape, Flatten, Transpose, Concat, Gather, Shape, Pad, ...): 0.
- Anything else (control flow, recurrent layers, Einsum, detection post-processing, operators of
  other domains such as ai.onnx.ml): no rule; the caller lists the node as unknown.
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

from trtbench.categories import CONV, ELEMENTWISE, FC, POOL, REFORMAT
from trtbench.categories.onnx_ops import categorize

Shape = Tuple[int, ...]

DOMAINS = ("", "ai.onnx", "com.microsoft")
CONV_WEIGHT: Dict[str, int] = {"Conv": 1, "ConvInteger": 1, "FusedConv": 1, "QLinearConv": 3}
MATMUL = ("MatMul", "MatMulInteger", "QLinearMatMul", "FusedMatMul")
GEMM = ("Gemm", "FusedGemm")
PER_OUTPUT: Dict[str, int] = {
    "BatchNormalization": 2, "ImageScaler": 2, "InstanceNormalization": 5, "LayerNormalization": 5,
    "GroupNormalization": 5, "SkipLayerNormalization": 6, "Resize": 1, "Upsample": 1, "Dropout": 0,
}
VARIADIC = ("Sum", "Mean", "Max", "Min")
PER_INPUT = ("ArgMax", "ArgMin", "TopK", "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin",
             "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare")
ZERO = ("Constant", "ConstantOfShape", "Size", "Range", "NonZero", "EyeLike", "GatherElements",
        "GatherND", "ScatterND", "ScatterElements", "Scatter", "DepthToSpace", "SpaceToDepth",
        "OneHot", "Trilu", "CastLike", "Compress", "ReverseSequence", "Crop")
ELEMENTWISE_MORE = (
    "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "And", "Or", "Xor", "Where",
    "Sign", "Floor", "Ceil", "Round", "Mod", "IsNaN", "IsInf", "BitShift", "Sin", "Cos", "Tan",
    "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Mish", "Celu",
    "ThresholdedRelu", "Shrink", "Hardmax", "Swish", "QuickGelu", "BitwiseAnd", "BitwiseOr",
    "BitwiseXor", "BitwiseNot",
)


def numel(shape: Shape) -> int:
    count = 1
    for dim in shape:
        count *= dim
    return count


def node_flops(op_type: str, domain: str, attrs: Dict[str, object], ins: Sequence[Optional[Shape]],
               outs: Sequence[Optional[Shape]]) -> Tuple[Optional[int], str]:
    """(FLOPs for the whole batch, or None; a note saying why None).

    `ins`/`outs` follow the node's inputs and outputs (None: unknown shape or an omitted input).
    """
    if domain not in DOMAINS:
        return None, f"no FLOP rule for operators of domain {domain}"
    category = categorize(op_type)
    first_in = ins[0] if ins else None
    first_out = outs[0] if outs else None
    if op_type in CONV_WEIGHT or op_type == "ConvTranspose":
        weight = _at(ins, CONV_WEIGHT.get(op_type, 1))
        side = first_in if op_type == "ConvTranspose" else first_out
        if weight is None or side is None:
            return None, "shape unknown"
        return 2 * numel(side) * numel(weight[1:]), ""
    if op_type in GEMM or op_type in MATMUL:
        if first_in is None or first_out is None or not first_in:
            return None, "shape unknown"
        trans_a = bool(attrs.get("transA", 0))
        if op_type in GEMM:
            k = first_in[0] if trans_a else first_in[-1]
        else:
            k = first_in[-2] if trans_a and len(first_in) > 1 else first_in[-1]
        return 2 * numel(first_out) * k, ""
    if op_type in PER_OUTPUT or op_type in VARIADIC:
        if first_out is None:
            return None, "shape unknown"
        factor = PER_OUTPUT[op_type] if op_type in PER_OUTPUT else max(1, len(ins) - 1)
        return factor * numel(first_out), ""
    if op_type in PER_INPUT or category == POOL:
        if first_in is None:
            return None, "shape unknown"
        return numel(first_in), ""
    if category == REFORMAT or op_type in ZERO:
        return 0, ""
    if category == ELEMENTWISE or op_type in ELEMENTWISE_MORE:
        if first_out is None:
            return None, "shape unknown"
        return numel(first_out), ""
    what = "convolution" if category == CONV else "fully connected" if category == FC else "operator"
    return None, f"no FLOP rule for the {what} {op_type}"


def _at(shapes: Sequence[Optional[Shape]], index: int) -> Optional[Shape]:
    return shapes[index] if index < len(shapes) else None


def attributes(node: object) -> Dict[str, object]:
    """The node's int and float attributes by name (what the rules read)."""
    out: Dict[str, object] = {}
    for attr in getattr(node, "attribute", []):
        if attr.type == 2:  # INT
            out[attr.name] = int(attr.i)
        elif attr.type == 1:  # FLOAT
            out[attr.name] = float(attr.f)
    return out

