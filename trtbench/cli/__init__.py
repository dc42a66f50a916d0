"""The `trtbench` command line: `main` parses arguments, calls the library and renders."""
from __future__ import annotations

from trtbench.cli.app import COMMAND_MODULES, build_parser, main

__all__ = ["COMMAND_MODULES", "build_parser", "main"]
