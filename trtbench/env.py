"""Environment variables, read in one place.

| variable | meaning |
|---|---|
| TRTBENCH_DATA_DIR | directory holding the four MNIST IDX files |
| TRTBENCH_DB | default SQLite database path (else ./trtbench.db) |
| TRTBENCH_PROFILES | extra folder(s) of target profiles, separated by os.pathsep |
| TRTBENCH_MODELS | extra folder(s) of model specs, separated by os.pathsep |
| TRTBENCH_BUDGET | the default `--budget`: seconds of adaptive timing per batch (default 8; a CI sets less) |
| COLUMNS | the width of tables written to a pipe or a file (default 160) |
| NO_COLOR | no colour on a terminal either (read by rich) |
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Optional

REPO_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Optional[Path]:
    value = os.environ.get("TRTBENCH_DATA_DIR")
    return Path(value) if value else None


def db_path() -> Path:
    return Path(os.environ.get("TRTBENCH_DB", "trtbench.db"))


def _paths(variable: str) -> List[Path]:
    value = os.environ.get(variable, "")
    return [Path(p) for p in value.split(os.pathsep) if p]


def bundled(name: str) -> Path:
    """A bundled folder (`profiles`, `models`): beside the package in a checkout (editable
    install), else where a wheel installed it (<prefix>/share/trtbench/NAME)."""
    checkout = REPO_ROOT / name
    if checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / "trtbench" / name


def profile_dirs() -> List[Path]:
    """Folders searched for target profiles: the bundled `profiles/` first, then the user's."""
    return [bundled("profiles"), *_paths("TRTBENCH_PROFILES")]


def model_dirs() -> List[Path]:
    """Folders searched for model specs and sweep files: bundled `models/`, then the user's."""
    return [bundled("models"), *_paths("TRTBENCH_MODELS")]


def columns(default: int = 160) -> int:
    """The width for output that is not a terminal: COLUMNS when it is a sensible number."""
    try:
        value = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        return default
    return value if 40 <= value <= 1000 else default


BUDGET_S = 8.0  # seconds of adaptive timing per batch: the README's two batches take under 20 s


def budget_s() -> float:
    """The default time budget of adaptive sampling per batch: TRTBENCH_BUDGET when it is a
    positive number of seconds, else `BUDGET_S`."""
    try:
        value = float(os.environ.get("TRTBENCH_BUDGET", ""))
    except ValueError:
        return BUDGET_S
    return value if 0.0 < value <= 86400.0 else BUDGET_S
