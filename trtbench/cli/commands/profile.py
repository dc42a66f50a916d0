"""`trtbench profile`: images/s of one model at one or more batch sizes, and where the time goes."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional

from trtbench.cli import args as common
from trtbench.errors import Interrupted, PartlyDone, TrtbenchError
from trtbench.render import console

NAME = "profile"
HELP = "measure a model's throughput (images/s; tiles/ms for the study's tiles) and per-layer time, and store the run"
EXAMPLE = "trtbench profile c1d20-f1n1024 --backend onnxruntime --batch 64,1024"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL",
                        help="an .onnx file, a .pt checkpoint, a spec name (c3d20-f3n1024) or .toml, or a .plan")
    parser.add_argument("--batch", default=None,
                        help="batch size, or several separated by commas (default: the model's own: the batch "
                        "an ONNX export fixed, 1024 for the study's networks, else 1)")
    common.add_inputs(parser)
    common.add_runtime(parser)
    parser.add_argument("--iterations", type=int, default=None,
                        help="inferences per timed loop (default: as many as take about 0.1 s)")
    parser.add_argument("--loops", type=int, default=None,
                        help="timed loops; the median loop counts (default: adaptive, until the median's 95 %% "
                        "interval is within --target, or --budget is spent)")
    parser.add_argument("--target", type=float, default=2.0, metavar="PCT",
                        help="adaptive sampling stops once the median is known to within ±PCT %% (default: 2)")
    parser.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                        help="adaptive sampling stops after this many seconds of timing per batch (default: 8, "
                        "or TRTBENCH_BUDGET)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="warm-up inferences (default: at least 3 and 0.5 s of inference)")
    parser.add_argument("--profile-iterations", type=int, default=None,
                        help="inferences averaged in the profiling pass (default: --iterations, more for a short "
                        "inference, to cover 0.3 s, at most 200)")
    parser.add_argument("--cuda-graph", action="store_true", help="torch on CUDA: replay the batch as a CUDA graph")
    parser.add_argument("--channels-last", action="store_true", help="torch: NHWC memory format")
    parser.add_argument("--no-profile", action="store_true", help="skip the per-layer profiling pass")
    common.add_json(parser, "the run record(s)")
    common.add_exports(parser)
    common.add_db(parser, "database to store the runs in")
    parser.add_argument("--no-db", action="store_true", help="do not store the runs in the database")
    parser.add_argument("--export-profile", metavar="FILE", type=Path, default=None,
                        help="also write per-layer times in trtexec's --exportProfile shape "
                        "(several batches: FILE.b<batch>.json)")
    common.add_cache_dir(parser)


def _profile_path(base: Path, batch: int, several: bool) -> Path:
    return base.with_name(f"{base.stem}.b{batch}{base.suffix or '.json'}") if several else base


def run(args: argparse.Namespace) -> int:
    from trtbench import jsonio
    from trtbench.api.profile import profile
    from trtbench.render.tables import print_records, report_unknown_layers
    from trtbench.results.record import to_trtexec_profile, write_records

    batches = common.parse_batches(args.batch) if args.batch is not None else None
    inputs = common.parse_inputs(args.input)
    if args.export_profile and args.no_profile:
        raise TrtbenchError("--export-profile writes per-layer times, which --no-profile skips",
                            hint="drop one of the two")
    db = None if args.no_db else common.db_path(args)
    failed: Optional[BaseException] = None
    try:
        records = profile(args.model, batches, backend=args.backend, device=args.device, precision=args.precision,
                          db=db, iterations=args.iterations, loops=args.loops, warmup=args.warmup,
                          target=args.target / 100.0, budget_s=args.budget,
                          profile_iterations=args.profile_iterations, layers=not args.no_profile,
                          threads=args.threads, cuda_graph=args.cuda_graph, channels_last=args.channels_last,
                          inputs=inputs, cache_dir=args.cache_dir, log=lambda line: console.info(f"trtbench: {line}"))
    except PartlyDone as exc:  # show and save the batches that were measured, then report the others
        records, failed = exc.done, exc
    except Interrupted as exc:  # Ctrl-C: the measured batches go to every output, then stop
        records, failed = exc.done, exc
    if args.export_profile:
        for record in records:
            path = _profile_path(args.export_profile, record.batch, len(records) > 1)
            jsonio.write_json(to_trtexec_profile(record), path, what="--export-profile")
    if args.json:
        write_records(records, args.json)
    if args.json != "-":
        print_records(records, verbose=args.verbose)
    report_unknown_layers(records)
    if db is not None:
        console.info(f"trtbench: stored {len(records)} run(s) in {db}")
    if failed is not None:
        raise failed
    return 0
