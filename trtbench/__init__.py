"""trtbench: CNN classification throughput (tiles/ms) and where the time goes, per device."""
from __future__ import annotations

__version__ = "0.1.0"
