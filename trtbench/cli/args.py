"""Argument groups that several commands share, so one option reads the same everywhere."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Dict, List, Optional

from trtbench import env
from trtbench.errors import TrtbenchError
from trtbench.models.source import DEFAULT_CACHE

BACKENDS = ("auto", "onnxruntime", "torch", "tensorrt", "trtexec")
DEVICES = ("cpu", "cuda")
PRECISIONS = ("fp32", "fp16", "tf32")


def add_db(parser: argparse.ArgumentParser, purpose: str = "the run database") -> None:
    parser.add_argument("--db", type=Path, default=None, metavar="FILE",
                        help=f"{purpose} (default: TRTBENCH_DB or ./trtbench.db)")


def db_path(args: argparse.Namespace) -> Path:
    """The database the command uses: --db, else TRTBENCH_DB, else ./trtbench.db."""
    return Path(getattr(args, "db", None) or env.db_path())


def add_json(parser: argparse.ArgumentParser, what: str = "the result") -> None:
    parser.add_argument("--json", metavar="FILE|-", help=f"write {what} as JSON ('-' for stdout, then no tables)")


def add_exports(parser: argparse.ArgumentParser) -> None:
    """--csv and --markdown: the tables the command prints, also as files."""
    parser.add_argument("--csv", type=Path, metavar="FILE",
                        help="also write the tables as CSV (several tables: FILE-<n>-<table>.csv)")
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="also write the tables as Markdown")


def add_runtime(parser: argparse.ArgumentParser, backend: str = "auto", device: Optional[str] = None) -> None:
    """--backend, --device, --precision, --threads: where and how a model runs."""
    backend_help = ("auto: tensorrt when installed, else onnxruntime on the CPU" if backend == "auto"
                    else "backend to run on")
    parser.add_argument("--backend", default=backend, metavar="{" + ",".join(BACKENDS) + "}",
                        help=f"{backend_help} (default: {backend})")
    parser.add_argument("--device", default=device, choices=DEVICES,
                        help="default: cuda for tensorrt/trtexec, cpu otherwise" if device is None
                        else f"device (default: {device})")
    parser.add_argument("--precision", default="fp32", choices=PRECISIONS, help="precision (default: fp32)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for the backend (default: its own)")


def add_cache_dir(parser: Any) -> None:
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE,
                        help=f"where specs and checkpoints are exported to ONNX (default: {DEFAULT_CACHE})")


def parse_batches(text: str, flag: str = "--batch") -> List[int]:
    """``"1024"`` or ``"16,32,64"`` → batch sizes; TrtbenchError for anything else."""
    batches = []
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        try:
            value = int(part)
        except ValueError:
            raise TrtbenchError(f"{flag} {text}: '{part}' is not a whole number",
                                hint=f"use e.g. {flag} 1024 or {flag} 16,32,64") from None
        if value < 1:
            raise TrtbenchError(f"{flag} {text}: batch sizes must be at least 1")
        batches.append(value)
    if not batches:
        raise TrtbenchError(f"{flag} needs at least one batch size", hint=f"use e.g. {flag} 1024")
    return batches


def add_inputs(parser: Any) -> None:
    """--input NAME=FILE.npy (repeatable): the user's data for a model input."""
    parser.add_argument("--input", action="append", default=[], metavar="NAME=FILE.npy",
                        help="feed this array to input NAME instead of random data (one item or a batch; "
                        "repeat for several inputs)")


def parse_inputs(items: List[str], flag: str = "--input") -> Dict[str, str]:
    """``["NAME=file.npy", ...]`` → ``{NAME: "file.npy"}``; TrtbenchError for anything else."""
    out: Dict[str, str] = {}
    for item in items:
        name, sep, path = str(item).partition("=")
        if not sep or not name.strip() or not path.strip():
            raise TrtbenchError(f"{flag} {item}: expected NAME=FILE.npy", hint=f"e.g. {flag} images=batch.npy")
        if name.strip() in out:
            raise TrtbenchError(f"{flag}: input '{name.strip()}' is given twice")
        out[name.strip()] = path.strip()
    return out


def at_least(value: Optional[int], minimum: int, flag: str) -> None:
    """A count option below `minimum` is a user error naming the flag."""
    if value is not None and value < minimum:
        raise TrtbenchError(f"{flag} must be at least {minimum}, got {value}")
