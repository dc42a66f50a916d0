"""`trtbench show`: re-render saved runs (run ids or JSON files) without re-running anything."""

from __future__ import annotations

import argparse

from trtbench.cli import args as common
from trtbench.errors import TrtbenchError

NAME = "show"
HELP = "show the tables of saved runs again (run ids from the database, or JSON run files)"
EXAMPLE = "trtbench show 3f2a9c --verbose   |   trtbench show tx1-c1d20.json --json -"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "runs",
        nargs="+",
        metavar="RUN|FILE",
        help="a run id (or a unique prefix) in the database, a JSON run file, or a database file",
    )
    common.add_json(parser, "the records instead")
    common.add_exports(parser)
    common.add_db(parser)


def run(args: argparse.Namespace) -> int:
    from trtbench.api.runs import load_runs
    from trtbench.render import tables
    from trtbench.results.record import write_records

    records = load_runs(args.runs, common.db_path(args))
    if not records:
        raise TrtbenchError(f"{' '.join(map(str, args.runs))} holds no runs",
                            hint="trtbench runs lists the stored runs; profile writes them with --json FILE")
    if args.json:
        write_records(records, args.json)
        if args.json == "-":
            return 0
    tables.print_records(records, verbose=args.verbose)
    return 0
