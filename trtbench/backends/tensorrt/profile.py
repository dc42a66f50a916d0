"""TensorRT's IProfiler callbacks → per-layer times of one inference, transfers included."""
from __future__ import annotations

from typing import Any, Dict, List, Sequence, Tuple

from trtbench.backends.base import ProfileResult
from trtbench.categories import OTHER, TRANSFER
from trtbench.errors import TrtbenchError
from trtbench.results.record import LayerTime

TRANSFER_IN = "[HostToDevice input]"
TRANSFER_OUT = "[DeviceToHost output]"


def aggregate_layer_times(records: Sequence[Tuple[str, float]], iterations: int,
                          layer_info: Dict[str, Dict[str, Any]], on_dla: bool = False) -> ProfileResult:
    """Mean ms per inference for each layer from (name, ms) profiler records of `iterations` runs,
    categorised with the engine's layer info; names keep the engine's first-seen order. `on_dla`:
    the engine was built for a DLA core (its subgraphs are DLA work)."""
    from trtbench.categories.tensorrt_layers import categorize, normalize_name

    if iterations < 1:
        raise TrtbenchError("profiling needs at least one iteration")
    totals: Dict[str, float] = {}
    runs: Dict[str, List[float]] = {}  # each execution reports each layer once: the k-th report is run k
    for name, ms in records:
        totals[name] = totals.get(name, 0.0) + float(ms)
        runs.setdefault(name, []).append(float(ms))
    layers: List[LayerTime] = []
    unknown: List[str] = []
    for name, total in totals.items():
        info = layer_info.get(name) or layer_info.get(normalize_name(name))
        category = TRANSFER if name in (TRANSFER_IN, TRANSFER_OUT) else categorize(name, info, on_dla=on_dla)
        if category == OTHER:
            unknown.append(name)
        layer_type = str(info.get("LayerType")) if info and info.get("LayerType") else None
        layers.append(LayerTime(name=name, category=category, ms=total / iterations, type=layer_type))
    per_run = {name: times for name, times in runs.items() if len(times) == iterations}
    return ProfileResult(layers=layers, iterations=iterations, unknown=unknown, per_run=per_run)


def _make_profiler(trt: Any, records: List[Tuple[str, float]]) -> Any:
    class _Profiler(trt.IProfiler):  # type: ignore[misc,name-defined]
        # Trivial on purpose: TensorRT 8.0/8.2 abort the process on an exception in here.
        def __init__(self) -> None:
            trt.IProfiler.__init__(self)

        def report_layer_time(self, layer_name: str, ms: float) -> None:
            records.append((layer_name, ms))

    return _Profiler()
