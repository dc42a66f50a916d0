"""Ablation: a copy of an ONNX graph with every node of one category replaced by the cheapest
node that still writes an output of the same shape, to check a profiler's shares without one.

The time the model loses when a category is replaced is that category's cost as the whole model
sees it (launches, caches and fusions included), measured by the timing pass alone, so no
profiler overhead enters it. The replacement keeps the graph runnable and its shapes intact:

- a node whose floating-point data input already has the output's shape becomes ``Identity``;
- a node whose output has as many elements as that input (a transpose, a reshape) becomes a
  ``Reshape`` (free);
- a node whose output fits inside that input (a pool) becomes a ``Slice`` of it;
- any other node's output becomes one element of its data input, broadcast to the output's shape
  (``Slice`` → [``Reshape`` when the ranks differ] → ``Expand``; before opset 8, which has no
  Expand, an ``Add`` of zeros of one item's output shape): it
  still depends on the input, so nothing downstream is folded away at load time, and it writes
  its output once, as the node did. Few nodes, because eager runtimes pay per node.

So the drop is the node's time less the cost of writing its output: for conv, fc and pooling a
small part; elementwise nodes become free. Nodes with several outputs or no floating-point data
input (shape arithmetic, quantized kernels) are kept, and listed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from trtbench.categories import onnx_ops
from trtbench.errors import TrtbenchError

FLOAT_TYPES = (1, 10, 11, 16)  # float, float16, double, bfloat16
ABLATABLE = ("conv", "pool", "fc", "elementwise", "reformat")


@dataclass
class Ablated:
    """A graph with one category replaced, and which nodes were (and were not) replaced."""

    model: Any  # onnx.ModelProto
    category: str
    replaced: List[str] = field(default_factory=list)
    kept: List[str] = field(default_factory=list)  # nodes of the category left as they were, with why


def output_shapes(model: Any, batch: int, data: Optional[Dict[str, Any]] = None
                  ) -> Dict[str, Tuple[Tuple[int, ...], int]]:
    """Every tensor's (shape, element type) at `batch`, from one onnxruntime run on the data the
    model is measured with (`data`: the user's arrays for some inputs; random elsewhere)."""
    from trtbench.models.graph_shapes import inferred_infos, runtime_shapes, with_batch

    fixed, used = with_batch(model, batch) if not data else (model, batch)
    infos = inferred_infos(fixed)
    names = [o for node in fixed.graph.node for o in node.output if o]
    found, why = runtime_shapes(fixed, names, used, data)
    if why:
        raise TrtbenchError(f"cannot ablate: {why}", hint="ablation needs onnxruntime to learn the graph's shapes")
    out = {name: (info.shape, info.elem_type) for name, info in infos.items() if info.shape is not None}
    out.update({name: (info.shape, info.elem_type) for name, info in found.items() if info.shape is not None})
    return out


def ablate(model: Any, category: str, batch: int, shapes: Optional[Dict[str, Tuple[Tuple[int, ...], int]]] = None
           ) -> Ablated:
    """A copy of `model` (an ``onnx.ModelProto``) whose `category` nodes are replaced (see above)."""
    import onnx
    from onnx import helper, numpy_helper

    from trtbench.models.graph_shapes import constants

    if category not in ABLATABLE:
        raise TrtbenchError(f"cannot ablate category '{category}'", hint=f"choose from {', '.join(ABLATABLE)}")
    shapes = shapes if shapes is not None else output_shapes(model, batch)
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    del copy.metadata_props[:]  # the copy is not the spec's network any more (torch must not rebuild that)
    weights, _ = constants(copy)
    opset = max((o.version for o in copy.opset_import if o.domain in ("", "ai.onnx")), default=13)
    result = Ablated(copy, category)
    nodes: List[Any] = []
    for index, node in enumerate(copy.graph.node):
        label = node.name or f"{node.op_type}_{index}"
        if node.domain not in ("", "ai.onnx", "com.microsoft") or onnx_ops.categorize(node.op_type) != category:
            nodes.append(node)
            continue
        outputs = [o for o in node.output if o]
        data = next((i for i in node.input if i and i not in weights and shapes.get(i, ((), 0))[1] in FLOAT_TYPES),
                    None)
        if len(outputs) != 1 or data is None or outputs[0] not in shapes:
            nodes.append(node)
            result.kept.append(f"{label} ({'several outputs' if len(outputs) != 1 else 'no float data input'})")
            continue
        out = outputs[0]
        out_shape, out_type = shapes[out]
        in_shape, in_type = shapes[data]
        if in_type != out_type:
            nodes.append(node)
            result.kept.append(f"{label} (its output type differs from its input's)")
            continue
        stem = f"{label}__ablated"
        if tuple(in_shape) == tuple(out_shape):
            nodes.append(helper.make_node("Identity", [data], [out], name=stem))
        elif _numel(in_shape) == _numel(out_shape):  # a transpose or a reshape: a free reshape
            copy.graph.initializer.append(numpy_helper.from_array(_int64(list(out_shape)), f"{stem}_shape"))
            nodes.append(helper.make_node("Reshape", [data, f"{stem}_shape"], [out], name=stem))
        else:
            nodes.extend(_fill(copy, stem, data, out, list(in_shape), list(out_shape), opset, in_type))
        result.replaced.append(label)
    del copy.graph.node[:]
    copy.graph.node.extend(nodes)
    del copy.graph.value_info[:]
    return result


def _slice(model: Any, stem: str, data: str, out: str, ends: List[int], opset: int) -> Any:
    """A Slice of `data` from 0 to `ends` on every axis (attributes before opset 10, inputs after)."""
    from onnx import helper, numpy_helper

    axes = list(range(len(ends)))
    if opset < 10:
        return helper.make_node("Slice", [data], [out], name=stem, starts=[0] * len(ends), ends=ends, axes=axes)
    for suffix, values in (("starts", [0] * len(ends)), ("ends", ends), ("axes", axes)):
        model.graph.initializer.append(numpy_helper.from_array(_int64(values), f"{stem}_{suffix}"))
    return helper.make_node("Slice", [data, f"{stem}_starts", f"{stem}_ends", f"{stem}_axes"], [out], name=stem)


def _fill(model: Any, stem: str, data: str, out: str, in_shape: List[int], out_shape: List[int],
          opset: int, elem_type: int = 1) -> List[Any]:
    """As few nodes as give `out` of `out_shape` from `data` (a per-node cost counts on eager
    runtimes): a Slice where the output fits inside the input, else one element of it broadcast."""
    from onnx import helper, numpy_helper

    if len(in_shape) == len(out_shape) and all(o <= i for o, i in zip(out_shape, in_shape)):
        return [_slice(model, stem, data, out, out_shape, opset)]
    # one element of the input (one per item before opset 8), broadcast to the output's shape
    keep_batch = opset < 8 and bool(in_shape) and bool(out_shape) and in_shape[0] == out_shape[0]
    lead = [in_shape[0]] if keep_batch else [1]
    cell = f"{stem}_one"
    nodes = [_slice(model, f"{stem}_slice", data, cell, lead + [1] * (len(in_shape) - 1), opset)]
    if len(in_shape) != len(out_shape):
        model.graph.initializer.append(numpy_helper.from_array(_int64(lead + [1] * (len(out_shape) - 1)),
                                                               f"{stem}_rank"))
        nodes.append(helper.make_node("Reshape", [cell, f"{stem}_rank"], [f"{stem}_cell"], name=f"{stem}_reshape"))
        cell = f"{stem}_cell"
    if opset >= 8:
        model.graph.initializer.append(numpy_helper.from_array(_int64(out_shape), f"{stem}_shape"))
        nodes.append(helper.make_node("Expand", [cell, f"{stem}_shape"], [out], name=stem))
    else:  # no Expand yet (and Tile is slow): add zeros of one item's output shape, broadcast
        import numpy as np

        dtype = {10: "float16", 11: "float64"}.get(elem_type, "float32")
        zeros = np.zeros([1 if keep_batch else out_shape[0], *out_shape[1:]], dtype=dtype)
        model.graph.initializer.append(numpy_helper.from_array(zeros, f"{stem}_zeros"))
        nodes.append(helper.make_node("Add", [cell, f"{stem}_zeros"], [out], name=stem))
    return nodes


def _numel(shape: Any) -> int:
    count = 1
    for d in shape:
        count *= int(d)
    return count


def _int64(values: List[int]) -> Any:
    import numpy as np

    return np.asarray(values, dtype=np.int64)
