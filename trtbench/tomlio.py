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
from trtbench.jsonio import read_file_text

MAX_TOML_BYTES = 16 * 2 ** 20  # a sweep, spec or target file is a few kB


def load_toml(path: Path) -> Dict[str, Any]:
    """Parse a TOML file; a missing, unreadable (a FIFO, a directory, not UTF-8) or malformed
    file is a TrtbenchError naming it."""
    text = read_file_text(path, limit=MAX_TOML_BYTES)  # TOML is UTF-8 by definition
    try:
        return _toml.loads(text)
    except ValueError as exc:  # TOMLDecodeError, and int() refusing a number of 4300+ digits
        raise TrtbenchError(f"{path} is not valid TOML: {exc}") from None
    except RecursionError:
        raise TrtbenchError(f"{path} is not TOML trtbench reads: its arrays or tables nest too deep") from None
