"""The 2016 study's Theano profiler classes → categories."""
from __future__ import annotations

from typing import Dict

from trtbench.categories import ALLOC, CONV, ELEMENTWISE, FC, OTHER, POOL, TRANSFER

TABLE: Dict[str, str] = {
    "GpuDnnConv": CONV,
    "GpuDnnPool": POOL,
    "GpuDot22": FC,
    "GpuElemwise": ELEMENTWISE,
    "GpuAlloc": ALLOC,
    "CudaAlloc": ALLOC,
    "GpuFromHost": TRANSFER,
    "HostFromGpu": TRANSFER,
}


def categorize(op_class: str) -> str:
    """The category of a Theano op class such as ``GpuDnnConv`` (``other`` when unknown)."""
    base = op_class.split("{", 1)[0].strip()
    return TABLE.get(base, OTHER)
