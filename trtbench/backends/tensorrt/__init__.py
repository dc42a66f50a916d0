"""The tensorrt backend."""
from __future__ import annotations

from trtbench.backends.tensorrt.backend import BACKEND

__all__ = ["BACKEND"]
