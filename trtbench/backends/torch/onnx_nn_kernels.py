"""ONNX network ops as torch functions: convolution, pooling, normalisation, Gemm, resizing.

Same contract as `onnx_kernels`: ``fn(node, *inputs)``. Where torch's own layer computes exactly
what ONNX asks (symmetric pads, the common resize modes) the kernel calls it, so a converted model
runs the kernels a PyTorch model would; the other cases (asymmetric pads, ceil-mode windows that
overhang, dilated average pooling, unusual coordinate modes) are built from pads, convolutions and
index selections that follow the ONNX definition as onnxruntime computes it.
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

from trtbench.backends.torch.onnx_kernels import (
    Kernel,
    attr_or_input,
    axis_of,
    host,
    registrar,
    torch_pads,
)

KERNELS: Dict[str, Kernel] = {}
op = registrar(KERNELS)

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
_MAXPOOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVGPOOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def _pads(a: Dict[str, Any], spatial: Sequence[int], kernel: Sequence[int], strides: Sequence[int],
          dilations: Sequence[int]) -> List[Tuple[int, int]]:
    """(begin, end) pads per spatial dimension, from `pads` or `auto_pad`."""
    nd = len(kernel)
    auto = a.get("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pairs = []
        for size, k, s, d in zip(spatial, kernel, strides, dilations):
            out = -(-int(size) // s)
            total = max(0, (out - 1) * s + (k - 1) * d + 1 - int(size))
            small = total // 2
            pairs.append((small, total - small) if auto == "SAME_UPPER" else (total - small, small))
        return pairs
    if auto == "VALID":
        return [(0, 0)] * nd
    p = a.get("pads", [0] * (2 * nd))
    return list(zip(p[:nd], p[nd:]))


def _geometry(a: Dict[str, Any], nd: int) -> Tuple[List[int], List[int]]:
    return list(a.get("strides", [1] * nd)), list(a.get("dilations", [1] * nd))


def _channel_view(t: torch.Tensor, rank: int) -> torch.Tensor:
    """A per-channel vector shaped to broadcast over (N, C, ...)."""
    return t.reshape((1, -1) + (1,) * (rank - 2))


@op("Conv")
def _conv(n: Any, x: torch.Tensor, w: torch.Tensor, b: Optional[torch.Tensor] = None) -> torch.Tensor:
    nd = w.dim() - 2
    strides, dilations = _geometry(n.attrs, nd)
    pads = _pads(n.attrs, x.shape[2:], w.shape[2:], strides, dilations)
    padding: Any = [p for p, _ in pads]
    if any(p != q for p, q in pads):
        x, padding = F.pad(x, torch_pads(pads)), 0
    return _CONV[nd](x, w, b, strides, padding, dilations, n.attrs.get("group", 1))


@op("ConvTranspose")
def _conv_transpose(n: Any, x: torch.Tensor, w: torch.Tensor,
                    b: Optional[torch.Tensor] = None) -> torch.Tensor:
    a, nd = n.attrs, w.dim() - 2
    strides, dilations = _geometry(a, nd)
    group = a.get("group", 1)
    out_pad = list(a.get("output_padding", [0] * nd))
    kernel = [int(k) for k in w.shape[2:]]
    full = [s * (int(i) - 1) + o + (k - 1) * d + 1
            for i, s, o, k, d in zip(x.shape[2:], strides, out_pad, kernel, dilations)]
    auto = a.get("auto_pad", "NOTSET")
    if "output_shape" in a or auto in ("SAME_UPPER", "SAME_LOWER"):
        if "output_shape" in a:
            target = list(a["output_shape"][-nd:])
        else:
            target = [int(i) * s for i, s in zip(x.shape[2:], strides)]
        totals = [f - t for f, t in zip(full, target)]
        upper = auto == "SAME_UPPER"
        pads = [(t // 2, t - t // 2) if upper else (t - t // 2, t // 2) for t in totals]
    elif auto == "VALID":
        pads = [(0, 0)] * nd
    else:
        p = a.get("pads", [0] * (2 * nd))
        pads = list(zip(p[:nd], p[nd:]))
    fits = all(o < max(s, d) for o, s, d in zip(out_pad, strides, dilations))
    if fits and all(p == q >= 0 for p, q in pads):
        return _CONV_T[nd](x, w, b, strides, [p for p, _ in pads], out_pad, group, dilations)
    y = _CONV_T[nd](x, w, None, strides, 0, 0, group, dilations)
    y = F.pad(y, torch_pads([(-p, o - q) for (p, q), o in zip(pads, out_pad)]))
    return y if b is None else y + _channel_view(b, y.dim())


def _pool_pads(x: torch.Tensor, pads: List[Tuple[int, int]], kernel: Sequence[int], strides: Sequence[int],
               dilations: Sequence[int], ceil: bool) -> List[Tuple[int, int]]:
    """Pads that make a floor-mode pool over the padded input give onnxruntime's output size.

    The end pad grows by the windows ceil mode adds (a window may not start in the end pad)."""
    result = []
    for size, (begin, end), k, s, d in zip(x.shape[2:], pads, kernel, strides, dilations):
        span = (k - 1) * d + 1
        room = int(size) + begin + end - span
        out = (-(-room // s) if ceil else room // s) + 1
        if ceil and (out - 1) * s >= int(size) + begin:
            out -= 1
        result.append((begin, (out - 1) * s + span - int(size) - begin))
    return result


def _torch_can_pad(pads: List[Tuple[int, int]], kernel: Sequence[int]) -> bool:
    return all(p == q and 2 * p <= k for (p, q), k in zip(pads, kernel))


def _pool_geometry(n: Any, x: torch.Tensor) -> Tuple[List[int], int, List[int], List[int], List[Tuple[int, int]], bool]:
    """A pooling node's kernel, rank, strides, dilations, (begin, end) pads and ceil mode."""
    kernel = list(n.attrs["kernel_shape"])
    strides, dilations = _geometry(n.attrs, len(kernel))
    pads = _pads(n.attrs, x.shape[2:], kernel, strides, dilations)
    return kernel, len(kernel), strides, dilations, pads, bool(n.attrs.get("ceil_mode", 0))


@op("MaxPool", check=lambda a, outs: "MaxPool (Indices output)" if len(outs) > 1 and outs[1] else None)
def _max_pool(n: Any, x: torch.Tensor) -> torch.Tensor:
    kernel, nd, strides, dilations, pads, ceil = _pool_geometry(n, x)
    if _torch_can_pad(pads, kernel):
        return _MAXPOOL[nd](x, kernel, strides, [p for p, _ in pads], dilations, ceil)
    low = -math.inf if x.is_floating_point() else torch.iinfo(x.dtype).min
    padded = F.pad(x, torch_pads(_pool_pads(x, pads, kernel, strides, dilations, ceil)), value=low)
    return _MAXPOOL[nd](padded, kernel, strides, 0, dilations)


@op("AveragePool")
def _average_pool(n: Any, x: torch.Tensor) -> torch.Tensor:
    kernel, nd, strides, dilations, pads, ceil = _pool_geometry(n, x)
    include = bool(n.attrs.get("count_include_pad", 0))
    if _torch_can_pad(pads, kernel) and all(d == 1 for d in dilations):
        return _AVGPOOL[nd](x, kernel, strides, [p for p, _ in pads], ceil, include)
    # the window sum over the padded input, divided by how many of its cells count
    padded = _pool_pads(x, pads, kernel, strides, dilations, ceil)
    channels = int(x.shape[1])
    ones = torch.ones((channels, 1) + tuple(kernel), dtype=x.dtype, device=x.device)
    total = _CONV[nd](F.pad(x, torch_pads(padded)), ones, None, strides, 0, dilations, channels)
    mask = torch.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype, device=x.device)
    mask = F.pad(mask, torch_pads(pads), value=1.0 if include else 0.0)
    mask = F.pad(mask, torch_pads([(0, q - e) for (_, e), (_, q) in zip(pads, padded)]))
    count = _CONV[nd](mask, ones[:1], None, strides, 0, dilations)
    return total / count


@op("GlobalAveragePool", "GlobalMaxPool")
def _global_pool(n: Any, x: torch.Tensor) -> torch.Tensor:
    dims = list(range(2, x.dim()))
    if n.op_type == "GlobalMaxPool":
        return torch.amax(x, dims, keepdim=True)
    return torch.mean(x, dims, keepdim=True)


@op("BatchNormalization")
def _batch_norm(n: Any, x: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor, mean: torch.Tensor,
                var: torch.Tensor, *rest: Any) -> Any:
    eps = n.attrs.get("epsilon", 1e-5)
    if scale.dim() == 1:
        y = F.batch_norm(x, mean, var, scale, bias, False, 0.0, eps)
    else:  # opsets before 9 with spatial=0: statistics per (C, H, W) element
        def view(t: torch.Tensor) -> torch.Tensor:
            return t.reshape((1,) + tuple(t.shape))
        y = (x - view(mean)) / torch.sqrt(view(var) + eps) * view(scale) + view(bias)
    if n.n_out > 1:
        return (y, mean, var, mean, var)[:n.n_out]
    return y


@op("InstanceNormalization")
def _instance_norm(n: Any, x: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    return F.instance_norm(x, weight=scale, bias=bias, eps=n.attrs.get("epsilon", 1e-5))


@op("LayerNormalization")
def _layer_norm(n: Any, x: torch.Tensor, scale: torch.Tensor, bias: Optional[torch.Tensor] = None) -> Any:
    axis = axis_of(n.attrs.get("axis", -1), x.dim())
    eps = n.attrs.get("epsilon", 1e-5)
    shape = tuple(x.shape[axis:])
    if n.n_out == 1 and tuple(scale.shape) == shape and (bias is None or tuple(bias.shape) == shape):
        return F.layer_norm(x, shape, scale, bias, eps)
    dims = list(range(axis, x.dim()))
    mean = x.mean(dims, keepdim=True)
    inv = torch.rsqrt(((x - mean) ** 2).mean(dims, keepdim=True) + eps)
    y = (x - mean) * inv * scale
    y = y if bias is None else y + bias
    return (y, mean, inv)[:n.n_out] if n.n_out > 1 else y


@op("GroupNormalization")
def _group_norm(n: Any, x: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    groups, channels = n.attrs["num_groups"], int(x.shape[1])
    if scale.numel() != channels:  # opset 18: one scale and bias per group
        scale = scale.repeat_interleave(channels // groups)
        bias = bias.repeat_interleave(channels // groups)
    return F.group_norm(x, groups, scale, bias, n.attrs.get("epsilon", 1e-5))


@op("LpNormalization")
def _lp_norm(n: Any, x: torch.Tensor) -> torch.Tensor:
    axis = n.attrs.get("axis", -1)
    return x / torch.linalg.vector_norm(x, n.attrs.get("p", 2), dim=axis, keepdim=True)


@op("LRN")
def _lrn(n: Any, x: torch.Tensor) -> torch.Tensor:
    a = n.attrs
    size = a["size"]
    # ONNX sums over channels [c - floor((size-1)/2), c + ceil((size-1)/2)]; torch's
    # local_response_norm centres even sizes the other way, so the window is built here
    squares = (x * x).reshape(int(x.shape[0]), 1, int(x.shape[1]), -1)
    squares = F.pad(squares, (0, 0, (size - 1) // 2, size // 2))
    window = F.avg_pool2d(squares, (size, 1), stride=1).reshape(x.shape)
    return x / (a.get("bias", 1.0) + a.get("alpha", 1e-4) * window) ** a.get("beta", 0.75)


@op("Gemm")
def _gemm(n: Any, a: torch.Tensor, b: torch.Tensor, c: Optional[torch.Tensor] = None) -> torch.Tensor:
    at = n.attrs
    alpha, beta = at.get("alpha", 1.0), at.get("beta", 1.0)
    if at.get("transA", 0):
        a = a.transpose(0, 1)
    if at.get("transB", 0) and alpha == 1.0 and beta == 1.0 and (c is None or c.dim() <= 1):
        return F.linear(a, b, None if c is None else c.expand(b.shape[0]))
    if at.get("transB", 0):
        b = b.transpose(0, 1)
    y = torch.matmul(a, b)
    y = y if alpha == 1.0 else y * alpha
    if c is None or beta == 0.0:
        return y
    return y + (c if beta == 1.0 else c * beta)


@op("ImageScaler", tensors=lambda a: {"bias": _floats(a.get("bias", []))})
def _image_scaler(n: Any, x: torch.Tensor) -> torch.Tensor:
    y = x * n.attrs.get("scale", 1.0)
    return y + _channel_view(n.bias, x.dim()) if n.bias.numel() else y


def _floats(values: Sequence[float]) -> Any:
    import numpy as np

    return np.array(values, dtype=np.float32)


# ---- resizing --------------------------------------------------------------------------------

def _resize_check(a: Dict[str, Any], outs: Sequence[str]) -> Optional[str]:
    mode = a.get("mode", "nearest")
    if mode not in ("nearest", "linear", "bilinear"):
        return f"Resize (mode={mode})"
    if a.get("coordinate_transformation_mode") == "tf_crop_and_resize":
        return "Resize (coordinate_transformation_mode=tf_crop_and_resize)"
    if a.get("antialias", 0):
        return "Resize (antialias=1)"
    return None


@op("Upsample", host=(1,), check=_resize_check)
def _upsample(n: Any, x: torch.Tensor, *rest: Any) -> torch.Tensor:
    scales = [float(s) for s in attr_or_input(n, (x,) + rest, 1, "scales")]
    sizes = [_scaled(int(d), s) for d, s in zip(x.shape, scales)]
    return _resample(x, sizes, scales, n.attrs.get("mode", "nearest"), "asymmetric", "simple")


@op("Resize", host=(1, 2, 3), check=_resize_check)
def _resize(n: Any, x: torch.Tensor, *rest: Any) -> torch.Tensor:
    xs, a = (x,) + rest, n.attrs
    if n.opset < 11:
        scales, sizes, coord, nearest = host(n, xs, 1), None, "asymmetric", "simple"
    else:
        scales, sizes = host(n, xs, 2) or None, host(n, xs, 3) or None
        coord = a.get("coordinate_transformation_mode", "half_pixel")
        nearest = a.get("nearest_mode", "round_prefer_floor")
    rank = x.dim()
    axes = [axis_of(v, rank) for v in a.get("axes", range(rank))]
    full_scales, full_sizes = [1.0] * rank, [int(d) for d in x.shape]
    if sizes:
        policy = a.get("keep_aspect_ratio_policy", "stretch")
        ratios = [int(s) / int(x.shape[i]) for s, i in zip(sizes, axes)]
        if policy != "stretch":
            ratio = min(ratios) if policy == "not_larger" else max(ratios)
            ratios = [ratio] * len(axes)
            sizes = [int(math.floor(ratio * int(x.shape[i]) + 0.5)) for i in axes]
        for i, size, ratio in zip(axes, sizes, ratios):
            full_sizes[i], full_scales[i] = int(size), ratio
        given_scales = False
    else:
        for i, scale in zip(axes, scales):
            full_scales[i] = float(scale)
            full_sizes[i] = _scaled(int(x.shape[i]), float(scale))
        given_scales = True
    return _resample(x, full_sizes, full_scales, a.get("mode", "nearest"), coord, nearest, given_scales)


def _scaled(size: int, scale: float) -> int:
    """floor(size * scale) in float32, as onnxruntime computes it (5 * 1.4f is 7, not 6.99...)."""
    import numpy as np

    return int(np.floor(np.float32(size) * np.float32(scale)))


def _resample(x: torch.Tensor, sizes: List[int], scales: List[float], mode: str, coord: str, nearest: str,
              given_scales: bool = True) -> torch.Tensor:
    linear = mode in ("linear", "bilinear")
    identity_coords = ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                       "half_pixel_symmetric")
    axes = [i for i, (size, scale) in enumerate(zip(sizes, scales))
            if not (size == int(x.shape[i]) and scale == 1.0 and coord in identity_coords)]
    if not axes:
        return x
    fast = _torch_interpolate(x, axes, sizes, scales, linear, coord, nearest, given_scales)
    if fast is not None:
        return fast
    for axis in axes:
        x = _resample_axis(x, axis, sizes[axis], scales[axis], linear, coord, nearest)
    return x


def _torch_interpolate(x: torch.Tensor, axes: List[int], sizes: List[int], scales: List[float], linear: bool,
                       coord: str, nearest: str, given_scales: bool) -> Optional[torch.Tensor]:
    """F.interpolate where it computes exactly what ONNX asks; None where it does not."""
    nd = x.dim() - 2
    if not 1 <= nd <= 3 or min(axes) < 2:
        return None
    if given_scales and any(math.floor(int(x.shape[i]) * scales[i]) != sizes[i] for i in axes):
        return None  # torch would size the output in float64: one element fewer than onnxruntime
    size_arg = None if given_scales else sizes[2:]
    scale_arg = scales[2:] if given_scales else None
    if linear and (coord in ("half_pixel", "align_corners")
                   or (coord == "pytorch_half_pixel" and min(sizes[2:]) > 1)):
        mode = ("linear", "bilinear", "trilinear")[nd - 1]
        return F.interpolate(x, size_arg, scale_arg, mode, align_corners=coord == "align_corners",
                             recompute_scale_factor=False if given_scales else None)
    simple_floor = nearest == "floor" or (nearest == "simple" and min(scales) >= 1.0)
    if not linear and coord == "asymmetric" and simple_floor and all(float(s).is_integer() for s in scales):
        return F.interpolate(x, sizes[2:], None, "nearest")
    return None


def _source_coords(out: int, size: int, scale: float, coord: str) -> torch.Tensor:
    """Where each output position reads in the input, per ONNX's coordinate_transformation_mode."""
    x = torch.arange(out, dtype=torch.float64)
    if coord == "align_corners":
        return x * ((size - 1) / (out - 1)) if out > 1 else torch.zeros_like(x)
    if coord == "asymmetric":
        return x / scale
    if coord == "tf_half_pixel_for_nn":
        return (x + 0.5) / scale
    if coord == "pytorch_half_pixel" and out <= 1:
        return torch.zeros_like(x)
    if coord == "half_pixel_symmetric":
        adjustment = out / (scale * size)
        return size / 2 * (1 - adjustment) + (x + 0.5) / scale - 0.5
    return (x + 0.5) / scale - 0.5


def _resample_axis(x: torch.Tensor, axis: int, out: int, scale: float, linear: bool, coord: str,
                   nearest: str) -> torch.Tensor:
    size = int(x.shape[axis])
    src = _source_coords(out, size, scale, coord)
    if not linear:
        if nearest == "round_prefer_ceil":
            picks = torch.floor(src + 0.5)
        elif nearest == "floor":
            picks = torch.floor(src)
        elif nearest == "ceil" or (nearest == "simple" and scale < 1.0):
            picks = torch.ceil(src)
        elif nearest == "simple":
            picks = torch.trunc(src)
        else:  # round_prefer_floor
            picks = torch.ceil(src - 0.5)
        return x.index_select(axis, picks.clamp(0, size - 1).long().to(x.device))
    src = src.clamp(0, size - 1)
    low = src.floor().long()
    high = (low + 1).clamp(max=size - 1)
    shape = [1] * x.dim()
    shape[axis] = out
    weight = (src - low).to(device=x.device, dtype=x.dtype).reshape(shape)
    below = x.index_select(axis, low.to(x.device))
    above = x.index_select(axis, high.to(x.device))
    return below + (above - below) * weight
