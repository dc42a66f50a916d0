"""The `trtbench` command line: parses arguments, calls the library, renders.

Each subcommand lives in `trtbench/cli/commands/<name>.py` and exposes:

- ``NAME`` (the subcommand), ``HELP`` (one line), ``EXAMPLE`` (shown at the end of ``--help``);
- ``add_arguments(parser)``;
- ``run(args) -> int`` (the exit status).

Command modules import only light modules at top level, so ``--help`` works without torch,
onnxruntime or tensorrt installed. Options every command takes: ``--debug`` (tracebacks),
``-q/--quiet`` (results and errors only), ``-v/--verbose`` (every layer, every note). With
argcomplete installed, ``eval "$(register-python-argcomplete trtbench)"`` completes commands and
options in bash.
"""
# PYTHON_ARGCOMPLETE_OK
from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback
from typing import List, Optional, Sequence

from trtbench import __version__
from trtbench.errors import Interrupted, TrtbenchError
from trtbench.render import console

# Order is the order shown in `trtbench --help`.
COMMAND_MODULES = (
    "models",
    "data",
    "train",
    "export",
    "targets",
    "build",
    "profile",
    "ablate",
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


def _add_global(parser: argparse.ArgumentParser, default: object) -> None:
    """Options taken before or after the command name (SUPPRESS keeps the one given before)."""
    parser.add_argument("--debug", action="store_true", default=default, help="show tracebacks for errors")
    loud = parser.add_mutually_exclusive_group()
    loud.add_argument("-q", "--quiet", action="store_true", default=default,
                      help="print only results and errors (no progress or notes on stderr)")
    loud.add_argument("-v", "--verbose", action="store_true", default=default,
                      help="show every layer and every note")


def _complete(parser: argparse.ArgumentParser) -> None:
    """Shell completion when argcomplete is installed (pip install 'trtbench[completion]')."""
    try:
        import argcomplete
    except ImportError:
        return
    argcomplete.autocomplete(parser)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trtbench",
        description="How many images per millisecond a CNN classifies on a device, "
        "and where the time goes.",
    )
    parser.add_argument("--version", action="version", version=f"trtbench {__version__}")
    _add_global(parser, default=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _load_commands():
        p = sub.add_parser(
            module.NAME,
            help=module.HELP,
            description=module.HELP,
            epilog=f"example:\n  {module.EXAMPLE}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _add_global(p, default=argparse.SUPPRESS)
        module.add_arguments(p)
        for action in p._actions:  # and after an action word: trtbench runs export ... -q
            if isinstance(action, argparse._SubParsersAction):
                for nested in action.choices.values():
                    _add_global(nested, default=argparse.SUPPRESS)
        p.set_defaults(_run=module.run)
    return parser


def _export_tables(args: argparse.Namespace) -> None:
    """--csv / --markdown: the tables the command printed, also as files."""
    csv, markdown = getattr(args, "csv", None), getattr(args, "markdown", None)
    if csv is None and markdown is None:
        return
    written = console.export_tables(csv=csv, markdown=markdown)
    if not console.shown_tables():
        console.warn("no table was printed, so --csv/--markdown wrote nothing"
                     + (" (--json - prints JSON instead of tables)" if getattr(args, "json", None) == "-" else ""))
    for path in written:
        console.info(f"wrote {path}")


OUTPUTS = ("json", "csv", "markdown", "export_profile", "out", "emit_script")
MAKES_FOLDERS = ("out",)  # --out folders (study, plot) and files (train) are created with their folders


def _check_outputs(args: argparse.Namespace) -> None:
    """Every file or folder the command will write is checked writable before any work starts,
    so an hour of measuring is not lost to a typo in --json or a read-only folder."""
    from trtbench import jsonio

    for name in OUTPUTS:
        value = getattr(args, name, None)
        if value is not None and not str(value).strip():
            raise TrtbenchError(f"--{name.replace('_', '-')} is empty", hint="give it a file name")
        if value not in (None, "-"):
            jsonio.check_writable(value, "--" + name.replace("_", "-"), creates_folders=name in MAKES_FOLDERS)


class _ConsoleWarnings(logging.Handler):
    """The core's warnings (a damaged database row skipped, say) as `warning:` lines on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        console.warn(record.getMessage())


def _warnings_to_console() -> None:
    logger = logging.getLogger("trtbench")
    if not any(isinstance(h, _ConsoleWarnings) for h in logger.handlers):
        handler = _ConsoleWarnings(level=logging.WARNING)
        logger.addHandler(handler)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 a finding such as drift, 2 a user error)."""
    args_list: List[str] = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    _complete(parser)
    args = parser.parse_args(args_list)
    if args.quiet and args.verbose:
        parser.error("-q/--quiet and -v/--verbose exclude each other")
    console.configure(quiet=args.quiet, verbose=args.verbose)
    _warnings_to_console()
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        _check_outputs(args)
        code = int(args._run(args) or 0)
        _export_tables(args)
        return code
    except TrtbenchError as exc:
        if getattr(args, "debug", False):
            traceback.print_exc()
        print(f"trtbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        if isinstance(exc, Interrupted):  # the finished work was printed: its tables go to --csv/--markdown too
            _export_tables(args)
        print("trtbench: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # the file system said no (a name too long, no space, no permission): one line
        if isinstance(exc, BrokenPipeError):
            return 0
        if getattr(args, "debug", False):
            traceback.print_exc()
        where = f" ({str(exc.filename)[:120]})" if exc.filename else ""
        print(f"trtbench: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
