"""Faults and interruptions against the real command line (a developer script, not a test).

Each scenario runs ``python -m trtbench`` in a subprocess, does something bad to it or to its
files, and checks the contract of issue 14: nothing lost, the database intact, one
``trtbench: error:`` line (exit 2) and never a traceback.

  a  kill -9 of ``profile --batch 2,4,8,16 --db X --json Y`` at random moments: ``runs check`` says
     sound, every stored run is whole (JSON parses, each batch at most once), no temporary file or
     unloadable .onnx left in the cache or the output folder, and the next run works.
  b  Ctrl-C (SIGINT to the process group) during ``profile``, ``sweep`` and ``drift`` with ``--json``
     and ``--db``: exit 130, the JSON holds exactly what the database holds, and a sweep resumes.
  c  a full disk, emulated with RLIMIT_FSIZE in the child (Python ignores SIGXFSZ, so a write past
     the limit fails with EFBIG): one error line, exit 2, the database as it was, no partial file.
  d  a read-only database (file 0444, folder 0555; the child runs as uid 65534, or as root without
     the capabilities that override permission bits, through setpriv): refused before measuring,
     in one line, the file unchanged; reading it still works.
  e  3 and 6 concurrent writers (``profile`` and ``import-trtexec``) on one new database: all exit 0,
     no "database is locked", every reported run stored, ``runs check`` sound.
  f  a damaged database (bytes overwritten mid-file, a truncated file, a damaged header, one row's
     JSON damaged): reads list the sound rows with a warning or refuse in one line, never modify the
     file; ``runs check --repair`` quarantines bad rows; a writer refuses a damaged file.

    python tools/fault_campaign.py [--seed 7] [--repeat 1] [--kills 5] [--only a,b,...]
                                   [--timeout 120] [--keep]

Prints one line per scenario (PASS/FAIL/SKIP, what happened, and for a FAIL the command lines to
reproduce it, run in the folder named; --keep keeps the folders), then a summary. Exit status 0
when nothing failed. Takes about 3 to 5 minutes on two cores.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import resource
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
FIXTURE = SHARED / "fixtures" / "trtexec" / "NVIDIA__TensorRT__trex-A100-fp32-resnet.onnx.engine.profile.json"
MODEL = "c1d20-f1n128"
BATCHES = "2,4,8,16"
# one thread, tiny work: each batch still warms up for 0.5 s (the default), time enough to interrupt it
MEASURE = ["--backend", "onnxruntime", "--iterations", "2", "--loops", "1", "--threads", "1"]
# the quickest measurement: where the fault is not in the measuring
QUICK = MEASURE + ["--warmup", "3", "--profile-iterations", "2"]
KIB = 1024
LIMITS = (0, 4 * KIB, 64 * KIB, KIB * KIB)
TINY_SWEEP = """kind = "sweep"
name = "tiny"
description = "fault campaign: six light points"

[defaults]
conv_layers = 1
depth = 20
fc_layers = 1
neurons = 128
batch = 2

[[group]]
name = "fc"
title = "fc layers by batch"
fc_layers = [1, 2]
batch = [2, 4, 8]
"""
SWEEP_POINTS = 6
TEMPORARY = re.compile(r"\.tmp|\.trtbench-probe-")  # what an atomic write or a writability probe leaves
ONE_LINE = "trtbench: error:"
# what profile, drift and sweep print once the database passed its checks and measuring begins
STARTED = r"measuring .* at batch|loops x \d+ iterations|; results in |^\[\d+/"
# capabilities that let root write through permission bits; without them root obeys 0444 and 0555
ROOT_OVERRIDES = "-dac_override,-dac_read_search,-fowner,-linux_immutable"


# ---- running the command line ------------------------------------------------------------------------
@dataclass
class Ran:
    """One finished command: its argv (after ``trtbench``), where, how it ended, what it said."""

    argv: List[str]
    cwd: Path
    rc: Optional[int]  # None: it ran past the timeout and was killed
    stderr: str
    stdout: str = ""
    seconds: float = 0.0
    fsize: Optional[int] = None
    prefix: Sequence[str] = ()

    def repro(self) -> str:
        """A shell line that runs the command again (bash: ``ulimit -f`` counts KiB)."""
        command = f"PYTHONPATH={REPO} " + shlex.join([*self.prefix, "python", "-m", "trtbench", *self.argv])
        if self.fsize is not None:
            command = f"(ulimit -f {self.fsize // KIB}; {command})"
        return f"cd {self.cwd} && {command}"

    def said(self, limit: int = 300) -> str:
        """The exit status and the last lines of stderr (of stdout when stderr is empty)."""
        where, text = ("stderr", self.stderr) if self.stderr.strip() else ("stdout", self.stdout)
        lines = " | ".join(line for line in text.strip().splitlines()[-4:])
        return f"exit {self.rc}, {where}: {lines[-limit:]!r}"


def _env() -> Dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1", "COLUMNS": "120",
            "TRTBENCH_DB": "default-must-not-be-used.db"}


def _preexec(fsize: Optional[int]) -> Callable[[], None]:
    """In the child before exec: Ctrl-C as in a terminal (a shell may have started us with SIGINT
    ignored, which the child would inherit), and the file-size limit that stands for a full disk."""

    def setup() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return setup


class Live:
    """A running ``trtbench`` command whose stderr lines are collected as they come."""

    def __init__(self, argv: Sequence[str], cwd: Path, fsize: Optional[int] = None,
                 prefix: Sequence[str] = ()) -> None:
        self.argv, self.cwd, self.fsize, self.prefix = list(argv), cwd, fsize, list(prefix)
        self.lines: List[str] = []
        self.started = time.monotonic()
        self.proc = subprocess.Popen([*self.prefix, sys.executable, "-m", "trtbench", *self.argv],
                                     cwd=str(cwd), env=_env(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     errors="replace", start_new_session=True, preexec_fn=_preexec(fsize))
        self._out: List[str] = []
        self._readers = [threading.Thread(target=self._read, args=(stream, into), daemon=True)
                         for stream, into in ((self.proc.stderr, self.lines), (self.proc.stdout, self._out))]
        for reader in self._readers:
            reader.start()
        RUNNING.add(self)

    @staticmethod
    def _read(stream: Optional[IO[str]], into: List[str]) -> None:
        for line in stream or ():
            into.append(line)

    def wait_for(self, pattern: str, timeout: float) -> bool:
        """Whether a stderr line matching `pattern` came within `timeout` s (False if it exited)."""
        found = re.compile(pattern)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(found.search(line) for line in list(self.lines)):
                return True
            if self.proc.poll() is not None:
                time.sleep(0.05)  # let the reader catch the last lines
                return any(found.search(line) for line in list(self.lines))
            time.sleep(0.02)
        return False

    def signal(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)  # as a terminal does: the whole process group
        except ProcessLookupError:
            pass

    def finish(self, timeout: float) -> Ran:
        try:
            rc: Optional[int] = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.proc.wait()
            rc = None
        RUNNING.discard(self)
        for reader in self._readers:
            reader.join(timeout=5)
        rc = None if rc is None else (128 - rc if rc < 0 else rc)  # -9 as a shell shows it: 137
        return Ran(self.argv, self.cwd, rc, "".join(self.lines), "".join(self._out),
                   time.monotonic() - self.started, self.fsize, self.prefix)


RUNNING: Set[Live] = set()  # killed on the way out, should the campaign itself be stopped


def cli(argv: Sequence[str], cwd: Path, timeout: float, fsize: Optional[int] = None,
        prefix: Sequence[str] = ()) -> Ran:
    return Live(argv, cwd, fsize, prefix).finish(timeout)


# ---- what is checked ---------------------------------------------------------------------------------
def one_line_error(ran: Ran) -> Optional[str]:
    """None when `ran` exited 2 with exactly one error line and no traceback, else what is wrong."""
    if ran.rc is None:
        return "hung (killed at the timeout)"
    if "Traceback" in ran.stderr:
        return "traceback: " + ran.stderr.strip().splitlines()[-1][:200]
    errors = [line for line in ran.stderr.splitlines() if line.startswith(ONE_LINE)]
    if ran.rc != 2 or len(errors) != 1:
        return f"expected exit 2 and one error line, got {ran.said()}"
    return None


def _error_line(ran: Ran) -> str:
    return next((line for line in ran.stderr.splitlines() if line.startswith(ONE_LINE)), "")


def sha256(path: Path) -> Optional[str]:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def stored(db: Path) -> Tuple[List[dict], List[str]]:
    """The records in `db` as parsed JSON (read only, without trtbench), and rows that do not parse."""
    if not db.is_file() or db.stat().st_size == 0:
        return [], []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        rows = conn.execute("SELECT run_id, record FROM runs").fetchall()
    except sqlite3.Error as exc:
        return [], [f"cannot read the runs table ({exc})"]
    finally:
        conn.close()
    records, bad = [], []
    for run_id, text in rows:
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("run_id") != run_id:
                raise ValueError("not this run's record")
            records.append(data)
        except ValueError as exc:
            bad.append(f"run {run_id}: {exc}")
    return records, bad


def check_sound(db: Path, cwd: Path, timeout: float) -> Tuple[Optional[str], Optional[Ran]]:
    """None when ``runs check`` calls `db` sound (or there is no database yet), else what it said."""
    if not db.exists():
        return None, None
    ran = cli(["runs", "check", "--db", str(db)], cwd, timeout)
    if ran.rc != 0:
        return f"runs check: {ran.said()}", ran
    return None, ran


def whole_runs(db: Path, once: bool = True) -> Optional[str]:
    """None when every stored run parses and (`once`: one command wrote them) no batch of one
    model is stored twice."""
    records, bad = stored(db)
    if bad:
        return "damaged rows: " + "; ".join(bad[:3])
    if not once:
        return None
    twice = [key for key, n in Counter((r.get("model", {}).get("name"), r.get("batch")) for r in records
                                       if r.get("kind") == "profile").items() if n > 1]
    return f"stored twice: {twice}" if twice else None


def onnx_loads(path: Path) -> bool:
    import onnx

    try:
        onnx.checker.check_model(onnx.load(str(path)))
        return True
    except Exception:  # any failure to load is what is looked for
        return False


def leftovers(folder: Path, check_onnx: bool = True) -> List[str]:
    """Temporary or probe files, and .onnx files that do not load, anywhere under `folder`."""
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and TEMPORARY.search(path.name):
            found.append(f"{path.relative_to(folder)} ({path.stat().st_size:,} bytes)")
        elif check_onnx and path.is_file() and path.suffix == ".onnx" and not onnx_loads(path):
            found.append(f"{path.relative_to(folder)} does not load ({path.stat().st_size:,} bytes)")
    return found


def json_records(path: Path) -> Optional[List[dict]]:
    """The run records of a --json file (one record or a list); None when absent."""
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return data if isinstance(data, list) else [data]


# ---- the campaign ------------------------------------------------------------------------------------
@dataclass
class Outcome:
    scenario: str
    status: str  # PASS, FAIL or SKIP
    what: str
    repro: List[str] = field(default_factory=list)


class Campaign:
    """The work folder, the shared fixtures (a warm ONNX cache, a database of six runs) and the results."""

    def __init__(self, root: Path, rng: random.Random, timeout: float, kills: int) -> None:
        self.root, self.rng, self.timeout, self.kills = root, rng, timeout, kills
        self.outcomes: List[Outcome] = []
        self.warm_cache = root / "warm-cache"
        self.golden = root / "golden" / "runs.db"
        self.profile_seconds = 6.0
        self._folders: Counter = Counter()

    def folder(self, name: str) -> Path:
        self._folders[name] += 1
        path = self.root / f"{name}-{self._folders[name]}"
        path.mkdir(parents=True)
        return path

    def report(self, scenario: str, problems: Sequence[str], what: str,
               runs: Iterable[Optional[Ran]] = ()) -> None:
        """Print and keep one scenario's line: FAIL with its problems and repro lines, else PASS."""
        problems = [" ".join(p.split()) for p in problems if p]  # one line each
        what = " ".join(what.split())
        if problems:
            outcome = Outcome(scenario, "FAIL", "; ".join(problems) + (f" [{what}]" if what else ""),
                              [r.repro() for r in runs if r is not None])
        else:
            outcome = Outcome(scenario, "PASS", what)
        self.outcomes.append(outcome)
        print(f"{outcome.status}  {scenario}: {outcome.what}", flush=True)
        for line in outcome.repro:
            print(f"        repro: {line}", flush=True)

    def skip(self, scenario: str, why: str) -> None:
        self.outcomes.append(Outcome(scenario, "SKIP", why))
        print(f"SKIP  {scenario}: {why}", flush=True)

    def prepare(self) -> None:
        """A warm ONNX cache and a database of six sound runs (four measured, two imported)."""
        self.golden.parent.mkdir()
        started = time.monotonic()
        here = self.golden.parent
        first = cli(["profile", MODEL, *MEASURE, "--batch", BATCHES, "--db", str(self.golden),
                     "--cache-dir", str(self.warm_cache), "--json", "reference.json"], here, self.timeout)
        self.profile_seconds = time.monotonic() - started
        imports = [cli(["import-trtexec", "--profile", str(FIXTURE), "--batch", str(b),
                        "--db", str(self.golden)], here, self.timeout) for b in (32, 64)]
        bad = [r for r in (first, *imports) if r.rc != 0]
        if bad:
            raise SystemExit(f"preparing failed: {bad[0].said()}\n  {bad[0].repro()}")
        print(f"prepared: a reference profile of {BATCHES} took {self.profile_seconds:.1f} s (cold cache); "
              f"{self.golden} holds {len(stored(self.golden)[0])} runs", flush=True)

    def copy_golden(self, folder: Path, name: str = "runs.db") -> Path:
        db = folder / name
        shutil.copyfile(self.golden, db)
        return db


# ---- a: kill -9 ----------------------------------------------------------------------------------------
def scenario_kill9(c: Campaign) -> None:
    for i in range(c.kills):
        work = c.folder("a-kill9")
        # stratified: the i-th kill falls in the i-th slice of the run, so the kills cover all of it
        span = c.profile_seconds * 0.95 / c.kills
        delay = c.rng.uniform(0.05 + i * span, (i + 1) * span)
        live = Live(["profile", MODEL, *MEASURE, "--batch", BATCHES, "--db", "runs.db", "--json", "out.json",
                     "--cache-dir", "cache"], work)
        time.sleep(delay)
        live.signal(signal.SIGKILL)
        ran = live.finish(c.timeout)
        db = work / "runs.db"
        problems = [f"it did not end on SIGKILL: {ran.said()}" if ran.rc not in (0, 137) else ""]
        journal = (work / "runs.db-journal").exists()
        unsound, check = check_sound(db, work, c.timeout)
        problems += [unsound or "", whole_runs(db) or ""]
        try:
            saved = json_records(work / "out.json")
        except ValueError as exc:
            saved, problems = None, problems + [f"out.json is not whole JSON ({exc})"]
        left = leftovers(work)
        problems.append(f"left behind: {', '.join(left)}" if left else "")
        records = stored(db)[0]
        # the next run in the same folder works and stores what it measures
        again = cli(["profile", MODEL, *QUICK, "--batch", "2", "--db", "runs.db", "--cache-dir", "cache"],
                    work, c.timeout)
        problems.append(f"the next run failed: {again.said()}" if again.rc != 0 else "")
        if again.rc == 0 and len(stored(db)[0]) != len(records) + 1:
            problems.append(f"the next run stored {len(stored(db)[0]) - len(records)} runs, not 1")
        what = (f"killed after {delay:.2f} s ({'it had finished' if ran.rc == 0 else 'exit 137'}); "
                f"{len(records)} whole run(s) stored, batches {sorted(r['batch'] for r in records)}"
                + (", hot journal rolled back" if journal else "")
                + ("" if saved is None else f", out.json with {len(saved)} run(s)") + "; then a new run")
        c.report(f"a.kill9[{i + 1}]", problems, what, [ran, check, again])


# ---- b: Ctrl-C -------------------------------------------------------------------------------------
def scenario_ctrl_c_profile(c: Campaign, trial: int) -> None:
    work = c.folder("b-sigint-profile")
    batches = [int(b) for b in BATCHES.split(",")]
    at = c.rng.choice(batches)
    delay = c.rng.uniform(0.0, 0.7)
    live = Live(["profile", MODEL, *MEASURE, "--batch", BATCHES, "--db", "runs.db", "--json", "out.json",
                 "--cache-dir", str(c.warm_cache)], work)
    seen = live.wait_for(rf"at batch {at}\b", c.timeout)
    time.sleep(delay)
    live.signal(signal.SIGINT)
    ran = live.finish(c.timeout)
    problems = [] if seen else [f"never saw 'measuring ... at batch {at}'"]
    problems += _interrupted(ran)
    db = work / "runs.db"
    unsound, check = check_sound(db, work, c.timeout)
    problems += [unsound or "", whole_runs(db) or ""]
    in_db = {r["run_id"]: r["batch"] for r in stored(db)[0]}
    try:
        saved = json_records(work / "out.json")
    except ValueError as exc:
        saved, problems = None, problems + [f"out.json is not whole JSON ({exc})"]
    in_json = {r["run_id"]: r["batch"] for r in saved or []}
    if in_json != in_db:
        problems.append(f"out.json holds batches {sorted(in_json.values())} "
                        f"({'absent' if saved is None else 'present'}), the db {sorted(in_db.values())}")
    left = leftovers(work, check_onnx=False)
    problems.append(f"left behind: {', '.join(left)}" if left else "")
    c.report(f"b.ctrl-c.profile[{trial}]", problems,
             f"SIGINT {delay:.2f} s into batch {at}: exit {ran.rc}, db and out.json both hold batches "
             f"{sorted(in_db.values())}", [ran, check])


def _interrupted(ran: Ran) -> List[str]:
    """What is wrong with how a command ended on Ctrl-C (exit 130, 'interrupted', no traceback)."""
    if ran.rc is None:
        return ["it did not stop on Ctrl-C (killed at the timeout)"]
    if "Traceback" in ran.stderr:
        return ["traceback: " + ran.stderr.strip().splitlines()[-1][:200]]
    if ran.rc == 0:
        return []  # it finished before the signal came: judged by its outputs
    if ran.rc != 130:
        return [f"expected exit 130, got {ran.said()}"]
    if "interrupted" not in ran.stderr:
        return ["no 'interrupted' line on stderr"]
    return []


def _sweep_points(db: Path, run: Optional[str] = None) -> Counter:
    """How often each point of the tiny sweep is stored (in sweep run `run`, or any)."""
    points: Counter = Counter()
    for record in stored(db)[0]:
        tags = record.get("tags") or {}
        if tags.get("sweep") == "tiny" and (run is None or tags.get("sweep_run") == run):
            points[tags.get("point")] += 1
    return points


def scenario_ctrl_c_sweep(c: Campaign) -> None:
    work = c.folder("b-sigint-sweep")
    (work / "tiny.toml").write_text(TINY_SWEEP)
    argv = ["sweep", "tiny.toml", "--iterations", "2", "--loops", "1", "--threads", "1", "--db", "runs.db",
            "--json", "out.json", "--cache-dir", str(c.warm_cache)]
    after = c.rng.randrange(0, SWEEP_POINTS - 1)  # points finished before the signal
    delay = c.rng.uniform(0.0, 0.4)
    live = Live(argv, work)
    seen = live.wait_for(rf"^\[{after}/{SWEEP_POINTS}\]" if after else r"results in", c.timeout)
    time.sleep(delay)
    live.signal(signal.SIGINT)
    ran = live.finish(c.timeout)
    db = work / "runs.db"
    problems = [] if seen else [f"never saw point {after} finish"]
    problems += _interrupted(ran)
    unsound, check = check_sound(db, work, c.timeout)
    problems.append(unsound or "")
    in_db = _sweep_points(db)
    twice = [p for p, n in in_db.items() if n > 1]
    problems.append(f"points stored twice: {twice}" if twice else "")
    try:
        summary = json.loads((work / "out.json").read_text()) if (work / "out.json").exists() else None
    except ValueError as exc:
        summary, problems = None, problems + [f"out.json is not whole JSON ({exc})"]
    in_json = sorted(p["point"] for p in summary.get("points_run", [])) if summary else []
    if summary is None and in_db:
        problems.append(f"no out.json, but the db holds {len(in_db)} point(s) of this sweep run")
    elif summary is not None and in_json != sorted(in_db):
        problems.append(f"out.json lists points {in_json}, the db holds {sorted(in_db)}")
    left = leftovers(work, check_onnx=False)
    problems.append(f"left behind: {', '.join(left)}" if left else "")
    first = (f"SIGINT {delay:.2f} s after point {after} of {SWEEP_POINTS}: exit {ran.rc}, "
             f"{len(in_db)} point(s) stored")
    # the same command again resumes: every point exactly once, in one sweep run
    again = cli([a for a in argv if a not in ("--json", "out.json")], work, c.timeout)
    runs = {r.get("tags", {}).get("sweep_run") for r in stored(db)[0]}
    points = _sweep_points(db)
    if again.rc != 0:
        problems.append(f"the resume failed: {again.said()}")
    elif len(runs) != 1 or sorted(points.values()) != [1] * SWEEP_POINTS:
        problems.append(f"after the resume: sweep runs {sorted(map(str, runs))}, points {dict(points)}")
    listed = f", out.json lists {len(in_json)}" if summary else ", no out.json"
    c.report("b.ctrl-c.sweep", problems,
             first + listed + f"; then the resume ran all {SWEEP_POINTS} points once", [ran, check, again])


def scenario_ctrl_c_drift(c: Campaign) -> None:
    work = c.folder("b-sigint-drift")
    delay = c.rng.uniform(0.5, 1.5)
    live = Live(["drift", MODEL, "--backend", "onnxruntime", "--threads", "1", "--batch", "64",
                 "--iterations", "10", "--loops", "100000", "--no-telemetry", "--db", "runs.db",
                 "--json", "out.json", "--cache-dir", str(c.warm_cache)], work)
    seen = live.wait_for(r"loops x", c.timeout)
    time.sleep(delay)
    live.signal(signal.SIGINT)
    ran = live.finish(c.timeout)
    db = work / "runs.db"
    problems = [] if seen else ["never saw the loop start"]
    problems += _interrupted(ran)
    unsound, check = check_sound(db, work, c.timeout)
    problems += [unsound or "", whole_runs(db) or ""]
    in_db = sorted(r["run_id"] for r in stored(db)[0])
    try:
        saved = json.loads((work / "out.json").read_text()) if (work / "out.json").exists() else None
    except ValueError as exc:
        saved, problems = None, problems + [f"out.json is not whole JSON ({exc})"]
    in_json = [saved["run_id"]] if saved and saved.get("run_id") else []
    if in_json != in_db:
        problems.append(f"out.json holds drift run {in_json or 'none'} "
                        f"({'absent' if saved is None else 'present'}), the db {in_db or 'none'}")
    if seen and not in_db and saved is None:
        problems.append(f"the loops of {delay:.1f} s before Ctrl-C were lost (not in the db nor in out.json)")
    loops = len((saved or {}).get("series", {}).get("total", []))
    left = leftovers(work, check_onnx=False)
    problems.append(f"left behind: {', '.join(left)}" if left else "")
    c.report("b.ctrl-c.drift", problems,
             f"SIGINT {delay:.2f} s into the loop: exit {ran.rc}, db runs {len(in_db)}, out.json "
             + (f"with {loops} loops" if saved else "absent"), [ran, check])


# ---- c: a full disk --------------------------------------------------------------------------------
def scenario_disk_full(c: Campaign) -> None:
    # --no-profile: the profiling pass writes onnxruntime's optimized model to a temporary folder first,
    # which would fail before the database or the JSON is reached; "profiling-pass" keeps it
    quick = [*QUICK, "--no-profile", "--cache-dir", str(c.warm_cache)]
    Target = Callable[[Path], Tuple[List[str], List[Path], Optional[Path]]]
    targets: List[Tuple[str, Target]] = [
        # name, (folder) -> argv, outputs that must be whole or absent, the database (None: none)
        ("profile-new-db", lambda w: (["profile", MODEL, *quick, "--batch", "2,4", "--db", "runs.db"], [],
                                      w / "runs.db")),
        ("profile-existing-db", lambda w: (["profile", MODEL, *quick, "--batch", "2,4", "--db",
                                            str(c.copy_golden(w)), "--json", "out.json"],
                                           [w / "out.json"], w / "runs.db")),
        ("profile-json", lambda w: (["profile", MODEL, *quick, "--batch", BATCHES, "--no-db",
                                     "--json", "out.json"], [w / "out.json"], None)),
        ("profiling-pass", lambda w: (["profile", MODEL, *QUICK, "--batch", "2", "--no-db", "--cache-dir",
                                       str(c.warm_cache)], [], None)),
        ("profile-cold-cache", lambda w: (["profile", MODEL, *QUICK, "--batch", "2", "--no-db", "--cache-dir",
                                           "cache"], [], None)),
        ("export", lambda w: (["export", MODEL, "--out", "m.onnx"], [w / "m.onnx"], None)),
        ("runs-export", lambda w: (["runs", "export", "--db", str(c.copy_golden(w)), "--out", "all.json"],
                                   [w / "all.json"], w / "runs.db")),
        ("import-trtexec", lambda w: (["import-trtexec", "--profile", str(FIXTURE), "--db",
                                       str(c.copy_golden(w)), "--json", "out.json"],
                                      [w / "out.json"], w / "runs.db")),
    ]
    for name, make in targets:
        for limit in LIMITS:
            work = c.folder(f"c-full-{name}")
            argv, outputs, db = make(work)
            before = {r["run_id"] for r in stored(db)[0]} if db is not None else set()
            digest = sha256(db) if db is not None else None
            ran = cli(argv, work, c.timeout, fsize=limit)
            problems: List[str] = []
            check: Optional[Ran] = None
            if ran.rc == 0:
                what = "it fitted under the limit"
                for out in outputs:
                    problems.append("" if out.exists() else f"exit 0 but no {out.name}")
            else:
                problems.append(one_line_error(ran) or "")
                what = (_error_line(ran) or ran.said())[:160]
                what += " (after measuring)" if re.search(STARTED, ran.stderr, re.M) else ""
            if db is not None:
                unsound, check = check_sound(db, work, c.timeout)
                problems += [unsound or "", whole_runs(db, once=not before) or ""]
                after = {r["run_id"] for r in stored(db)[0]}
                problems.append(f"runs lost: {sorted(before - after)}" if before - after else "")
                if ran.rc != 0 and digest is not None and sha256(db) != digest:
                    what += "; the db changed (still sound)" if not unsound else ""
            for out in outputs:  # absent, or whole: a write that failed must not leave half a file
                if out.exists() and out.suffix == ".json":
                    try:
                        json.loads(out.read_text())
                    except ValueError:
                        problems.append(f"a partial {out.name} ({out.stat().st_size:,} bytes) was left")
                elif out.exists() and out.suffix == ".onnx" and not onnx_loads(out):
                    problems.append(f"a partial {out.name} ({out.stat().st_size:,} bytes) was left")
            if db is not None and (work / "out.json").exists() and ran.rc != 0:
                in_db = {r["run_id"] for r in stored(db)[0]} - before
                in_json = {r["run_id"] for r in json_records(work / "out.json") or []}
                problems.append(f"out.json holds {len(in_json)} new run(s), the db {len(in_db)}"
                                if in_json != in_db else "")
            left = leftovers(work)
            problems.append(f"left behind: {', '.join(left)}" if left else "")
            c.report(f"c.disk-full.{name}[{limit // KIB} KiB]", problems, what, [ran, check])


# ---- d: read-only ----------------------------------------------------------------------------------
def _unprivileged(c: Campaign) -> Tuple[Optional[List[str]], str]:
    """A command prefix under which permission bits bind (root ignores them), and how; None if none works.
    First an unprivileged user; else root without the capabilities that override permission bits."""
    probe = c.folder("d-probe")
    (probe / "locked").write_text("x")
    (probe / "locked").chmod(0o444)
    probe.chmod(0o777)
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None, "no setpriv to drop root's privileges"
    tries = [([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"], "as uid 65534 (nobody)"),
             ([setpriv, f"--bounding-set={ROOT_OVERRIDES}", "--inh-caps=-all"],
              "as root without CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and CAP_FOWNER")]
    write = "import sys\ntry:\n open('locked', 'a').write('y')\nexcept OSError:\n sys.exit(0)\nsys.exit(3)"
    for prefix, how in tries:
        ok = subprocess.run([*prefix, sys.executable, "-c", f"import trtbench, onnxruntime\n{write}"],
                            cwd=str(probe), env=_env(), capture_output=True, timeout=60, check=False)
        if ok.returncode == 0:
            return prefix, how
    return None, "neither uid 65534 (cannot reach the interpreter) nor dropping capabilities made 0444 bind"


def scenario_read_only(c: Campaign) -> None:
    prefix, how = _unprivileged(c)
    if prefix is None:
        c.skip("d.read-only", how)
        return
    print(f"      (read-only checks run {how})", flush=True)
    writers: List[Tuple[str, List[str]]] = [
        ("profile", ["profile", MODEL, *MEASURE, "--batch", "2,4", "--cache-dir", "cache"]),
        ("sweep", ["sweep", "tiny.toml", "--iterations", "2", "--loops", "1", "--threads", "1",
                   "--cache-dir", "cache"]),
        ("drift", ["drift", MODEL, "--backend", "onnxruntime", "--threads", "1", "--batch", "2",
                   "--loops", "50", "--iterations", "2", "--no-telemetry", "--cache-dir", "cache"]),
        ("import-trtexec", ["import-trtexec", "--profile", str(FIXTURE)]),
    ]
    # the modes stay as set (the repro lines need them); the end of the round restores the folders
    layouts = [("file-0444", "runs.db", 0o444, 0o777), ("folder-0555", "ro/runs.db", 0o666, 0o555),
               ("new-db-in-folder-0555", "ro/new.db", None, 0o555)]
    for layout, name, file_mode, folder_mode in layouts:
        for command, argv in writers:
            work = c.folder(f"d-{layout}-{command}")
            (work / "tiny.toml").write_text(TINY_SWEEP)
            db = work / name
            db.parent.mkdir(exist_ok=True)
            if file_mode is not None:
                shutil.copyfile(c.golden, db)
                db.chmod(file_mode)
            work.chmod(0o777)
            (work / "cache").mkdir(mode=0o777)
            shutil.copytree(c.warm_cache, work / "cache", dirs_exist_ok=True)
            for path in (work / "cache").rglob("*"):
                path.chmod(0o777 if path.is_dir() else 0o666)
            db.parent.chmod(folder_mode)
            digest = sha256(db)
            ran = cli([*argv, "--db", str(db)], work, c.timeout, prefix=prefix)
            problems = [one_line_error(ran) or ""]
            measured = [line for line in ran.stderr.splitlines() if re.search(STARTED, line)]
            problems.append(f"it measured first: {measured[0].strip()[:100]}" if measured else "")
            problems.append("the db changed" if sha256(db) != digest else "")
            problems.append("a new db was created" if digest is None and db.exists() else "")
            mode = f"{file_mode:o}" if file_mode else "absent"
            what = f"{name} {mode} in a folder {folder_mode:o}; {ran.seconds:.1f} s: {_error_line(ran)[:130]}"
            c.report(f"d.read-only.{layout}.{command}", problems, what, [ran])
    # reading a read-only database still works, and leaves it as it was
    for layout, name, file_mode, folder_mode in layouts[:2]:
        work = c.folder(f"d-{layout}-read")
        db = work / name
        db.parent.mkdir(exist_ok=True)
        shutil.copyfile(c.golden, db)
        db.chmod(file_mode or 0o444)
        work.chmod(0o777)
        db.parent.chmod(folder_mode)
        digest = sha256(db)
        listed = cli(["runs", "--db", str(db), "--json", "-"], work, c.timeout, prefix=prefix)
        checked = cli(["runs", "check", "--db", str(db)], work, c.timeout, prefix=prefix)
        problems = [f"runs: {listed.said()}" if listed.rc != 0 else "",
                    f"runs check: {checked.said()}" if checked.rc != 0 else "",
                    "the db changed" if sha256(db) != digest else ""]
        count = len(json.loads(listed.stdout)) if listed.rc == 0 else 0
        c.report(f"d.read-only.{layout}.read", problems, f"runs lists {count}, runs check exit {checked.rc}",
                 [listed, checked])


# ---- e: concurrent writers ---------------------------------------------------------------------------
def scenario_concurrent(c: Campaign, writers: int) -> None:
    work = c.folder(f"e-concurrent-{writers}")
    lives = []
    for i in range(writers):
        if i % 2 == 0:
            argv = ["profile", MODEL, *QUICK, "--batch", "2,4", "--db", "same.db", "--json", f"w{i}.json",
                    "--cache-dir", "cache"]
        else:
            argv = ["import-trtexec", "--profile", str(FIXTURE), "--batch", str(8 * i), "--db", "same.db",
                    "--json", f"w{i}.json"]
        lives.append(Live(argv, work))
    rans = [live.finish(c.timeout) for live in lives]
    problems = []
    reported: Set[str] = set()
    for i, ran in enumerate(rans):
        if ran.rc != 0:
            problems.append(f"writer {i} ({ran.argv[0]}): {ran.said()}")
        if "locked" in ran.stderr:
            problems.append(f"writer {i} said 'locked'")
        try:
            reported |= {r["run_id"] for r in json_records(work / f"w{i}.json") or []}
        except ValueError as exc:
            problems.append(f"w{i}.json is not whole JSON ({exc})")
    in_db = {r["run_id"] for r in stored(work / "same.db")[0]}
    problems.append(f"reported but not stored: {sorted(reported - in_db)}" if reported - in_db else "")
    problems.append(f"stored but not reported: {sorted(in_db - reported)}" if in_db - reported else "")
    unsound, check = check_sound(work / "same.db", work, c.timeout)
    problems += [unsound or "", whole_runs(work / "same.db", once=False) or ""]
    left = leftovers(work)
    problems.append(f"left behind: {', '.join(left)}" if left else "")
    c.report(f"e.concurrent[{writers} writers]", problems,
             f"{len(in_db)} runs stored, {len(reported)} reported; "
             f"slowest writer {max(r.seconds for r in rans):.1f} s",
             [*rans, check])


# ---- f: a damaged database ---------------------------------------------------------------------------
def _page_size(db: Path) -> int:
    size = int.from_bytes(db.read_bytes()[16:18], "big")
    return 65536 if size == 1 else size


def _overwrite(db: Path, at: int, length: int, rng: random.Random) -> None:
    data = bytearray(db.read_bytes())
    data[at:at + length] = bytes(rng.randrange(256) for _ in range(length))
    db.write_bytes(bytes(data))


def _damage_bytes(c: Campaign, db: Path) -> str:
    """Random bytes anywhere past the first page (free space too: such damage may be harmless)."""
    size, page = db.stat().st_size, _page_size(db)
    at, length = c.rng.randrange(page, size - 256), c.rng.randrange(16, 256)
    _overwrite(db, at, length, c.rng)
    return f"{length} random bytes at offset {at:,} (page {at // page + 1} of {size // page})"


def _damage_page(c: Campaign, db: Path) -> str:
    """Random bytes over the header and cell pointers of a page: SQLite's structure is broken."""
    size, page = db.stat().st_size, _page_size(db)
    number = c.rng.randrange(2, size // page + 1)
    _overwrite(db, (number - 1) * page, 64, c.rng)
    return f"the first 64 bytes of page {number} of {size // page} overwritten"


def _damage_record(c: Campaign, db: Path) -> str:
    """Random bytes inside one stored record's JSON text, where SQLite's check cannot see them."""
    data = db.read_bytes()
    found = [m.start() for m in re.finditer(rb'"end_to_end_ms"', data)]
    at = c.rng.choice(found)
    _overwrite(db, at, 24, c.rng)
    return f"24 random bytes inside a record's JSON at offset {at:,}"


def _truncate(c: Campaign, db: Path, whole_pages: bool) -> str:
    data = db.read_bytes()
    page = _page_size(db)
    if whole_pages:
        keep = page * c.rng.randrange(1, len(data) // page)
    else:
        keep = c.rng.randrange(page + 1, len(data) - 1)
        keep += 1 if keep % page == 0 else 0
    db.write_bytes(data[:keep])
    return f"truncated to {keep:,} of {len(data):,} bytes"


def _truncate_cut(c: Campaign, db: Path) -> str:
    return _truncate(c, db, whole_pages=False)


def _truncate_pages(c: Campaign, db: Path) -> str:
    return _truncate(c, db, whole_pages=True)


def _damage_header(c: Campaign, db: Path) -> str:
    data = bytearray(db.read_bytes())
    data[0:16] = b"garbage-header!!"
    db.write_bytes(bytes(data))
    return "its first 16 bytes overwritten"


def _damage_row(c: Campaign, db: Path) -> str:
    conn = sqlite3.connect(str(db))
    run_id = c.rng.choice([row[0] for row in conn.execute("SELECT run_id FROM runs")])
    conn.execute("UPDATE runs SET record = ? WHERE run_id = ?", ('{"schema_version": 3, "run_id": ', run_id))
    conn.commit()
    conn.close()
    return f"the JSON of run {run_id} cut short"


def _sqlite_damage(db: Path) -> Optional[str]:
    """What SQLite's own integrity check says about `db` (None: ok), read only."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            said = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return str(exc)
    return None if said == ["ok"] else " / ".join(" ".join(str(line).split()) for line in said)[:100]


ROW_DAMAGE = ("row", "record-bytes")  # one run's JSON is damaged, the file is sound
FILE_DAMAGE = ("truncated", "truncated-pages", "header")  # the file is refused on opening


def scenario_damaged(c: Campaign, kind: str, damage: Callable[[Campaign, Path], str]) -> None:
    work = c.folder(f"f-damaged-{kind}")
    db = c.copy_golden(work)
    total = len(stored(db)[0])
    how = damage(c, db)
    digest = sha256(db)
    sqlite_says = _sqlite_damage(db)
    problems: List[str] = []
    runs: List[Optional[Ran]] = []
    # reading: the sound rows with a warning naming the bad one, or a one-line refusal; never a write
    listed = cli(["runs", "--db", "runs.db", "--json", "-", "--limit", "0"], work, c.timeout)
    runs.append(listed)
    if listed.rc == 0:
        count = len(json.loads(listed.stdout))
        warned = [line for line in listed.stderr.splitlines() if "warning" in line]
        read = f"runs listed {count} of {total}" + (f" with {len(warned)} warning(s)" if warned else "")
        if count < total and not warned:
            problems.append(f"runs listed {count} of {total} without a warning")
        if kind in ROW_DAMAGE and not any(re.search(r"skipped run [0-9a-f]{8}", w) for w in warned):
            problems.append("no warning names the damaged run")
    else:
        problems.append(one_line_error(listed) or "")
        read = "runs refused: " + _error_line(listed)[17:110]
    problems.append("runs modified the file" if sha256(db) != digest else "")
    # the check finds it (exit 1), and never writes
    check = cli(["runs", "check", "--db", "runs.db"], work, c.timeout)
    runs.append(check)
    damaged = sqlite_says is not None or kind in (*ROW_DAMAGE, *FILE_DAMAGE)
    if "Traceback" in check.stderr or check.rc not in (0, 1):
        problems.append(f"runs check: {check.said()}")
    elif damaged and check.rc != 1:
        problems.append(f"runs check exit {check.rc} on a damaged file (SQLite says: {sqlite_says})")
    problems.append("runs check modified the file" if sha256(db) != digest else "")
    # a writer, reported on its own line: the docs promise a refusal of a file whose header or size is
    # wrong; damage inside the file is only seen by SQLite's integrity check, which opening does not run
    writer = cli(["profile", MODEL, *QUICK, "--batch", "2", "--db", "runs.db", "--cache-dir",
                  str(c.warm_cache)], work, c.timeout)
    wrote = sha256(db) != digest
    if wrote:
        digest = sha256(db)  # the repair below starts from the file as the writer left it
    writer_problems = [f"profile wrote into a file SQLite calls damaged (exit {writer.rc})"
                       if wrote and (sqlite_says is not None or kind in FILE_DAMAGE) else ""]
    if writer.rc != 0:
        writer_problems += [one_line_error(writer) or "",
                            "profile measured before refusing" if "measuring" in writer.stderr else "",
                            "profile refused but changed the file" if wrote else ""]
    writer_said = "stored its run" if writer.rc == 0 else "refused: " + _error_line(writer)[17:120]
    # repair: quarantines bad rows and then every read is clean; or refuses to write into a damaged file
    # (a file SQLite's own integrity check calls sound is not damaged: its bad rows can be set aside)
    repairable = sqlite_says is None and kind not in FILE_DAMAGE
    repair = cli(["runs", "check", "--repair", "--db", "runs.db"], work, c.timeout)
    runs.append(repair)
    if "Traceback" in repair.stderr or repair.rc is None:
        problems.append(f"runs check --repair: {repair.said()}")
        repaired = "repair crashed"
    elif repair.rc == 0:
        after = cli(["runs", "--db", "runs.db", "--json", "-", "--limit", "0"], work, c.timeout)
        runs.append(after)
        count = len(json.loads(after.stdout)) if after.rc == 0 else -1
        if after.rc != 0 or "warning" in after.stderr:
            problems.append(f"after the repair runs: {after.said()}")
        recheck, ran = check_sound(db, work, c.timeout)
        problems.append(recheck or "")
        runs.append(ran)
        quarantined = _quarantined(db)
        if repairable and quarantined != 1 and kind in ROW_DAMAGE:
            problems.append(f"{quarantined} rows in quarantine, expected 1")
        repaired = f"repair exit 0, {quarantined} quarantined, then runs lists {count} cleanly"
    else:
        problems.append("--repair modified the damaged file" if sha256(db) != digest else "")
        if repairable and check.rc == 1:
            problems.append(f"--repair refused a file SQLite calls sound: {repair.said()}")
        repaired = f"repair refused (exit {repair.rc}), file unchanged"
    c.report(f"f.damaged.{kind}", problems,
             f"{how}; SQLite: {sqlite_says or 'ok'}; {read}; check exit {check.rc}; {repaired}", runs)
    c.report(f"f.damaged.{kind}.writer", writer_problems, f"profile on the damaged file: {writer_said}",
             [writer])


def _quarantined(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0]
    except sqlite3.Error:
        return 0
    finally:
        conn.close()


# ---- main ------------------------------------------------------------------------------------------
SCENARIOS = "abcdef"


def run_round(c: Campaign, only: str) -> None:
    c.prepare()
    if "a" in only:
        scenario_kill9(c)
    if "b" in only:
        for trial in (1, 2):
            scenario_ctrl_c_profile(c, trial)
        scenario_ctrl_c_sweep(c)
        scenario_ctrl_c_drift(c)
    if "c" in only:
        scenario_disk_full(c)
    if "d" in only:
        scenario_read_only(c)
    if "e" in only:
        for writers in (3, 6):
            scenario_concurrent(c, writers)
    if "f" in only:
        damages = (("bytes", _damage_bytes), ("page", _damage_page), ("page", _damage_page),
                   ("record-bytes", _damage_record), ("truncated", _truncate_cut),
                   ("truncated-pages", _truncate_pages), ("header", _damage_header), ("row", _damage_row))
        for name, damage in damages:
            scenario_damaged(c, name, damage)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7, help="seed of the moments and the damage (default 7)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds, seeds seed, seed+1, ... (default 1)")
    parser.add_argument("--kills", type=int, default=5, help="kill -9 moments per round (default 5)")
    parser.add_argument("--only", default=SCENARIOS, help="scenario letters to run, e.g. a,b (default: all)")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds any one command may take (default 120)")
    parser.add_argument("--keep", action="store_true", help="keep the work folders (for the repro lines)")
    args = parser.parse_args()
    only = "".join(ch for ch in args.only if ch in SCENARIOS)
    if not FIXTURE.is_file():
        print(f"the trtexec fixture is missing: {FIXTURE}", file=sys.stderr)
        return 2
    started = time.monotonic()
    outcomes: List[Outcome] = []
    for round_ in range(args.repeat):
        seed = args.seed + round_
        root = Path(tempfile.mkdtemp(prefix=f"trtbench-faults-{seed}-"))
        root.chmod(0o755)
        print(f"== round {round_ + 1} of {args.repeat}: seed {seed}, folder {root}", flush=True)
        campaign = Campaign(root, random.Random(seed), args.timeout, args.kills)
        try:
            run_round(campaign, only)
        finally:
            for live in list(RUNNING):  # each child leads its own session: a Ctrl-C here does not reach it
                live.signal(signal.SIGKILL)
            outcomes += campaign.outcomes
            if not args.keep:
                for path in root.rglob("*"):  # folders left read-only by a scenario
                    if path.is_dir():
                        path.chmod(0o755)
                shutil.rmtree(root, ignore_errors=True)
    counts = Counter(o.status for o in outcomes)
    failed = sorted({o.scenario.split("[")[0] for o in outcomes if o.status == "FAIL"})
    print(f"scenarios {len(outcomes)}: passed {counts['PASS']}, failed {counts['FAIL']}, "
          f"skipped {counts['SKIP']} "
          f"in {time.monotonic() - started:.0f} s" + (f"; failing: {', '.join(failed)}" if failed else ""))
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
