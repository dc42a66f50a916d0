"""`trtbench profile`: tiles/ms of one model at one or more batch sizes, and where the time goes."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import List, Optional

from trtbench import env
from trtbench.errors import TrtbenchError
from trtbench.render import console

NAME = "profile"
HELP = "measure a model's throughput (tiles/ms) and per-layer time on a backend, and store the run"
EXAMPLE = "trtbench profile c1d20-f1n1024 --backend onnxruntime --batch 64,1024"

BACKEND_CHOICES = ("auto", "onnxruntime", "torch", "tensorrt", "trtexec")
DEFAULT_CACHE = Path(".trtbench") / "onnx"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL",
                        help="an .onnx file, a .pt checkpoint, a spec name (c3d20-f3n1024) or .toml, or a .plan")
    parser.add_argument("--batch", default="1024", help="batch size, or several separated by commas (default: 1024)")
    parser.add_argument("--backend", default="auto", metavar="{" + ",".join(BACKEND_CHOICES) + "}",
                        help="auto: tensorrt when installed, else onnxruntime on the CPU (default: auto)")
    parser.add_argument("--device", default=None, choices=("cpu", "cuda"),
                        help="default: cuda for tensorrt/trtexec, cpu otherwise")
    parser.add_argument("--precision", default="fp32", choices=("fp32", "fp16", "tf32"), help="default: fp32")
    parser.add_argument("--iterations", type=int, default=20, help="inferences per timed loop (default: 20)")
    parser.add_argument("--loops", type=int, default=3, help="timed loops; the median loop counts (default: 3)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="warm-up inferences (default: at least 3 and 0.5 s of inference)")
    parser.add_argument("--profile-iterations", type=int, default=None,
                        help="inferences averaged in the profiling pass (default: --iterations)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for the backend (default: its own)")
    parser.add_argument("--cuda-graph", action="store_true", help="torch on CUDA: replay the batch as a CUDA graph")
    parser.add_argument("--channels-last", action="store_true", help="torch: NHWC memory format")
    parser.add_argument("--no-profile", action="store_true", help="skip the per-layer profiling pass")
    parser.add_argument("--json", metavar="FILE|-", help="write the run record(s) as JSON ('-' for stdout)")
    parser.add_argument("--db", type=Path, default=None, help="database file (default: TRTBENCH_DB or ./trtbench.db)")
    parser.add_argument("--no-db", action="store_true", help="do not store the runs in the database")
    parser.add_argument("--export-profile", metavar="FILE", type=Path, default=None,
                        help="also write per-layer times in trtexec's --exportProfile shape "
                        "(several batches: FILE.b<batch>.json)")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE,
                        help=f"where on-the-fly ONNX exports go (default: {DEFAULT_CACHE})")
    parser.add_argument("--verbose", action="store_true", help="show every layer and the names that fell to 'other'")


def parse_batches(text: str) -> List[int]:
    """``"1024"`` or ``"16,32,64"`` → batch sizes; TrtbenchError for anything else."""
    batches = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            value = int(part)
        except ValueError:
            raise TrtbenchError(f"--batch {text}: '{part}' is not a whole number",
                                hint="use e.g. --batch 1024 or --batch 16,32,64") from None
        if value < 1:
            raise TrtbenchError(f"--batch {text}: batch sizes must be at least 1")
        batches.append(value)
    if not batches:
        raise TrtbenchError("--batch needs at least one batch size", hint="use e.g. --batch 1024")
    return batches


def _profile_path(base: Path, batch: int, several: bool) -> Path:
    return base.with_name(f"{base.stem}.b{batch}{base.suffix or '.json'}") if several else base


def _check_counts(args: argparse.Namespace) -> None:
    for flag, value in (("--iterations", args.iterations), ("--loops", args.loops),
                        ("--profile-iterations", args.profile_iterations), ("--threads", args.threads)):
        if value is not None and value < 1:
            raise TrtbenchError(f"{flag} must be at least 1, got {value}")
    if args.export_profile and args.no_profile:
        raise TrtbenchError("--export-profile writes per-layer times, which --no-profile skips",
                            hint="drop one of the two")
    if args.warmup is not None and args.warmup < 0:
        raise TrtbenchError(f"--warmup must be 0 or more, got {args.warmup}")


def run(args: argparse.Namespace) -> int:
    from trtbench.backends import choose
    from trtbench.backends.base import LoadOptions
    from trtbench.measure.method import measure
    from trtbench.models.source import resolve_model
    from trtbench.render.tables import emit_json, print_records
    from trtbench.results.record import to_trtexec_profile
    from trtbench.results.store import Store

    batches = parse_batches(args.batch)
    _check_counts(args)
    model = resolve_model(args.model, args.cache_dir)
    backend, reason = choose(args.backend, model, args.device)
    console.info(f"trtbench: {reason}")
    device = args.device or ("cuda" if backend.name in ("tensorrt", "trtexec") else "cpu")
    options = LoadOptions(device=device, precision=args.precision, threads=args.threads,
                          cuda_graph=args.cuda_graph, channels_last=args.channels_last)
    store: Optional[Store] = None
    if not args.no_db:
        store = Store(args.db or env.db_path())
        store.open()  # fail before measuring if the database cannot be written
    records = []
    session = backend.load(model, options)
    try:
        for batch in batches:
            console.info(f"trtbench: measuring {model.name} at batch {batch:,} on {backend.name} ({device})")
            record = measure(session, model, batch, iterations=args.iterations, loops=args.loops,
                             warmup=args.warmup, profile=not args.no_profile,
                             profile_iterations=args.profile_iterations)
            if store is not None:
                store.add([record])  # one transaction per finished batch: never a half-written run
            records.append(record)
    finally:
        session.close()
        if store is not None:
            store.close()
    if args.export_profile:
        for record in records:
            path = _profile_path(args.export_profile, record.batch, len(records) > 1)
            try:
                path.write_text(json.dumps(to_trtexec_profile(record), indent=2) + "\n")
            except OSError as exc:
                raise TrtbenchError(f"cannot write {path}: {exc.strerror}") from None
    if args.json:
        emit_json(records, args.json)
    if args.json != "-":
        print_records(records, verbose=args.verbose)
    if args.verbose:
        for record in records:
            for layer in record.layers:
                if layer.category == "other":
                    console.info(f"batch {record.batch}: '{layer.name}' ({layer.type or '?'}) fell to 'other'")
    if store is not None:
        console.info(f"trtbench: stored {len(records)} run(s) in {store.path}")
    return 0
