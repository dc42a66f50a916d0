"""The trtexec backend."""
from __future__ import annotations

from trtbench.backends.trtexec.backend import BACKEND

__all__ = ["BACKEND"]
