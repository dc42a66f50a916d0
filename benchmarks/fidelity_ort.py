"""Fidelity: does trtbench measure the same throughput as a bare onnxruntime loop?

Times a plain ``session.run`` loop (what a user writes with no tool) and trtbench's `measure()`
on the same ONNX model, batch and thread count, in the same process, alternating the two a few
rounds so drift affects both alike. Prints both tiles/ms and their ratio; the target is within
5 % (ratio 0.95-1.05).

    python3 benchmarks/fidelity_ort.py c1d20-f1n1024 --batch 1024 --threads 2
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import List

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trtbench.backends import get  # noqa: E402
from trtbench.backends.base import LoadOptions  # noqa: E402
from trtbench.measure import measure  # noqa: E402
from trtbench.modelsource import onnx_file, resolve_model  # noqa: E402


def bare_loop(path: Path, batch: int, iterations: int, loops: int, threads: int) -> float:
    """tiles/ms of a plain session.run loop: median loop time, after a short warm-up."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    x = np.random.default_rng(0).random((batch, 1, 28, 28), dtype=np.float32)
    for _ in range(5):
        session.run(None, {name: x})
    loop_ms: List[float] = []
    for _ in range(loops):
        start = time.perf_counter()
        for _ in range(iterations):
            session.run(None, {name: x})
        loop_ms.append((time.perf_counter() - start) * 1000.0)
    return batch * iterations / statistics.median(loop_ms)


def trtbench_measure(text: str, batch: int, iterations: int, loops: int, threads: int, cache: Path) -> float:
    model = resolve_model(text, cache)
    session = get("onnxruntime").load(model, LoadOptions(device="cpu", threads=threads))
    try:
        record = measure(session, model, batch, iterations=iterations, loops=loops, warmup=5, profile=False)
    finally:
        session.close()
    return record.tiles_per_ms


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="c1d20-f1n1024", help="spec name or .onnx file")
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--loops", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=4, help="paired rounds of bare and trtbench (ABBA order)")
    parser.add_argument("--cache-dir", type=Path, default=Path(".trtbench") / "onnx")
    args = parser.parse_args()
    path = onnx_file(resolve_model(args.model, args.cache_dir))
    bare, tool = [], []
    for round_ in range(args.rounds):  # ABBA order, so a slow drift hits both alike
        steps = ("bare", "tool") if round_ % 2 == 0 else ("tool", "bare")
        for step in steps:
            if step == "bare":
                bare.append(bare_loop(path, args.batch, args.iterations, args.loops, args.threads))
            else:
                tool.append(trtbench_measure(args.model, args.batch, args.iterations, args.loops, args.threads,
                                             args.cache_dir))
    ratios = [t / b for t, b in zip(tool, bare)]
    print(f"model {args.model}, batch {args.batch}, {args.threads} threads, "
          f"{args.rounds} rounds x {args.loops} loops x {args.iterations} iterations")
    print(f"bare session.run loop : {statistics.median(bare):8.3f} tiles/ms   "
          f"(rounds: {', '.join(f'{v:.3f}' for v in bare)})")
    print(f"trtbench measure()    : {statistics.median(tool):8.3f} tiles/ms   "
          f"(rounds: {', '.join(f'{v:.3f}' for v in tool)})")
    ratio = statistics.median(ratios)
    print(f"ratio trtbench / bare : {ratio:.3f}  median of paired rounds "
          f"({', '.join(f'{r:.3f}' for r in ratios)}); {'within' if abs(ratio - 1) <= 0.05 else 'OUTSIDE'} 5 %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
