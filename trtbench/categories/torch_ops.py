"""torch names → categories: aten ops, torch.nn module classes, and CUDA kernel names.

The torch backend charges each CUDA kernel to the op or module that launched it (the profiler's
op → kernel correlation), so `categorize_op` and `categorize_module` are what decide. Kernel
names are only the fallback (`categorize_kernel`): on Hopper cuDNN runs convolutions as generic
``sm90_xmma_gemm`` kernels, which a name rule would file under matrix products.
"""
from __future__ import annotations

from typing import Dict, Tuple

from trtbench.categories import CONV, ELEMENTWISE, FC, OTHER, POOL, REFORMAT, TRANSFER, onnx_ops

ONNX_PREFIX = "onnx:"  # a module that runs one ONNX node (the torch backend's converter): "onnx:Conv"

# aten operator names (without the "aten::" prefix)
OPS: Dict[str, str] = {
    "convolution": CONV, "_convolution": CONV, "conv2d": CONV, "conv1d": CONV, "conv3d": CONV,
    "mkldnn_convolution": CONV, "cudnn_convolution": CONV, "_nnpack_spatial_convolution": CONV,
    "slow_conv2d_forward": CONV, "_slow_conv2d_forward": CONV, "thnn_conv2d": CONV,
    "conv_transpose2d": CONV, "cudnn_convolution_relu": CONV, "cudnn_convolution_add_relu": CONV,
    "max_pool2d": POOL, "max_pool2d_with_indices": POOL, "mkldnn_max_pool2d": POOL,
    "avg_pool2d": POOL, "adaptive_avg_pool2d": POOL, "_adaptive_avg_pool2d": POOL,
    "adaptive_max_pool2d": POOL, "quantized_max_pool2d": POOL,
    "linear": FC, "addmm": FC, "mm": FC, "matmul": FC, "bmm": FC, "baddbmm": FC, "_addmm_activation": FC,
    "mkldnn_linear": FC,
    "relu": ELEMENTWISE, "relu_": ELEMENTWISE, "threshold": ELEMENTWISE, "clamp_min": ELEMENTWISE,
    "clamp_min_": ELEMENTWISE, "softmax": ELEMENTWISE, "_softmax": ELEMENTWISE, "log_softmax": ELEMENTWISE,
    "_log_softmax": ELEMENTWISE, "add": ELEMENTWISE, "add_": ELEMENTWISE, "mul": ELEMENTWISE,
    "mul_": ELEMENTWISE, "sub": ELEMENTWISE, "div": ELEMENTWISE, "sigmoid": ELEMENTWISE,
    "tanh": ELEMENTWISE, "gelu": ELEMENTWISE, "dropout": ELEMENTWISE, "feature_dropout": ELEMENTWISE,
    "batch_norm": ELEMENTWISE, "_batch_norm_impl_index": ELEMENTWISE, "native_batch_norm": ELEMENTWISE,
    "cudnn_batch_norm": ELEMENTWISE, "layer_norm": ELEMENTWISE, "native_layer_norm": ELEMENTWISE,
    "view": REFORMAT, "reshape": REFORMAT, "_reshape_alias": REFORMAT, "flatten": REFORMAT,
    "contiguous": REFORMAT, "copy_": REFORMAT, "to": REFORMAT, "_to_copy": REFORMAT,
    "clone": REFORMAT, "permute": REFORMAT, "transpose": REFORMAT, "t": REFORMAT, "cat": REFORMAT,
    "empty_like": REFORMAT, "as_strided": REFORMAT, "expand": REFORMAT, "unsqueeze": REFORMAT,
    "squeeze": REFORMAT, "resize_": REFORMAT, "empty": REFORMAT, "empty_strided": REFORMAT,
}

# torch.nn module class names (module-level attribution on the CPU and for CUDA ranges)
MODULES: Dict[str, str] = {
    "Conv1d": CONV, "Conv2d": CONV, "Conv3d": CONV, "ConvTranspose2d": CONV,
    "MaxPool2d": POOL, "AvgPool2d": POOL, "AdaptiveAvgPool2d": POOL, "AdaptiveMaxPool2d": POOL,
    "Linear": FC, "LazyLinear": FC,
    "ReLU": ELEMENTWISE, "ReLU6": ELEMENTWISE, "LeakyReLU": ELEMENTWISE, "Sigmoid": ELEMENTWISE,
    "Tanh": ELEMENTWISE, "GELU": ELEMENTWISE, "Softmax": ELEMENTWISE, "LogSoftmax": ELEMENTWISE,
    "Dropout": ELEMENTWISE, "BatchNorm2d": ELEMENTWISE, "BatchNorm1d": ELEMENTWISE, "LayerNorm": ELEMENTWISE,
    "Flatten": REFORMAT, "Unflatten": REFORMAT, "Identity": REFORMAT,
}

# CUDA kernel name fragments, tried in order (fallback only; first match wins)
KERNELS: Tuple[Tuple[str, str], ...] = (
    ("memcpy", TRANSFER), ("memset", REFORMAT),
    ("conv", CONV), ("implicit_convolve", CONV), ("winograd", CONV), ("fft", CONV), ("dgrad", CONV),
    ("wgrad", CONV), ("nchwtonhwc", REFORMAT), ("nhwctonchw", REFORMAT),
    ("pool", POOL),
    ("gemm", FC), ("gemv", FC), ("xmma", FC), ("cutlass", FC), ("matmul", FC), ("splitk", FC),
    ("softmax", ELEMENTWISE), ("elementwise", ELEMENTWISE), ("vectorized", ELEMENTWISE),
    ("relu", ELEMENTWISE), ("threshold", ELEMENTWISE), ("bias", ELEMENTWISE), ("reduce", ELEMENTWISE),
    ("copy", REFORMAT), ("transpose", REFORMAT), ("cat", REFORMAT),
)


def categorize_op(name: str) -> str:
    """The category of an aten op such as ``aten::conv2d`` (``other`` when unknown)."""
    base = name.split("::", 1)[1] if "::" in name else name
    return OPS.get(base, OTHER)


def categorize_module(class_name: str) -> str:
    """The category of a torch.nn module class such as ``Conv2d``, or of a converted ONNX node
    (``onnx:Conv``, by the ONNX table); ``other`` when unknown."""
    if class_name.startswith(ONNX_PREFIX):
        return onnx_ops.categorize(class_name[len(ONNX_PREFIX):])
    return MODULES.get(class_name, OTHER)


def categorize_kernel(name: str) -> str:
    """The category of a CUDA kernel by its name: the fallback when no launching op is known."""
    lowered = name.lower()
    for fragment, category in KERNELS:
        if fragment in lowered:
            return category
    return OTHER


def categorize(name: str) -> str:
    """Any torch name: an aten op (``aten::...``), a module class, else a kernel name."""
    if "::" in name:
        return categorize_op(name)
    if name in MODULES:
        return MODULES[name]
    return categorize_kernel(name)
