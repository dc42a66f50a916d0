"""`trtbench drift`: does each loop get slower, and which part (allocation, compute, transfer)?

Three sources of a series: a live loop on a model (``MODEL``), a saved series (``--series FILE``),
or the database's history of one model on one device (``--history``). Exit status 1 when drift is
found, 0 when not (usable in CI), 2 on a user error.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from trtbench.analysis.drift import MIN_POINTS, PART_LABELS, DriftReport
from trtbench.cli import args as common
from trtbench.errors import Interrupted, TrtbenchError
from trtbench.render import console

NAME = "drift"
HELP = "detect slowdown across loops (trend and step tests) and say which part drifted"
EXAMPLE = "trtbench drift c1d20-f1n128 --loops 200 --alloc per-run --batch 64"
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
    common.add_inputs(run)
    run.add_argument(
        "--batch", type=int, default=None,
        help="items per inference (default: the model's own: an ONNX export's fixed batch, 1024 for the study's "
        "networks, else 1; with --history: all)"
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
    common.add_cache_dir(run)
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
    common.add_json(parser, "the verdict, figures and series")
    common.add_exports(parser)
    common.add_db(parser, "the database: --history reads it, a live loop is stored in it")
    parser.add_argument("--no-db", action="store_true", help="do not store a live loop's drift run")


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


def _value_unit(part: str, info: Dict[str, Any]) -> str:
    """The unit of a part's values: ms per loop or run, except a history of tiles/ms."""
    if info.get("metric") == "tiles_per_ms" and part == "total":
        return "tiles/ms"
    return "ms"


def render(report: DriftReport, parts: Dict[str, List[float]], info: Dict[str, Any], unit: str) -> None:
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
            f"{console.fmt(r.median)} {_value_unit(name, info)}",
            f"{r.slope_pct_per_100:+.2f}",
            f"{r.trend_p:.2g}",
            f"{r.step_pct:+.1f}",
            "-" if r.step_index is None else str(r.step_index),
            finding,
            sparkline(parts.get(name, [])),
        )
    console.show(t)
    if report.drift:
        console.line(f"DRIFT: {report.verdict}")
    elif all(r.kind == "too-short" for r in report.results.values()):
        console.line(f"too few {unit}s to judge (at least {MIN_POINTS} are needed)")
    else:
        console.line(f"no drift found (threshold {100 * report.threshold:g} %, alpha {report.alpha:g})")
    for r in report.results.values():
        if r.other_way:
            console.info(f"{PART_LABELS.get(r.name, r.name)}: {r.other_way} goes the other way (not counted)")
    for note in report.notes + list(info.get("notes", [])):
        console.info(note)
    for check in info.get("telemetry_checks", []):
        if check.get("status") != "ok":
            console.warn(f"{check['name']}: {check['message']} ({check.get('fix')})")


def run(args: argparse.Namespace) -> int:
    from trtbench.api.drift import drift, drift_history, drift_series

    chosen = sum(bool(x) for x in (args.model, args.series, args.history))
    if chosen != 1:
        raise TrtbenchError(
            "give exactly one of: MODEL, --series FILE, --history",
            hint="e.g. trtbench drift --series loops.json",
        )
    tests = dict(threshold=args.threshold, alpha=args.alpha, direction=args.direction, min_slope=args.min_slope)
    if args.series:
        result = drift_series(args.series, args.column, **tests)
    elif args.history:
        if not args.history_model:
            raise TrtbenchError("--history needs --model M (the model name as stored)",
                                hint="list stored runs with: trtbench runs")
        result = drift_history(args.history_model, common.db_path(args), device_name=args.device_name,
                               backend=None if args.backend == "auto" else args.backend, batch=args.batch,
                               metric=args.metric, **tests)
    else:
        interrupted: Optional[Interrupted] = None
        try:
            result = drift(args.model, batch=args.batch, inputs=common.parse_inputs(args.input), loops=args.loops,
                           iterations=args.iterations, warmup=args.warmup, alloc=args.alloc, backend=args.backend,
                           device=args.device, precision=args.precision, threads=args.threads,
                           telemetry=not args.no_telemetry, cache_dir=args.cache_dir,
                           db=None if args.no_db else common.db_path(args), log=console.info, **tests)
        except Interrupted as exc:  # Ctrl-C: the loops that finished were judged and stored; write them out
            result, interrupted = exc.done[0], exc
        if result.record is not None and not args.no_db:
            console.info(f"stored drift run {result.record.run_id} in {common.db_path(args)}")
        if interrupted is not None:
            _write(result, args)
            raise interrupted
    _write(result, args)
    return 1 if result.drift else 0


def _write(result: Any, args: argparse.Namespace) -> None:
    from trtbench import jsonio

    if args.json:
        jsonio.write_json(result.to_dict(), args.json)
    if args.json != "-":
        render(result.report, result.parts, result.source, result.unit)
