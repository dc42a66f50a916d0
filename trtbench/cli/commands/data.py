"""`trtbench data`: check the MNIST files, or download them with checksum verification."""
from __future__ import annotations

import argparse
from pathlib import Path

from trtbench import jsonio
from trtbench.cli import args as common
from trtbench.models import mnist
from trtbench.render import console

NAME = "data"
HELP = "MNIST: 'check [DIR]' reports the four IDX files; 'fetch DIR' downloads and verifies them"
EXAMPLE = "trtbench data check ../shared/data/mnist"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    check = sub.add_parser("check", help="report the four files found in DIR (default $TRTBENCH_DATA_DIR)")
    check.add_argument("dir", metavar="DIR", nargs="?", type=Path)
    check.add_argument("--json", metavar="FILE|-", help="write the report as JSON ('-' for stdout)")
    common.add_exports(check)
    fetch = sub.add_parser("fetch", help="download the four gzipped files into DIR from the canonical "
                           "mirrors, verifying their checksums")
    fetch.add_argument("dir", metavar="DIR", nargs="?", type=Path,
                       help="default: $TRTBENCH_DATA_DIR, else ~/.cache/trtbench/mnist")
    fetch.add_argument("--force", action="store_true", help="download even files already present and correct")
    fetch.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")


def run(args: argparse.Namespace) -> int:
    if args.action == "fetch":
        directory = args.dir or mnist.default_fetch_dir()
        paths = mnist.fetch(directory, timeout=args.timeout, force=args.force)
        for path in paths:
            console.info(f"ok  {path}")
        console.info(f"MNIST is ready in {directory}: use --data-dir {directory} or "
                     f"export TRTBENCH_DATA_DIR={directory}")
        return 0
    if args.action != "check":
        from trtbench.errors import TrtbenchError

        raise TrtbenchError("say what to do: trtbench data check [DIR] or trtbench data fetch DIR")
    statuses = mnist.check(args.dir)
    ok = all(s.path is not None and not s.problem for s in statuses)
    if args.json:
        payload = {"directory": str(mnist.resolve_dir(args.dir)), "complete": ok, "files": [
            {"name": s.name, "path": str(s.path) if s.path else None, "bytes": s.size, "shape": list(s.shape),
             "canonical": s.canonical, "problem": s.problem} for s in statuses]}
        jsonio.write_json(payload, args.json)
    if args.json != "-":
        t = console.table(f"MNIST in {mnist.resolve_dir(args.dir)}",
                          ["file", "found", "shape", "bytes", "content"], right=["bytes"])
        for s in statuses:
            content = s.problem or ("original MNIST" if s.canonical else "differs from the original MNIST")
            t.add_row(s.name, s.path.name if s.path else "missing", "x".join(map(str, s.shape)) or "-",
                      f"{s.size:,}", content)
        console.show(t)
    if not ok:
        directory = mnist.resolve_dir(args.dir)
        missing = [s.name for s in statuses if s.path is None]
        broken = [s.name for s in statuses if s.path is not None and s.problem]
        from trtbench.errors import TrtbenchError

        problems = ([f"missing {', '.join(missing)}"] if missing else []) + \
            ([f"unreadable {', '.join(broken)}"] if broken else [])
        raise TrtbenchError(f"MNIST in {directory} is incomplete: {'; '.join(problems)}",
                            hint=f"download them with: trtbench data fetch {directory}")
    return 0
