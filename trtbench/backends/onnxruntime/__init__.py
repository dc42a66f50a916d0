"""The onnxruntime backend."""
from __future__ import annotations

from trtbench.backends.onnxruntime.session import BACKEND

__all__ = ["BACKEND"]
