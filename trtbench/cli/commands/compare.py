"""`trtbench compare`: speedup of B (C, ...) over A, per category and in total, from saved runs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import List

from trtbench import env
from trtbench.analysis.compare import Comparison, compare, pair_runs
from trtbench.errors import TrtbenchError
from trtbench.render import tables
from trtbench.results.runref import load_runs

NAME = "compare"
HELP = "compare saved runs: time per tile per category on each side, speedup of B over A, flags"
EXAMPLE = "trtbench compare tx1-c1d20.json gtx960-c1d20.json --json -"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "runs",
        nargs="+",
        metavar="RUN|FILE",
        help="A, then B (C, ...): run ids (or prefixes) in the database, or JSON run files; "
        "files with several batch sizes are compared batch by batch",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="list every aligned layer")
    parser.add_argument("--json", metavar="FILE|-", help="write the comparison as JSON ('-' for stdout)")
    parser.add_argument("--db", type=Path, help=f"the run database (default {env.db_path()}, or TRTBENCH_DB)")


def run(args: argparse.Namespace) -> int:
    if len(args.runs) < 2:
        raise TrtbenchError(
            "compare needs at least two runs (A and B)", hint="e.g. trtbench compare RUN_A RUN_B"
        )
    db = args.db or env.db_path()
    sides = [load_runs([ref], db) for ref in args.runs]
    results: List[Comparison] = [compare(a, b) for other in sides[1:] for a, b in pair_runs(sides[0], other)]
    if args.json:
        payload = [r.to_dict() for r in results]
        tables.emit_text(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2), args.json)
        if args.json == "-":
            return 0
    tables.print_comparisons(results, verbose=args.verbose)
    return 0
