"""`trtbench.ablate`: check a profiler's per-category shares by taking each category out.

The model is profiled once (timing pass and profiling pass). Then, for each category with a
share of at least `min_share`, a copy of the graph with that category's nodes replaced by the
cheapest node writing the same output (`trtbench.models.ablation`) is timed with no profiler.
The drop in end-to-end time, as a share of the whole, is what that category costs as the model
sees it; beside it, the profiler's share as measured and with its overhead spread over the nodes
(`trtbench.results.shares`). Where they disagree, the profiler's shares are not to be trusted.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

from trtbench.api.pipeline import Log, ModelRef, no_log, open_session, prepare_source, resolve, user_data
from trtbench.errors import TrtbenchError
from trtbench.filenames import safe_name
from trtbench.models.ablation import ABLATABLE
from trtbench.models.source import DEFAULT_CACHE
from trtbench.results.record import RunRecord
from trtbench.results.shares import spread_overhead


@dataclass
class AblationRow:
    category: str
    profiled_share: float  # of the per-layer sum, as the profiler measured (0..1)
    spread_share: float  # with the overhead spread as an equal cost per node
    ablation_share: float  # (whole_ms - ablated_ms) / whole_ms
    ablated_ms: float  # end-to-end ms per batch with the category replaced
    replaced: int  # nodes replaced
    kept: List[str] = field(default_factory=list)  # nodes of the category that could not be replaced
    whole_ms: float = 0.0  # the whole model, timed just before (the drop is relative to it)


@dataclass
class Ablation:
    model: str
    backend: str
    device: str
    batch: int
    end_to_end_ms: float
    overhead: Optional[float]
    rows: List[AblationRow]
    run: RunRecord
    notes: List[str] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        return {"model": self.model, "backend": self.backend, "device": self.device, "batch": self.batch,
                "end_to_end_ms": self.end_to_end_ms, "overhead": self.overhead,
                "rows": [asdict(row) for row in self.rows], "run_id": self.run.run_id, "notes": list(self.notes)}


def category_shares(run: RunRecord, spread: bool) -> Dict[str, float]:
    """Each category's share of the per-layer sum (with the overhead spread over nodes when asked)."""
    times = [layer.ms for layer in run.layers]
    if spread:
        times = spread_overhead(times, run.end_to_end_ms)
    total = sum(times)
    out: Dict[str, float] = {}
    for layer, ms in zip(run.layers, times):
        out[layer.category] = out.get(layer.category, 0.0) + (ms / total if total > 0 else 0.0)
    return out


def ablate(model: ModelRef, batch: Optional[int] = None, backend: str = "auto", device: Optional[str] = None, *,
           categories: Sequence[str] = ABLATABLE, min_share: float = 0.01,
           iterations: int = 20, loops: int = 3, warmup: Optional[int] = None, threads: Optional[int] = None,
           inputs: Optional[Mapping[str, Any]] = None, cache_dir: Path = DEFAULT_CACHE, log: Log = no_log) -> Ablation:
    """Profile `model` at `batch` (its own by default), then time it with each category replaced.

    The baseline and the ablated copies run the same ONNX graph (the model's, or its export), so
    on torch all of them go through the ONNX converter; the study's networks rebuilt from their
    spec would be another implementation with another end-to-end time."""
    import onnx

    from trtbench.api.profile import profile
    from trtbench.measure.method import measure
    from trtbench.models.ablation import ablate as ablate_graph
    from trtbench.models.ablation import output_shapes
    from trtbench.models.memory import check_batches_fit
    from trtbench.models.source import onnx_file

    if not 0.0 <= min_share <= 1.0:  # also NaN: no category would compare with it
        raise TrtbenchError(f"min_share must be from 0 to 1 (a share of the per-layer sum), "
                            f"got {min_share:g}")
    source = resolve(model, cache_dir)
    if source.kind == "plan":
        raise TrtbenchError("an engine plan cannot be ablated: its layers are fixed at build time",
                            hint="ablate the ONNX model it was built from")
    size = batch or source.default_batch()
    # output_shapes below runs the graph on this host at `size` before any session checks the
    # batch: one that cannot fit is refused here, in one line, not by numpy's MemoryError
    check_batches_fit(source.name, source.inputs, 0.0, [size])
    data = user_data(source, inputs)
    prepare_source(source, backend, [size], cache_dir, data)  # a fixed batch made dynamic when asked for another
    graph = onnx.load(str(onnx_file(source)))
    del graph.metadata_props[:]  # the baseline runs the same graph as the ablated copies (torch: converted, not rebuilt)
    folder = Path(cache_dir) / "ablation"
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{safe_name(source.name)}-{source.sha256[:12]}-b{size}"
    baseline = folder / f"{stem}.onnx"
    onnx.save(graph, str(baseline))
    shapes = output_shapes(graph, size, data)  # before the minutes of profiling: a graph it cannot run fails now
    run = profile(baseline, size, backend, device, iterations=iterations, loops=loops, warmup=warmup,
                  threads=threads, telemetry=False, inputs=data, cache_dir=cache_dir, log=log)[0]
    if not run.layers:
        raise TrtbenchError(f"backend {run.backend} gave no per-layer times to check")
    profiled, spread = category_shares(run, False), category_shares(run, True)
    rows: List[AblationRow] = []
    notes: List[str] = []

    def timed(path: Path) -> float:
        with open_session(path, run.backend, run.device, run.precision, threads, cache_dir=cache_dir,
                          batches=[size], inputs=data) as opened:
            return measure(opened.session, opened.model, size, iterations=iterations, loops=loops, warmup=warmup,
                           profile=False, telemetry=None).end_to_end_ms

    for category in categories:
        if profiled.get(category, 0.0) < min_share:
            continue
        cut = ablate_graph(graph, category, size, shapes)
        if not cut.replaced:
            notes.append(f"{category}: no node could be replaced ({'; '.join(cut.kept[:3])})")
            continue
        path = folder / f"{stem}-no-{category}.onnx"
        onnx.save(cut.model, str(path))
        log(f"timing {source.name} at batch {size:,} without its {category} nodes ({len(cut.replaced)} replaced)")
        # the whole model again just before, then without the category: a machine that drifts
        # over the minutes this takes moves both the same way
        whole, without = timed(baseline), timed(path)
        rows.append(AblationRow(category, profiled.get(category, 0.0), spread.get(category, 0.0),
                                (whole - without) / whole, without, len(cut.replaced), cut.kept, whole))
    if not rows and not notes:  # an empty table alone would read as "nothing to see"
        notes.append(f"no category had a profiled share of at least {100 * min_share:g} %, "
                     "so none was ablated")
    return Ablation(source.name, run.backend, run.device, size, run.end_to_end_ms, run.overhead, rows, run, notes)
