"""The memory a model and a batch need, against what this host has, checked before any work.

A lower bound, so that no run that would fit is refused: the weights (from the graph's count, or
a spec's parameters) plus, per item of the batch, the bytes of every input. A batch whose lower
bound is more than the host's available memory cannot run (it would allocate, swap, and be
killed, after minutes); it is refused in one line that says which batch fits.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Optional, Sequence

from trtbench.errors import TrtbenchError
from trtbench.models.inputs import ModelInput



def _itemsize(dtype: str) -> int:
    """Bytes of one element of an input type (the names of `inputs.ELEMENT_TYPES`)."""
    import numpy as np

    try:
        return int(np.dtype(dtype).itemsize)
    except TypeError:  # bfloat16: not a numpy type
        return 2 if dtype == "bfloat16" else 1


def available_bytes(meminfo: Path = Path("/proc/meminfo")) -> Optional[int]:
    """Memory the host can give without swapping (MemAvailable), or None when unknown."""
    try:
        text = meminfo.read_text()
    except OSError:
        text = ""
    m = re.search(r"MemAvailable:\s*(\d+)\s*kB", text)
    if m:
        return int(m.group(1)) * 1024
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def item_bytes(inputs: Sequence[ModelInput]) -> int:
    """Bytes of one item of the batch over every input (open dimensions count as 1)."""
    total = 0
    for model_input in inputs:
        count = 1
        for d in model_input.item_dims:
            count *= d if isinstance(d, int) and d > 0 else 1
        total += count * _itemsize(model_input.dtype)
    return total


def _size(n: float) -> str:
    for unit, scale in (("TiB", 2 ** 40), ("GiB", 2 ** 30), ("MiB", 2 ** 20)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n / 1024:.0f} KiB"


def check_batches_fit(name: str, inputs: Sequence[ModelInput], weight_bytes: float, batches: Sequence[int],
                      available: Optional[int] = None, fix: str = "--batch") -> None:
    """Refuse, before anything runs, a batch whose inputs and weights alone exceed the memory
    this host has available; the line says the largest batch that fits."""
    free = available if available is not None else available_bytes()
    per_item = item_bytes(inputs)
    if free is None or per_item <= 0:
        return
    for batch in sorted(set(int(b) for b in batches), reverse=True):
        need = weight_bytes + batch * per_item
        if need > free:
            fits = int((free - weight_bytes) // per_item)
            raise TrtbenchError(
                f"batch {batch:,} of {name} needs at least {_size(need)} ({_size(per_item)} of input per item"
                + (f", {_size(weight_bytes)} of weights" if weight_bytes else "")
                + f"), and this host has {_size(free)} available",
                hint=f"use {fix} {fits:,} or less" if fits >= 1 else "the weights alone do not fit here")
        return  # the largest batch fits, so every smaller one does


def check_weights_fit(name: str, weight_bytes: float, available: Optional[int] = None) -> None:
    """Refuse to build a model (a spec's export, say) whose weights alone exceed the available
    memory; building holds them at least twice (the framework's copy and the ONNX file's)."""
    free = available if available is not None else available_bytes()
    if free is not None and 2 * weight_bytes > free:
        raise TrtbenchError(f"{name} has {_size(weight_bytes)} of weights, and exporting it needs about twice "
                            f"that; this host has {_size(free)} available",
                            hint="use fewer or smaller layers (neurons, depth)")
