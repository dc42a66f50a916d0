"""The 2016 study as a list of trtbench commands (`trtbench.study2016.collect` reads their results back).

`trtbench study --out DIR` runs the steps below in order. Each step is one ordinary trtbench
command (a verb, its positional arguments and its options), run through the Python API
(`trtbench.api.study`) and listed in the report as the command line a user can re-run alone. It
writes into DIR and is skipped when its output is already there: an interrupted study picks up
where it stopped (the sweeps resume point by point through their database tags).

Layout of DIR::

    study.db                       every measured run (both sweeps), with sweep tags
    train/SPEC.pt, SPEC.train.json the Table-2 networks' checkpoints and training records
    drift.json                     the drift check (trtbench drift --json)
    fit-study.json, fit-general.json   the cost-model fits (trtbench fit --save)
    figures/*.png                  the figures
    report.md, findings.json       the report and the judged findings
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from trtbench.errors import TrtbenchError
from trtbench.study2016.collect import reference_batch
from trtbench.study2016.table2 import TABLE2_NETWORKS

STUDY_SWEEP = "study.toml"
NEURONS_SWEEP = "study-neurons.toml"
TABLE2_SWEEP = "table2.toml"  # c3d20-f3n1024 is in none of the four groups
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
    """One trtbench command of the study. `done()` says whether its output is already there.

    `options` are keyed by the command's option names as argparse stores them (``sweep_run`` for
    ``--sweep-run``); the same names are the API function's keywords, so the command line printed
    and the call made are one description (a test parses every step's `argv` with the real CLI).
    """

    name: str
    verb: str  # the trtbench command: sweep, train, drift, fit, plot
    positionals: List[str]
    options: Dict[str, Any]
    done: Callable[[], bool]
    what: str = ""

    @property
    def argv(self) -> List[str]:
        out = [self.verb, *self.positionals]
        for key, value in self.options.items():
            if value is None or value is False:
                continue
            flag = "--" + key.replace("_", "-")
            if value is True:
                out.append(flag)
            elif isinstance(value, (list, tuple)):
                out += [flag, *(str(v) for v in value)]
            else:
                out += [flag, str(value)]
        return out

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


def _config(opts: StudyOptions) -> Dict[str, Any]:
    return {"backend": opts.backend, "device": opts.device, "precision": opts.precision, "threads": opts.threads}


def sweep_complete(db: Path, sweep_file: Path, config: str) -> bool:
    """Whether the latest run of this sweep and config in `db` has every point."""
    from trtbench.results.store import Store
    from trtbench.sweeps import run as sweep_run
    from trtbench.sweeps.file import load_sweep

    if not db.is_file():
        return False
    sweep = load_sweep(sweep_file)
    keys = {p.key for g in sweep.groups for p in g.points}
    with Store(db) as store:
        runs = sweep_run.run_ids(store, sweep.name, config)
        return bool(runs) and keys <= sweep_run.done_points(store, sweep.name, runs[-1])


def plan_steps(opts: StudyOptions) -> List[Step]:
    """The study's commands, in order, without the skipped ones."""
    from trtbench.filenames import safe_name
    from trtbench.sweeps.file import load_sweep
    from trtbench.sweeps.plan import config_tag

    config = config_tag(opts.backend, opts.device, opts.precision, opts.threads)
    db = str(opts.db)
    study_file = opts.sweep_file or bundled_file(STUDY_SWEEP)
    neurons_file = opts.neurons_file or bundled_file(NEURONS_SWEEP)
    study_sweep = load_sweep(study_file)
    study_name, neurons_name = safe_name(study_sweep.name), safe_name(load_sweep(neurons_file).name)
    batch = reference_batch(p.batch for g in study_sweep.groups for p in g.points)
    work = {"iterations": opts.iterations or None, "loops": opts.loops or None}
    sweep_options = {**_config(opts), **work, "db": db}
    steps: List[Step] = []
    if "sweep" not in opts.skip:
        steps.append(Step("sweep", "sweep", [str(study_file)], sweep_options,
                          lambda: sweep_complete(opts.db, study_file, config), what="the four experiment groups"))
    if "neurons" not in opts.skip:
        steps.append(Step("neurons", "sweep", [str(neurons_file)], sweep_options,
                          lambda: sweep_complete(opts.db, neurons_file, config),
                          what="FC neurons on and off multiples of 128"))
    if "table2" not in opts.skip:
        table2_file = bundled_file(TABLE2_SWEEP)
        steps.append(Step("table2", "sweep", [str(table2_file)], sweep_options,
                          lambda: sweep_complete(opts.db, table2_file, config),
                          what="Table 2's three networks at batch 1024"))
    if "train" not in opts.skip:
        for name in TABLE2_NETWORKS:
            out = opts.train_dir() / f"{name}.pt"
            options: Dict[str, Any] = {"epochs": opts.epochs, "out": str(out), "device": opts.train_device(),
                                       "data_dir": str(opts.data_dir) if opts.data_dir else None}
            if opts.train_limit:  # a quick look: a validation set to match
                options.update(limit=opts.train_limit, validation=min(5000, max(500, opts.train_limit)))
            options["threads"] = opts.threads
            record = out.with_name(out.stem + ".train.json")
            steps.append(Step(f"train {name}", "train", [name], options, record.is_file,
                              what="Table 2: time to 90/95/97 %"))
    if "drift" not in opts.skip:
        drift = opts.out / "drift.json"
        steps.append(Step("drift", "drift", [DRIFT_NETWORK],
                          {"loops": opts.drift_loops, "iterations": opts.drift_iterations, "batch": opts.drift_batch,
                           "alloc": "per-run", **_config(opts), "json": str(drift), "db": db},
                          drift.is_file, what="repeated runs with fresh buffers each loop"))
    if "fit" not in opts.skip:
        for model in ("study", "general"):
            out = opts.out / f"fit-{model}.json"
            steps.append(Step(f"fit {model}", "fit", [],
                              {"sweep": str(study_file), "sweep_run": "latest", "model": model, "batch": batch,
                               "save": str(out), "db": db},
                              out.is_file, what="cost model, eqs. 13-18" if model == "study" else "FLOPs/bytes model"))
    if "plot" not in opts.skip:
        figures = str(opts.figures)
        steps.append(Step("plot", "plot", ["all"], {"sweep": str(study_file), "sweep_run": ["latest"], "batch": batch,
                                                    "out": figures, "db": db},
                          lambda: any(opts.figures.glob(f"{study_name}-*.png")), what="the study's figures"))
        steps.append(Step("plot neurons", "plot", ["sweep"], {"sweep": str(neurons_file), "sweep_run": ["latest"],
                                                              "out": figures, "db": db},
                          lambda: any(opts.figures.glob(f"{neurons_name}-*.png")), what="neurons figure"))
        if "drift" not in opts.skip:
            steps.append(Step("plot drift", "plot", ["drift"], {"series": str(opts.out / "drift.json"), "out": figures},
                              lambda: (opts.figures / "drift-drift.png").is_file(), what="drift series"))
    return steps
