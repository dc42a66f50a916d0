"""ONNX ops as torch functions: element-wise, math, reductions, quantisation (ONNX opsets 7-21).

Each kernel is ``fn(node, *inputs)``: ``node`` is the `OnnxNode` calling it (its ``attrs``,
``opset``, ``n_out`` and the ``host`` values cached at conversion), ``inputs`` the node's input
tensors (``None`` for an omitted optional input). Inputs that only carry parameters (a shape, axes,
pads, scales) are read on the host with `host`: from the constant cached at conversion when the
input is a constant, else from the tensor (on a GPU that is a synchronisation, which only graphs that
compute their shapes at run time pay). Convolutions, pooling, normalisation and resizing live in
`onnx_nn_kernels`; shapes, indexing and constants in `onnx_shape_kernels`. This module also holds
the registry (`Kernel`, `registrar`) and the helpers the other two share.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

from trtbench.models.inputs import ELEMENT_TYPES


class Kernel(NamedTuple):
    """How one op runs: the function, which inputs it reads on the host, its buffers, its limits."""

    fn: Callable[..., Any]
    host: Tuple[int, ...] = ()
    # attrs -> {buffer name: numpy array}: tensors the node holds (moved and cast with the module)
    tensors: Optional[Callable[[Dict[str, Any]], Dict[str, Any]]] = None
    # (attrs, output names) -> why this node cannot run, or None
    check: Optional[Callable[[Dict[str, Any], Sequence[str]], Optional[str]]] = None


def registrar(table: Dict[str, Kernel]) -> Callable[..., Callable[[Callable[..., Any]], Callable[..., Any]]]:
    """A decorator factory that registers a function in `table` under one or more op types."""
    def op(*names: str, host: Sequence[int] = (), tensors: Any = None, check: Any = None):
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            for name in names:
                table[name] = Kernel(fn, tuple(host), tensors, check)
            return fn
        return register
    return op


KERNELS: Dict[str, Kernel] = {}
op = registrar(KERNELS)


# ---- helpers shared with the other kernel modules ----------------------------------------

def host(n: Any, xs: Sequence[Any], i: int) -> Any:
    """Input `i` as Python values (a list, or a number for a scalar); None when it is omitted."""
    if i in n.host:
        return n.host[i]
    if i < len(xs) and xs[i] is not None:
        return xs[i].tolist()
    return None


def attr_or_input(n: Any, xs: Sequence[Any], i: int, name: str) -> Any:
    """An attribute in older opsets that became input `i` in newer ones (axes, pads, split ...)."""
    if name in n.attrs:
        return n.attrs[name]
    return host(n, xs, i)


def ints(value: Any) -> List[int]:
    if isinstance(value, (list, tuple)):
        return [int(v) for v in value]
    return [int(value)]


def axis_of(axis: int, rank: int) -> int:
    return axis + rank if axis < 0 else axis


def torch_pads(pairs: Sequence[Tuple[int, int]]) -> List[int]:
    """(begin, end) per dimension, first to last, as F.pad wants them: last dimension first."""
    flat: List[int] = []
    for begin, end in reversed(list(pairs)):
        flat += [int(begin), int(end)]
    return flat


_DTYPES = ELEMENT_TYPES  # the one table of ONNX element types (torch names them as numpy does)


def torch_dtype(onnx_type: int) -> torch.dtype:
    """The torch dtype of an ONNX TensorProto data type (uint16/32/64 need torch 2.3 or later)."""
    dtype = getattr(torch, _DTYPES.get(onnx_type, "?"), None)
    if dtype is None:
        raise ValueError(f"ONNX data type {onnx_type} has no torch dtype here")
    return dtype


def product(values: Sequence[int]) -> int:
    result = 1
    for v in values:
        result *= int(v)
    return result


# ---- element-wise ----------------------------------------------------------------------------

_UNARY: Dict[str, Callable[..., Any]] = {
    "Relu": torch.relu, "Sigmoid": torch.sigmoid, "Tanh": torch.tanh, "Exp": torch.exp,
    "Log": torch.log, "Sqrt": torch.sqrt, "Reciprocal": torch.reciprocal, "Neg": torch.neg,
    "Abs": torch.abs, "Floor": torch.floor, "Ceil": torch.ceil, "Round": torch.round,
    "Sign": torch.sign, "Erf": torch.erf, "Not": torch.logical_not, "Sin": torch.sin,
    "Cos": torch.cos, "Softsign": F.softsign, "HardSwish": F.hardswish, "Mish": F.mish,
    "IsNaN": torch.isnan, "Identity": lambda x: x,
}


@op(*_UNARY)
def _unary(n: Any, x: torch.Tensor) -> torch.Tensor:
    return _UNARY[n.op_type](x)


@op("LeakyRelu", "Elu", "Selu", "Celu", "HardSigmoid", "ThresholdedRelu", "Softplus", "Gelu")
def _activation(n: Any, x: torch.Tensor) -> torch.Tensor:
    a, kind = n.attrs, n.op_type
    if kind == "LeakyRelu":
        return F.leaky_relu(x, a.get("alpha", 0.01))
    if kind == "Elu":
        return F.elu(x, a.get("alpha", 1.0))
    if kind == "Selu":
        return F.elu(x, a.get("alpha", 1.67326319217681884765625)) * a.get("gamma", 1.05070102214813232421875)
    if kind == "Celu":
        return F.celu(x, a.get("alpha", 1.0))
    if kind == "HardSigmoid":
        return torch.clamp(x * a.get("alpha", 0.2) + a.get("beta", 0.5), 0.0, 1.0)
    if kind == "ThresholdedRelu":
        return torch.where(x > a.get("alpha", 1.0), x, torch.zeros_like(x))
    if kind == "Softplus":
        return F.softplus(x)
    return F.gelu(x, approximate=a.get("approximate", "none"))


@op("PRelu")
def _prelu(n: Any, x: torch.Tensor, slope: torch.Tensor) -> torch.Tensor:
    if n.opset < 7 and slope.dim() == 1 and x.dim() > 2:  # opset 6: one slope per channel
        slope = slope.reshape((-1,) + (1,) * (x.dim() - 2))
    return torch.where(x < 0, x * slope, x)


@op("Clip", host=(1, 2))
def _clip(n: Any, x: torch.Tensor, *bounds: Any) -> torch.Tensor:
    if n.opset < 11:
        low, high = n.attrs.get("min"), n.attrs.get("max")
    else:
        low, high = host(n, (x,) + bounds, 1), host(n, (x,) + bounds, 2)
    if low is None and high is None:
        return x
    return torch.clamp(x, low, high)


def _legacy_broadcast(n: Any, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Opsets before 7 broadcast B against A from `axis` when `broadcast` is set."""
    if n.attrs.get("broadcast") and "axis" in n.attrs and b.dim() < a.dim():
        axis = axis_of(n.attrs["axis"], a.dim())
        b = b.reshape(tuple(b.shape) + (1,) * (a.dim() - axis - b.dim()))
    return b


_BINARY: Dict[str, Callable[..., Any]] = {
    "Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Equal": torch.eq, "Greater": torch.gt,
    "Less": torch.lt, "GreaterOrEqual": torch.ge, "LessOrEqual": torch.le, "And": torch.logical_and,
    "Or": torch.logical_or, "Xor": torch.logical_xor,
}


@op(*_BINARY, "Div", "Pow", "Mod")
def _binary(n: Any, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    b = _legacy_broadcast(n, a, b)
    kind = n.op_type
    if kind == "Div":
        if a.is_floating_point() or b.is_floating_point():
            return torch.div(a, b)
        return torch.div(a, b, rounding_mode="trunc")
    if kind == "Pow":
        return torch.pow(a, b).to(a.dtype)
    if kind == "Mod":
        return torch.fmod(a, b) if n.attrs.get("fmod", 0) else torch.remainder(a, b)
    return _BINARY[kind](a, b)


@op("Sum", "Max", "Min", "Mean")
def _variadic(n: Any, *xs: torch.Tensor) -> torch.Tensor:
    pairs: Dict[str, Any] = {"Sum": torch.add, "Mean": torch.add, "Max": torch.maximum, "Min": torch.minimum}
    combine = pairs[n.op_type]
    result = xs[0]
    for x in xs[1:]:
        result = combine(result, x)
    return result / len(xs) if n.op_type == "Mean" else result


@op("Where")
def _where(n: Any, cond: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.where(cond, a, b)


@op("MatMul")
def _matmul(n: Any, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.matmul(a, b)


@op("Einsum")
def _einsum(n: Any, *xs: torch.Tensor) -> torch.Tensor:
    return torch.einsum(n.attrs["equation"], *xs)


@op("Softmax", "LogSoftmax", "Hardmax")
def _softmax(n: Any, x: torch.Tensor) -> torch.Tensor:
    def apply(t: torch.Tensor, dim: int) -> torch.Tensor:
        if n.op_type == "Softmax":
            return torch.softmax(t, dim)
        if n.op_type == "LogSoftmax":
            return torch.log_softmax(t, dim)
        hot = F.one_hot(t.argmax(dim), t.shape[dim]).to(t.dtype)
        return hot.movedim(-1, dim)
    if n.opset >= 13:
        return apply(x, n.attrs.get("axis", -1))
    # before opset 13: the input is seen as 2-D, [prod(shape[:axis]), prod(shape[axis:])]
    axis = axis_of(n.attrs.get("axis", 1), x.dim())
    flat = x.reshape(product(x.shape[:axis]), product(x.shape[axis:]))
    return apply(flat, 1).reshape(x.shape)


# ---- reductions ------------------------------------------------------------------------------

@op("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
    "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp", host=(1,))
def _reduce(n: Any, x: torch.Tensor, *rest: Any) -> torch.Tensor:
    axes = attr_or_input(n, (x,) + rest, 1, "axes")
    keep = bool(n.attrs.get("keepdims", 1))
    if not axes:
        if n.attrs.get("noop_with_empty_axes", 0):
            return x
        axes = list(range(x.dim()))
    dims = sorted(axis_of(a, x.dim()) for a in ints(axes))
    kind = n.op_type
    if kind == "ReduceMax":
        return torch.amax(x, dims, keep)
    if kind == "ReduceMin":
        return torch.amin(x, dims, keep)
    if kind == "ReduceMean":
        return torch.mean(x, dims, keep)
    if kind == "ReduceLogSumExp":
        return torch.logsumexp(x, dims, keep)
    if kind == "ReduceProd":
        for d in reversed(dims):
            x = torch.prod(x, d, keep)
        return x
    if kind in ("ReduceSumSquare", "ReduceL2"):
        x = x * x
    elif kind == "ReduceL1":
        x = torch.abs(x)
    total = torch.sum(x, dims, keep).to(x.dtype)
    if kind == "ReduceL2":
        return torch.sqrt(total)
    return torch.log(total) if kind == "ReduceLogSum" else total


@op("ArgMax", "ArgMin")
def _argmax(n: Any, x: torch.Tensor) -> torch.Tensor:
    axis = axis_of(n.attrs.get("axis", 0), x.dim())
    keep = bool(n.attrs.get("keepdims", 1))
    pick = torch.argmax if n.op_type == "ArgMax" else torch.argmin
    if n.attrs.get("select_last_index", 0):
        return x.shape[axis] - 1 - pick(torch.flip(x, [axis]), axis, keep)
    return pick(x, axis, keep)


@op("TopK", host=(1,))
def _topk(n: Any, x: torch.Tensor, *rest: Any) -> Tuple[torch.Tensor, torch.Tensor]:
    k = ints(attr_or_input(n, (x,) + rest, 1, "k"))[0]
    axis = axis_of(n.attrs.get("axis", -1), x.dim())
    values, indices = torch.topk(x, k, axis, bool(n.attrs.get("largest", 1)), True)
    return values, indices


# ---- quantisation (emulated in float) ----------------------------------------------------------

def _per_axis(t: torch.Tensor, x: torch.Tensor, axis: int) -> torch.Tensor:
    if t.dim() == 1 and t.numel() > 1:
        shape = [1] * x.dim()
        shape[axis_of(axis, x.dim())] = -1
        return t.reshape(shape)
    return t


@op("QuantizeLinear", check=lambda a, outs: "QuantizeLinear (block_size)" if a.get("block_size", 0) else None)
def _quantize(n: Any, x: torch.Tensor, scale: torch.Tensor,
              zero: Optional[torch.Tensor] = None) -> torch.Tensor:
    axis = n.attrs.get("axis", 1)
    dtype = zero.dtype if zero is not None else torch_dtype(n.attrs.get("output_dtype", 2) or 2)
    q = torch.round(x.float() / _per_axis(scale.float(), x, axis))
    if zero is not None:
        q = q + _per_axis(zero.float(), x, axis)
    info = torch.iinfo(dtype)
    return q.clamp(info.min, info.max).to(dtype)


@op("DequantizeLinear",
    check=lambda a, outs: "DequantizeLinear (block_size)" if a.get("block_size", 0) else None)
def _dequantize(n: Any, q: torch.Tensor, scale: torch.Tensor,
                zero: Optional[torch.Tensor] = None) -> torch.Tensor:
    axis = n.attrs.get("axis", 1)
    y = q.float()
    if zero is not None:
        y = y - _per_axis(zero.float(), q, axis)
    return (y * _per_axis(scale.float(), q, axis)).to(scale.dtype)
