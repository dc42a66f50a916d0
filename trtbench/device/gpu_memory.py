"""The memory a desktop or datacenter GPU has free now, for the up-front check that a batch fits.

NVML's figure when ``pynvml`` is there (no CUDA context is made), else ``nvidia-smi``'s; None when
neither answers (the check is then skipped, not failed). A Jetson's GPU shares the host's memory:
its callers use the host's available memory instead (`trtbench.models.memory.available_for`).
"""
from __future__ import annotations

import re
import shutil
import subprocess
from typing import Optional

MIB = 2 ** 20


def parse_smi_free(text: str) -> Optional[int]:
    """Bytes from ``nvidia-smi --query-gpu=memory.free --format=csv,noheader,nounits`` (MiB)."""
    for line in text.splitlines():
        m = re.fullmatch(r"\s*(\d+)\s*(?:MiB)?\s*", line)
        if m:
            return int(m.group(1)) * MIB
    return None


def _smi_free(index: int) -> Optional[int]:
    binary = shutil.which("nvidia-smi")
    if not binary:
        return None
    try:
        proc = subprocess.run([binary, "--query-gpu=memory.free", "--format=csv,noheader,nounits", "-i", str(index)],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return parse_smi_free(proc.stdout) if proc.returncode == 0 else None


def free_bytes(index: int = 0) -> Optional[int]:
    """Free memory of GPU `index` in bytes, or None when it cannot be told."""
    from trtbench.device.nvml import free_memory

    found = free_memory(index)
    return found if found is not None else _smi_free(index)
