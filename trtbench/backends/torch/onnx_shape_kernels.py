"""ONNX shape, indexing and constant ops as torch functions (same contract as `onnx_kernels`).

Reshape, Slice, Pad and the other ops whose parameters are shapes, axes or pads read them on the host
with `host`: constants cost nothing (cached at conversion), computed shapes cost a device read.
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F

from trtbench.backends.torch.onnx_kernels import (
    Kernel,
    attr_or_input,
    axis_of,
    host,
    ints,
    product,
    registrar,
    torch_dtype,
    torch_pads,
)

KERNELS: Dict[str, Kernel] = {}
op = registrar(KERNELS)


@op("Reshape", host=(1,))
def _reshape(n: Any, x: torch.Tensor, *rest: Any) -> torch.Tensor:
    dims = ints(attr_or_input(n, (x,) + rest, 1, "shape"))
    if not n.attrs.get("allowzero", 0):
        dims = [int(x.shape[i]) if d == 0 else d for i, d in enumerate(dims)]
    return x.reshape(dims)


@op("Flatten")
def _flatten(n: Any, x: torch.Tensor) -> torch.Tensor:
    axis = axis_of(n.attrs.get("axis", 1), x.dim())
    return x.reshape(product(x.shape[:axis]), product(x.shape[axis:]))


@op("Transpose")
def _transpose(n: Any, x: torch.Tensor) -> torch.Tensor:
    perm = n.attrs.get("perm") or list(range(x.dim()))[::-1]
    return x.permute(*perm)


@op("Squeeze", host=(1,))
def _squeeze(n: Any, x: torch.Tensor, *rest: Any) -> torch.Tensor:
    axes = attr_or_input(n, (x,) + rest, 1, "axes")
    if axes is None or axes == []:
        drop = {i for i, d in enumerate(x.shape) if d == 1}
    else:
        drop = {axis_of(a, x.dim()) for a in ints(axes)}
    return x.reshape([d for i, d in enumerate(x.shape) if i not in drop])


@op("Unsqueeze", host=(1,))
def _unsqueeze(n: Any, x: torch.Tensor, *rest: Any) -> torch.Tensor:
    axes = ints(attr_or_input(n, (x,) + rest, 1, "axes"))
    rank = x.dim() + len(axes)
    shape = list(x.shape)
    for a in sorted(axis_of(a, rank) for a in axes):
        shape.insert(a, 1)
    return x.reshape(shape)


@op("Concat")
def _concat(n: Any, *xs: torch.Tensor) -> torch.Tensor:
    return torch.cat(xs, n.attrs["axis"])


@op("Split", host=(1,))
def _split(n: Any, x: torch.Tensor, *rest: Any) -> Tuple[torch.Tensor, ...]:
    axis = axis_of(n.attrs.get("axis", 0), x.dim())
    sizes = attr_or_input(n, (x,) + rest, 1, "split")
    if not sizes:
        parts = n.attrs.get("num_outputs", n.n_out)
        chunk = -(-int(x.shape[axis]) // parts)
        sizes = [chunk] * (parts - 1) + [int(x.shape[axis]) - chunk * (parts - 1)]
    return tuple(torch.split(x, ints(sizes), axis))


@op("Slice", host=(1, 2, 3, 4))
def _slice(n: Any, x: torch.Tensor, *rest: Any) -> torch.Tensor:
    xs = (x,) + rest
    if "starts" in n.attrs:  # before opset 10
        starts, ends, axes, steps = n.attrs["starts"], n.attrs["ends"], n.attrs.get("axes"), None
    else:
        starts, ends, axes, steps = (host(n, xs, i) for i in (1, 2, 3, 4))
    starts, ends = ints(starts), ints(ends)
    axes = ints(axes) if axes else list(range(len(starts)))
    steps = ints(steps) if steps else [1] * len(starts)
    index: List[Any] = [slice(None)] * x.dim()
    reversed_dims: List[Tuple[int, List[int]]] = []
    for start, end, axis, step in zip(starts, ends, axes, steps):
        axis = axis_of(axis, x.dim())
        dim = int(x.shape[axis])
        start = start + dim if start < 0 else start
        end = end + dim if end < 0 else end
        if step > 0:
            index[axis] = slice(min(max(start, 0), dim), min(max(end, 0), dim), step)
        else:
            start, end = min(max(start, 0), dim - 1), min(max(end, -1), dim - 1)
            reversed_dims.append((axis, list(range(start, end, step))))
    y = x[tuple(index)]
    for axis, picks in reversed_dims:
        y = y.index_select(axis, torch.tensor(picks, dtype=torch.long, device=x.device))
    return y


def _positive(indices: torch.Tensor, dim: int) -> torch.Tensor:
    indices = indices.long()
    return torch.where(indices < 0, indices + dim, indices)


@op("Gather")
def _gather(n: Any, x: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    axis = axis_of(n.attrs.get("axis", 0), x.dim())
    picked = x.index_select(axis, _positive(indices, x.shape[axis]).reshape(-1))
    return picked.reshape(tuple(x.shape[:axis]) + tuple(indices.shape) + tuple(x.shape[axis + 1:]))


@op("GatherElements")
def _gather_elements(n: Any, x: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    axis = axis_of(n.attrs.get("axis", 0), x.dim())
    return torch.gather(x, axis, _positive(indices, x.shape[axis]))


def _nd_index(x: torch.Tensor, indices: torch.Tensor) -> Tuple[torch.Tensor, ...]:
    k = indices.shape[-1]
    return tuple(_positive(indices[..., i], x.shape[i]) for i in range(k))


@op("GatherND", check=lambda a, outs: "GatherND (batch_dims > 0)" if a.get("batch_dims", 0) else None)
def _gather_nd(n: Any, x: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    return x[_nd_index(x, indices)]


@op("ScatterND",
    check=lambda a, outs: "ScatterND (reduction)" if a.get("reduction", "none") != "none" else None)
def _scatter_nd(n: Any, x: torch.Tensor, indices: torch.Tensor, updates: torch.Tensor) -> torch.Tensor:
    y = x.clone()
    y[_nd_index(x, indices)] = updates
    return y


@op("Shape")
def _shape(n: Any, x: Any) -> torch.Tensor:
    dims = list(x.shape)[n.attrs.get("start", 0):n.attrs.get("end", None)]
    return torch.tensor(dims, dtype=torch.long, device=x.device)


@op("Size")
def _size(n: Any, x: torch.Tensor) -> torch.Tensor:
    return torch.tensor(x.numel(), dtype=torch.long, device=x.device)


@op("Cast", check=lambda a, outs: "Cast (to a string)" if a.get("to") == 8 else None)
def _cast(n: Any, x: torch.Tensor) -> torch.Tensor:
    return x.to(torch_dtype(n.attrs["to"]))


@op("CastLike")
def _cast_like(n: Any, x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return x.to(like.dtype)


@op("Dropout")
def _dropout(n: Any, x: torch.Tensor, *rest: Any) -> Any:
    if n.n_out > 1:
        return x, torch.ones_like(x, dtype=torch.bool)
    return x


def _constant_tensors(a: Dict[str, Any]) -> Dict[str, Any]:
    import numpy as np

    if "value" in a:
        return {"value": a["value"]}
    for key, dtype in (("value_float", np.float32), ("value_floats", np.float32),
                       ("value_int", np.int64), ("value_ints", np.int64)):
        if key in a:
            return {"value": np.array(a[key], dtype=dtype)}
    if "value_string" in a or "value_strings" in a:
        return {"value": np.array(a.get("value_string", a.get("value_strings")), dtype=object)}
    raise ValueError(f"Constant with attributes {sorted(a)}")


@op("Constant", tensors=_constant_tensors,
    check=lambda a, outs: "Constant (sparse_value)" if "sparse_value" in a else None)
def _constant(n: Any) -> Any:
    return n.value


def _fill_value(a: Dict[str, Any]) -> Dict[str, Any]:
    import numpy as np

    return {"value": a.get("value", np.zeros(1, dtype=np.float32))}


@op("ConstantOfShape", host=(0,), tensors=_fill_value)
def _constant_of_shape(n: Any, shape: torch.Tensor) -> torch.Tensor:
    dims = ints(host(n, (shape,), 0))
    return n.value.reshape([1] * len(dims)).expand(dims).contiguous()


@op("Expand", host=(1,))
def _expand(n: Any, x: torch.Tensor, *rest: Any) -> torch.Tensor:
    shape = ints(host(n, (x,) + rest, 1))
    return x.expand(torch.broadcast_shapes(tuple(x.shape), tuple(shape)))


@op("Tile", host=(1,))
def _tile(n: Any, x: torch.Tensor, *rest: Any) -> torch.Tensor:
    return x.repeat(ints(host(n, (x,) + rest, 1)))


@op("Range", host=(0, 1, 2))
def _range(n: Any, start: torch.Tensor, limit: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
    xs = (start, limit, delta)
    values = [host(n, xs, i) for i in range(3)]
    return torch.arange(*values, dtype=start.dtype, device=start.device)


@op("NonZero")
def _nonzero(n: Any, x: torch.Tensor) -> torch.Tensor:
    return torch.nonzero(x).t().contiguous()


@op("DepthToSpace", "SpaceToDepth")
def _depth_space(n: Any, x: torch.Tensor) -> torch.Tensor:
    b = n.attrs["blocksize"]
    N, C, H, W = (int(d) for d in x.shape)
    if n.op_type == "SpaceToDepth":
        y = x.reshape(N, C, H // b, b, W // b, b).permute(0, 3, 5, 1, 2, 4)
        return y.reshape(N, C * b * b, H // b, W // b)
    if n.attrs.get("mode", "DCR") == "CRD":
        y = x.reshape(N, C // (b * b), b, b, H, W).permute(0, 1, 4, 2, 5, 3)
    else:
        y = x.reshape(N, b, b, C // (b * b), H, W).permute(0, 3, 4, 1, 5, 2)
    return y.reshape(N, C // (b * b), H * b, W * b)


@op("Pad", host=(1, 2, 3), check=lambda a, outs: None if a.get("mode", "constant") in
    ("constant", "reflect", "edge", "wrap") else f"Pad (mode={a.get('mode')})")
def _pad(n: Any, x: torch.Tensor, *rest: Any) -> torch.Tensor:
    xs = (x,) + rest
    if n.opset < 11:
        pads, value = n.attrs.get("pads", n.attrs.get("paddings")), n.attrs.get("value", 0.0)
        axes: Optional[List[int]] = None
    else:
        pads, value, axes = host(n, xs, 1), host(n, xs, 2), host(n, xs, 3)
    pads = ints(pads)
    axes = [axis_of(a, x.dim()) for a in ints(axes)] if axes else list(range(x.dim()))
    pairs = [(0, 0)] * x.dim()
    for k, axis in enumerate(axes):
        pairs[axis] = (pads[k], pads[k + len(axes)])
    if not any(b or e for b, e in pairs):
        return x
    mode = n.attrs.get("mode", "constant")
    if mode == "constant":
        if isinstance(value, list):
            value = value[0] if value else 0
        value = 0 if value is None else value
        if not x.is_floating_point():
            value = int(value)
        else:
            limit = torch.finfo(x.dtype).max  # an fp16 module cannot hold -FLT_MAX: IEEE gives -inf
            value = value if abs(value) <= limit else math.copysign(math.inf, value)
        return F.pad(x, torch_pads(pairs), value=value)
    for axis, (begin, end) in enumerate(pairs):
        if begin or end:
            x = x.index_select(axis, _pad_indices(int(x.shape[axis]), begin, end, mode, x.device))
    return x


def _pad_indices(dim: int, begin: int, end: int, mode: str, device: Any) -> torch.Tensor:
    """Which input index each padded position reads, for reflect, edge and wrap padding."""
    positions = torch.arange(-begin, dim + end, device=device)
    if mode == "edge":
        return positions.clamp(0, dim - 1)
    if mode == "wrap":
        return positions.remainder(dim)
    period = 2 * (dim - 1)
    folded = positions.abs().remainder(period) if period else torch.zeros_like(positions)
    return torch.where(folded >= dim, period - folded, folded)
