"""`trtbench.profile`: a model's throughput and where its time goes, at one or more batch sizes."""
from __future__ import annotations

from pathlib import Path
from typing import Any, List, Mapping, Optional, Sequence, Union

from trtbench.api.pipeline import (Log, Method, ModelRef, measure_batches, no_log, open_session, open_store,
                                   resolve)
from trtbench.models.source import DEFAULT_CACHE
from trtbench.results.record import RunRecord

Batches = Union[int, Sequence[int]]


def batch_list(batch: Batches) -> List[int]:
    """An int or a list of ints as a list of batch sizes (each at least 1)."""
    from trtbench.errors import TrtbenchError

    batches = [batch] if isinstance(batch, int) else list(batch)
    if not batches:
        raise TrtbenchError("give at least one batch size", hint="e.g. batch=1024 or batch=[16, 64]")
    for b in batches:
        if isinstance(b, bool) or not isinstance(b, int) or b < 1:
            raise TrtbenchError(f"batch size {b!r} is not a whole number of at least 1")
    return batches


def profile(model: ModelRef, batch: Optional[Batches] = None, backend: str = "auto", device: Optional[str] = None,
            precision: str = "fp32", db: Optional[Union[str, Path]] = None, *, iterations: Optional[int] = None,
            loops: Optional[int] = None, target: float = 0.02, budget_s: Optional[float] = None,
            warmup: Optional[int] = None, profile_iterations: Optional[int] = None, layers: bool = True,
            threads: Optional[int] = None, cuda_graph: bool = False, channels_last: bool = False,
            telemetry: bool = True, inputs: Optional[Mapping[str, Any]] = None, cache_dir: Path = DEFAULT_CACHE,
            log: Log = no_log) -> List[RunRecord]:
    """Measure `model` at each batch size and return one `RunRecord` per batch.

    `model`: a spec name (``c1d20-f1n128``), a spec ``.toml``, an ``.onnx`` file, a ``.pt``
    checkpoint from `trtbench train`, or a TensorRT ``.plan``. `batch`: one size or several; None
    means the model's own: the batch an ONNX export fixed, 1024 for the study's networks, else 1.
    A batch other than a fixed one makes the batch dynamic (a checked copy), or fails before
    measuring, naming the node that pins it. `backend`: ``auto`` (TensorRT where it imports, else
    onnxruntime on the CPU) or a name; `device`: None means cuda for TensorRT and trtexec, cpu
    otherwise. `db`: a database file to store every run in as soon as it is measured, or None.
    `iterations`/`loops` None: sampled adaptively, until the median's 95 % interval is within
    ±`target` (0.02: 2 %) or `budget_s` seconds of timing per batch are spent (None: 8 s, or
    TRTBENCH_BUDGET); given, they fix
    the counts. `layers=False` skips the per-layer profiling pass. `inputs`: ``{input name: array or .npy
    path}`` to feed instead of random data. `log` receives one line per step.

    When some of several batches fail, `PartlyDone` is raised after the others were measured and
    stored; its ``done`` holds their records.
    """
    method = Method(iterations=iterations, loops=loops, warmup=warmup, profile=layers,
                    profile_iterations=profile_iterations, telemetry=telemetry, target=target, budget_s=budget_s)
    method.check()
    source = resolve(model, cache_dir)
    if batch is None:
        batches = [source.default_batch()]
        if source.fixed_batch is not None:
            log(f"{source.path} is exported with a fixed batch of {source.fixed_batch}: measuring that batch "
                "(other --batch sizes make the batch dynamic)")
    else:
        batches = batch_list(batch)
    store = open_store(db)
    try:
        with open_session(source, backend, device, precision, threads, cuda_graph, channels_last, cache_dir,
                          batches=batches, inputs=inputs) as opened:
            log(opened.reason)
            for note in opened.notes:
                log(note)
            return list(measure_batches(opened, batches, method, store, log))
    finally:
        if store is not None:
            store.close()
