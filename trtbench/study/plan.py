"""The 2016 study as a list of trtbench commands, and its results read back from the study folder.

`trtbench study --out DIR` runs the steps below in order. Each step is one ordinary trtbench
command line (so the report can list them and a user can re-run any one alone), writes into DIR,
and is skipped when its output is already there: an interrupted study picks up where it stopped
(the sweeps resume point by point through their database tags).

Layout of DIR::

    study.db                       every measured run (both sweeps), with sweep tags
    train/SPEC.pt, SPEC.train.json the Table-2 networks' checkpoints and training records
    drift.json                     the drift check (trtbench drift --json)
    fit-study.json, fit-general.json   the cost-model fits (trtbench fit --save)
    figures/*.png                  the figures
    report.md, findings.json       the report and the judged findings
"""
from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence

from trtbench.errors import TrtbenchError
from trtbench.results.record import RunRecord
from trtbench.study import findings as judge

STUDY_SWEEP = "study.toml"
NEURONS_SWEEP = "study-neurons.toml"
TABLE2_SWEEP = "table2.toml"  # c3d20-f3n1024 is in none of the four groups
TABLE2_NETWORKS = tuple(judge.STUDY_TABLE2)  # c5d20-f1n1024, c1d20-f5n1024, c3d20-f3n1024
DRIFT_NETWORK = "c1d20-f1n1024"
STEPS = ("sweep", "neurons", "table2", "train", "drift", "fit", "plot")


@dataclass
class StudyOptions:
    out: Path
    backend: str = "onnxruntime"
    device: str = "cpu"
    precision: str = "fp32"
    threads: Optional[int] = None
    data_dir: Optional[Path] = None
    epochs: int = 3
    train_limit: Optional[int] = None
    drift_loops: int = 200
    drift_iterations: int = 4
    drift_batch: int = 1024
    sweep_file: Optional[Path] = None  # default: the bundled models/study.toml
    neurons_file: Optional[Path] = None  # default: the bundled models/study-neurons.toml
    skip: Sequence[str] = ()
    iterations: Optional[int] = None  # per sweep point (default: the sweep's own sizing)
    loops: Optional[int] = None

    @property
    def db(self) -> Path:
        return self.out / "study.db"

    @property
    def figures(self) -> Path:
        return self.out / "figures"

    def train_dir(self) -> Path:
        return self.out / "train"

    def train_device(self) -> str:
        return "cuda" if self.device == "cuda" else "cpu"


@dataclass
class Step:
    """One trtbench command of the study. `done()` says whether its output is already there."""

    name: str
    argv: List[str]
    done: Callable[[], bool]
    ok_codes: Sequence[int] = (0,)  # drift exits 1 when it finds drift: a finding, not a failure
    what: str = ""

    @property
    def command(self) -> str:
        return "trtbench " + " ".join(shlex.quote(a) for a in self.argv)


def bundled_file(name: str) -> Path:
    """A file of the bundled models/ folder (the study's sweep files)."""
    from trtbench import env

    for folder in env.model_dirs():
        if (folder / name).is_file():
            path = folder / name
            try:  # as a user would type it from the checkout
                return path.resolve().relative_to(Path.cwd().resolve())
            except ValueError:
                return path
    raise TrtbenchError(f"the study's sweep file {name} is not installed",
                        hint="install trtbench from its repository (pip install -e .), or give --sweep-file")


def _config_args(opts: StudyOptions) -> List[str]:
    args = ["--backend", opts.backend, "--device", opts.device, "--precision", opts.precision]
    if opts.threads:
        args += ["--threads", str(opts.threads)]
    return args


def sweep_complete(db: Path, sweep_file: Path, config: str) -> bool:
    """Whether the latest run of this sweep and config in `db` has every point."""
    from trtbench.analysis import sweep as sweeps
    from trtbench.results.store import Store
    from trtbench.sweep.file import load_sweep

    if not db.is_file():
        return False
    sweep = load_sweep(sweep_file)
    keys = {p.key for g in sweep.groups for p in g.points}
    with Store(db) as store:
        runs = sweeps.run_ids(store, sweep.name, config)
        return bool(runs) and keys <= sweeps.done_points(store, sweep.name, runs[-1])


def reference_batch(batches: Iterable[int]) -> int:
    """The batch most points were measured at (the study's 1024): fits and per-category figures use it."""
    counts: Dict[int, int] = {}
    for b in batches:
        counts[int(b)] = counts.get(int(b), 0) + 1
    if not counts:
        return 1024
    return max(counts, key=lambda b: (counts[b], b))


def plan_steps(opts: StudyOptions) -> List[Step]:
    """The study's commands, in order, without the skipped ones."""
    from trtbench.analysis.sweep import config_tag
    from trtbench.render.plots import safe_name
    from trtbench.sweep.file import load_sweep

    config = config_tag(opts.backend, opts.device, opts.precision, opts.threads)
    db = ["--db", str(opts.db)]
    study_file = opts.sweep_file or bundled_file(STUDY_SWEEP)
    neurons_file = opts.neurons_file or bundled_file(NEURONS_SWEEP)
    study_sweep = load_sweep(study_file)
    study_name, neurons_name = safe_name(study_sweep.name), safe_name(load_sweep(neurons_file).name)
    batch = ["--batch", str(reference_batch(p.batch for g in study_sweep.groups for p in g.points))]
    work: List[str] = []
    if opts.iterations:
        work += ["--iterations", str(opts.iterations)]
    if opts.loops:
        work += ["--loops", str(opts.loops)]
    steps: List[Step] = []
    if "sweep" not in opts.skip:
        steps.append(Step("sweep", ["sweep", str(study_file), *_config_args(opts), *work, *db],
                          lambda: sweep_complete(opts.db, study_file, config),
                          what="the four experiment groups"))
    if "neurons" not in opts.skip:
        steps.append(Step("neurons", ["sweep", str(neurons_file), *_config_args(opts), *work, *db],
                          lambda: sweep_complete(opts.db, neurons_file, config),
                          what="FC neurons on and off multiples of 128"))
    if "table2" not in opts.skip:
        table2_file = bundled_file(TABLE2_SWEEP)
        steps.append(Step("table2", ["sweep", str(table2_file), *_config_args(opts), *work, *db],
                          lambda: sweep_complete(opts.db, table2_file, config),
                          what="Table 2's three networks at batch 1024"))
    if "train" not in opts.skip:
        for name in TABLE2_NETWORKS:
            out = opts.train_dir() / f"{name}.pt"
            argv = ["train", name, "--epochs", str(opts.epochs), "--out", str(out), "--device", opts.train_device()]
            if opts.data_dir:
                argv += ["--data-dir", str(opts.data_dir)]
            if opts.train_limit:  # a quick look: a validation set to match
                argv += ["--limit", str(opts.train_limit), "--validation", str(min(5000, max(500, opts.train_limit)))]
            if opts.threads:
                argv += ["--threads", str(opts.threads)]
            record = out.with_name(out.stem + ".train.json")
            steps.append(Step(f"train {name}", argv, record.is_file, what="Table 2: time to 90/95/97 %"))
    if "drift" not in opts.skip:
        drift = opts.out / "drift.json"
        steps.append(Step("drift", ["drift", DRIFT_NETWORK, "--loops", str(opts.drift_loops),
                                    "--iterations", str(opts.drift_iterations), "--batch", str(opts.drift_batch),
                                    "--alloc", "per-run", *_config_args(opts), "--json", str(drift)],
                          drift.is_file, ok_codes=(0, 1), what="repeated runs with fresh buffers each loop"))
    if "fit" not in opts.skip:
        for model in ("study", "general"):
            out = opts.out / f"fit-{model}.json"
            steps.append(Step(f"fit {model}", ["fit", "--sweep", str(study_file), "--sweep-run", "latest",
                                               "--model", model, *batch, "--save", str(out), *db],
                              out.is_file, what="cost model, eqs. 13-18" if model == "study" else "FLOPs/bytes model"))
    if "plot" not in opts.skip:
        figs = ["--out", str(opts.figures)]
        steps.append(Step("plot", ["plot", "all", "--sweep", str(study_file), "--sweep-run", "latest", *batch, *figs, *db],
                          lambda: any(opts.figures.glob(f"{study_name}-*.png")), what="the study's figures"))
        steps.append(Step("plot neurons", ["plot", "sweep", "--sweep", str(neurons_file), "--sweep-run", "latest",
                                           *figs, *db],
                          lambda: any(opts.figures.glob(f"{neurons_name}-*.png")), what="neurons figure"))
        if "drift" not in opts.skip:
            steps.append(Step("plot drift", ["plot", "drift", "--series", str(opts.out / "drift.json"), *figs],
                              lambda: (opts.figures / "drift-drift.png").is_file(), what="drift series"))
    return steps


# ---- reading the results back ----------------------------------------------------------------

@dataclass
class StudyResults:
    """What the study folder holds, read back (no backend needed)."""

    records: List[RunRecord] = field(default_factory=list)  # latest run of each sweep
    training: List[Dict[str, Any]] = field(default_factory=list)
    drift: Optional[Dict[str, Any]] = None
    fits: Dict[str, Dict[str, Any]] = field(default_factory=dict)  # "study"/"general" → FitSet dict
    figures: List[Path] = field(default_factory=list)
    sweep_runs: Dict[str, str] = field(default_factory=dict)  # sweep name → run id used


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise TrtbenchError(f"cannot read {path} ({exc})", hint="delete it and run the study again to redo that step") from None


def _latest_sweep_records(store: Any, sweep_name: str) -> "tuple[List[RunRecord], Optional[str]]":
    from trtbench.analysis import sweep as sweeps

    runs = sweeps.run_ids(store, sweep_name)
    if not runs:
        return [], None
    results = sweeps.sweep_results(store, sweep_name, runs[-1])
    return [r.record for r in results], runs[-1]


def collect(out: Path) -> StudyResults:
    """Read a study folder: the latest run of each study sweep, training records, drift, fits."""
    from trtbench.results.store import Store

    results = StudyResults()
    db = out / "study.db"
    if db.is_file():
        with Store(db) as store:
            for name in sorted(store.tag_values("sweep")):
                records, run_id = _latest_sweep_records(store, name)
                results.records += records
                if run_id:
                    results.sweep_runs[name] = run_id
    for path in sorted((out / "train").glob("*.train.json")):
        results.training.append(_read_json(path))
    if (out / "drift.json").is_file():
        results.drift = _read_json(out / "drift.json")
    for model in ("study", "general"):
        path = out / f"fit-{model}.json"
        if path.is_file():
            fits = _read_json(path)
            if fits:
                results.fits[model] = fits[0] if isinstance(fits, list) else fits
    results.figures = sorted((out / "figures").glob("*.png"), key=figure_order)
    return results


STUDY_GROUPS = ("fc-batch", "conv-batch", "fc-neurons", "conv-depth")


def figure_order(path: Path) -> "tuple[int, str]":
    """The study's order: its four groups' throughput curves, then time per category, the fit,
    other sweeps' curves (neurons) and the drift series."""
    name = path.stem
    for rank, group in enumerate(STUDY_GROUPS):
        if name.endswith(f"-{group}"):
            return (rank, name)
    if "-categories-" in name:
        return (4, name)
    if "-fit-" in name:
        return (5, name)
    return (7 if name.startswith("drift") else 6, name)


def speedup_summary(a: Sequence[RunRecord], b: Sequence[RunRecord]) -> Dict[str, Any]:
    """B over A on the points both measured: total and per category (for finding 6)."""
    from trtbench.analysis.compare import predict
    from trtbench.analysis.sweep import speedups

    per_cat, total, matched = speedups(a, b)
    summary: Dict[str, Any] = {"total": {"speedup": total}, "matched": matched,
                               "categories": [{"category": c, "speedup": s} for c, s in per_cat.items()]}
    # the specifications' ratio, where both sides map to a target profile (e.g. tx1 and gtx960)
    prediction = predict(a[0], b[0]) if a and b else None
    if prediction is not None:
        summary["predicted_speedup"] = prediction.compute or prediction.bandwidth
        summary["prediction"] = prediction.to_dict()
    return summary


def judge_all(results: StudyResults, baseline: Optional[StudyResults] = None) -> List[judge.Finding]:
    """The eight findings from what the study folder holds."""
    runs = judge.index_runs(results.records)
    batch = reference_batch(r.batch for r in results.records)
    comparison = speedup_summary(baseline.records, results.records) if baseline and baseline.records else None
    return [
        judge.conv_vs_fc(runs, batch),
        judge.second_conv_costs_most(runs, batch),
        judge.batch_flattens(runs),
        judge.neurons_multiple_of_128(runs, batch),
        judge.training_vs_throughput(results.training, runs, 1024),  # Table 2's batch
        judge.device_speedup(comparison),
        judge.allocation_drift(results.drift),
        judge.linear_model(results.fits.get("study"), results.fits.get("general")),
    ]


def table2_runs(records: Sequence[RunRecord], batch: int = 1024) -> Dict[str, RunRecord]:
    """The Table-2 networks' runs at `batch` (the newest of each)."""
    out: Dict[str, RunRecord] = {}
    for rec in sorted(records, key=lambda r: r.created):
        if rec.model_name in TABLE2_NETWORKS and rec.batch == batch:
            out[rec.model_name] = rec
    return {name: out[name] for name in TABLE2_NETWORKS if name in out}


def machine_summary(records: Sequence[RunRecord], training: Sequence[Mapping[str, Any]]) -> Dict[str, Any]:
    """Where the runs ran: device, host and versions, from the records themselves."""
    info: Dict[str, Any] = {}
    if records:
        r = records[-1]
        host = r.host or {}
        if r.device != "cpu":
            info["device"] = r.device_name or r.device
        for key in ("cpu", "cores", "os", "machine", "python", "trtbench"):
            if host.get(key) is not None:
                info[key] = host[key]
        info["backend version"] = f"{r.backend} {r.backend_version}".strip()
        session = host.get("session") or {}
        if isinstance(session, dict) and session.get("threads"):
            info["backend threads"] = session["threads"]
    if training:
        versions = training[0].get("versions", {})
        info["training"] = ", ".join(f"{k} {v}" for k, v in versions.items())
        host = training[0].get("host", {})
        info["training host"] = f"{host.get('processor', '?')}, {host.get('threads', '?')} threads" + (
            f", GPU {host['gpu']}" if host.get("gpu") else "")
    return info
