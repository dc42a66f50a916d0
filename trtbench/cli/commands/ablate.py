"""`trtbench ablate`: check the profiler's per-category shares by timing the model without each category."""
from __future__ import annotations

import argparse

from trtbench.cli import args as common
from trtbench.errors import TrtbenchError
from trtbench.render import console

NAME = "ablate"
HELP = "check the per-layer shares: time the model with each category's nodes replaced, compare the drop"
EXAMPLE = "trtbench ablate c2d20-f1n128 --backend onnxruntime --batch 64"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", help="an .onnx file, a spec name or .toml, or a .pt checkpoint")
    parser.add_argument("--batch", type=int, default=None,
                        help="batch size (default: the model's own: its fixed batch, 1024 for the study's networks, else 1)")
    common.add_runtime(parser)
    common.add_inputs(parser)
    parser.add_argument("--iterations", type=int, default=20, help="inferences per timed loop (default: 20)")
    parser.add_argument("--loops", type=int, default=3, help="timed loops; the median loop counts (default: 3)")
    parser.add_argument("--warmup", type=int, default=None, help="warm-up inferences (default: at least 3 and 0.5 s)")
    parser.add_argument("--min-share", type=float, default=1.0,
                        help="ablate only categories with at least this profiled share, in %% (default: 1)")
    common.add_json(parser, "the ablation")
    common.add_exports(parser)
    common.add_cache_dir(parser)


def run(args: argparse.Namespace) -> int:
    from trtbench import jsonio
    from trtbench.api.ablate import ablate

    common.at_least(args.batch, 1, "--batch")
    if not 0.0 <= args.min_share <= 100.0:  # also NaN
        raise TrtbenchError(f"--min-share must be from 0 to 100 (%), got {args.min_share:g}")
    result = ablate(args.model, args.batch, args.backend, args.device, iterations=args.iterations, loops=args.loops,
                    warmup=args.warmup, threads=args.threads, min_share=args.min_share / 100.0,
                    inputs=common.parse_inputs(args.input),
                    cache_dir=args.cache_dir, log=lambda line: console.info(f"trtbench: {line}"))
    if args.json:
        jsonio.write_json(result.to_dict(), args.json)
        if args.json == "-":
            return 0
    overhead = "-" if result.overhead is None else f"{100 * result.overhead:.0f} %"
    columns = ["category", "profiled %", "overhead spread %", "ablation %", "ms without it", "nodes replaced"]
    t = console.table(f"{result.model} · {result.backend} on {result.device} · batch {result.batch:,}: "
                      f"shares against ablation (end-to-end {console.fmt(result.end_to_end_ms)} ms, profiler "
                      f"overhead {overhead})", columns, right=columns[1:])
    for row in result.rows:
        t.add_row(row.category, f"{100 * row.profiled_share:.1f}", f"{100 * row.spread_share:.1f}",
                  f"{100 * row.ablation_share:.1f}", console.fmt(row.ablated_ms), str(row.replaced))
    console.show(t)
    for note in result.notes:
        console.info(note)
    console.info("ablation %: the drop in end-to-end time when the category's nodes are replaced by the cheapest node "
                 "writing the same output, no profiler attached")
    return 0
