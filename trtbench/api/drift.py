"""`trtbench.drift`: does each loop get slower, and which part (allocation, compute, transfer)?

Three sources of a series: a live loop on a model (`drift`, stored as a run of kind ``drift``),
a saved series file (`drift_series`), or the database's history of one model (`drift_history`).
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Union

from trtbench import env
from trtbench.analysis.drift import DriftReport, analyse_parts
from trtbench.analysis.series import Parts, directions, history_parts, read_series
from trtbench.api.pipeline import Log, ModelRef, no_log, open_session, open_store, resolve
from trtbench.errors import Interrupted, TrtbenchError
from trtbench.models.source import DEFAULT_CACHE
from trtbench.results.record import DRIFT, DriftData, RunRecord, Telemetry

DIRECTIONS = ("slower", "faster", "both")
METRICS = ("end_to_end_ms", "tiles_per_ms")


@dataclass
class Drift:
    """A drift analysis: the verdict per part, the series it judged, and where the series came from."""

    report: DriftReport
    parts: Parts
    unit: str  # "loop" (a live loop, a series file) or "run" (the history)
    source: Dict[str, Any] = field(default_factory=dict)
    telemetry: Optional[Dict[str, Any]] = None
    record: Optional[RunRecord] = None  # the drift run, for a live loop

    @property
    def drift(self) -> bool:
        return self.report.drift

    def to_dict(self) -> Dict[str, Any]:
        payload = {**self.report.to_dict(), "unit": self.unit, "source": self.source, "series": self.parts}
        if self.record is not None:
            payload["run_id"] = self.record.run_id
        if self.telemetry:
            payload["telemetry"] = self.telemetry
        return payload


def _check(threshold: float, alpha: float, direction: str, min_slope: float = 0.0) -> None:
    # written so that NaN fails every comparison and is refused (NaN <= 0 is False)
    if not 0 < threshold < 1e6 or not 0 < alpha < 1:
        raise TrtbenchError(f"--threshold must be above 0 % (and finite) and --alpha between 0 and 1, "
                            f"got {threshold:g} and {alpha:g}")
    if not 0 <= min_slope < 1e6:
        raise TrtbenchError(f"--min-slope must be 0 or more (% per 100 loops, finite), got {min_slope:g}")
    if direction not in DIRECTIONS:
        raise TrtbenchError(f"unknown direction {direction!r}", hint=f"choose one of: {', '.join(DIRECTIONS)}")


def _analyse(parts: Parts, unit: str, threshold: float, alpha: float, direction: str, min_slope: float,
             higher_is_better: Any = ()) -> DriftReport:
    return analyse_parts(parts, threshold=threshold / 100.0, alpha=alpha, min_slope_pct_per_100=min_slope,
                         unit=unit, direction=directions(parts, direction, higher_is_better=higher_is_better))


def drift_series(path: Union[str, Path], column: Optional[str] = None, *, threshold: float = 5.0,
                 alpha: float = 0.01, direction: str = "slower", min_slope: float = 0.0) -> Drift:
    """Judge a saved series (JSON list or parts, a drift output or drift run, a run record, or CSV).
    `threshold` is the smallest change that counts, in % of the level."""
    _check(threshold, alpha, direction, min_slope)
    parts = read_series(Path(path), column)
    return Drift(_analyse(parts, "loop", threshold, alpha, direction, min_slope), parts, "loop",
                 {"series_file": str(path)})


def drift_history(model: str, db: Optional[Union[str, Path]] = None, *, device_name: Optional[str] = None,
                  backend: Optional[str] = None, batch: Optional[int] = None, metric: str = "end_to_end_ms",
                  threshold: float = 5.0, alpha: float = 0.01, direction: str = "slower",
                  min_slope: float = 0.0) -> Drift:
    """Judge the stored runs of `model` over time, oldest first: has it got slower run to run?"""
    from trtbench.results.store import Store

    _check(threshold, alpha, direction, min_slope)
    if metric not in METRICS:
        raise TrtbenchError(f"unknown metric {metric!r}", hint=f"choose one of: {', '.join(METRICS)}")
    path = Path(db) if db is not None else env.db_path()
    if not path.exists():
        raise TrtbenchError(f"database {path} does not exist", hint="give the right file with --db FILE")
    with Store(path) as store:
        records = store.find(model=model, device_name=device_name, backend=backend, batch=batch)
    if not records:
        raise TrtbenchError(f"no runs of model '{model}' in {path}"
                            + (f" on device '{device_name}'" if device_name else ""),
                            hint="check the name with: trtbench runs")
    parts, info = history_parts(list(reversed(records)), metric)
    info.update(db=str(path), model=model)
    known = run_precision(records)
    if known is not None and 100.0 * known > threshold:
        info.setdefault("notes", []).append(
            f"the smallest change that counts was raised from {threshold:g} % to {100 * known:.1f} %: the runs' "
            "own 95 % intervals are that wide (a change within them is not told from noise)")
        threshold = 100.0 * known
    report = _analyse(parts, "run", threshold, alpha, direction, min_slope, info.get("higher_is_better", ()))
    return Drift(report, parts, "run", info)


def run_precision(records: Any) -> Optional[float]:
    """The median half-width of the runs' end-to-end intervals (0.02: ±2 %); None when none has one."""
    from trtbench.results.intervals import end_to_end

    widths = []
    for record in records:
        found = end_to_end(record)
        if found is not None and found.level >= 0.95 and record.end_to_end_ms > 0:
            widths.append(found.half_width(record.end_to_end_ms))
    return statistics.median(widths) if widths else None


def drift(model: ModelRef, *, batch: Optional[int] = None, inputs: Optional[Mapping[str, Any]] = None,
          loops: int = 200, iterations: int = 10, warmup: int = 3,
          alloc: str = "per-run", backend: str = "auto", device: str = "cpu", precision: str = "fp32",
          threads: Optional[int] = None, telemetry: bool = True, cache_dir: Path = DEFAULT_CACHE,
          db: Optional[Union[str, Path]] = None, threshold: float = 5.0, alpha: float = 0.01,
          direction: str = "slower", min_slope: float = 0.0, log: Log = no_log) -> Drift:
    """Run the same loop `loops` times on `model` (`iterations` inferences of `batch` each) and judge
    whether it slows down, part by part. `alloc`: ``per-run`` allocates fresh buffers every loop
    (the study's framework did), ``reuse`` once, ``fragment`` adds a fragmenting cudaMalloc/cudaFree
    pattern (CUDA). The loop is kept as a run of kind ``drift`` (stored in `db` when given).
    `batch` None: the model's own (an ONNX export's fixed batch, 1024 for the study's networks, else 1)."""
    from trtbench.device.host import fingerprint
    from trtbench.measure.drift_loop import run_drift
    from trtbench.measure.sampler import Sampler, auto_source
    from trtbench.measure.telemetry import record_checks
    from trtbench.results import validity

    _check(threshold, alpha, direction, min_slope)
    if alloc == "fragment" and device != "cuda":
        raise TrtbenchError("--alloc fragment needs a CUDA GPU", hint="add --device cuda, or use --alloc per-run")
    resolved = resolve(model, cache_dir)
    batch = resolved.default_batch() if batch is None else batch
    if batch < 1 or loops < 1 or iterations < 1 or warmup < 0:
        raise TrtbenchError("--batch, --loops and --iterations must be at least 1, --warmup at least 0")
    from trtbench.measure.method import check_work

    check_work(iterations, loops, warmup)
    store = open_store(db)
    try:
        with open_session(resolved, backend, device, precision, threads, cache_dir=cache_dir,
                          batches=[batch], inputs=inputs) as opened:
            log(f"{opened.model.name}: {opened.reason}; {loops} loops x {iterations} iterations at batch {batch}, "
                f"--alloc {alloc}")
            source = auto_source(device) if telemetry else None
            with Sampler(source, period_s=0.2) as sampler:
                series = run_drift(opened.session, batch, loops=loops, iterations=iterations, alloc=alloc,
                                   warmup=warmup)
            details = dict(opened.session.info())
        samples = sampler.result()
        report = _analyse(series.parts, "loop", threshold, alpha, direction, min_slope)
        compute = statistics.median(series.parts["compute"])
        record = RunRecord(
            backend=opened.backend.name, device=device, batch=batch, precision=precision,
            model=opened.model.to_dict(), iterations=iterations, loops=series.loops, loop_ms=list(series.parts["total"]),
            iteration_ms=[], end_to_end_ms=compute / iterations,
            tiles_per_ms=batch * iterations / compute if compute > 0 else 0.0, warmup=warmup,
            backend_version=str(details.pop("backend_version", "")),
            device_name=str(details.pop("device_name", "")), host=fingerprint(), session=details,
            telemetry=Telemetry.from_dict(samples), notes=list(series.notes), kind=DRIFT,
            drift=DriftData(alloc=alloc, series=series.parts, report=report.to_dict()),
        )
        record.validity = validity.evaluate(record, record_checks(samples))
        if store is not None:
            store.add([record])
    finally:
        if store is not None:
            store.close()
    info: Dict[str, Any] = {"model": record.model_name, "backend": record.backend, "device": device,
                            "device_name": record.device_name, "batch": batch, "iterations": iterations,
                            "loops": series.loops, "alloc": alloc, "notes": list(series.notes)}
    telemetry_checks = (validity.THROTTLING, validity.CLOCK_CHANGE, validity.TEMPERATURE, validity.CLOCKS_PINNED)
    checks: List[Dict[str, Any]] = [c.to_dict() for c in record.validity.checks if c.name in telemetry_checks]
    if checks:
        info["telemetry_checks"] = checks
    result = Drift(report, series.parts, "loop", info, samples or None, record)
    if series.interrupted:  # Ctrl-C: the finished loops are judged and stored; the caller writes its outputs
        raise Interrupted([result])
    return result
