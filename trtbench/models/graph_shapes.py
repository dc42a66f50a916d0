"""Every tensor's shape and element type in an ONNX graph at a given batch, for `graph_cost`.

Shapes come from ONNX shape inference (with data propagation, so most Reshape targets computed
by Shape/Gather/Concat chains resolve; retired shape-preserving ops such as ImageScaler are passed
through by a local rule). Where it still leaves a tensor unknown (a Reshape target it cannot
propagate, data-dependent sizes), `runtime_shapes` runs the graph once with onnxruntime on random
input and reads the shapes off (data-dependent sizes are then those of that input). The onnx and
onnxruntime imports stay inside the functions.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterable, List, NamedTuple, Optional, Set, Tuple

from trtbench.errors import TrtbenchError
from trtbench.models.inputs import ELEMENT_TYPES

if TYPE_CHECKING:  # pragma: no cover
    import onnx

# Bits per element, by TensorProto.DataType (a table, not onnx's helpers: int4/float4 pack 2 per byte).
BITS: Dict[int, int] = {
    1: 32, 2: 8, 3: 8, 4: 16, 5: 16, 6: 32, 7: 64, 8: 0, 9: 8, 10: 16, 11: 64, 12: 32, 13: 64,
    14: 64, 15: 128, 16: 16, 17: 8, 18: 8, 19: 8, 20: 8, 21: 4, 22: 4, 23: 4, 24: 8, 25: 2, 26: 2,
    27: 6, 28: 6,
}  # 8 (STRING) has no fixed size: counted as 0 bytes
# numpy dtype names by TensorProto.DataType: the inverse of the one table (bfloat16: numpy has none)
NUMPY_TYPES: Dict[str, int] = {name: code for code, name in ELEMENT_TYPES.items() if name != "bfloat16"}
INDEX_TYPES = (6, 7, 8, 9)  # INT32, INT64, STRING, BOOL: shape and index data, not parameters
RANDOM_OPS = ("RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
              "Multinomial", "Bernoulli")
SAME_SHAPE = ("ImageScaler", "Affine", "ScaledTanh", "ParametricSoftplus")  # retired experimental ops
FIX_HINT = ("fix it first, e.g. python -m onnxruntime.tools.make_dynamic_shape_fixed "
            "--dim_param NAME --dim_value N in.onnx out.onnx")

Shape = Tuple[int, ...]


class TensorInfo(NamedTuple):
    shape: Optional[Shape]  # None: unknown
    elem_type: int  # TensorProto.DataType; 0 when unknown


def graph_inputs(model: onnx.ModelProto) -> List[Any]:
    """The real inputs (older IRs also list every initializer as an input)."""
    inits = {t.name for t in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in inits]


def node_names(nodes: Any) -> List[str]:
    """Each node's name, or ``<OpType>_<index>`` for an unnamed one (a ``_`` added while taken):
    how trtbench names nodes everywhere (the prepared copy, costs, ablations)."""
    taken = {n.name for n in nodes if n.name}
    names = []
    for index, node in enumerate(nodes):
        name = node.name
        if not name:
            name = f"{node.op_type}_{index}"
            while name in taken:
                name += "_"
            taken.add(name)
        names.append(name)
    return names


def with_batch(model: onnx.ModelProto, batch: Optional[int]) -> Tuple[onnx.ModelProto, int]:
    """A copy of `model` whose inputs' symbolic dim 0 is `batch`, and the batch used.

    `batch` None: the model's own fixed batch (1 when dim 0 is symbolic). A fixed dim 0 other than
    `batch`, or any other symbolic dim, raises TrtbenchError.
    """
    import onnx

    if batch is not None and batch < 1:
        raise TrtbenchError(f"batch must be at least 1, got {batch}")
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    del copy.graph.value_info[:]  # stale exporter annotations would keep the symbolic batch
    for value in graph_inputs(copy):
        if not value.type.HasField("tensor_type"):
            continue
        tensor = value.type.tensor_type
        if not tensor.HasField("shape"):
            raise TrtbenchError(f"input '{value.name}' has no shape (unknown rank)", hint=FIX_HINT)
        dims = tensor.shape.dim
        for i, dim in enumerate(dims):
            fixed = dim.dim_value if dim.HasField("dim_value") else None
            if i == 0 and fixed is not None:
                batch = fixed if batch is None else batch
                if fixed != batch:
                    shown = [d.dim_value if d.HasField("dim_value") else d.dim_param or "?" for d in dims]
                    raise TrtbenchError(
                        f"the model's batch is fixed at {fixed} (input '{value.name}' is {shown}); "
                        f"it cannot be costed at batch {batch}",
                        hint=f"use batch {fixed} (per-item figures divide by it), or batch None")
            elif i == 0:
                batch = 1 if batch is None else batch
                dim.dim_value = batch
            elif fixed is None:
                raise TrtbenchError(f"input '{value.name}' has a symbolic dim {i} "
                                    f"('{dim.dim_param or '?'}'); only dim 0 (the batch) may be symbolic",
                                    hint=FIX_HINT.replace("NAME", dim.dim_param or "NAME"))
    return copy, 1 if batch is None else batch


def _info(value: Any) -> TensorInfo:
    if not value.type.HasField("tensor_type"):
        return TensorInfo(None, 0)
    tensor = value.type.tensor_type
    shape: Optional[Shape] = None
    if tensor.HasField("shape") and all(d.HasField("dim_value") for d in tensor.shape.dim):
        shape = tuple(int(d.dim_value) for d in tensor.shape.dim)
    return TensorInfo(shape, int(tensor.elem_type))


def inferred_infos(model: onnx.ModelProto) -> Dict[str, TensorInfo]:
    """Shapes and types from ONNX shape inference (whatever it manages; never raises).

    Outputs of the retired shape-preserving ops inference does not know (`SAME_SHAPE`, e.g. the
    ImageScaler that opens CoreML-converted models) get their input's type, and inference runs
    again from there, so one such node does not leave the rest of the graph unknown. `model`
    (a copy) is annotated in place.
    """
    graph = _infer(model)
    for _ in range(3):
        annotated = {v.name for v in (*graph.input, *graph.value_info, *graph.output)}
        types = {v.name: v for v in (*graph.input, *graph.value_info)}
        added = [(node.output[0], types[node.input[0]]) for node in graph.node
                 if node.op_type in SAME_SHAPE and node.input and node.output and node.input[0] in types
                 and node.output[0] not in annotated]
        if not added:
            break
        for name, source in added:
            value = model.graph.value_info.add()
            value.CopyFrom(source)
            value.name = name
        graph = _infer(model)
    infos = {v.name: _info(v) for v in (*graph.input, *graph.value_info, *graph.output)}
    for init in graph.initializer:
        infos[init.name] = TensorInfo(tuple(int(d) for d in init.dims), int(init.data_type))
    for node in graph.node:  # Constant outputs, in case inference skipped them
        if node.op_type == "Constant" and node.output and node.output[0] not in infos:
            for attr in node.attribute:
                if attr.name == "value":
                    infos[node.output[0]] = TensorInfo(tuple(int(d) for d in attr.t.dims), int(attr.t.data_type))
    return infos


def _infer(model: onnx.ModelProto) -> onnx.GraphProto:
    import onnx

    for options in ({"data_prop": True}, {}):  # data_prop: onnx >= 1.10, and it fails more often
        try:
            return onnx.shape_inference.infer_shapes(model, **options).graph
        except Exception:  # noqa: BLE001, S112 - a model inference rejects is costed from what is known
            continue
    return model.graph


def constants(model: onnx.ModelProto) -> Tuple[Set[str], Set[int]]:
    """(tensors that are weights, indices of nodes a runtime folds at load time).

    Weights are initializers, Constant outputs and the outputs of nodes whose inputs are all
    weights (a "light" model's ConstantOfShape weights, a Transpose of a weight).
    """
    names = {t.name for t in model.graph.initializer}
    folded: Set[int] = set()
    for index, node in enumerate(model.graph.node):
        inputs = [name for name in node.input if name]
        if node.op_type == "Constant" or (inputs and node.op_type not in RANDOM_OPS
                                          and all(name in names for name in inputs)):
            folded.add(index)
            names.update(name for name in node.output if name)
    return names, folded


def runtime_shapes(model: onnx.ModelProto, names: Iterable[str], batch: int,
                   data: Optional[Dict[str, Any]] = None) -> Tuple[Dict[str, TensorInfo], Optional[str]]:
    """Shapes of `names` from one onnxruntime run on the data trtbench measures with (random
    arrays of each input's type, `data` where the user gave arrays): (infos, why not or None).

    `model` must have its batch fixed (`with_batch`). External weights that were not loaded are
    replaced by zeros of their declared shape.
    """
    try:
        import onnxruntime as ort
    except ImportError:
        return {}, "onnxruntime is not installed"
    import numpy as np
    import onnx
    from onnx import numpy_helper

    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    for i, init in enumerate(copy.graph.initializer):
        if init.data_location == onnx.TensorProto.EXTERNAL:
            zeros = np.zeros(tuple(init.dims), dtype=_numpy_type(init.data_type))
            copy.graph.initializer[i].CopyFrom(numpy_helper.from_array(zeros, init.name))
    produced = {out for node in copy.graph.node for out in node.output if out}
    present = {o.name for o in copy.graph.output}
    wanted = [n for n in dict.fromkeys(names) if n in produced]
    copy.graph.output.extend(onnx.ValueInfoProto(name=n) for n in wanted if n not in present)
    from trtbench.models.inputs import batch_arrays
    from trtbench.models.inputs import graph_inputs as model_inputs

    try:
        feeds = batch_arrays(model_inputs(copy), batch, data)
    except (TrtbenchError, ValueError, TypeError) as exc:  # an input whose size nothing fixes
        return {}, f"no data for the graph's inputs at batch {batch} ({exc})"
    try:
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        session = ort.InferenceSession(copy.SerializeToString(), options, providers=["CPUExecutionProvider"])
        results = session.run(wanted, feeds)
    except Exception as exc:  # noqa: BLE001 - any failure leaves the shapes unknown, with the reason
        first = str(exc).splitlines()[0][:200] if str(exc) else ""
        return {}, f"onnxruntime could not run the graph at batch {batch}: {exc.__class__.__name__}: {first}"
    infos: Dict[str, TensorInfo] = {}
    for name, array in zip(wanted, results):
        if isinstance(array, np.ndarray):
            elem = 8 if array.dtype == object else NUMPY_TYPES.get(array.dtype.name, 0)
            infos[name] = TensorInfo(tuple(int(d) for d in array.shape), elem)
    return infos, None


def _numpy_type(elem_type: int) -> str:
    """The numpy dtype name of an element type (float32 for those numpy lacks)."""
    return next((name for name, value in NUMPY_TYPES.items() if value == elem_type), "float32")
