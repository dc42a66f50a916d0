"""Profile every ONNX model in a folder on onnxruntime and torch (CPU) and print one Markdown table:
model, batch, images/s, the category split and the per-layer sum over end-to-end, per backend;
then how much of each backend's layer time pairs with the other's.

    python3 benchmarks/corpus_table.py ../shared/fixtures/models [--batch N] [--threads 1] [--json out.json]

A benchmark script, not a test: its figures depend on the machine.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

CATEGORIES = ("conv", "pool", "fc", "elementwise", "reformat", "other")


def split(record: Any) -> str:
    total = sum(record.categories.values()) or 1.0
    return " ".join(f"{c} {100 * record.categories.get(c, 0.0) / total:.0f}" for c in CATEGORIES
                    if record.categories.get(c, 0.0) / total >= 0.005)


def main(argv: Optional[List[str]] = None) -> int:
    import trtbench
    from trtbench.analysis.compare import compare

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--batch", type=int, default=None, help="default: each model's own")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--loops", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="also write every record")
    args = parser.parse_args(argv)
    rows: List[str] = ["| model | batch | backend | images/s | ms/batch | category split (% of layer time) | "
                       "layers / end-to-end | paired |", "|---|---|---|---|---|---|---|---|"]
    records: List[Dict[str, Any]] = []
    for path in sorted(args.folder.glob("*.onnx")):
        runs = {}
        for backend in ("onnxruntime", "torch"):
            try:
                runs[backend] = trtbench.profile(str(path), batch=args.batch, backend=backend, device="cpu",
                                                 threads=args.threads, iterations=args.iterations,
                                                 loops=args.loops, telemetry=False)[0]
            except trtbench.TrtbenchError as exc:
                rows.append(f"| {path.stem} | - | {backend} | failed: {exc} | | | | |")
        paired = {}
        if len(runs) == 2:
            a_share, b_share = compare(runs["onnxruntime"], runs["torch"]).paired_share()
            paired = {"onnxruntime": a_share, "torch": b_share}
        for backend, record in runs.items():
            ratio = 1 + record.overhead if record.overhead is not None else float("nan")
            share = paired.get(backend)
            rows.append(f"| {path.stem} | {record.batch} | {backend} | {record.images_per_s:,.1f} | "
                        f"{record.end_to_end_ms:.3g} | {split(record)} | {ratio:.2f} | "
                        f"{'-' if share is None else f'{100 * share:.0f} %'} |")
            records.append(record.to_dict())
    print("\n".join(rows))
    if args.json:
        args.json.write_text(json.dumps(records, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
