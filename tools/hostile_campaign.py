"""A campaign of bad command lines against every subcommand (a developer script, not a test).

Each case is a valid base command with one option's value replaced by a hostile one (zero,
negative, huge, NaN, text for a number, a FIFO, a folder, a missing or binary file, a name with
shell syntax). The contract: exit 0, exit 1 for a finding (drift, runs check), or exit 2 with
exactly one ``trtbench: error:`` line; never a traceback, never a hang.

    python tools/hostile_campaign.py --cases 200 --seed 7 [--timeout 60]

Prints one line per failing case and a summary (cases, passed, tracebacks, hangs, other).
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Tuple

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
FIXTURE = SHARED / "fixtures" / "trtexec" / "NVIDIA__TensorRT__trex-A100-fp32-resnet.onnx.engine.profile.json"

# base command lines that succeed, and the options whose values are replaced
BASES: Dict[str, List[str]] = {
    "profile": ["profile", "c1d20-f1n128", "--backend", "onnxruntime", "--batch", "2", "--iterations", "2",
                "--loops", "1", "--no-db"],
    "drift": ["drift", "c1d20-f1n128", "--backend", "onnxruntime", "--batch", "2", "--loops", "3", "--no-db"],
    "ablate": ["ablate", "c1d20-f1n128", "--batch", "2", "--iterations", "2", "--loops", "1"],
    "build": ["build", "c1d20-f1n128", "--target", "tx1", "--emit-script", "s.sh"],
    "import-trtexec": ["import-trtexec", "--profile", str(FIXTURE), "--batch", "32", "--no-db"],
    "runs": ["runs", "--db", "runs.db", "--limit", "5"],
    "show": ["show", "run.json"],
    "compare": ["compare", "run.json", "run.json"],
    "targets": ["targets", "show", "tx1"],
    "predict": ["predict", "c1d20-f1n128", "--target", "tx1", "--db", "runs.db"],
    "export": ["export", "c1d20-f1n128", "--out", "m.onnx"],
    "telemetry": ["telemetry", "parse", "tegra.log"],
    "models": ["models"],
}
OPTIONS: Dict[str, List[str]] = {
    "profile": ["--batch", "--iterations", "--loops", "--warmup", "--threads", "--json", "--input", "MODEL"],
    "drift": ["--batch", "--loops", "--json", "MODEL"],
    "ablate": ["--batch", "--iterations", "--loops", "MODEL"],
    "build": ["--batch-range", "--workspace", "--dla-core", "--trt-version", "--precision", "--emit-script", "MODEL"],
    "import-trtexec": ["--profile", "--batch", "--target", "--log", "--times", "--layers"],
    "runs": ["--db", "--limit", "--since", "--batch"],
    "show": ["RUN"],
    "compare": ["RUN"],
    "targets": ["NAME"],
    "predict": ["--db", "MODEL"],
    "export": ["--out", "MODEL"],
    "telemetry": ["FILE"],
    "models": ["--json"],
}
VALUES = ["0", "-1", "1000000000", "1e400", "nan", "inf", "abc", "", "x" * 5000, "$(touch PWNED)",
          "../../../../tmp/escape", "FIFO", "DIR", "MISSING", "BINARY", "NOTUTF8", "EMPTYJSON", "NESTED"]


def _materialise(value: str, work: Path) -> str:
    files = {"FIFO": "fifo", "DIR": "folder", "MISSING": "missing.json", "BINARY": "binary.json",
             "NOTUTF8": "latin1.toml", "EMPTYJSON": "empty.json", "NESTED": "nested.json"}
    return str(work / files[value]) if value in files else value


def _prepare(work: Path) -> None:
    os.mkfifo(work / "fifo")
    (work / "folder").mkdir()
    (work / "binary.json").write_bytes(bytes(range(256)) * 16)
    (work / "latin1.toml").write_bytes("name = \"caf\xe9\"\n".encode("latin-1"))
    (work / "empty.json").write_text("[]")
    (work / "nested.json").write_text("[" * 100000 + "]" * 100000)
    (work / "tegra.log").write_text("RAM 1000/4000MB GR3D_FREQ 50% CPU@40C\n")
    subprocess.run([sys.executable, "-m", "trtbench", "import-trtexec", "--profile", str(FIXTURE), "--batch", "32",
                    "--db", "runs.db", "--json", "run.json"], cwd=str(work), capture_output=True, timeout=120)


def _case(rng: random.Random) -> Tuple[str, str, str]:
    command = rng.choice(sorted(BASES))
    return command, rng.choice(OPTIONS[command]), rng.choice(VALUES)


def _argv(command: str, option: str, value: str, work: Path) -> List[str]:
    argv = list(BASES[command])
    real = _materialise(value, work)
    if option.isupper():  # the positional: the first one after the subcommand (or after `show`/`parse`)
        at = 2 if command in ("targets", "telemetry") else 1
        argv[at] = real
    elif option in argv:
        argv[argv.index(option) + 1] = real
    else:
        argv += [option, real]
    return argv


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    counts = {"passed": 0, "traceback": 0, "hang": 0, "other": 0, "injection": 0}
    seen = set()
    with tempfile.TemporaryDirectory(prefix="trtbench-campaign-") as tmp:
        work = Path(tmp)
        _prepare(work)
        env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "120"}
        tried = 0
        while tried < args.cases:
            case = _case(rng)
            if case in seen:
                continue
            seen.add(case)
            tried += 1
            argv = _argv(*case, work)
            shown = tuple(v if len(v) < 60 else v[:20] + f"...({len(v)} chars)" for v in case)
            escape = Path("/tmp/escape")
            existed = escape.exists()
            try:
                res = subprocess.run([sys.executable, "-m", "trtbench", *argv], cwd=str(work), env=env,
                                     capture_output=True, text=True, timeout=args.timeout)
            except subprocess.TimeoutExpired:
                counts["hang"] += 1
                print(f"HANG      {shown}")
                continue
            # trtbench's own errors, and argparse's (usage lines, then "trtbench CMD: error: ...")
            errors = [line for line in res.stderr.splitlines()
                      if line.startswith("trtbench") and ": error:" in line.split(" ", 2)[-1][:40] + line[:40]]
            pwned = [p for p in work.rglob("PWNED*")]
            named_output = case[1] in ("--out", "--json", "--emit-script", "--db")  # a path the user chose
            if pwned or (escape.exists() and not existed and not named_output):
                counts["injection"] += 1
                print(f"INJECTION {shown}: {pwned or escape}")
                for p in pwned:
                    p.unlink()
            if "Traceback" in res.stderr:
                counts["traceback"] += 1
                print(f"TRACEBACK {shown}: {res.stderr.strip().splitlines()[-1][:160]}")
            elif res.returncode in (0, 1) or (res.returncode == 2 and len(errors) == 1):
                counts["passed"] += 1
            else:
                counts["other"] += 1
                print(f"OTHER     {shown}: exit {res.returncode}, {len(errors)} error lines: {res.stderr[-160:]!r}")
    print(f"cases {tried}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0 if counts["passed"] == tried and not counts["injection"] else 1


if __name__ == "__main__":
    sys.exit(main())
