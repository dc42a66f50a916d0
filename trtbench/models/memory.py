"""The memory a model and a batch need, against what the host or the GPU has, checked before any work.

A lower bound, so that no run that would fit is refused: the weights (from the graph's count, or
a spec's parameters) plus, per item of the batch, the bytes of every input or, once the graph is
counted, half the activations of the node that moves most (a node's inputs and outputs are live
together; half, because a node working in place reads and writes one buffer). A batch whose
lower bound is more than the memory available cannot run (on the host it would swap and be
killed after minutes; on a GPU it fails deep in the runtime); it is refused in one line that says
which batch fits. Where the run goes decides the figure: the host's available memory for the
CPU and for a Jetson's GPU (it shares the host's memory), the GPU's free memory otherwise.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple

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


def available_for(device: str, root: Path = Path("/")) -> Tuple[Optional[int], str]:
    """The memory a run on `device` (``cpu``, ``cuda``, ``cuda:N``) can have, and where it is
    (for the message); None when it cannot be told."""
    if not device.startswith("cuda"):
        return available_bytes(), "this host"
    from trtbench.device.jetson import is_jetson

    if is_jetson(root):
        return available_bytes(root / "proc" / "meminfo"), "this Jetson (its GPU shares the host's memory)"
    from trtbench.device.gpu_memory import free_bytes

    _, _, tail = device.partition(":")
    index = int(tail) if tail.isdigit() else 0
    return free_bytes(index), f"GPU {index}"


def counted_item_bytes(inputs: Sequence[ModelInput], cost: Optional[Dict[str, Any]]) -> float:
    """Bytes per item that must be live at once: the inputs, or half the activations of the node
    that moves most (`graph_cost`), whichever is more."""
    largest = (cost or {}).get("largest_node_bytes_per_item")
    counted = largest / 2 if isinstance(largest, (int, float)) and largest > 0 else 0.0
    return max(float(item_bytes(inputs)), counted)


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
                      available: Optional[int] = None, fix: str = "--batch", where: str = "this host",
                      per_item: Optional[float] = None) -> None:
    """Refuse, before anything runs, a batch whose inputs (or `per_item` bytes, when the graph
    was counted) and weights alone exceed the memory available (`available`, default the host's)
    `where`; the line says the largest batch that fits."""
    free = available if available is not None else available_bytes()
    if per_item is None:
        per_item = item_bytes(inputs)
    if free is None or per_item <= 0:
        return
    for batch in sorted(set(int(b) for b in batches), reverse=True):
        need = weight_bytes + batch * per_item
        if need > free:
            fits = int((free - weight_bytes) // per_item)
            raise TrtbenchError(
                f"batch {batch:,} of {name} needs at least {_size(need)} ({_size(per_item)} per item"
                + (f", {_size(weight_bytes)} of weights" if weight_bytes else "")
                + f"), and {where} has {_size(free)} available",
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
