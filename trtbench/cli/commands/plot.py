"""`trtbench plot`: PNG figures like the study's, from saved runs (needs matplotlib)."""
from __future__ import annotations

import argparse
from pathlib import Path

from trtbench.api.plot import KINDS
from trtbench.cli import args as common
from trtbench.render import console

NAME = "plot"
HELP = "draw PNG figures: tiles/ms per sweep group, time per category, speedup, drift series, fit check"
EXAMPLE = "trtbench plot sweep --sweep study-2016 --out plots"



def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=KINDS, metavar="KIND",
                        help="sweep (tiles/ms per group), categories (time per category), speedup (two "
                             "runs or sweep runs), drift (a series file), fit (predicted vs measured), all")
    parser.add_argument("--sweep", default=None, help="a sweep's name or .toml file (its saved points)")
    parser.add_argument("--sweep-run", nargs="+", default=None, metavar="RUN",
                        help="run(s) of the sweep ('latest' for the newest; two for speedup; default: all, averaged)")
    parser.add_argument("--runs", nargs="+", default=None, metavar="RUN",
                        help="run ids or JSON run files (speedup: A B, or A's and B's files; with --sweep: "
                             "that sweep's points in these files, e.g. an export)")
    parser.add_argument("--series", type=Path, default=None, help="drift: a JSON series file (trtbench drift --json)")
    parser.add_argument("--backend", default=None, help="only runs on this backend")
    parser.add_argument("--device-name", default=None, help="only runs on this device")
    parser.add_argument("--batch", type=int, default=1024, help="categories/fit: the batch to show (default: 1024)")
    parser.add_argument("--out", type=Path, default=Path("plots"), help="folder for the PNG files (default: plots)")
    common.add_db(parser)
    common.add_json(parser, "the list of files written")


def run(args: argparse.Namespace) -> int:
    from trtbench import jsonio
    from trtbench.api.plot import plot

    written = plot(args.kind, args.out, sweep=args.sweep, sweep_run=args.sweep_run, runs=args.runs, series=args.series,
                   batch=args.batch, db=common.db_path(args), backend=args.backend, device_name=args.device_name)
    for path in written:
        console.info(f"wrote {path}")
    if args.json:
        jsonio.write_json([str(p) for p in written], args.json)
    return 0
