"""The `trtbench` command line: parses arguments, calls the library, renders.

Each subcommand lives in `trtbench/commands/<name>.py` and exposes:

- ``NAME`` (the subcommand), ``HELP`` (one line), ``EXAMPLE`` (shown at the end of ``--help``);
- ``add_arguments(parser)``;
- ``run(args) -> int`` (the exit status).

Command modules import only light modules at top level, so ``--help`` works without torch,
onnxruntime or tensorrt installed.
"""
from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from typing import List, Optional, Sequence

from trtbench import __version__
from trtbench.errors import TrtbenchError

# Order is the order shown in `trtbench --help`.
COMMAND_MODULES = (
    "models",
    "data",
    "train",
    "export",
    "targets",
    "build",
    "profile",
    "import_trtexec",
    "runs",
    "show",
    "compare",
    "sweep",
    "fit",
    "predict",
    "plot",
    "drift",
    "telemetry",
    "study",
)


def _load_commands() -> list:
    return [importlib.import_module(f"trtbench.cli.commands.{name}") for name in COMMAND_MODULES]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trtbench",
        description="How many 28x28 tiles per millisecond a CNN classifies on a device, "
        "and where the time goes.",
    )
    parser.add_argument("--version", action="version", version=f"trtbench {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _load_commands():
        p = sub.add_parser(
            module.NAME,
            help=module.HELP,
            description=module.HELP,
            epilog=f"example:\n  {module.EXAMPLE}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show tracebacks for errors")
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 a finding such as drift, 2 a user error)."""
    args_list: List[str] = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(args_list)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except TrtbenchError as exc:
        if getattr(args, "debug", False):
            traceback.print_exc()
        print(f"trtbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("trtbench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
