"""A study folder read back (no backend needed): the latest run of each sweep, training records,
drift, fits and figures; and the eight findings judged from them."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

from trtbench import jsonio
from trtbench.errors import TrtbenchError
from trtbench.results.record import RunRecord
from trtbench.study2016 import findings as judge
from trtbench.study2016.table2 import TABLE2_NETWORKS


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
        return jsonio.read_json(path, "study output")
    except TrtbenchError as exc:
        raise TrtbenchError(exc.message, hint="delete it and run the study again to redo that step") from None



def _latest_sweep_records(store: Any, sweep_name: str) -> "tuple[List[RunRecord], Optional[str]]":
    from trtbench.sweeps import results as sweep_results
    from trtbench.sweeps import run as sweep_run

    runs = sweep_run.run_ids(store, sweep_name)
    if not runs:
        return [], None
    results = sweep_results.sweep_results(store, sweep_name, runs[-1])
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
    """B over A on the points both measured: total and per category (for finding 6), each with its
    bootstrapped effect (`findings.speedup_effects`), and the target profiles' ratios."""
    from trtbench.analysis.compare import predict
    from trtbench.analysis.sweep import speedups

    per_cat, total, matched = speedups(a, b)
    effects = judge.speedup_effects(a, b)
    total_effect = effects["total"]
    summary: Dict[str, Any] = {"total": {"speedup": total}, "matched": matched,
                               "categories": [{"category": c, "speedup": s} for c, s in per_cat.items()]}
    if total_effect is not None:
        summary["total"]["effect"] = total_effect.to_dict()
    for entry in summary["categories"]:
        effect = effects["categories"].get(entry["category"])
        if effect is not None:
            entry["effect"] = effect.to_dict()
    # the specifications' ratios, where both sides map to a target profile (e.g. tx1 and gtx960)
    prediction = predict(a[0], b[0]) if a and b else None
    if prediction is not None:
        summary["predicted_speedup"] = prediction.compute or prediction.bandwidth
        summary["prediction"] = prediction.to_dict()
        summary["expected"] = {"compute": prediction.compute, "bandwidth": prediction.bandwidth}
    return summary



def judge_all(results: StudyResults, baseline: Optional[StudyResults] = None) -> List[judge.Finding]:
    """The eight findings from what the study folder holds. Every run of a point counts (repeats
    and the same point in several sweeps): their loops are pooled, and their spread is the
    run-to-run noise the verdicts allow for."""
    runs = judge.index_repeats(results.records)
    spread = judge.run_spread(runs)
    batch = reference_batch(r.batch for r in results.records)
    comparison = speedup_summary(baseline.records, results.records) if baseline and baseline.records else None
    device = "cpu" if judge.on_cpu(results.records) else None
    return [
        judge.conv_vs_fc(runs, batch, spread=spread),
        judge.second_conv_costs_most(runs, batch, spread=spread),
        judge.batch_flattens(runs, spread=spread),
        judge.neurons_multiple_of_128(runs, batch, spread=spread),
        judge.training_vs_throughput(results.training, runs, 1024, spread=spread),  # Table 2's batch
        judge.device_speedup(comparison),
        judge.allocation_drift(results.drift, device),
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
        if r.device != "cpu":
            info["device"] = r.device_name or r.device
        host = r.host.to_dict()
        for key in ("cpu", "cores", "os", "machine", "python", "trtbench", "driver", "cuda", "tensorrt",
                    "jetpack", "power_mode"):
            if host.get(key) is not None:
                info[key] = host[key]
        info["backend version"] = f"{r.backend} {r.backend_version}".strip()
        if r.session.get("threads"):
            info["backend threads"] = r.session["threads"]
    if training:
        versions = training[0].get("versions", {})
        info["training"] = ", ".join(f"{k} {v}" for k, v in versions.items())
        host = training[0].get("host", {})
        info["training host"] = f"{host.get('processor', '?')}, {host.get('threads', '?')} threads" + (
            f", GPU {host['gpu']}" if host.get("gpu") else "")
    return info


def reference_batch(batches: Iterable[int]) -> int:
    """The batch most points were measured at (the study's 1024): fits and per-category figures use it."""
    counts: Dict[int, int] = {}
    for b in batches:
        counts[int(b)] = counts.get(int(b), 0) + 1
    if not counts:
        return 1024
    return max(counts, key=lambda b: (counts[b], b))
