"""The TensorRT installed here: the trtexec binary (on PATH, or JetPack's /usr/src/tensorrt/bin)
and the TensorRT release it reports; `TrtVersion`, a release compared numerically (TREx compared
strings, so "8.6.1" < "10.0" was False)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Optional, Tuple

from trtbench.errors import TrtbenchError

JETSON_TRTEXEC = "/usr/src/tensorrt/bin/trtexec"


_DOTTED = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


_BANNER = re.compile(r"TensorRT\s+v(\d{4,6})\b")


_VERSION_LINE = re.compile(r"TensorRT version:\s*([0-9.]+)")


@dataclass(frozen=True, order=True)
class TrtVersion:
    """A TensorRT release; ordered numerically, so ``TrtVersion(8, 6, 1) < TrtVersion(10, 0, 0)``."""

    major: int
    minor: int
    patch: int = 0

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    @property
    def parts(self) -> Tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def at_least(self, major: int, minor: int = 0) -> bool:
        return (self.major, self.minor) >= (major, minor)

    @classmethod
    def from_code(cls, code: int) -> "TrtVersion":
        """The integer library version: 8001 → 8.0.1 (major·1000 + minor·100 + patch up to 9.x),
        101601 → 10.16.1 (major·10000 + minor·100 + patch from 10.0)."""
        if code >= 10000:
            return cls(code // 10000, (code // 100) % 100, code % 100)
        return cls(code // 1000, (code // 100) % 10, code % 100)

    @classmethod
    def parse(cls, text: str) -> "TrtVersion":
        """Read a version from "8.2.1", "10.16", "8001", "v8201", "v101601 [b11]",
        "TensorRT version: 10.16.1" or a whole trtexec banner line."""
        s = str(text).strip()
        m = _VERSION_LINE.search(s)
        if m:
            s = m.group(1)
        m = _BANNER.search(s)
        if m:
            return cls.from_code(int(m.group(1)))
        bare = s[1:] if s[:1] in ("v", "V") else s
        if bare.isdigit() and len(bare) >= 4:
            return cls.from_code(int(bare))
        m = _DOTTED.search(bare)
        if m:
            return cls(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))
        raise TrtbenchError(f"cannot read a TensorRT version from {text!r}",
                            hint="give it as MAJOR.MINOR[.PATCH], e.g. 8.2.1")


def find_trtexec(trtexec: str = "trtexec") -> Optional[str]:
    """The trtexec binary: `trtexec` as given (a path or a name on PATH), else JetPack's
    /usr/src/tensorrt/bin/trtexec, which is not on PATH by default. None when absent."""
    if os.sep in trtexec:
        return trtexec if os.access(trtexec, os.X_OK) else None
    found = shutil.which(trtexec)
    if found:
        return found
    if trtexec == "trtexec" and os.access(JETSON_TRTEXEC, os.X_OK):
        return JETSON_TRTEXEC
    return None


def missing_trtexec_hint() -> str:
    return (f"install TensorRT (JetPack ships it at {JETSON_TRTEXEC}; on a desktop it is in the "
            "TensorRT tar/deb package's bin/) and put trtexec on PATH")


def detect_version(trtexec: str = "trtexec") -> TrtVersion:
    """Run ``trtexec --help`` and read the version from its banner
    (``&&&& RUNNING TensorRT.trtexec [TensorRT v8201] ...``)."""
    binary = find_trtexec(trtexec)
    if binary is None:
        raise TrtbenchError(f"trtexec not found ({trtexec!r} is not on PATH nor at {JETSON_TRTEXEC})",
                            hint=missing_trtexec_hint())
    try:
        proc = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TrtbenchError(f"cannot run {binary} --help: {exc}") from None
    text = proc.stdout + "\n" + proc.stderr
    m = _BANNER.search(text) or _VERSION_LINE.search(text)
    if not m:
        raise TrtbenchError(f"{binary} --help printed no TensorRT version banner",
                            hint="check that this is NVIDIA's trtexec")
    return TrtVersion.parse(m.group(0))
