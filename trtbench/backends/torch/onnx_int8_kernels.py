"""The integer and quantized-linear ONNX ops, emulated in floating point.

Eager torch has no int8 convolution on every device, so these run as the arithmetic the ONNX
operators define: integer ops (ConvInteger, MatMulInteger) in float64, whose 53-bit mantissa keeps
every int32 sum exact; QLinearConv/QLinearMatMul as dequantize → float32 op → requantize (round
half to even, saturate), as onnxruntime's reference kernels do. The results equal onnxruntime's up
to rounding at a quantization step; the timings are those of the emulation, not of int8 kernels
(compare the int8 graph on onnxruntime or TensorRT, which have them).
"""
from __future__ import annotations

from typing import Any, Dict, Optional

import torch

from trtbench.backends.torch.onnx_kernels import Kernel, registrar
from trtbench.backends.torch.onnx_nn_kernels import _conv

KERNELS: Dict[str, Kernel] = {}
op = registrar(KERNELS)


def _along(t: torch.Tensor, like: torch.Tensor, axis: int) -> torch.Tensor:
    """A per-channel vector shaped to broadcast along `axis` of `like`; a scalar as it is."""
    if t.dim() == 1 and t.numel() > 1:
        shape = [1] * like.dim()
        shape[axis] = -1
        return t.reshape(shape)
    return t


def _centred(x: torch.Tensor, zero: Optional[torch.Tensor], dtype: torch.dtype, axis: int = 1) -> torch.Tensor:
    """`x` minus its zero point, as `dtype`."""
    y = x.to(dtype)
    return y if zero is None else y - _along(zero.to(dtype), y, axis)


def _requantize(y: torch.Tensor, scale: torch.Tensor, zero: Optional[torch.Tensor], axis: int = 1) -> torch.Tensor:
    """round(y / scale) + zero, saturated to the zero point's type (uint8 when none)."""
    q = torch.round(y / _along(scale.float(), y, axis))
    if zero is not None:
        q = q + _along(zero.float(), y, axis)
    info = torch.iinfo(zero.dtype if zero is not None else torch.uint8)
    return q.clamp(info.min, info.max).to(zero.dtype if zero is not None else torch.uint8)


@op("DynamicQuantizeLinear")
def _dynamic_quantize(n: Any, x: torch.Tensor) -> Any:
    """uint8 quantization of `x` with a scale and zero point from its own range (0 included)."""
    x = x.float()
    low = torch.clamp(x.min(), max=0.0)
    high = torch.clamp(x.max(), min=0.0)
    scale = (high - low) / 255.0
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))
    zero = torch.clamp(torch.round(-low / safe), 0, 255)
    q = torch.clamp(torch.round(x / safe) + zero, 0, 255).to(torch.uint8)
    return q, scale, zero.to(torch.uint8)


@op("ConvInteger")
def _conv_integer(n: Any, x: torch.Tensor, w: torch.Tensor, x_zero: Optional[torch.Tensor] = None,
                  w_zero: Optional[torch.Tensor] = None) -> torch.Tensor:
    y = _conv(n, _centred(x, x_zero, torch.float64), _centred(w, w_zero, torch.float64, axis=0))
    return torch.round(y).to(torch.int32)


@op("MatMulInteger")
def _matmul_integer(n: Any, a: torch.Tensor, b: torch.Tensor, a_zero: Optional[torch.Tensor] = None,
                    b_zero: Optional[torch.Tensor] = None) -> torch.Tensor:
    left = _centred(a, a_zero, torch.float64, axis=-2)  # a per-row zero point of A
    right = _centred(b, b_zero, torch.float64, axis=-1)  # a per-column zero point of B
    return torch.round(torch.matmul(left, right)).to(torch.int32)


@op("QLinearConv")
def _qlinear_conv(n: Any, x: torch.Tensor, x_scale: torch.Tensor, x_zero: torch.Tensor, w: torch.Tensor,
                  w_scale: torch.Tensor, w_zero: torch.Tensor, y_scale: torch.Tensor, y_zero: torch.Tensor,
                  bias: Optional[torch.Tensor] = None) -> torch.Tensor:
    xf = _centred(x, x_zero, torch.float32) * x_scale.float()
    wf = _centred(w, w_zero, torch.float32, axis=0) * _along(w_scale.float(), w, 0)
    bf = None
    if bias is not None:  # int32 in units of x_scale × w_scale
        bf = bias.float() * (x_scale.float() * w_scale.float()).reshape(-1)
    return _requantize(_conv(n, xf, wf, bf), y_scale, y_zero)


@op("QLinearMatMul")
def _qlinear_matmul(n: Any, a: torch.Tensor, a_scale: torch.Tensor, a_zero: torch.Tensor, b: torch.Tensor,
                    b_scale: torch.Tensor, b_zero: torch.Tensor, y_scale: torch.Tensor,
                    y_zero: torch.Tensor) -> torch.Tensor:
    af = _centred(a, a_zero, torch.float32) * a_scale.float()
    bf = _centred(b, b_zero, torch.float32, axis=-1) * _along(b_scale.float(), b, -1)
    return _requantize(torch.matmul(af, bf), y_scale, y_zero, axis=-1)
