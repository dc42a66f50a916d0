"""`trtbench drift`: does each loop get slower, and which part (allocation, compute, transfer)?

Three sources of a series: a live loop on a model (``MODEL``), a saved series (``--series FILE``),
or the database's history of one model on one device (``--history``). Exit status 1 when drift is
found, 0 when not (usable in CI), 2 on a user error.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from trtbench import env
from trtbench.analysis.drift import MIN_POINTS, PART_LABELS, DriftReport, analyse_parts
from trtbench.errors import TrtbenchError
from trtbench.render import console

NAME = "drift"
HELP = "detect slowdown across loops (trend and step tests) and say which part drifted"
EXAMPLE = "trtbench drift c1d20-f1n128 --loops 200 --alloc per-run --batch 64"
DEFAULT_CACHE = Path(".trtbench") / "onnx"
_SPARK = "▁▂▃▄▅▆▇█"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model",
        nargs="?",
        metavar="MODEL|ENGINE",
        help="a spec name (c3d20-f3n1024), an ONNX file, a checkpoint or an engine plan to loop on",
    )
    src = parser.add_argument_group("analyse saved data instead of running")
    src.add_argument(
        "--series",
        type=Path,
        metavar="FILE",
        help="a saved series: JSON list of per-loop ms, JSON object of parts, "
        "a drift --json output, or a CSV file",
    )
    src.add_argument("--column", metavar="NAME", help="with --series: the CSV column or JSON key to analyse")
    src.add_argument(
        "--history",
        action="store_true",
        help="analyse the database's runs of --model over time (oldest first)",
    )
    src.add_argument("--model", dest="history_model", metavar="M", help="with --history: the model name")
    src.add_argument("--device-name", metavar="D", help="with --history: only runs on this device name")
    src.add_argument(
        "--metric",
        default="end_to_end_ms",
        choices=("end_to_end_ms", "tiles_per_ms"),
        help="with --history: the figure followed over runs (default: end_to_end_ms)",
    )
    run = parser.add_argument_group("live loop")
    run.add_argument("--loops", type=int, default=200, help="loops to run (default: 200)")
    run.add_argument("--iterations", type=int, default=10, help="inferences per loop (default: 10)")
    run.add_argument("--warmup", type=int, default=3, help="loops run first and not recorded (default: 3)")
    run.add_argument(
        "--alloc",
        default="per-run",
        choices=("per-run", "reuse", "fragment"),
        help="per-run: fresh buffers every loop (default); reuse: allocate once; "
        "fragment: per-run plus a fragmenting cudaMalloc/cudaFree pattern (CUDA only)",
    )
    run.add_argument(
        "--batch", type=int, default=None, help="tiles per inference (default: 1024; with --history: all)"
    )
    run.add_argument(
        "--backend",
        default="auto",
        help="backend: auto, onnxruntime, torch, tensorrt (default: auto; "
        "with --history: only runs of this backend when given)",
    )
    run.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="device (default: cpu)")
    run.add_argument(
        "--precision", default="fp32", choices=("fp32", "fp16", "tf32"), help="precision (default: fp32)"
    )
    run.add_argument(
        "--threads", type=int, default=None, help="CPU threads for the backend (default: its own)"
    )
    run.add_argument(
        "--cache-dir",
        type=Path,
        default=DEFAULT_CACHE,
        help=f"exported ONNX files (default: {DEFAULT_CACHE})",
    )
    run.add_argument(
        "--no-telemetry", action="store_true", help="do not sample NVML/tegrastats during the loop"
    )
    test = parser.add_argument_group("detection")
    test.add_argument(
        "--threshold",
        type=float,
        default=5.0,
        help="smallest change that counts, in %% of the level (default: 5)",
    )
    test.add_argument(
        "--alpha", type=float, default=0.01, help="significance level of the tests (default: 0.01)"
    )
    test.add_argument(
        "--direction",
        default="slower",
        choices=("slower", "faster", "both"),
        help="which changes count as drift (default: slower; a change the other way is shown, not counted)",
    )
    test.add_argument(
        "--min-slope",
        type=float,
        default=0.0,
        metavar="PCT",
        help="also require a trend slope of at least PCT %% per 100 loops (default: 0)",
    )
    parser.add_argument(
        "--json", metavar="FILE|-", help="write the verdict, figures and series as JSON ('-': stdout)"
    )
    parser.add_argument(
        "--db", type=Path, default=None, help="database for --history (default: TRTBENCH_DB or ./trtbench.db)"
    )


# ---- reading saved series ---------------------------------------------------------------------
def _numbers(values: Any, where: str) -> Optional[List[float]]:
    if not isinstance(values, list) or not values:
        return None
    out: List[float] = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return None
        out.append(float(v))
    return out


def parts_from_json(data: Any, source: str, column: Optional[str] = None) -> Dict[str, List[float]]:
    """Parts from JSON: a list of numbers (the total), an object of lists (parts), a drift --json
    output (its ``series``), a run record (its ``loop_ms``) or an array of run records (their
    ``end_to_end_ms`` in order)."""
    if isinstance(data, dict) and isinstance(data.get("series"), dict):
        data = data["series"]
    elif isinstance(data, dict) and "schema_version" in data and "loop_ms" in data:
        data = {"total": data["loop_ms"]}
    elif isinstance(data, list) and data and all(isinstance(d, dict) and "end_to_end_ms" in d for d in data):
        data = {"total": [d["end_to_end_ms"] for d in data]}
    if isinstance(data, list):
        numbers = _numbers(data, source)
        if numbers is None:
            raise TrtbenchError(f"{source}: a JSON list must hold numbers only (per-loop ms)")
        if column is not None:
            raise TrtbenchError(f"{source} is a plain list; --column applies to objects and CSV files")
        return {"total": numbers}
    if not isinstance(data, dict):
        raise TrtbenchError(f"{source}: expected a JSON list of numbers or an object of lists")
    parts = {str(k): v for k, v in ((k, _numbers(v, source)) for k, v in data.items()) if v is not None}
    if column is not None:
        if column not in parts:
            raise TrtbenchError(
                f"{source} has no numeric series '{column}'",
                hint=f"choose one of: {', '.join(parts) or '(none)'}",
            )
        return {column: parts[column]}
    if not parts:
        raise TrtbenchError(f"{source}: no key holds a list of numbers")
    return parts


def parts_from_csv(text: str, source: str, column: Optional[str] = None) -> Dict[str, List[float]]:
    """Numeric columns of a CSV (or one number per line). A first row that is not numeric is the
    header; without one, columns are named ``total`` (one column) or ``col1``, ``col2``, ..."""
    rows = [row for row in csv.reader(io.StringIO(text)) if row and any(cell.strip() for cell in row)]
    if not rows:
        raise TrtbenchError(f"{source} is empty")

    def numeric(cell: str) -> bool:
        try:
            float(cell)
            return True
        except ValueError:
            return False

    header = None if all(numeric(c) for c in rows[0] if c.strip()) else [c.strip() for c in rows[0]]
    body = rows[1:] if header else rows
    width = max(len(r) for r in rows)
    names = header or (["total"] if width == 1 else [f"col{i + 1}" for i in range(width)])
    parts: Dict[str, List[float]] = {}
    for index, name in enumerate(names):
        cells = [r[index].strip() for r in body if index < len(r) and r[index].strip()]
        if cells and all(numeric(c) for c in cells):
            parts[name] = [float(c) for c in cells]
    if column is not None:
        if column in parts:
            return {column: parts[column]}
        if column.isdigit() and 1 <= int(column) <= len(names) and names[int(column) - 1] in parts:
            return {names[int(column) - 1]: parts[names[int(column) - 1]]}
        raise TrtbenchError(
            f"{source} has no numeric column '{column}'",
            hint=f"choose one of: {', '.join(parts) or '(none)'} (or a column number from 1)",
        )
    if not parts:
        raise TrtbenchError(f"{source} has no numeric column")
    return parts


def read_series(path: Path, column: Optional[str] = None) -> Dict[str, List[float]]:
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise TrtbenchError(f"series file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TrtbenchError(f"cannot read {path}: {exc}") from None
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise TrtbenchError(f"{path} is not valid JSON: {exc}") from None
        return parts_from_json(data, str(path), column)
    return parts_from_csv(text, str(path), column)


# ---- history ------------------------------------------------------------------------------------
def history_parts(args: argparse.Namespace) -> "tuple[Dict[str, List[float]], Dict[str, Any]]":
    from trtbench.results.store import Store

    if not args.history_model:
        raise TrtbenchError(
            "--history needs --model M (the model name as stored)",
            hint="list stored runs with: trtbench runs",
        )
    db = args.db or env.db_path()
    if not Path(db).exists():
        raise TrtbenchError(f"database {db} does not exist", hint="give the right file with --db FILE")
    backend = None if args.backend == "auto" else args.backend
    with Store(Path(db)) as store:
        records = store.find(
            model=args.history_model, device_name=args.device_name, backend=backend, batch=args.batch
        )
    if not records:
        raise TrtbenchError(
            f"no runs of model '{args.history_model}' in {db}"
            + (f" on device '{args.device_name}'" if args.device_name else ""),
            hint="check the name with: trtbench runs",
        )
    records = list(reversed(records))  # oldest first
    info: Dict[str, Any] = {"db": str(db), "model": args.history_model, "notes": []}
    batches = sorted({r.batch for r in records})
    if len(batches) > 1:
        common = max(batches, key=lambda b: sum(1 for r in records if r.batch == b))
        records = [r for r in records if r.batch == common]
        info["notes"].append(f"runs at batches {batches}; following batch {common} (choose with --batch)")
    devices = sorted({r.device_name or r.device for r in records})
    if len(devices) > 1:
        info["notes"].append(f"runs from several devices {devices}; narrow with --device-name")
    parts: Dict[str, List[float]] = {"total": [float(getattr(r, args.metric)) for r in records]}
    categories = sorted({c for r in records for c in r.categories})
    for category in categories:
        if all(category in r.categories for r in records):
            parts[category] = [float(r.categories[category]) for r in records]
    if args.metric == "tiles_per_ms":
        info["higher_is_better"] = ["total"]
    info.update(
        run_ids=[r.run_id for r in records],
        created=[r.created for r in records],
        batch=records[0].batch,
        metric=args.metric,
    )
    return parts, info


# ---- live loop ----------------------------------------------------------------------------------
def live_parts(args: argparse.Namespace) -> "tuple[Dict[str, List[float]], Dict[str, Any]]":
    from trtbench import backends
    from trtbench.backends.base import LoadOptions
    from trtbench.measure.drift_loop import run_drift
    from trtbench.measure.sampler import Sampler, auto_source
    from trtbench.measure.telemetry import record_checks
    from trtbench.models.source import resolve_model

    if args.alloc == "fragment" and args.device != "cuda":
        raise TrtbenchError(
            "--alloc fragment needs a CUDA GPU", hint="add --device cuda, or use --alloc per-run"
        )
    batch = args.batch or 1024
    model = resolve_model(args.model, args.cache_dir)
    backend, reason = backends.choose(args.backend, model, args.device)
    console.info(
        f"{model.name}: {reason}; {args.loops} loops x {args.iterations} iterations at batch {batch}, "
        f"--alloc {args.alloc}"
    )
    session = backend.load(
        model, LoadOptions(device=args.device, precision=args.precision, threads=args.threads)
    )
    source = None if args.no_telemetry else auto_source(args.device)
    try:
        with Sampler(source, period_s=0.2) as sampler:
            series = run_drift(
                session,
                batch,
                loops=args.loops,
                iterations=args.iterations,
                alloc=args.alloc,
                warmup=args.warmup,
            )
        details = session.info()
    finally:
        session.close()
    telemetry = sampler.result()
    info: Dict[str, Any] = {
        "model": model.name,
        "backend": getattr(session, "backend", args.backend),
        "device": args.device,
        "device_name": details.get("device_name", ""),
        "batch": batch,
        "iterations": args.iterations,
        "loops": args.loops,
        "alloc": args.alloc,
        "notes": list(series.notes),
    }
    if telemetry:
        info["telemetry_checks"] = [_check_dict(c) for c in record_checks(telemetry)]
        info["telemetry"] = telemetry
    return series.parts, info


def _check_dict(check: Any) -> Dict[str, Any]:
    if hasattr(check, "to_dict"):
        return dict(check.to_dict())
    return {k: getattr(check, k, None) for k in ("name", "status", "message", "fix")}


def directions(
    parts: Dict[str, List[float]], wanted: str, higher_is_better: Sequence[str] = ()
) -> Dict[str, str]:
    """Per part: "up", "down" or "both". Parts are times (slower = up) except those named in
    `higher_is_better` (tiles/ms: slower = down)."""
    if wanted == "both":
        return {name: "both" for name in parts}
    rising_is_slower = {name: name not in higher_is_better for name in parts}
    want_up = wanted == "slower"
    return {name: "up" if rising_is_slower[name] == want_up else "down" for name in parts}


# ---- rendering ------------------------------------------------------------------------------------
def sparkline(values: Sequence[float], width: int = 24) -> str:
    """The series in `width` block characters (bucket medians, scaled min..max)."""
    if not values:
        return ""
    n = len(values)
    buckets = [
        sorted(values[i * n // width : (i + 1) * n // width] or [values[min(i * n // width, n - 1)]])
        for i in range(min(width, n))
    ]
    medians = [b[len(b) // 2] for b in buckets]
    lo, hi = min(medians), max(medians)
    if hi == lo:
        return _SPARK[0] * len(medians)
    return "".join(_SPARK[int((m - lo) / (hi - lo) * (len(_SPARK) - 1) + 0.5)] for m in medians)


def render(report: DriftReport, parts: Dict[str, List[float]], info: Dict[str, Any], unit: str) -> None:
    out = console.stdout()
    title = "Drift"
    if info.get("model"):
        title += f": {info['model']}"
    t = console.table(
        title,
        [
            "part",
            "n",
            "median",
            f"slope %/100 {unit}s",
            "trend p",
            "step %",
            f"at {unit}",
            "finding",
            "series",
        ],
        right=["n", "median", f"slope %/100 {unit}s", "trend p", "step %", f"at {unit}"],
    )
    for name, r in report.results.items():
        finding = r.kind if r.drift else ("-" if r.kind == "none" else r.kind)
        t.add_row(
            PART_LABELS.get(name, name),
            str(r.n),
            console.fmt(r.median),
            f"{r.slope_pct_per_100:+.2f}",
            f"{r.trend_p:.2g}",
            f"{r.step_pct:+.1f}",
            "-" if r.step_index is None else str(r.step_index),
            finding,
            sparkline(parts.get(name, [])),
        )
    out.print(t)
    if report.drift:
        out.print(f"DRIFT: {report.verdict}", markup=False)
    elif all(r.kind == "too-short" for r in report.results.values()):
        out.print(f"too few {unit}s to judge (at least {MIN_POINTS} are needed)", markup=False)
    else:
        out.print(
            f"no drift found (threshold {100 * report.threshold:g} %, alpha {report.alpha:g})", markup=False
        )
    for r in report.results.values():
        if r.other_way:
            console.info(f"{PART_LABELS.get(r.name, r.name)}: {r.other_way} goes the other way (not counted)")
    for note in report.notes + list(info.get("notes", [])):
        console.info(note)
    for check in info.get("telemetry_checks", []):
        if check.get("status") != "ok":
            console.warn(f"{check['name']}: {check['message']} ({check.get('fix')})")


def run(args: argparse.Namespace) -> int:
    chosen = sum(bool(x) for x in (args.model, args.series, args.history))
    if chosen != 1:
        raise TrtbenchError(
            "give exactly one of: MODEL, --series FILE, --history",
            hint="e.g. trtbench drift --series loops.json",
        )
    if args.threshold <= 0 or not 0 < args.alpha < 1:
        raise TrtbenchError("--threshold must be > 0 (in %) and --alpha between 0 and 1")
    unit = "loop"
    if args.series:
        parts = read_series(args.series, args.column)
        info: Dict[str, Any] = {"series_file": str(args.series)}
    elif args.history:
        parts, info = history_parts(args)
        unit = "run"
    else:
        parts, info = live_parts(args)
    report = analyse_parts(
        parts,
        threshold=args.threshold / 100.0,
        alpha=args.alpha,
        min_slope_pct_per_100=args.min_slope,
        unit=unit,
        direction=directions(parts, args.direction, higher_is_better=info.get("higher_is_better", ())),
    )
    if args.json:
        payload = {
            **report.to_dict(),
            "unit": unit,
            "source": {k: v for k, v in info.items() if k != "telemetry"},
            "series": parts,
        }
        if "telemetry" in info:
            payload["telemetry"] = info["telemetry"]
        text = json.dumps(payload, indent=2)
        if args.json == "-":
            sys.stdout.write(text + "\n")
        else:
            try:
                Path(args.json).write_text(text + "\n")
            except OSError as exc:
                raise TrtbenchError(f"cannot write {args.json}: {exc.strerror}") from None
    if args.json != "-":
        render(report, parts, info, unit)
    return 1 if report.drift else 0
