"""TensorRT engine layers → categories, from layer info when there is some, from names otherwise.

A row of a trtexec profile (or of the in-process `IProfiler`) is one engine layer, often a fusion
of several network layers. With detailed layer info (``--exportLayerInfo`` after a build with
``--profilingVerbosity=detailed``, or the engine inspector's JSON) the row's ``LayerType``,
``ParameterType``, ``Kernel``, ``TacticName`` and ``Metadata`` (ONNX origins) decide; without it
only the name is left, and the name heuristics below apply. First match wins (the order of
docs/trtexec.md, "Categories"):

1. transfer: ``[HostToDeviceCopy N]``, ``[DeviceToHostCopy N]``, the copies into and out of
   the DLA's memory (``data to nvm``, ``… copy finish``);
   dla: work on the deep learning accelerator: a DLA subgraph (TensorRT 7's ``{a,b,…}``, a
   ``{ForeignNode[…]}`` whose layer info or engine says DLA), the wait for its output
   (``<tensor> from nvm``, which is where the DLA's compute time shows) and its ``… finish``;
2. reformat: Reformat/NoOp/Shuffle/Padding/Slice layers, ``Reformatting CopyNode for …``, TRT 7
   ``… input reformatter 0``, ``… copy`` (concatenation), Myelin kernels that only reshape/cast;
3. fc before conv, because TensorRT 8 runs FullyConnected/Gemm/MatMul as a 1×1 convolution: a
   1×1 convolution whose name or ONNX origin says Gemm/MatMul/linear/fc is fc;
4. conv, 5. pool, 6. elementwise (activations, arithmetic, softmax, normalisation), then other
   (``{ForeignNode[…]}`` Myelin/DLA subgraphs, plugins, TopK/ArgMax, attention). As in
   `onnx_ops`, a Reduce layer is pooling and a Resize layer is a reformat.

A fused name ``A + B`` (or parallel ``A || B``) is charged to its dominant part:
conv > fc > pool > elementwise > reformat.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, List, Mapping, Optional, Sequence

from trtbench.categories import CONV, DLA, ELEMENTWISE, FC, OTHER, POOL, REFORMAT, TRANSFER, onnx_ops

# Dominance inside a fusion: the first category present wins.
DOMINANCE = (CONV, FC, POOL, ELEMENTWISE, REFORMAT, DLA, TRANSFER, OTHER)

# TensorRT layer type / parameter type names (also the `[Type]` of "(Unnamed Layer* N) [Type]").
TYPE_TABLE = {
    "Convolution": CONV, "Deconvolution": CONV, "ConvActPool": CONV,
    "FullyConnected": FC, "MatrixMultiply": FC, "gemm": FC,
    "Pooling": POOL,
    "Activation": ELEMENTWISE, "ElementWise": ELEMENTWISE, "Scale": ELEMENTWISE,
    "SoftMax": ELEMENTWISE, "Softmax": ELEMENTWISE, "LRN": ELEMENTWISE, "Unary": ELEMENTWISE,
    "PointWise": ELEMENTWISE, "PointWiseV2": ELEMENTWISE, "Normalization": ELEMENTWISE,
    "CudaSoftMax": ELEMENTWISE, "CaskSoftMaxV2": ELEMENTWISE, "ParametricReLU": ELEMENTWISE,
    "Reformat": REFORMAT, "NoOp": REFORMAT, "Shuffle": REFORMAT, "Padding": REFORMAT,
    "Slice": REFORMAT, "Concatenation": REFORMAT, "Identity": REFORMAT, "Cast": REFORMAT,
    "Gather": REFORMAT, "Constant": REFORMAT, "Quantize": REFORMAT, "Dequantize": REFORMAT,
    "reshape": REFORMAT, "Shape": REFORMAT,
    "Reduce": POOL, "Resize": REFORMAT,  # as onnx_ops: a reduction pools, a resize moves data
    "TopK": OTHER, "LogSoftmaxTopK": OTHER, "PluginV2": OTHER,
    "NonZero": OTHER, "TrainStation": OTHER, "shape_call": OTHER, "signal": OTHER, "wait": OTHER,
    "Myelin": OTHER, "RaggedSoftMax": OTHER, "Loop": OTHER, "Select": OTHER, "Fill": OTHER,
}

_PROFILE_SUFFIX = re.compile(r"\s*\[profile +\d+\]$")
_ONNX_ORIGIN = re.compile(r"\[ONNX Layer: ([^\]]+)\]")
_UNNAMED = re.compile(r"^\(Unnamed Layer\* *\d+\) \[([A-Za-z0-9_]+)\]")
_MYELIN_SUFFIX = re.compile(r"_myl\d+_\d+$")
_KGEN_HASH = re.compile(r"_0x[0-9a-fA-F]+$")
_OP_INDEX = re.compile(r"(?:__?|[-.])\d+$")

# Whole-name rules, tried before a name is split into fused parts.
_NAME_RULES = (
    ("host/device copy", re.compile(r"^\[(HostToDevice|DeviceToHost)Copy( \d+)?\]$"), TRANSFER),
    ("DLA data movement", re.compile(r"^data to nvm$|copy finish$"), TRANSFER),
    ("DLA output wait", re.compile(r"\bfrom nvm$"), DLA),  # the DLA computes while this waits
    ("reformat node", re.compile(r"^Reformatting CopyNode for |\b(input|output) reformatter \d+$"), REFORMAT),
    ("DLA wait", re.compile(r" finish$"), DLA),
    ("DLA subgraph {a,b}", re.compile(r"^\{(?!ForeignNode\[)[^{}]*,[^{}]*\}$"), DLA),  # TRT 7 DLA blocks
    ("subgraph {...}", re.compile(r"^\{.*\}$"), OTHER),  # {ForeignNode[...]}: Myelin, or DLA (see on_dla)
    ("Myelin internal", re.compile(r"^dummy_shape_call|^__mye\d|_mha"), OTHER),  # shape calls, attention
    ("concat copy", re.compile(r" copy$"), REFORMAT),  # TRT 7 concatenation copies
)

# Rules for one part of a fused name (lower-cased), first match wins.
_PART_RULES = (
    (re.compile(r"^(copied_|reshape_(after|before)_|(un)?squeeze_node_after|squeeze_after)"), REFORMAT),
    (re.compile(r"pool_proj"), CONV),  # GoogLeNet's 1x1 convolution after the pool branch
    (re.compile(r"pool"), POOL),
    (re.compile(r"conv|branch\d|depthwise|(^|/)\d+x\d+"), CONV),
    (re.compile(r"gemm|matmul|(^|[^a-z])fc\d*([^a-z]|$)|linear|dense|classifier|fully.?connected"
                r"|innerproduct|addmm"), FC),
    (re.compile(r"^reduce"), POOL),
    (re.compile(r"^(resize|upsample)"), REFORMAT),
    (re.compile(r"reduce|argmax|argmin|topk|nms|resize|upsample|plugin|nonzero|foreignnode"), OTHER),
    (re.compile(r"relu|re_lu|clip|sigmoid|tanh|gelu|silu|swish|(^|_)elu|softmax|(^|[^a-z])prob([^a-z]|$)"
                r"|norm|lrn|(^|[^a-z])bn\d*([^a-z]|$)|scale|activation|pwn\(|dropout|hardswish|mish"
                r"|(^|[^a-z])(add|sub|mul|div|sum|max|min|exp|sqrt|pow|bias|erf)(\d|[^a-z]|$)"), ELEMENTWISE),
    (re.compile(r"reshape|transpose|flatten|shuffle|concat|copy|cast|squeeze|slice|pad|permute|quantize"
                r"|identity|split|expand|tile|gather"), REFORMAT),
)
_CONSTANT_PART = re.compile(r"\.(weight|bias)$|/read:\d+$")
_KERNEL_SEGMENT = re.compile(r"^\d+x\d+(_s\d+)?$")

# Myelin (kgen) kernel name tokens: __myl_CastReshCast_myl4_4 → Cast, Resh, Cast.
_KGEN_FC = {"gemm", "fc", "matmul", "mm", "gemv"}
_KGEN_CONV = {"conv"}
_KGEN_POOL = {"pool", "maxpool", "avgpool"}
_KGEN_REFORMAT = {"resh", "reshape", "tra", "tran", "transpose", "cast", "cas", "move", "copy", "slic",
                  "slice", "gath", "gather", "concat", "pad", "split"}
_KGEN_OTHER = {"topk", "argmax", "argmin", "nms", "mha"}


@dataclass(frozen=True)
class Classification:
    """A row's category, the rule that gave it, and whether only the name was used."""

    category: str
    rule: str
    by_name: bool


def categorize(name: str, info: Optional[Mapping[str, Any]] = None, *, on_dla: bool = False) -> str:
    """The category of one engine layer; `info` is its record from detailed layer info;
    `on_dla`: the engine was built for a DLA core (its ``{ForeignNode[…]}`` subgraphs run there)."""
    return classify(name, info, on_dla=on_dla).category


def classify(name: str, info: Optional[Mapping[str, Any]] = None, *, on_dla: bool = False) -> Classification:
    """Like `categorize`, also saying which rule decided and whether only the name was used."""
    clean = normalize_name(name)
    for label, pattern, category in _NAME_RULES[:4]:  # rows that have no layer-info counterpart
        if pattern.search(clean):
            return Classification(category, f"name:{label}", not info)
    if _runs_on_dla(clean, info, on_dla):
        return Classification(DLA, "DLA subgraph", not info)
    if info:
        decided = _classify_info(clean, info)
        if decided is not None:
            return Classification(decided[0], decided[1], False)
    category, rule = _classify_name(clean)
    return Classification(category, rule, True)


def _runs_on_dla(name: str, info: Optional[Mapping[str, Any]], on_dla: bool) -> bool:
    """A subgraph TensorRT hands to the DLA: its layer info says DLA, or it is a
    ``{ForeignNode[…]}`` of an engine built for a DLA core."""
    if info and any(str(info.get(key) or "").upper().startswith("DLA")
                    for key in ("LayerType", "ParameterType", "TacticName")):
        return True
    return on_dla and name.startswith("{ForeignNode[")


def normalize_name(name: str) -> str:
    """Strip a multi-profile suffix `` [profile N]`` and TensorRT's record separators."""
    text = str(name).replace("\x1e", "+").replace("\x1f", "+").strip()
    return _PROFILE_SUFFIX.sub("", text)


def onnx_origins(info: Optional[Mapping[str, Any]]) -> List[str]:
    """ONNX node names a layer came from, from its ``Metadata`` (TRT 8.6+)."""
    if not info:
        return []
    metadata = str(info.get("Metadata") or "")
    return _ONNX_ORIGIN.findall(metadata)


# ---- layer info ----------------------------------------------------------------------------

def _classify_info(name: str, info: Mapping[str, Any]):
    layer_type = str(info.get("LayerType") or "")
    param_type = str(info.get("ParameterType") or "")
    origins = onnx_origins(info)
    if REFORMAT in (TYPE_TABLE.get(layer_type), TYPE_TABLE.get(param_type)):
        return REFORMAT, f"type:{layer_type or param_type}"
    if param_type in ("MatrixMultiply", "FullyConnected") or layer_type == "gemm":
        return FC, f"type:{param_type or layer_type}"
    if param_type in ("Convolution", "Deconvolution", "ConvActPool") or "Conv" in layer_type:
        if _conv_is_fc(name, info, layer_type, origins):
            return FC, "type:Convolution run as fully connected"
        return CONV, f"type:{param_type or layer_type}"
    if param_type == "Pooling" or layer_type.endswith("Pooling"):
        return POOL, f"type:{param_type or layer_type}"
    if layer_type == "kgen":
        if origins and all(_part_category(o) == FC for o in origins):
            return FC, "kgen:ONNX origin"
        tactic = str(info.get("TacticName") or "")
        category = _kgen_category(name) or _kgen_category(tactic)
        if category:
            return category, "kgen:kernel name"
    for key in (param_type, layer_type):
        if key in TYPE_TABLE:
            return TYPE_TABLE[key], f"type:{key}"
    return None


def _conv_is_fc(name: str, info: Mapping[str, Any], layer_type: str, origins: Sequence[str]) -> bool:
    kernel = info.get("Kernel")
    if isinstance(kernel, (list, tuple)) and any(int(k) != 1 for k in kernel):
        return False
    if layer_type == "CublasConvolution":
        return True
    parts = _split_fusion(name) + list(origins)
    return any(_part_category(part) == FC for part in parts)


def _kgen_category(text: str) -> Optional[str]:
    m = re.match(r"^__myl_([A-Za-z0-9]+?)(?:_myl\d+_\d+|_0x[0-9a-fA-F]+)?$", _KGEN_HASH.sub("", text))
    if not m:
        return None
    tokens = {t.lower() for t in re.findall(r"[A-Z][a-z0-9]*|[a-z]+", m.group(1))}
    if not tokens:
        return None
    if tokens & _KGEN_FC:
        return FC
    if tokens & _KGEN_CONV:
        return CONV
    if tokens & _KGEN_POOL:
        return POOL
    if tokens <= _KGEN_REFORMAT:
        return REFORMAT
    if tokens & _KGEN_OTHER:
        return OTHER
    return ELEMENTWISE  # Add, Mul, Sub, Div, Exp, Erf, Tanh, Sqrt, Maxr, Sum, Mean, ...


# ---- names ---------------------------------------------------------------------------------

def _classify_name(name: str):
    for label, pattern, category in _NAME_RULES:
        if pattern.search(name):
            return category, f"name:{label}"
    if name.startswith("__myl_"):
        kgen = _kgen_category(name)
        if kgen:
            return kgen, "name:Myelin kernel"
    base = _MYELIN_SUFFIX.sub("", name)
    found = [c for c in (_part_category(p) for p in _split_fusion(base)) if c]
    for category in DOMINANCE:
        if category in found:
            return category, "name:fused parts" if len(found) > 1 else "name:keyword"
    return OTHER, "name:unmatched"


def _split_fusion(name: str) -> List[str]:
    parts: List[str] = []
    for branch in name.split(" || "):
        parts += [p.strip() for p in branch.split(" + ") if p.strip()]
    return parts


def _part_category(part: str) -> Optional[str]:
    m = _UNNAMED.match(part)
    if m:
        return TYPE_TABLE.get(m.group(1), OTHER)
    if _CONSTANT_PART.search(part):
        return None
    lower = part.lower()
    for pattern, category in _PART_RULES[:1]:
        if pattern.search(lower):
            return category
    last = part.rsplit("/", 1)[-1]
    op = _OP_INDEX.sub("", last)
    for candidate in (op, last):
        known = _onnx_op(candidate)
        if known:
            return known
    if _KERNEL_SEGMENT.match(last):  # Caffe "pool1/3x3_s2" (a pool), "inception_3a/3x3" (a conv)
        return POOL if "pool" in lower else CONV
    return _keyword(last.lower()) or _keyword(lower)


_ONNX_LOWER = {k.lower(): v for k, v in onnx_ops.TABLE.items()}


def _onnx_op(text: str) -> Optional[str]:
    return _ONNX_LOWER.get(text.lower())


def _keyword(text: str) -> Optional[str]:
    for pattern, category in _PART_RULES[1:]:
        if pattern.search(text):
            return category
    return None
