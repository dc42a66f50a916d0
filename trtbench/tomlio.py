"""Reading TOML files (tomllib on 3.11+, tomli before) with one-line errors."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict

if sys.version_info >= (3, 11):
    import tomllib as _toml  # novermin (guarded by the version check)
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as _toml

from trtbench.errors import TrtbenchError


def load_toml(path: Path) -> Dict[str, Any]:
    """Parse a TOML file; a missing or malformed file is a TrtbenchError naming it."""
    try:
        with open(path, "rb") as handle:
            return _toml.load(handle)
    except FileNotFoundError:
        raise TrtbenchError(f"{path} does not exist") from None
    except _toml.TOMLDecodeError as exc:
        raise TrtbenchError(f"{path} is not valid TOML: {exc}") from None
