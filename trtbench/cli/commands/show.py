"""`trtbench show`: re-render saved runs (run ids or JSON files) without re-running anything."""

from __future__ import annotations

import argparse
from pathlib import Path

from trtbench import env
from trtbench.render import tables
from trtbench.results.runref import load_runs

NAME = "show"
HELP = "show the tables of saved runs again (run ids from the database, or JSON run files)"
EXAMPLE = "trtbench show 3f2a9c --verbose   |   trtbench show tx1-c1d20.json --json -"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "runs",
        nargs="+",
        metavar="RUN|FILE",
        help="a run id (or a unique prefix) in the database, or a JSON run file",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="list every layer, not only the slowest")
    parser.add_argument("--json", metavar="FILE|-", help="write the records as JSON instead ('-' for stdout)")
    parser.add_argument("--db", type=Path, help=f"the run database (default {env.db_path()}, or TRTBENCH_DB)")


def run(args: argparse.Namespace) -> int:
    records = load_runs(args.runs, args.db or env.db_path())
    if args.json:
        tables.emit_json(records, args.json)
        if args.json == "-":
            return 0
    tables.print_records(records, verbose=args.verbose)
    return 0
