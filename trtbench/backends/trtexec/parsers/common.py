"""What every trtexec parser shares: tolerant numbers and reading a file with a one-line error."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Union

from trtbench.errors import TrtbenchError

Source = Union[str, Path]

NUMBER = r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+|nan|inf|-nan|NaN|Inf)"


def tolerant_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def read_text(source: Source, what: str) -> str:
    path = Path(source)
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        raise TrtbenchError(f"{what} {path} does not exist") from None
    except OSError as exc:
        raise TrtbenchError(f"cannot read {what} {path}: {exc.strerror}") from None
