"""Fidelity: a bare PyTorch loop on the same configuration as one `trtbench profile --backend torch` run.

Builds the same torch module trtbench's torch backend builds for a spec (``build_model`` with
``DEFAULT_SEED``, then ``with_softmax``, in eval mode), with the same device, dtype, cuDNN and TF32
settings and an input of the same shape and range (uniform [0, 1); trtbench draws its own with
numpy, the values do not change a float network's time), warms it up the way trtbench does by
default (at least ``--warmup`` inferences and ``--warmup-ms`` of inference), then times
``--loops`` x ``--iterations`` inferences under ``torch.inference_mode``: CUDA events around each
iteration on a GPU (read after one synchronisation), ``perf_counter`` on the CPU. Prints one JSON
object: ``ms_per_batch`` (the median iteration) and ``images_per_s`` (batch / ms_per_batch), plus
the mean-based figures trtbench's own formula gives (median loop / iterations) for reference.

    python3 benchmarks/bare_loop.py c1d20-f1n1024 --device cuda --batch 1024 --precision fp16
    python3 benchmarks/bare_loop.py c1d20-f1n128 --device cpu --batch 8 --iterations 5 --loops 2
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trtbench.models.netspec import resolve_spec  # noqa: E402
from trtbench.models.torchnet import DEFAULT_SEED, build_model, with_softmax  # noqa: E402


def time_iterations(torch: Any, module: Any, x: Any, device: str, iterations: int) -> List[float]:
    """Per-iteration ms of `iterations` forward passes (no profiler)."""
    if device == "cuda":
        starts = [torch.cuda.Event(enable_timing=True) for _ in range(iterations)]
        ends = [torch.cuda.Event(enable_timing=True) for _ in range(iterations)]
        torch.cuda.synchronize()
        for start, end in zip(starts, ends):
            start.record()
            module(x)
            end.record()
        torch.cuda.synchronize()
        return [float(start.elapsed_time(end)) for start, end in zip(starts, ends)]
    times = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        module(x)
        times.append((time.perf_counter() - t0) * 1000.0)
    return times


def run(args: argparse.Namespace) -> Dict[str, Any]:
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("bare_loop: --device cuda, but this torch sees no CUDA GPU")
    if args.device == "cpu" and args.precision != "fp32":
        raise SystemExit("bare_loop: --precision fp16/tf32 needs --device cuda (as in trtbench)")
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "cuda":  # the torch backend's settings (trtbench/backends/torch/session.py)
        torch.backends.cudnn.benchmark = True
        tf32 = args.precision == "tf32"
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
    dtype = torch.float16 if args.precision == "fp16" else torch.float32

    spec = resolve_spec(args.model)
    module = with_softmax(build_model(spec, seed=DEFAULT_SEED)).eval().to(device=args.device, dtype=dtype)
    shape = (spec.input_channels, spec.input_size, spec.input_size)
    generator = torch.Generator().manual_seed(0)
    x = torch.rand((args.batch, *shape), generator=generator).to(args.device, dtype)

    with torch.inference_mode():
        warm_count, warm_ms = 0, 0.0
        while warm_count < args.warmup or warm_ms < args.warmup_ms:
            warm_ms += time_iterations(torch, module, x, args.device, 1)[0]
            warm_count += 1
            if warm_count >= 10000:
                break
        loops = [time_iterations(torch, module, x, args.device, args.iterations) for _ in range(args.loops)]

    every = [t for loop in loops for t in loop]
    ms = statistics.median(every)
    loop_ms = [sum(loop) for loop in loops]
    mean_ms = statistics.median(loop_ms) / args.iterations  # trtbench's end_to_end_ms formula
    device_name = torch.cuda.get_device_name() if args.device == "cuda" else ""
    return {
        "tool": "bare_loop",
        "model": spec.name,
        "device": args.device,
        "device_name": device_name,
        "precision": args.precision,
        "batch": args.batch,
        "iterations": args.iterations,
        "loops": args.loops,
        "warmup": warm_count,
        "torch": torch.__version__,
        "ms_per_batch": ms,
        "images_per_s": args.batch * 1000.0 / ms,
        "mean_ms_per_batch": mean_ms,
        "mean_images_per_s": args.batch * 1000.0 / mean_ms,
        "min_ms": min(every),
        "max_ms": max(every),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="c1d20-f1n1024",
                        help="spec name (c3d20-f3n1024) or .toml")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cuda")
    parser.add_argument("--precision", choices=("fp32", "fp16", "tf32"), default="fp32")
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--iterations", type=int, default=20, help="inferences per timed loop")
    parser.add_argument("--loops", type=int, default=3, help="timed loops")
    parser.add_argument("--warmup", type=int, default=3, help="at least this many warm-up inferences")
    parser.add_argument("--warmup-ms", type=float, default=500.0, help="and at least this much warm-up time")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (default: torch's own)")
    parser.add_argument("--json", type=Path, default=None, help="also write the result to this file")
    args = parser.parse_args()
    if args.batch < 1 or args.iterations < 1 or args.loops < 1:
        parser.error("--batch, --iterations and --loops must be at least 1")
    result = run(args)
    text = json.dumps(result, indent=2)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
