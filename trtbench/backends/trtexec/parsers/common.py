"""What every trtexec parser shares: tolerant numbers, reading a file with a one-line error, and
the checks that turn a wrong type in an export into a `TrtbenchError` naming the file."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Optional, Union

from trtbench.errors import TrtbenchError
from trtbench.jsonio import read_file_text

Source = Union[str, Path]

# One way to match each number (``\d+\.?\d*`` had two ways to split a run of digits, so a long
# run cost quadratic backtracking: a corrupt line of 100k digits took minutes).
NUMBER = r"[-+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+|nan|inf|-nan|NaN|Inf)"


def tolerant_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def tolerant_int(text: str) -> Optional[int]:
    """A whole number from a log (``1e3``, ``inf`` and 4300+ digits give None, not an exception)."""
    try:
        return int(text)
    except ValueError:
        return None


def read_text(source: Source, what: str) -> str:
    """The text of a trtexec file: a regular file only (a FIFO or directory is refused, not
    opened), within the size limit; bytes that are not UTF-8 become U+FFFD, not an error."""
    return read_file_text(Path(source), what, errors="replace")


def load_json(text: str) -> Any:
    """`json.loads`, with nesting too deep for Python reported as the ValueError of bad JSON."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("arrays or objects nest too deep") from None


def looks_binary(text: str) -> bool:
    """Whether decoded text came from a binary file (NULs, or many undecodable bytes)."""
    head = text[:65536]
    return "\x00" in head or head.count("\ufffd") > max(8, len(head) // 100)


def binary_note(text: str) -> str:
    return " (it holds binary data, not text)" if looks_binary(text) else ""


def kind_of(value: Any) -> str:
    """How an error names a JSON value's type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int) and abs(value) > 10 ** 30:
        return "a number of 30+ digits"
    if isinstance(value, (int, float)):
        return f"the number {value!r}" if _finite(value) else f"{value!r}"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    return "a list" if isinstance(value, list) else "an object" if isinstance(value, dict) else type(value).__name__


def _finite(value: Any) -> bool:
    return isinstance(value, int) or math.isfinite(value)  # math.isfinite overflows on a huge int


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def number(value: Any, where: str, null: float = math.nan) -> float:
    """A JSON number (null → `null`, NaN by default: trtbench writes NaN as null); anything
    else is a `TrtbenchError` saying `where` (file and field) and what was expected."""
    if value is None:
        return null
    if not is_number(value):
        raise TrtbenchError(f"{where} is {kind_of(value)}; expected a number")
    try:
        return float(value)
    except OverflowError:  # an int beyond float's range
        raise TrtbenchError(f"{where} is a number beyond range; expected a time in ms") from None


def whole(value: Any, where: str, limit: int = 10 ** 12) -> int:
    """A JSON whole number from 0 to `limit` (2.0 counts as 2)."""
    if is_number(value) and _finite(value) and value == int(value) and 0 <= value <= limit:
        return int(value)
    raise TrtbenchError(f"{where} is {kind_of(value)}; expected a whole number from 0 to {limit:,}")


def text(value: Any, where: str) -> str:
    """A JSON string (a number is taken as its text); a list, an object or null is an error."""
    if isinstance(value, str):
        return value
    if is_number(value):
        return str(value)
    raise TrtbenchError(f"{where} is {kind_of(value)}; expected a string")
