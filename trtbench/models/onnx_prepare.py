"""A foreign ONNX model made ready to profile, as a checked copy in the cache folder.

What may change, each step said in the record's notes:

- **node names**: nodes without a name get ``<OpType>_<index>`` (their position in the graph), so
  onnxruntime's profile, the torch conversion and `compare` all call a node the same;
- **label post-processing cut**: ``ai.onnx.ml`` nodes (ZipMap, ArrayFeatureExtractor, ...) turn
  scores into strings and maps, which no accelerator runs and no CNN profile is about; they and
  what follows them are dropped, and the numeric tensors they read become the outputs;
- **dynamic batch** (only when a batch other than the export's fixed one is asked for): inputs and
  outputs get a ``batch`` axis and a Reshape to a constant shape that starts with the batch gets
  -1 (or 0: copy) there. The copy is checked: its outputs equal the original's at the original
  batch (1e-4 relative) and it runs at another batch with outputs that follow it. Where the graph
  still pins the batch, `BatchPinned` names the node before anything is measured.

The copy is cached (``<stem>-<sha12>-<run|dyn>.onnx``) with what was done in its metadata
(``trtbench.prepared``), like spec exports, and is reused while the original is unchanged.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from trtbench.errors import TrtbenchError
from trtbench.filenames import safe_name
from trtbench.models.inputs import (batch_arrays, check_feedable, fixed_batch, graph_inputs, load_graph,
                                    metadata_json)

PREPARE_VERSION = 1
META_KEY = "trtbench.prepared"
ML_DOMAIN = "ai.onnx.ml"
TOLERANCE = 1e-4
BATCH_AXIS = "batch"


class BatchPinned(TrtbenchError):
    """The graph fixes the batch in a way trtbench does not rewrite (the node is named)."""


@dataclass
class Prepared:
    """The file to run for a model, and what was changed to get it."""

    path: Path
    original: Path
    changes: List[str] = field(default_factory=list)
    dynamic_from: Optional[int] = None  # the export's fixed batch, when the copy made it dynamic
    max_rel_diff: Optional[float] = None  # the copy against the original at that batch

    @property
    def changed(self) -> bool:
        return self.path != self.original

    def to_dict(self) -> Dict[str, Any]:
        return {"path": str(self.path), "changes": list(self.changes), "dynamic_from": self.dynamic_from,
                "max_rel_diff": self.max_rel_diff}


# ---- graph edits (pure: a ModelProto in, changed in place) -----------------------------------

def name_nodes(model: Any) -> int:
    """Give every unnamed node ``<OpType>_<index>``; return how many were named."""
    from trtbench.models.graph_shapes import node_names

    count = 0
    for node, name in zip(model.graph.node, node_names(model.graph.node)):
        if not node.name:
            node.name = name
            count += 1
    return count


def cut_postprocessing(model: Any) -> List[str]:
    """Drop ``ai.onnx.ml`` nodes and everything downstream of them; the numeric tensors they read
    become graph outputs. Returns the dropped op types (empty when nothing was cut)."""
    import onnx

    graph = model.graph
    dropped_tensors: set = set()
    dropped: List[Any] = []
    for node in graph.node:
        if node.domain == ML_DOMAIN or any(t in dropped_tensors for t in node.input if t):
            dropped.append(node)
            dropped_tensors.update(node.output)
    if not dropped:
        return []
    kept = [n for n in graph.node if n not in dropped]
    types = _tensor_types(model)
    computed = _batch_tensors(model)  # constants (a label table, say) are not worth returning
    outputs = [o for o in graph.output if o.name not in dropped_tensors]
    names = {o.name for o in outputs}
    for node in dropped:
        for t in node.input:
            known = types.get(t)
            numeric = known is None or known.type.tensor_type.elem_type != onnx.TensorProto.STRING
            if t and t in computed and numeric and t not in names and t not in dropped_tensors:
                outputs.append(known if known is not None else
                               onnx.helper.make_tensor_value_info(t, onnx.TensorProto.FLOAT, None))
                names.add(t)
    if not outputs:
        raise TrtbenchError("cutting the model's label post-processing leaves it no outputs",
                            hint="profile the model's network part as its own ONNX file")
    del graph.node[:]
    graph.node.extend(kept)
    del graph.output[:]
    graph.output.extend(outputs)
    return sorted({n.op_type for n in dropped})


def _tensor_types(model: Any) -> Dict[str, Any]:
    """Each tensor's inferred type (and shape, where known) as a ValueInfoProto."""
    import onnx

    from trtbench.models.graph_shapes import inferred_infos

    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    infos = inferred_infos(copy)  # passes retired ops (ImageScaler) through, annotating `copy`
    try:
        graph = onnx.shape_inference.infer_shapes(copy).graph
    except Exception:  # shape inference gives up on some graphs: types only, then
        graph = copy.graph
    out = {v.name: v for v in [*graph.value_info, *graph.input, *graph.output]
           if v.type.HasField("tensor_type") and v.type.tensor_type.HasField("shape")}
    for name, info in infos.items():
        if name not in out and info.elem_type:
            out[name] = onnx.helper.make_tensor_value_info(name, info.elem_type, info.shape)
    return out


def _constant(model: Any, name: str) -> Any:
    """The value of an initializer or Constant-node output called `name`, else None."""
    from onnx import numpy_helper

    for init in model.graph.initializer:
        if init.name == name:
            return numpy_helper.to_array(init)
    for node in model.graph.node:
        if node.op_type == "Constant" and node.output and node.output[0] == name:
            for attr in node.attribute:
                if attr.name == "value":
                    return numpy_helper.to_array(attr.t)
    return None


def _batch_tensors(model: Any) -> set:
    """Tensors computed from the graph inputs (the ones that carry the batch)."""
    initializers = {i.name for i in model.graph.initializer}
    carrying = {i.name for i in model.graph.input if i.name not in initializers}
    for node in model.graph.node:
        if any(t in carrying for t in node.input if t):
            carrying.update(node.output)
    return carrying


def make_batch_dynamic(model: Any, batch: int) -> List[str]:
    """Turn a batch fixed at `batch` into a ``batch`` axis; return what was rewritten."""
    from onnx import numpy_helper

    graph = model.graph
    initializers = {i.name for i in graph.initializer}
    changed: List[str] = []
    for value in [*[i for i in graph.input if i.name not in initializers], *graph.output]:
        dims = value.type.tensor_type.shape.dim
        if dims and dims[0].HasField("dim_value") and dims[0].dim_value == batch:
            dims[0].dim_param = BATCH_AXIS
    del graph.value_info[:]  # stale shapes with the old batch; runtimes infer them again
    carrying = _batch_tensors(model)
    for node in graph.node:
        if node.op_type != "Reshape" or len(node.input) < 2 or node.input[0] not in carrying:
            continue
        shape = _constant(model, node.input[1])
        allowzero = any(a.name == "allowzero" and a.i for a in node.attribute)
        if shape is None or shape.ndim != 1 or shape.size < 2 or int(shape[0]) != batch:
            continue
        new = shape.copy()
        if -1 not in shape.tolist():
            new[0] = -1
        elif not allowzero:
            new[0] = 0
        else:
            continue
        name = f"{node.input[1]}__trtbench_batch"
        if name not in initializers:
            graph.initializer.append(numpy_helper.from_array(new.astype("int64"), name))
            initializers.add(name)
        node.input[1] = name
        changed.append(f"Reshape {node.name} {shape.tolist()} → {new.tolist()}")
    return changed


# ---- checks with onnxruntime ----------------------------------------------------------------

def _ort_session(model: Any) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 4  # the error comes back as an exception; nothing on stderr
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # nodes keep their names
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def _numeric_outputs(session: Any) -> List[str]:
    return [o.name for o in session.get_outputs() if str(o.type).startswith("tensor(") and "string" not in o.type]


def _run(model: Any, batch: int, data: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    session = _ort_session(model)
    feed = batch_arrays(graph_inputs(model), batch, data)
    names = _numeric_outputs(session)
    return dict(zip(names, session.run(names, feed)))


def _pinning_node(error: Exception) -> str:
    text = str(error)
    found = re.search(r"running (\w+) node\. Name:'([^']*)'", text)
    status = text.split("Status Message:", 1)[-1].strip().splitlines()[0] if text.strip() else ""
    status = re.sub(r"^\S+:\d+ [^(]*\([^)]*\) ", "", status)  # onnxruntime's source file and function
    status = status.split(" was false. ", 1)[-1][:200]
    if found:
        return f"node '{found.group(2)}' ({found.group(1)}) pins the batch: {status}"
    return f"the graph pins the batch: {text.strip().splitlines()[0][:200] if text.strip() else error.__class__.__name__}"


def check_dynamic(original: Any, rewritten: Any, batch: int, source: Path, others: Sequence[int] = (),
                  data: Optional[Dict[str, Any]] = None) -> float:
    """The largest relative difference of the rewritten model's outputs from the original's at
    `batch`; `BatchPinned` when the rewrite does not run at ``batch + 1`` and each of `others`,
    or its outputs do not follow the batch there. `data`: the user's arrays for some inputs."""
    check_feedable(graph_inputs(original), source, given=list(data or {}))
    try:
        reference = _run(original, batch, data)
    except TrtbenchError:
        raise
    except Exception as exc:  # onnxruntime's errors share no base class
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else exc.__class__.__name__
        raise TrtbenchError(f"{source} does not run at its own batch {batch} on onnxruntime: {first}") from None
    try:
        same = _run(rewritten, batch, data)
    except Exception as exc:  # onnxruntime's errors share no base class
        raise TrtbenchError(f"{source}: the copy with a dynamic batch does not run at batch {batch} "
                            f"({_pinning_node(exc)})", hint=f"run it at --batch {batch}") from None
    for other in dict.fromkeys([batch + 1, *others]):
        if other != batch:
            _probe(rewritten, batch, other, reference, source, data)
    return _largest_difference(reference, same, batch, source)


def _probe(rewritten: Any, batch: int, other: int, reference: Dict[str, Any], source: Path,
           data: Optional[Dict[str, Any]] = None) -> None:
    hint = f"run it at --batch {batch}, or re-export it with a dynamic batch axis"
    try:
        probe = _run(rewritten, other, data)
    except Exception as exc:  # onnxruntime's errors share no base class
        raise BatchPinned(f"{source} is exported with a fixed batch of {batch}, and {_pinning_node(exc)}",
                          hint=hint) from None
    for name, want in reference.items():
        if want.ndim and want.shape[0] == batch and probe[name].shape[0] != other:
            raise BatchPinned(f"{source} is exported with a fixed batch of {batch}, and output '{name}' keeps "
                              f"{probe[name].shape[0]} rows at batch {other}: the graph folds the batch axis",
                              hint=hint)


def _largest_difference(reference: Dict[str, Any], same: Dict[str, Any], batch: int, source: Path) -> float:
    import numpy as np

    worst = 0.0
    for name, want in reference.items():
        got = same[name]
        if want.dtype.kind in "fc":
            # relative to the output's size, and absolute below 1e-6 (an all-zero output, say)
            scale = max(float(np.max(np.abs(want))) if want.size else 0.0, 1e-6)
            worst = max(worst, float(np.max(np.abs(got.astype("float64") - want))) / scale if want.size else 0.0)
        elif not np.array_equal(got, want):
            worst = max(worst, 1.0)
    if worst > TOLERANCE:
        raise TrtbenchError(f"{source}: the copy with a dynamic batch differs from the original by {worst:.2g} "
                            f"(relative) at batch {batch}", hint=f"run it at --batch {batch}")
    return worst


# ---- the cached copy --------------------------------------------------------------------------

def _cached(path: Path, sha256: str) -> Optional[Prepared]:
    if not path.is_file():
        return None
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:
        return None
    meta = metadata_json(model, META_KEY)
    if isinstance(meta, dict) and meta.get("version") == PREPARE_VERSION and meta.get("sha256") == sha256:
        return Prepared(path, Path(meta.get("original", path)), list(meta.get("changes") or []),
                        meta.get("dynamic_from"), meta.get("max_rel_diff"))
    return None


def prepare(path: Path, sha256: str, cache_dir: Path, dynamic_batch: bool = False,
            data: Optional[Dict[str, Any]] = None) -> Prepared:
    """The file to run for the ONNX model at `path`: itself when nothing needs changing, else a
    checked copy in `cache_dir` (see the module docstring). `dynamic_batch`: a batch other than
    the export's fixed one will be asked for; `data`: the user's arrays for some inputs."""
    import onnx

    tag = "dyn" if dynamic_batch else "run"
    out = Path(cache_dir) / f"{safe_name(path.stem)}-{sha256[:12]}-{tag}.onnx"
    cached = _cached(out, sha256)
    if cached is not None:
        return cached
    model = load_graph(path, weights=True)
    changes: List[str] = []
    named = name_nodes(model)
    if named:
        changes.append(f"named {named} unnamed node(s) <OpType>_<index>")
    cut = cut_postprocessing(model)
    if cut:
        changes.append(f"cut the label post-processing ({', '.join(cut)}): its outputs are not numbers")
    result = Prepared(path, path)
    fixed = fixed_batch(graph_inputs(model))
    if dynamic_batch and fixed is not None:
        original = onnx.ModelProto()
        original.CopyFrom(model)
        rewrites = make_batch_dynamic(model, fixed)
        result.max_rel_diff = _check_or_skip(original, model, fixed, path, changes, data=data)
        result.dynamic_from = fixed
        changes.append(f"made the batch dynamic (exported fixed at {fixed})"
                       + (f": {'; '.join(rewrites)}" if rewrites else ""))
    if not changes:
        return result
    result.changes = changes
    result.path = out
    meta = {"version": PREPARE_VERSION, "sha256": sha256, "original": str(path), **result.to_dict()}
    meta.pop("path")
    _set_meta(model, META_KEY, json.dumps(meta))
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_name(out.name + ".tmp")
    onnx.save(model, str(temporary))
    temporary.replace(out)
    return result


def _check_or_skip(original: Any, model: Any, batch: int, path: Path, changes: List[str],
                   others: Sequence[int] = (), data: Optional[Dict[str, Any]] = None) -> Optional[float]:
    import importlib.util

    if importlib.util.find_spec("onnxruntime") is None:
        changes.append("the dynamic-batch copy is unchecked (onnxruntime is not installed)")
        return None
    return check_dynamic(original, model, batch, path, others, data)


def _set_meta(model: Any, key: str, value: str) -> None:
    for prop in model.metadata_props:
        if prop.key == key:
            prop.value = value
            return
    entry = model.metadata_props.add()
    entry.key, entry.value = key, value


def export_dynamic(path: Path, out: Path, others: Sequence[int] = (1, 64)) -> Prepared:
    """`trtbench export MODEL.onnx --dynamic-batch`: the whole graph as given (names and
    post-processing kept), with its batch made dynamic, checked against the original at its batch
    and run at each of `others`."""
    import onnx

    out = Path(out)
    if out.is_dir() or not out.name:
        raise TrtbenchError(f"{out} is a folder, not a file to export to", hint="give --out a file name, e.g. m.onnx")
    model = load_graph(path, weights=True)
    fixed = fixed_batch(graph_inputs(model))
    result = Prepared(out, path)
    if fixed is None:
        result.changes.append("the batch is already dynamic: copied as it is")
    else:
        original = onnx.ModelProto()
        original.CopyFrom(model)
        rewrites = make_batch_dynamic(model, fixed)
        result.max_rel_diff = _check_or_skip(original, model, fixed, path, result.changes, others)
        result.dynamic_from = fixed
        result.changes.append(f"made the batch dynamic (exported fixed at {fixed})"
                              + (f": {'; '.join(rewrites)}" if rewrites else ""))
    out.parent.mkdir(parents=True, exist_ok=True)
    work = out.with_name(f".{out.stem}.{os.getpid()}.tmp.onnx")
    try:
        onnx.save(model, str(work))
        work.replace(out)  # the user's file appears whole, or not at all
    except BaseException:
        if work.exists():
            work.unlink()
        raise
    return result
