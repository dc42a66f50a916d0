"""The torch backend."""
from __future__ import annotations

from trtbench.backends.torch.session import BACKEND

__all__ = ["BACKEND"]
