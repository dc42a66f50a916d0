"""The one path from a model to stored runs: resolve → choose a backend → load → measure → store.

`trtbench.profile`, the sweep, the live drift loop and the study all open models here, so a
change to how a model is loaded or a run is stored is made once.
"""
from __future__ import annotations

import os

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from trtbench.backends.base import Backend, LoadOptions, Session
from trtbench.errors import Interrupted, PartlyDone, TrtbenchError
from trtbench.models.source import DEFAULT_CACHE, ModelSource, add_cost, resolve_model
from trtbench.results.record import RunRecord
from trtbench.results.store import Store

Log = Callable[[str], None]  # where the pipeline says what it does (the CLI prints it on stderr)
ModelRef = Union[str, Path, ModelSource]
ENGINE_BACKENDS = ("tensorrt", "trtexec")


def no_log(message: str) -> None:
    """The default `Log`: the library prints nothing."""


@dataclass
class Method:
    """How each batch is measured (`trtbench.measure.method.measure`)."""

    iterations: Optional[int] = None  # None: a loop of about 0.1 s
    loops: Optional[int] = None  # None: adaptive, until the median is known to ±target or budget_s is spent
    warmup: Optional[int] = None  # None: at least 3 inferences and 0.5 s
    profile: bool = True  # the separate per-layer profiling pass
    profile_iterations: Optional[int] = None  # None: `iterations`
    telemetry: bool = True  # sample NVML / tegrastats during the timing pass where a source exists
    target: float = 0.02
    budget_s: Optional[float] = None  # None: TRTBENCH_BUDGET, else 8 s

    def check(self) -> None:
        from trtbench.measure.method import check_work

        check_work(self.iterations, self.loops, self.warmup, self.profile_iterations)
        if not 0.0 < self.target < 1.0:
            raise TrtbenchError(f"--target must be above 0 and below 100 %, got {100 * self.target:g}",
                                hint="e.g. --target 2 for ±2 %")
        if self.budget_s is not None and not 0.0 < self.budget_s <= 86400.0:
            raise TrtbenchError(f"--budget must be above 0 s and at most a day, got {self.budget_s:g}",
                                hint="e.g. --budget 10")


@dataclass
class Opened:
    """A model loaded on a backend: what `open_session` gives. Close it (or use `with`)."""

    model: ModelSource
    backend: Backend
    session: Session
    reason: str  # one line: which backend and why
    device: str
    notes: List[str] = field(default_factory=list)

    def __enter__(self) -> "Opened":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()


def default_device(backend_name: str) -> str:
    return "cuda" if backend_name in ENGINE_BACKENDS else "cpu"


def resolve(model: ModelRef, cache_dir: Path = DEFAULT_CACHE) -> ModelSource:
    """What `model` names (a spec, an ONNX file, a checkpoint, an engine plan) as a `ModelSource`."""
    return model if isinstance(model, ModelSource) else resolve_model(str(model), Path(cache_dir))


def open_session(model: ModelRef, backend: str = "auto", device: Optional[str] = None, precision: str = "fp32",
                 threads: Optional[int] = None, cuda_graph: bool = False, channels_last: bool = False,
                 cache_dir: Path = DEFAULT_CACHE, batches: Sequence[int] = (),
                 inputs: Optional[Mapping[str, Any]] = None) -> Opened:
    """Resolve `model`, choose the backend (``auto`` or a name) and load the model on it.

    `batches`: the batch sizes that will be measured (a foreign ONNX model exported with a fixed
    batch is then made dynamic first, checked, or refused with the node that pins its batch).
    `inputs`: ``{input name: array or .npy path}``, the user's data for those inputs.
    """
    from trtbench.backends import choose

    if threads is not None and threads < 1:
        raise TrtbenchError(f"--threads must be at least 1, got {threads}")
    source = resolve(model, cache_dir)
    chosen, reason = choose(backend, source, device)
    where = device or default_device(chosen.name)
    data = user_data(source, inputs)
    memory = _available(where) if source.inputs and batches else None
    if memory is not None:  # the inputs alone, checked before anything is prepared or run
        _check_fits(source, batches, memory, counted=False)
    notes = prepare_source(source, chosen.name, batches, cache_dir, data)
    counted = add_cost(source)
    if counted:
        notes.append(counted)
    if memory is not None and source.cost:  # then the weights and the activations the graph moves
        _check_fits(source, batches, memory, counted=True)
    if threads is None and where == "cpu" and chosen.name in CPU_THREADED:
        threads, why = default_threads()
        if why:
            notes.append(why)
    options = LoadOptions(device=where, precision=precision, threads=threads, cuda_graph=cuda_graph,
                          channels_last=channels_last, data=data)
    return Opened(source, chosen, chosen.load(source, options), reason, where, notes)


CPU_THREADED = ("onnxruntime", "torch")
SMALL_CPU = 4  # cores: on this many or fewer, one is left to the OS and trtbench's own timing loop


def usable_cores() -> int:
    """The cores this process may run on (a container's or taskset's share, not the machine's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_threads(cores: Optional[int] = None) -> Tuple[Optional[int], str]:
    """The backend's threads when none are asked for, and why: on a small CPU, one core fewer than
    it has, so the OS, the telemetry sampler and the timing loop do not preempt the inference (on
    2 cores, 2 threads varied 0.87-1.39x loop to loop, 1 thread 0.96-1.05x); else the backend's own."""
    cores = usable_cores() if cores is None else cores
    if cores == 1:  # a backend's own default counts the machine's cores, not this process's share
        return 1, "1 thread: this process may run on one core only (--threads sets it)"
    if cores <= SMALL_CPU:
        return cores - 1, (f"{cores - 1} thread(s) on this {cores}-core CPU: one core is left to the OS and the "
                           "timing loop, which keeps loop-to-loop times stable (--threads sets it)")
    return None, ""


def _available(device: str) -> Optional[Tuple[int, str]]:
    from trtbench.models.memory import available_for

    free, where = available_for(device)
    return None if free is None else (free, where)


def _check_fits(source: ModelSource, batches: Sequence[int], memory: Tuple[int, str], counted: bool) -> None:
    from trtbench.models.memory import check_batches_fit, counted_item_bytes

    cost = source.cost if counted else None
    weights = float((cost or {}).get("weight_bytes") or 0.0)
    check_batches_fit(source.name, source.inputs, weights, batches, memory[0], where=memory[1],
                      per_item=counted_item_bytes(source.inputs, cost))


def prepare_source(source: ModelSource, backend: str, batches: Sequence[int], cache_dir: Path,
                   data: Optional[Mapping[str, Any]] = None) -> List[str]:
    """Make a foreign ONNX model ready for onnxruntime and torch (`trtbench.models.onnx_prepare`);
    the notes say what changed. trtbench's own exports and the engine routes are left as they are."""
    if source.kind != "onnx" or source.spec or backend in ENGINE_BACKENDS:
        return []
    from trtbench.models.onnx_prepare import prepare

    fixed = source.fixed_batch
    dynamic = fixed is not None and any(b != fixed for b in batches)
    prepared = prepare(source.path, source.sha256, Path(cache_dir), dynamic_batch=dynamic, data=dict(data or {}))
    if not prepared.changed:
        return []
    source.metadata["prepared"] = prepared.to_dict()
    notes = [f"trtbench {change}" for change in prepared.changes]
    if prepared.max_rel_diff is not None:
        notes.append(f"the dynamic-batch copy matches the original at batch {fixed} "
                     f"(largest relative difference {prepared.max_rel_diff:.1g})")
    return notes


def user_data(source: ModelSource, inputs: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """The user's arrays by input name (paths are loaded); names are checked against the model."""
    if not inputs:
        return {}
    from trtbench.models.inputs import load_user_arrays

    paths = {name: value for name, value in inputs.items() if isinstance(value, (str, Path))}
    arrays = {name: value for name, value in inputs.items() if name not in paths}
    loaded = load_user_arrays(paths, source.inputs) if paths else {}
    known = {i.name for i in source.inputs}
    for name in arrays:
        if source.inputs and name not in known:
            raise TrtbenchError(f"input '{name}': the model has no input called that",
                                hint=f"its inputs: {', '.join(sorted(known))}")
    return {**arrays, **loaded}


def open_store(db: Optional[Union[str, Path]]) -> Optional[Store]:
    """The database to store runs in, opened and checked writable now (not after an hour of
    measuring); None when `db` is None."""
    if db is None:
        return None
    store = Store(Path(db))
    store.open()
    try:
        store.check_writable()
    except BaseException:
        store.close()
        raise
    return store


def measure_batches(opened: Opened, batches: Sequence[int], method: Method, store: Optional[Store] = None,
                    log: Log = no_log, extra_notes: Sequence[str] = ()) -> Iterator[RunRecord]:
    """Measure each batch on an opened model; store each record as soon as it is measured (one
    transaction per batch: never a half-written run), then yield it.

    A batch that fails (it does not fit, the graph refuses it) does not stop the others: after the
    last one, `PartlyDone` names the failed batches (a single batch's failure is raised as it is).
    """
    from trtbench.measure.method import measure

    failures: List[str] = []
    done: List[RunRecord] = []
    last: Optional[TrtbenchError] = None
    for batch in batches:
        log(f"measuring {opened.model.name} at batch {batch:,} on {opened.backend.name} ({opened.device})")
        try:
            record = measure(opened.session, opened.model, batch, iterations=method.iterations,
                             loops=method.loops, warmup=method.warmup, profile=method.profile,
                             profile_iterations=method.profile_iterations,
                             telemetry="auto" if method.telemetry else None, target=method.target,
                             budget_s=method.budget_s)
        except KeyboardInterrupt:
            if done:  # Ctrl-C: the batches measured so far are stored; hand them on for the other outputs
                raise Interrupted(done) from None
            raise
        except TrtbenchError as exc:
            if len(batches) == 1:
                raise
            log(f"batch {batch:,} failed: {exc}")
            failures.append(f"batch {batch:,}: {exc.message}")
            last = exc
            continue
        record.notes.extend([*opened.notes, *extra_notes])
        if store is not None:
            store.add([record])
        done.append(record)
        yield record
    if failures:
        raise PartlyDone(f"{len(failures)} of {len(batches)} batch sizes failed ({'; '.join(failures)})",
                         done, hint=last.hint if last is not None else None)
