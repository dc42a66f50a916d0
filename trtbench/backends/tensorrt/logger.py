"""A TensorRT logger that prints nothing and keeps the last few errors and warnings, so that a
failed parse, build or engine load can say TensorRT's own reason in its one-line error.

Shared by the build driver (`trtbench.backends.tensorrt.build`) and the runner
(`trtbench.backends.tensorrt.session`). The logger must outlive every TensorRT object created
with it: keep a reference beside the builder or runtime.
"""
from __future__ import annotations

from collections import deque
from typing import Any, Deque, List

KEEP = 5  # messages of each kind kept for the report


def keeping_logger(trt: Any) -> Any:
    """An ``ILogger`` (subclass) instance with ``errors`` and ``warnings`` (the last few messages)
    and ``reason()`` (what to put in an error message)."""

    # The severities as trt.Logger.X: TensorRT 8.0 nests the Severity enum (exported values
    # included) in Logger, 8.2+ in ILogger, which Logger inherits; trt.ILogger.ERROR is not on 8.0.
    error_levels = (trt.Logger.ERROR, trt.Logger.INTERNAL_ERROR)
    warning_level = trt.Logger.WARNING

    class _KeepingLogger(trt.ILogger):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            trt.ILogger.__init__(self)  # pybind11 dispatches to log() only after the base __init__
            self._errors: Deque[str] = deque(maxlen=KEEP)
            self._warnings: Deque[str] = deque(maxlen=KEEP)

        def log(self, severity: Any, msg: str) -> None:
            # Kept trivial: TensorRT calls it from its own threads, for every message.
            if severity in error_levels:
                self._errors.append(" ".join(str(msg).split()))  # one line: it ends up in one
            elif severity == warning_level:
                self._warnings.append(" ".join(str(msg).split()))

        @property
        def errors(self) -> List[str]:
            return list(self._errors)

        @property
        def warnings(self) -> List[str]:
            return list(self._warnings)

        def reason(self, last: int = 3) -> str:
            """The last `last` errors joined (the last warning when nothing was logged as an error)."""
            if self._errors:
                return " | ".join(list(self._errors)[-last:])
            if self._warnings:
                return f"no error logged; last warning: {self._warnings[-1]}"
            return "no error logged"

    return _KeepingLogger()
