"""The tensorrt backend."""
from __future__ import annotations

from trtbench.backends.tensorrt.session import BACKEND

__all__ = ["BACKEND"]
