"""The torch backend."""
from __future__ import annotations

from trtbench.backends.torch.backend import BACKEND

__all__ = ["BACKEND"]
