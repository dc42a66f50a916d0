"""The one exception type for user errors.

A `TrtbenchError` is printed by the CLI as a single line (``trtbench: error: ...``) with exit
status 2 and no traceback. Anything else that escapes is a bug and keeps its traceback under
``--debug``.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence


class TrtbenchError(Exception):
    """A problem the user can fix: bad input, a missing file or package, a wrong option.

    ``hint`` names the fix (a flag, a command, a package to install) and is appended to the line.
    """

    def __init__(self, message: str, hint: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


def missing_package(package: str, extra: str, purpose: str) -> TrtbenchError:
    """The error for an optional dependency that is not installed."""
    return TrtbenchError(
        f"{purpose} needs the '{package}' package, which is not installed",
        hint=f"install it with: pip install 'trtbench[{extra}]'",
    )


class PartlyDone(TrtbenchError):
    """Some of several steps failed (a batch that does not fit, say); `done` holds what the others
    gave, so a caller can still show and save it before reporting the failures."""

    def __init__(self, message: str, done: Sequence[Any], hint: Optional[str] = None) -> None:
        super().__init__(message, hint)
        self.done = list(done)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C after some steps finished: `done` holds them, so a caller writes them to every
    requested output before it stops."""

    def __init__(self, done: Sequence[Any]) -> None:
        super().__init__()
        self.done = list(done)
