"""`trtbench runs`: list the saved runs; export and import them as JSON; delete them; check the
database and set damaged runs aside (`runs check --repair`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Sequence

from trtbench import env, jsonio
from trtbench.cli import args as common
from trtbench.errors import TrtbenchError
from trtbench.render import console
from trtbench.render.sheet import Sheet
from trtbench.results.record import write_records
from trtbench.results.store import parse_since, utc_time

if TYPE_CHECKING:
    from rich.table import Table

NAME = "runs"
HELP = "list saved runs (filter by model, backend, device, batch, tag); export, import or delete them"
EXAMPLE = "trtbench runs --model c1d20-f1n1024 --limit 10   |   trtbench runs export 3f2a9c --out tx1.json"
SHOWN_LINES = 12  # of SQLite's integrity report (it can run to thousands)


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
    imp.add_argument("--skip-bad", action="store_true",
                     help="import the well-formed records and name the others (default: a bad record "
                          "stops the import and nothing is stored)")
    _add_db_json(imp, json_option=False)
    delete = actions.add_parser("delete", help="remove runs (ids or prefixes) from the database")
    delete.add_argument("run_ids", nargs="+", metavar="RUN")
    _add_db_json(delete, json_option=False)
    check = actions.add_parser(
        "check", help="check the database file and every stored run; exit 1 when something is damaged"
    )
    check.add_argument("--repair", action="store_true",
                       help="move damaged runs into the database's quarantine table (exit 0 once clean)")
    check.add_argument("--quick", action="store_true",
                       help="SQLite's quick_check instead of integrity_check (faster on very large files)")
    _add_db_json(check)


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
    if action == "check":
        return _check(args)
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
    records = find_runs(db, **filters, limit=args.limit or None, kind=None, warn=console.warn)
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
    t = RunsSheet(f"Runs in {db}, newest first", columns, console.stdout().width)
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
    if t.hidden:
        console.info(f"({', '.join(t.hidden)} left out to fit {t.width} columns; a wider window, "
                     "COLUMNS=N in a pipe, --csv FILE or --json - shows every column)")
    if args.limit and len(rows) == args.limit:
        console.info(f"showing the newest {args.limit}; --limit 0 shows all")
    return 0


# How each column of the list gives way on a narrow screen. WHOLE: never cut (numbers, short keys).
# WORDS: wrap at spaces only ("15,068" / "images"). Others are long text that wraps and then folds,
# down to the width given here (a 12-character run id folds into two lines of 6).
WHOLE = ("kind", "prec", "batch", "ms/batch", "verdict")
WORDS = ("created", "per second")
FOLD_TO = {"run": 6, "model": 10, "backend": 7, "device": 6, "tags": 8}
GROW = ("run", "per second", "backend", "model", "device", "created", "tags")  # who gets spare width first
LEAVE_OUT = ("created", "tags", "prec", "backend", "kind", "device", "ms/batch")  # when all cannot fit


class RunsSheet(Sheet):
    """The runs list. Exports (``--csv``, ``--markdown``) get every column; on screen, numbers and
    short keys stay whole, long text wraps, and if even that cannot fit `width`, the columns of
    `LEAVE_OUT` are left out in that order (named in `hidden`) rather than cut."""

    def __init__(self, title: str, columns: Sequence[str], width: int) -> None:
        super().__init__(title, columns, right=["batch", "per second", "ms/batch"], no_wrap=WHOLE)
        self.width = width
        self.hidden: List[str] = []

    def to_rich(self, terminal: bool = True) -> Table:
        from rich.cells import cell_len

        natural = {c: max(cell_len(text) for text in [c, *(r[i] for r in self.rows)])
                   for i, c in enumerate(self.columns)}
        least = {c: _least_width(c, i, self.rows, natural[c]) for i, c in enumerate(self.columns)}
        shown = list(self.columns)

        def room() -> int:  # the content width left: cell padding 2, dividers, and edges on a terminal
            return self.width - 3 * len(shown) + 1 - (2 if terminal else 0)

        for name in LEAVE_OUT:
            if sum(least[c] for c in shown) <= room():
                break
            if name in shown:
                shown.remove(name)
        self.hidden = [c for c in self.columns if c not in shown]
        keep = [self.columns.index(c) for c in shown]
        sheet = Sheet(self.title, shown, sorted(self.right), sorted(self.no_wrap))
        for row in self.rows:
            sheet.add_row(*(row[i] for i in keep))
        table = sheet.to_rich(terminal)
        if sum(natural[c] for c in shown) <= room():
            return table
        widths = {c: least[c] for c in shown}
        spare = room() - sum(widths.values())
        for name in (c for c in GROW if c in shown):
            grant = max(0, min(spare, natural[name] - widths[name]))
            widths[name] += grant
            spare -= grant
        for column in table.columns:
            name = str(column.header)
            if name not in WHOLE:
                column.width, column.overflow = widths[name], "fold"
        return table


def _least_width(name: str, index: int, rows: Sequence[Sequence[str]], natural: int) -> int:
    """The narrowest a column may get: whole cells, whole words, or its fold width."""
    from rich.cells import cell_len

    if name in WHOLE:
        return natural
    if name in WORDS:
        return max(cell_len(word) for text in [name, *(r[index] for r in rows)] for word in text.split() or [""])
    return min(natural, FOLD_TO.get(name, 8))


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
        records = list(reversed(find_runs(_db(args), **filters, kind=None, warn=console.warn)))  # oldest first
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

    new, skipped = import_runs(args.files, _db(args), skip_bad=args.skip_bad, warn=console.warn)
    console.info(f"imported {len(new)} run(s) into {_db(args)}" + (f"; {skipped} already there" if skipped else ""))
    return 0


def _delete(args: argparse.Namespace) -> int:
    from trtbench.api.runs import delete_runs

    count = delete_runs(args.run_ids, _db(args))
    console.info(f"deleted {count} run(s)")
    return 0


def _check(args: argparse.Namespace) -> int:
    """Exit 0: clean (or --repair made it so); 1: damage found and left (a finding, like drift)."""
    from trtbench.api.runs import check_runs
    from trtbench.results.health import DAMAGED, FOREIGN

    health = check_runs(_db(args), repair=args.repair, quick=args.quick)
    if args.json:
        jsonio.write_json(health.to_dict(), args.json)
        if args.json == "-":
            return 0 if health.clean else 1
    db = health.path
    if health.file_problem:
        console.line(f"{db}: {health.file_problem}")
        if health.file_kind == FOREIGN:
            console.line("trtbench leaves it alone: give trtbench a file of its own with --db FILE")
        else:
            console.line(f"move it aside (mv {db} {db}.damaged) and give another file with --db FILE"
                         + (f"; copy out what can still be read with: {health.salvage()}"
                            if health.file_kind == DAMAGED else ""))
        return 1
    if health.integrity:
        console.line(f"{db}: SQLite's {health.check} found damage in the file:")
        for said in health.integrity[:SHOWN_LINES]:
            console.line(f"  {said}")
        if len(health.integrity) > SHOWN_LINES:
            console.line(f"  ... and {len(health.integrity) - SHOWN_LINES} more lines (--json - shows all)")
    else:
        console.line(f"{db}: the file is sound ({health.check} ok); {health.runs:,} stored run(s) read")
    damaged = health.damaged
    if health.moved or damaged:
        t = console.table("Moved into the quarantine table" if health.moved and not damaged
                          else "Damaged runs", ["run", "why it cannot be read"], no_wrap=["run"])
        for row in health.moved or damaged:
            t.add_row(row.run_id[:32], row.reason)
        console.show(t)
    if health.newer:
        console.line(f"{len(health.newer)} run(s) were written by a newer trtbench: not damaged; "
                     "upgrade trtbench to read them")
    if health.moved:
        console.line(f"moved {len(health.moved)} damaged run(s) into the quarantine table "
                     f"({health.quarantined} there now); trtbench runs lists the others")
    elif health.quarantined:
        console.detail(f"the quarantine table holds {health.quarantined} run(s) set aside earlier")
    if health.integrity:
        left = f"{len(damaged)} damaged run(s) left in place: " if damaged else ""
        console.line(f"{left}--repair does not write into a damaged file; copy out what can still be read "
                     f"with: {health.salvage()}, then check that file")
    elif damaged:
        console.line(f"{len(damaged)} damaged run(s): set them aside with: trtbench runs check --repair --db {db}")
    return 0 if health.clean else 1
