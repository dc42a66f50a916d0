"""The onnxruntime backend."""
from __future__ import annotations

from trtbench.backends.onnxruntime.backend import BACKEND

__all__ = ["BACKEND"]
