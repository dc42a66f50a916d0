"""`trtbench import-trtexec`: trtexec's exports and log from any device → a stored run."""
from __future__ import annotations

import argparse
from pathlib import Path

from trtbench import env
from trtbench.errors import TrtbenchError
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
    parser.add_argument("--json", metavar="FILE|-", help="also write the run as JSON ('-' for stdout)")
    parser.add_argument("--db", type=Path, default=None, help=f"the run database (default {env.db_path()}, or TRTBENCH_DB)")
    parser.add_argument("--no-db", action="store_true", help="do not store the run")
    parser.add_argument("--verbose", "-v", action="store_true", help="every layer, and which ones fell to 'other'")


def run(args: argparse.Namespace) -> int:
    from trtbench.backends.trtexec.importer import import_outputs
    from trtbench.render.tables import emit_json, print_records
    from trtbench.results.store import Store

    if args.batch is not None and args.batch < 1:
        raise TrtbenchError(f"--batch {args.batch} must be at least 1")
    if not (args.profile or args.times or args.log):
        raise TrtbenchError("nothing to import", hint="give --profile P.json (and --layers, --times, --log)")
    record = import_outputs(args.profile, args.layers, args.times, args.log, batch=args.batch)
    if args.target:
        record.device = args.target
        record.host.target = args.target
    records = [record]
    if not args.no_db:
        with Store(args.db or env.db_path()) as store:
            store.add(records)
    if args.json:
        emit_json(records, args.json)
    if args.json != "-":
        print_records(records, verbose=args.verbose)
    if args.verbose:
        for layer in record.layers:
            if layer.category == "other":
                console.info(f"'{layer.name}' ({layer.type or 'no layer info'}) fell to 'other'")
    if not args.no_db:
        console.info(f"trtbench: stored run {record.run_id} in {args.db or env.db_path()}")
    return 0
