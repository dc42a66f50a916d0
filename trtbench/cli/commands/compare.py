"""`trtbench compare`: speedup of B (C, ...) over A, per category and in total, from saved runs."""

from __future__ import annotations

import argparse

from trtbench.cli import args as common

NAME = "compare"
HELP = "compare saved runs: time per item per category on each side, speedup of B over A, flags"
EXAMPLE = "trtbench compare tx1-c1d20.json gtx960-c1d20.json --json -"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "runs",
        nargs="+",
        metavar="RUN|FILE",
        help="A, then B (C, ...): run ids (or prefixes) in the database, or JSON run files; "
        "files with several batch sizes are compared batch by batch",
    )
    common.add_json(parser, "the comparison")
    common.add_exports(parser)
    common.add_db(parser)


def run(args: argparse.Namespace) -> int:
    from trtbench import jsonio
    from trtbench.api.compare import compare_all
    from trtbench.render import tables

    results = compare_all(*args.runs, db=common.db_path(args))
    if args.json:
        payload = [r.to_dict() for r in results]
        jsonio.write_json(payload[0] if len(payload) == 1 else payload, args.json)
        if args.json == "-":
            return 0
    tables.print_comparisons(results, verbose=args.verbose)
    return 0
