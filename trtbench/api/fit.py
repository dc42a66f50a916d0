"""`trtbench.fit` and `trtbench.predict`: the study's cost model (eqs. 13-18) or a FLOPs/bytes
model fitted to saved runs, and what it predicts for an unmeasured network or device."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from trtbench import env, jsonio
from trtbench.analysis import costmodel
from trtbench.errors import TrtbenchError
from trtbench.results.record import RunRecord
from trtbench.results.runref import Ref
from trtbench.results.wellformed import MAX_BATCH

Runs = Union[Ref, RunRecord, Sequence[Union[Ref, RunRecord]]]
PRECISIONS = ("fp32", "fp16", "tf32", "int8")  # those runs are measured at, and profiles give peaks for
ROOF_TFLOPS = (1e-6, 1e6)  # --measured-roofs bounds: 1 MFLOP/s to 1 EFLOP/s
ROOF_GBS = (1e-3, 1e7)  # 1 MB/s to 10 PB/s


def sweep_name(sweep: Union[str, Path]) -> str:
    """A sweep's name, from its name or its file."""
    text = str(sweep)
    if text.endswith(".toml"):
        from trtbench.sweeps.file import load_sweep

        return load_sweep(Path(text)).name
    return text


def select_runs(runs: Optional[Runs] = None, *, sweep: Optional[Union[str, Path]] = None,
                sweep_run: Optional[str] = None, db: Optional[Ref] = None, backend: Optional[str] = None,
                device_name: Optional[str] = None) -> List[RunRecord]:
    """The runs an analysis works on: `runs` (records, JSON files, database files or run ids),
    narrowed to `sweep` (and one `sweep_run`, ``latest`` for the newest) when given; else the
    sweep's runs in `db`, or every run in `db`. Then narrowed by `backend` and `device_name`."""
    from trtbench.api.runs import load_runs
    from trtbench.results.runref import open_existing
    from trtbench.sweeps import results as sweep_results

    path = Path(db) if db is not None else env.db_path()
    if runs is not None:
        records = load_runs(runs, path)
        if sweep:
            records = [r.record for r in sweep_results.select(records, sweep_name(sweep), sweep_run)]
    else:
        with open_existing(path) as store:
            if sweep:
                found = sweep_results.sweep_results(store, sweep_name(sweep), sweep_run, backend=backend,
                                                    device_name=device_name)
                records = [r.record for r in found]
            else:
                records = store.find(backend=backend, device_name=device_name)
    if backend:
        records = [r for r in records if r.backend == backend]
    if device_name:
        records = [r for r in records if r.device_name == device_name]
    if not records:
        raise TrtbenchError("no runs match",
                            hint="check --sweep/--runs/--backend/--device-name, or list runs with: trtbench runs")
    return records


def by_config(records: Sequence[RunRecord]) -> Dict[Tuple[str, str, str, str], List[RunRecord]]:
    """Records grouped per backend, device, device name and precision (a fit is per device)."""
    groups: Dict[Tuple[str, str, str, str], List[RunRecord]] = {}
    for r in records:
        groups.setdefault((r.backend, r.device, r.device_name, r.precision), []).append(r)
    return groups


def fit(runs: Optional[Runs] = None, *, sweep: Optional[Union[str, Path]] = None, sweep_run: Optional[str] = None,
        db: Optional[Ref] = None, model: str = "study", batch: Optional[int] = None, folds: int = 5,
        weighting: str = "relative", nonnegative: bool = True, backend: Optional[str] = None,
        device_name: Optional[str] = None, save: Optional[Ref] = None) -> List[costmodel.FitSet]:
    """Fit ms/tile of the selected runs (see `select_runs`), one fit per device and precision.

    `model`: ``study`` (the study's equations, at `batch`, 1024 by default) or ``general`` (GFLOP
    and MB per layer kind, every batch). Quality: R² in sample and a `folds`-fold out-of-sample
    MAPE. `save` writes the fits for `predict`.
    """
    if model not in costmodel.MODELS:
        raise TrtbenchError(f"unknown cost model {model!r}", hint=f"choose one of: {', '.join(costmodel.MODELS)}")
    if folds < 2:
        raise TrtbenchError(f"--folds must be at least 2, got {folds}")
    records = select_runs(runs, sweep=sweep, sweep_run=sweep_run, db=db, backend=backend, device_name=device_name)
    if batch is None and model == "study":
        batch = 1024
    fits = [costmodel.fit_records(rs, model, batch, nonnegative=nonnegative, folds=folds, weighting=weighting)
            for rs in by_config(records).values()]
    if save is not None:
        jsonio.write_json([f.to_dict() for f in fits], save, what="--save")
    return fits


def load_fits(path: Ref) -> List[costmodel.FitSet]:
    """Fits saved by `fit` (``trtbench fit --save``)."""
    try:
        data = jsonio.read_json(Path(path), "fit file")
    except TrtbenchError as exc:
        raise TrtbenchError(str(exc.message), hint="write one with: trtbench fit --save FILE") from None
    items = data if isinstance(data, list) else [data]
    return [costmodel.FitSet.from_dict(item, source=str(path)) for item in items]


def graph_workload(path: Path) -> costmodel.GraphWorkload:
    """An ONNX file as the cost model sees it: its FLOPs and bytes per item by category."""
    from trtbench.models.graph_cost import graph_cost

    jsonio.require_regular_file(path, "ONNX file")  # a FIFO is refused without being opened
    cost = graph_cost(path, batch=None)
    counted = [n for n in cost.nodes if n.flops is None and n.category in ("conv", "pool", "fc")]  # the features' kinds
    if counted:
        names = ", ".join(sorted({n.op_type for n in counted}))
        raise TrtbenchError(f"{path}: FLOPs unknown for some nodes ({names}); a prediction would leave them out",
                            hint="predict a model whose graph shape inference can follow")
    return costmodel.GraphWorkload(path.stem, cost.to_dict())


def _roofs(text: str) -> costmodel.Roofs:
    try:
        tflops, gbs = (float(v) for v in text.split(","))
    except ValueError:
        raise TrtbenchError(f"--measured-roofs {text!r} is not TFLOPS,GBS", hint="e.g. --measured-roofs 0.2,20") from None
    # from a microcontroller to well past any GPU: outside, a figure is a typo or overflows the
    # roofline arithmetic (1e400 reads as infinity, and would make every device bandwidth-bound)
    if not (ROOF_TFLOPS[0] <= tflops <= ROOF_TFLOPS[1] and ROOF_GBS[0] <= gbs <= ROOF_GBS[1]):
        raise TrtbenchError(f"--measured-roofs {text!r}: TFLOP/s must be from {ROOF_TFLOPS[0]:g} to "
                            f"{ROOF_TFLOPS[1]:g} and GB/s from {ROOF_GBS[0]:g} to {ROOF_GBS[1]:g}",
                            hint="e.g. --measured-roofs 0.2,20 for a small CPU")
    return costmodel.Roofs("measured device", tflops, gbs)


def predict(spec: Any, target: str, *, fits: Optional[Union[Ref, Sequence[costmodel.FitSet]]] = None,
            batch: int = 1024, sweep: Optional[Union[str, Path]] = None, db: Optional[Ref] = None,
            model: str = "study", precision: Optional[str] = None, measured_as: Optional[str] = None,
            measured_roofs: Optional[str] = None) -> costmodel.Prediction:
    """ms per item and items per ms of `spec` at `batch` on `target`.

    `spec`: a NetSpec, a spec name or ``.toml``, or an ``.onnx`` file (any model: its FLOPs and
    bytes are counted from the graph, and it is predicted with the ``general`` model). The
    prediction's ``outside`` says how far the network lies beyond the points the fit was made on.

    `fits`: a fit file or FitSets; else fitted now from `db` (only `sweep`'s runs when given). A
    fit measured on `target` predicts directly; otherwise it is scaled to `target`'s profile by
    the two devices' roofline bounds (`measured_as`: the measured device's profile, or
    `measured_roofs` "TFLOPS,GBS" for a device without one).
    """
    from trtbench.device.targets import get_target
    from trtbench.models.netspec import resolve_spec

    if not 1 <= batch <= MAX_BATCH:
        raise TrtbenchError(f"--batch must be from 1 to {MAX_BATCH:,}, got {batch:,}")
    if precision is not None and precision not in PRECISIONS:  # else scaled as fp32 without a word
        raise TrtbenchError(f"unknown precision {precision!r}", hint=f"use one of {', '.join(PRECISIONS)}")
    if isinstance(spec, (str, Path)) and str(spec).lower().endswith(".onnx"):
        net: Any = graph_workload(Path(spec))
        model = "general"  # the study's equations describe the study's networks only
    else:
        net = resolve_spec(str(spec)) if isinstance(spec, (str, Path)) else spec
    if fits is None:
        fit_sets = fit(sweep=sweep, db=db, model=model)
    elif isinstance(fits, (str, Path)):
        fit_sets = load_fits(fits)
    else:
        fit_sets = list(fits)
    if isinstance(net, costmodel.GraphWorkload):
        fit_sets = [f for f in fit_sets if f.model == "general"]
        if not fit_sets:
            raise TrtbenchError("an ONNX model is predicted with the general model, and the fits hold none",
                                hint="fit one with: trtbench fit --model general --save FILE")
    measured: Any = None
    if measured_as:
        measured = get_target(measured_as)
    elif measured_roofs:
        measured = _roofs(measured_roofs)
    return costmodel.predict(fit_sets, net, batch, target, get_target, precision, measured)
