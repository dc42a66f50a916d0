"""Does a figure survive a rerun? Run one `trtbench profile` command several times and compare.

    python benchmarks/rerun_check.py [--runs 3] [--target 3] -- c1d20-f1n1024 --batch 64,1024

(the arguments after ``--`` go to `trtbench profile`; the default is the README's main job).
For each run and batch it prints the median throughput, its 95 % interval, the interval's
half-width, what ended the sampling and the run's wall time; then, per batch, whether every
run's interval overlaps every other's (and whether each median lies inside the others') and whether every
half-width is within ``--target`` %. Exit status 0 when both hold for every batch, 1 otherwise.
A developer script (it measures), not a test.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

README_JOB = ["c1d20-f1n1024", "--batch", "64,1024"]


def _run(args: List[str], folder: Path, index: int) -> "tuple[List[dict], float]":
    out = folder / f"run{index}.json"
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "trtbench", "profile", *args, "--json", str(out), "--no-db"],
                          capture_output=True, text=True)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"run {index} failed: {proc.stderr.strip()[-500:]}")
    data = json.loads(out.read_text())
    return (data if isinstance(data, list) else [data]), seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--target", type=float, default=3.0, help="largest half-width allowed, in %% (default 3)")
    parser.add_argument("profile_args", nargs="*", help="after --: arguments for trtbench profile")
    args = parser.parse_args()
    profile_args = args.profile_args or README_JOB
    by_batch: Dict[int, List[dict]] = {}
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(1, args.runs + 1):
            records, seconds = _run(profile_args, Path(tmp), index)
            for record in records:
                low, high = (record.get("intervals") or {}).get("images_per_s") or [None, None]
                rate = record["images_per_s"]
                width = max(rate - low, high - rate) / rate if low else float("inf")
                sampling = record.get("sampling") or {}
                by_batch.setdefault(record["batch"], []).append({"rate": rate, "low": low, "high": high, "width": width})
                print(f"run {index} batch {record['batch']:>5}: {rate:>10,.0f} images/s, 95 % interval "
                      f"{low:,.0f}-{high:,.0f} (±{100 * width:.1f} %), {record['loops']} loops x "
                      f"{record['iterations']}, ended by {sampling.get('ended_by')}, verdict "
                      f"{(record.get('validity') or {}).get('verdict')}")
            print(f"run {index}: {seconds:.1f} s wall")
            ok = ok and seconds < 20.0
    for batch, runs in sorted(by_batch.items()):
        overlap = all(run["low"] <= other["high"] and other["low"] <= run["high"]
                      for run in runs for other in runs)
        inside = all(other["low"] <= run["rate"] <= other["high"] for run in runs for other in runs)
        tight = all(run["width"] <= args.target / 100.0 for run in runs)
        spread = (max(r["rate"] for r in runs) / min(r["rate"] for r in runs) - 1.0) * 100.0
        print(f"batch {batch}: intervals {'overlap' if overlap else 'DO NOT overlap'}; each median inside every "
              f"other run's interval: {'yes' if inside else 'no'} (max/min - 1 = {spread:.1f} %); "
              f"every interval within ±{args.target:g} %: {'yes' if tight else 'NO'}")
        ok = ok and overlap and tight
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
