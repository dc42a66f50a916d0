"""`trtbench runs`: list the saved runs; export and import them as JSON; delete them."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Dict, List

from trtbench import env, jsonio
from trtbench.cli import args as common
from trtbench.errors import TrtbenchError
from trtbench.render import console
from trtbench.results.record import write_records
from trtbench.results.store import parse_since, utc_time

NAME = "runs"
HELP = "list saved runs (filter by model, backend, device, batch, tag); export, import or delete them"
EXAMPLE = "trtbench runs --model c1d20-f1n1024 --limit 10   |   trtbench runs export 3f2a9c --out tx1.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _add_filters(parser, argparse.SUPPRESS)
    parser.add_argument(
        "--limit", type=int, default=50, help="show at most N runs, newest first (default 50; 0 = all)"
    )
    _add_db_json(parser)
    common.add_exports(parser)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    export = actions.add_parser(
        "export", help="write runs to one JSON file: the ids given, or every run matching the filters"
    )
    export.add_argument(
        "run_ids", nargs="*", metavar="RUN", help="run ids or prefixes (none: use the filters)"
    )
    export.add_argument(
        "--out", required=True, metavar="FILE.json", help="the JSON file to write ('-' for stdout)"
    )
    _add_filters(export, argparse.SUPPRESS)
    _add_db_json(export, json_option=False)
    imp = actions.add_parser(
        "import", help="add the runs of JSON run files to the database (re-importing adds nothing)"
    )
    imp.add_argument("files", nargs="+", metavar="FILE.json")
    _add_db_json(imp, json_option=False)
    delete = actions.add_parser("delete", help="remove runs (ids or prefixes) from the database")
    delete.add_argument("run_ids", nargs="+", metavar="RUN")
    _add_db_json(delete, json_option=False)


def _add_filters(parser: argparse.ArgumentParser, default: object) -> None:
    """The filters, on `runs` and on `runs export`; SUPPRESS keeps the one given before ACTION."""
    parser.add_argument("--model", default=default, help="only runs of this model (spec name or file stem)")
    parser.add_argument(
        "--backend", default=default, help="only runs on this backend (onnxruntime, torch, tensorrt, trtexec)"
    )
    parser.add_argument(
        "--device", default=default, help="only runs on this device (cpu, cuda, or a target such as tx1)"
    )
    parser.add_argument("--batch", type=int, default=default, help="only runs at this batch size")
    parser.add_argument(
        "--tag",
        action="append",
        default=default,
        metavar="KEY=VALUE",
        help="only runs carrying this tag (repeat for several)",
    )
    parser.add_argument(
        "--since",
        default=default,
        metavar="WHEN",
        help="only runs since a date (2026-11-01) or an age (36h, 7d)",
    )


def _filters(args: argparse.Namespace) -> Dict[str, Any]:
    """The filter arguments as `Store.find` keywords (validated: a bad tag or --since is an error)."""
    since = getattr(args, "since", None)
    if since:
        parse_since(since)
    tags = _tags(getattr(args, "tag", None) or [])
    return {
        "model": getattr(args, "model", None),
        "backend": getattr(args, "backend", None),
        "device": getattr(args, "device", None),
        "batch": getattr(args, "batch", None),
        "tags": tags or None,
        "since": since,
    }


def _add_db_json(parser: argparse.ArgumentParser, json_option: bool = True) -> None:
    parser.add_argument(
        "--db",
        type=Path,
        default=argparse.SUPPRESS,
        help=f"the run database (default {env.db_path()}, or TRTBENCH_DB)",
    )
    if json_option:
        parser.add_argument("--json", metavar="FILE|-", help="write the list as JSON ('-' for stdout)")


def _db(args: argparse.Namespace) -> Path:
    return Path(getattr(args, "db", None) or env.db_path())


def run(args: argparse.Namespace) -> int:
    action = getattr(args, "action", None)
    if action == "export":
        return _export(args)
    if action == "import":
        return _import(args)
    if action == "delete":
        return _delete(args)
    return _list(args)


def _tags(pairs: List[str]) -> Dict[str, str]:
    tags = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise TrtbenchError(f"--tag {pair!r} is not KEY=VALUE", hint="e.g. --tag sweep=fc-batch")
        tags[key] = value
    return tags


def _list(args: argparse.Namespace) -> int:
    from trtbench.api.runs import find_runs

    db = _db(args)
    filters = _filters(args)
    records = find_runs(db, **filters, limit=args.limit or None, kind=None)
    rows = [record.summary() for record in records]
    if args.json:
        jsonio.write_json(rows, args.json)
        return 0
    if not rows:
        console.info(
            f"no runs in {db}" + (" matching the filters" if db.exists() else " (it does not exist yet)")
        )
        return 0
    with_tags = any(row["tags"] for row in rows)
    with_kind = any(row["kind"] != "profile" for row in rows)
    columns = [
        "run",
        *(["kind"] if with_kind else []),
        "created",
        "model",
        "backend",
        "device",
        "prec",
        "batch",
        "per second",
        "ms/batch",
        "verdict",
    ] + (["tags"] if with_tags else [])
    t = console.table(f"Runs in {db}, newest first", columns, right=["batch", "per second", "ms/batch"],
                      no_wrap=columns[:-1] if with_tags else columns)
    for row in rows:
        cells = [
            row["run_id"][:12],
            *([row["kind"]] if with_kind else []),
            _utc_minutes(row["created"]),
            row["model"],
            row["backend"],
            row["device"],
            row["precision"],
            f"{row['batch']:,}",
            f"{console.fmt(row['images_per_s'], 4)} {row['item']}s",
            console.fmt(row["end_to_end_ms"], 4),
            row["verdict"] or "-",
        ]
        if with_tags:
            cells.append(" ".join(f"{k}={v}" for k, v in row["tags"].items()))
        t.add_row(*cells)
    console.show(t)
    if args.limit and len(rows) == args.limit:
        console.info(f"showing the newest {args.limit}; --limit 0 shows all")
    return 0


def _utc_minutes(created: str) -> str:
    return utc_time(created)[:16].replace("T", " ")


def _export(args: argparse.Namespace) -> int:
    from trtbench.api.runs import find_runs, load_runs
    from trtbench.results.runref import open_existing

    filters = _filters(args)
    if args.run_ids:
        records = load_runs(args.run_ids, _db(args))
    else:
        open_existing(_db(args))  # a missing database is an error here, not an empty export
        records = list(reversed(find_runs(_db(args), **filters, kind=None)))  # oldest first, as measured
        if not records:
            raise TrtbenchError(
                f"no runs in {_db(args)} match the filters", hint="list them with: trtbench runs"
            )
    write_records(records, args.out)
    if args.out != "-":
        console.info(f"wrote {len(records)} run(s) to {args.out}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from trtbench.api.runs import import_runs

    new, skipped = import_runs(args.files, _db(args))
    console.info(f"imported {len(new)} run(s) into {_db(args)}" + (f"; {skipped} already there" if skipped else ""))
    return 0


def _delete(args: argparse.Namespace) -> int:
    from trtbench.api.runs import delete_runs

    count = delete_runs(args.run_ids, _db(args))
    console.info(f"deleted {count} run(s)")
    return 0
