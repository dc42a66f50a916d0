"""Fidelity: does trtbench measure the same throughput as a bare onnxruntime loop?

Times a plain ``session.run`` loop (what a user writes with no tool) and trtbench's `measure()`
(timing pass only) on the same ONNX model, batch and thread count, in one process. Both sessions are
loaded and warmed once; then one bare loop and one `measure()` loop of the same length alternate in
ABBA order for ``--pairs`` pairs, so changes in machine load hit both alike. Prints both medians in
tiles/ms and the median of the paired ratios; the target is within 5 % (0.95-1.05).

    python3 benchmarks/fidelity_ort.py c1d20-f1n1024 --batch 1024 --threads 2
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any, List

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trtbench.backends import get  # noqa: E402
from trtbench.backends.base import LoadOptions  # noqa: E402
from trtbench.measure.method import measure  # noqa: E402
from trtbench.models.source import onnx_file, resolve_model  # noqa: E402


class BareLoop:
    """What a user writes: an InferenceSession and a timed loop of session.run."""

    def __init__(self, path: Path, batch: int, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.name = self.session.get_inputs()[0].name
        self.x = np.random.default_rng(0).random((batch, 1, 28, 28), dtype=np.float32)
        self.batch = batch

    def loop(self, iterations: int) -> float:
        """tiles/ms of one loop of `iterations` runs, timed as a whole."""
        start = time.perf_counter()
        for _ in range(iterations):
            self.session.run(None, {self.name: self.x})
        return self.batch * iterations / ((time.perf_counter() - start) * 1000.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="c1d20-f1n1024", help="spec name or .onnx file")
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--iterations", type=int, default=20, help="runs per loop")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=8, help="paired loops (bare, trtbench) in ABBA order")
    parser.add_argument("--cache-dir", type=Path, default=Path(".trtbench") / "onnx")
    args = parser.parse_args()

    model = resolve_model(args.model, args.cache_dir)
    bare = BareLoop(onnx_file(model), args.batch, args.threads)
    session: Any = get("onnxruntime").load(model, LoadOptions(device="cpu", threads=args.threads))
    for _ in range(5):  # warm both the same way
        bare.session.run(None, {bare.name: bare.x})
    session.set_batch(args.batch)
    session.run_timed(5)

    bare_tpm: List[float] = []
    tool_tpm: List[float] = []
    for pair in range(args.pairs):
        order = ("bare", "tool") if pair % 2 == 0 else ("tool", "bare")
        for step in order:
            if step == "bare":
                bare_tpm.append(bare.loop(args.iterations))
            else:
                record = measure(session, model, args.batch, iterations=args.iterations, loops=1, warmup=0,
                                 profile=False)
                tool_tpm.append(record.tiles_per_ms)
    session.close()

    ratios = [t / b for t, b in zip(tool_tpm, bare_tpm)]
    ratio = statistics.median(ratios)
    print(f"model {args.model}, batch {args.batch}, {args.threads} threads, "
          f"{args.pairs} pairs of loops x {args.iterations} runs")
    print(f"bare session.run loop : {statistics.median(bare_tpm):8.3f} tiles/ms  "
          f"(loops: {', '.join(f'{v:.2f}' for v in bare_tpm)})")
    print(f"trtbench measure()    : {statistics.median(tool_tpm):8.3f} tiles/ms  "
          f"(loops: {', '.join(f'{v:.2f}' for v in tool_tpm)})")
    print(f"ratio trtbench / bare : {ratio:.3f} (median of pairs: {', '.join(f'{r:.3f}' for r in ratios)}); "
          f"{'within' if abs(ratio - 1) <= 0.05 else 'OUTSIDE'} 5 %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
