"""Cost categories and the mapping of each naming scheme onto them.

One module per naming scheme: `onnx_ops` (ONNX op types, used by onnxruntime), `torch_ops`
(torch ops and CUDA kernel names), `tensorrt_layers` (TensorRT layer types and engine layer
names), `study` (the 2016 study's Theano operation classes). Each exposes
``categorize(...) -> str`` returning one of `CATEGORIES`. Names no rule knows go to ``other``;
callers list those with ``--verbose`` so the tables can grow.
"""
from __future__ import annotations

CONV = "conv"
POOL = "pool"
FC = "fc"
ELEMENTWISE = "elementwise"
REFORMAT = "reformat"
DLA = "dla"
TRANSFER = "transfer"
ALLOC = "alloc"
OTHER = "other"

CATEGORIES = (CONV, POOL, FC, ELEMENTWISE, REFORMAT, DLA, TRANSFER, ALLOC, OTHER)

DESCRIPTIONS = {
    CONV: "convolution",
    POOL: "pooling",
    FC: "fully connected (Gemm, MatMul)",
    ELEMENTWISE: "activations, add, scale, softmax, normalisation",
    REFORMAT: "copy, transpose, reshape, cast, reformat, shuffle, concat",
    DLA: "work on the deep learning accelerator (a DLA subgraph, timed as one block)",
    TRANSFER: "host to device and back (and into and out of the DLA's memory)",
    ALLOC: "device allocation",
    OTHER: "not classified",
}
