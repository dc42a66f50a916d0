"""`trtbench import-trtexec`: trtexec's exports and log from any device → a stored run."""
from __future__ import annotations

import argparse
from pathlib import Path

from trtbench.cli import args as common
from trtbench.render import console

NAME = "import-trtexec"
HELP = "turn trtexec output (--exportProfile/--exportLayerInfo/--exportTimes JSON, console log) into a run"
EXAMPLE = "trtbench import-trtexec --profile p.json --layers l.json --times t.json --log run.log --target tx1"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", type=Path, metavar="P.json", help="trtexec --exportProfile file")
    parser.add_argument("--layers", type=Path, metavar="L.json", help="trtexec --exportLayerInfo file")
    parser.add_argument("--times", type=Path, metavar="T.json", help="trtexec --exportTimes file")
    parser.add_argument("--log", type=Path, metavar="RUN.log",
                        help="trtexec's console output (device, version, summary, --dumpProfile table)")
    parser.add_argument("--batch", type=int, metavar="N", help="tiles per inference, when the log has no shapes")
    parser.add_argument("--target", metavar="NAME", help="the device's target name (tx1, gtx960, ...) for the record")
    common.add_json(parser, "the run")
    common.add_exports(parser)
    common.add_db(parser)
    parser.add_argument("--no-db", action="store_true", help="do not store the run")


def run(args: argparse.Namespace) -> int:
    from trtbench.api.runs import import_trtexec
    from trtbench.render.tables import print_records, report_unknown_layers
    from trtbench.results.record import write_records

    db = None if args.no_db else common.db_path(args)
    record = import_trtexec(args.profile, args.layers, args.times, args.log, batch=args.batch, target=args.target,
                            db=db)
    if args.json:
        write_records([record], args.json)
    if args.json != "-":
        print_records([record], verbose=args.verbose)
    report_unknown_layers([record])
    if db is not None:
        console.info(f"trtbench: stored run {record.run_id} in {db}")
    return 0
