"""An ONNX model as a torch module, so the torch backend can run and profile any ONNX file.

`convert` turns a graph into an `OnnxModule`: the initializers become buffers (float ones follow
``module.half()`` / ``.to(dtype=...)``, integer ones stay integer), and every ONNX node becomes one
child `OnnxNode` in ``module.nodes``, named as onnxruntime names it (``onnx_name``, see
`onnx_node_names`). ``forward`` calls each node module in graph order and all of a node's work
happens inside that call, so forward hooks on the node modules time the graph layer by layer under
names that pair with onnxruntime's profile.

Ops follow ONNX semantics for opsets 7 to 21 (the kernels are in `onnx_kernels`, `onnx_shape_kernels`
and `onnx_nn_kernels`); a graph with any op outside them is refused up front with one line that
names them all.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import numpy as np
import torch

from trtbench.backends.torch import onnx_int8_kernels, onnx_kernels, onnx_nn_kernels, onnx_shape_kernels
from trtbench.backends.torch.onnx_kernels import Kernel
from trtbench.errors import TrtbenchError
from trtbench.models.graph_shapes import RANDOM_OPS

KERNELS: Dict[str, Kernel] = {**onnx_kernels.KERNELS, **onnx_shape_kernels.KERNELS, **onnx_nn_kernels.KERNELS,
                              **onnx_int8_kernels.KERNELS}
DEFAULT_DOMAINS = ("", "ai.onnx")
UNSUPPORTED_HINT = "use --backend onnxruntime for this model"


def onnx_node_names(graph: Any) -> List[str]:
    """The name onnxruntime gives each node of `graph` (in graph order), as its profiler reports it.

    A node's own name when it has one, else ``f"{op_type}_{index}"``, where ``index`` counts the
    graph's nodes *without* its Constant nodes: onnxruntime turns those into initializers before it
    numbers the nodes (checked against its profiles). An unnamed Constant node, which onnxruntime
    never runs, is named by its position in ``graph.node``.
    """
    names: List[str] = []
    counted = 0
    for position, node in enumerate(graph.node):
        constant = node.op_type == "Constant" and node.domain in DEFAULT_DOMAINS
        names.append(node.name or f"{node.op_type}_{position if constant else counted}")
        counted += 0 if constant else 1
    return names


def supported_ops() -> List[str]:
    """The ONNX op types (default domain) the converter runs."""
    return sorted(KERNELS)


class OnnxNode(torch.nn.Module):
    """One ONNX node; calling it runs the node's op on its input tensors."""

    def __init__(self, name: str, op_type: str, opset: int, attrs: Dict[str, Any], kernel: Kernel,
                 n_out: int, host: Dict[int, Any], tensors: Dict[str, Any]) -> None:
        super().__init__()
        self.onnx_name = name
        self.op_type = op_type
        self.opset = opset
        self.attrs = attrs
        self.n_out = n_out
        self.host = host  # input position -> its value, for parameter inputs that are constants
        self._fn = kernel.fn
        for key, array in tensors.items():
            tensor = _to_torch(array)
            if tensor is None:
                setattr(self, key, array)  # a string constant: not a tensor in torch
            else:
                self.register_buffer(key, tensor)

    def forward(self, *inputs: Any) -> Any:
        return self._fn(self, *inputs)

    def extra_repr(self) -> str:
        return f"{self.op_type} {self.onnx_name!r}"


class OnnxModule(torch.nn.Module):
    """An ONNX graph: ``forward(*graph_inputs)`` returns the graph output, or a tuple of them."""

    def __init__(self, nodes: List[OnnxNode], steps: List[Tuple[List[str], List[str], List[str]]],
                 constants: Dict[str, Any], input_names: List[str], output_names: List[str],
                 opset: int) -> None:
        super().__init__()
        self.nodes = torch.nn.ModuleList(nodes)
        self.input_names = list(input_names)
        self.output_names = list(output_names)
        self.opset = opset
        self._steps = steps  # per node: its input names, output names, values no later node reads
        # fp16 runs: float results of any other width (a Cast to FLOAT, say) come back to this type,
        # as TensorRT and onnxruntime's fp16 conversion keep the whole graph in half precision
        self.compute_dtype: Optional[torch.dtype] = None
        self._buffer_of: Dict[str, str] = {}  # ONNX initializer name -> buffer name
        self._plain: Dict[str, Any] = {}
        for i, (name, array) in enumerate(constants.items()):
            tensor = _to_torch(array)
            if tensor is None:
                self._plain[name] = array
            else:
                self._buffer_of[name] = f"initializer_{i}"
                self.register_buffer(f"initializer_{i}", tensor)
        self.eval()

    def host_reads(self) -> List[str]:
        """Nodes that read a tensor's values on the host at every run (a Reshape whose target a
        Shape node computes, say): each is a device-to-host copy on a GPU, and no CUDA graph can
        capture it."""
        out: List[str] = []
        for node, (ins, _, _) in zip(self.nodes, self._steps):
            op_type, host = str(getattr(node, "op_type")), getattr(node, "host")
            wanted = [i for i in KERNELS[op_type].host if i < len(ins) and ins[i]]
            if any(i not in host for i in wanted):
                out.append(str(getattr(node, "onnx_name")))
        return out

    def forward(self, *inputs: torch.Tensor) -> Any:
        if len(inputs) != len(self.input_names):
            raise TypeError(f"the graph takes {len(self.input_names)} inputs {self.input_names}, "
                            f"got {len(inputs)}")
        env: Dict[str, Any] = dict(self._plain)
        env.update((name, self._buffers[key]) for name, key in self._buffer_of.items())
        env.update(zip(self.input_names, inputs))
        cast = self.compute_dtype
        for node, (ins, outs, done) in zip(self.nodes, self._steps):
            result = node(*[env[name] if name else None for name in ins])
            if cast is not None:
                result = _to_compute(result, cast)
            if isinstance(result, tuple):
                env.update((name, value) for name, value in zip(outs, result) if name)
            else:
                env[outs[0]] = result
            for name in done:
                del env[name]
        results = tuple(env[name] for name in self.output_names)
        return results[0] if len(results) == 1 else results


def _to_compute(result: Any, dtype: Any) -> Any:
    if isinstance(result, tuple):
        return tuple(_to_compute(r, dtype) for r in result)
    if isinstance(result, torch.Tensor) and result.is_floating_point() and result.dtype != dtype:
        return result.to(dtype)
    return result


def convert(model: Any, fold_constants: bool = False) -> OnnxModule:
    """The ONNX `model` (an ``onnx.ModelProto``) as an `OnnxModule`.

    `fold_constants`: run the nodes that read only constants once, now, as onnxruntime does when
    it loads a model (the profile then has no node onnxruntime would not run either).

    Raises TrtbenchError, before building anything, when the graph holds ops the converter does
    not run (all of them named in one line), or when a node reads a value nothing provides.
    """
    graph = model.graph
    _check_supported(graph)
    opset = next((o.version for o in model.opset_import if o.domain in DEFAULT_DOMAINS), 1)
    from onnx import numpy_helper

    constants: Dict[str, Any] = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    input_names = [i.name for i in graph.input if i.name not in constants]
    output_names = [o.name for o in graph.output]
    order = _topological_order(graph, set(constants) | set(input_names), output_names)

    names = onnx_node_names(graph)
    known: Dict[str, Any] = dict(constants)  # every constant value, for the parameter inputs
    nodes: List[OnnxNode] = []
    for index in order:
        proto = graph.node[index]
        attrs = _attributes(proto)
        kernel = KERNELS[proto.op_type]
        tensors = kernel.tensors(attrs) if kernel.tensors else {}
        attrs = {k: v for k, v in attrs.items() if not isinstance(v, np.ndarray)}  # held as buffers
        if proto.op_type == "Constant":
            known[proto.output[0]] = tensors["value"]
        host = {i: known[proto.input[i]].tolist() for i in kernel.host
                if i < len(proto.input) and proto.input[i] in known}
        nodes.append(OnnxNode(names[index], proto.op_type, opset, attrs, kernel, len(proto.output), host,
                              tensors))
    kept = (_fold_constants(nodes, [graph.node[i] for i in order], constants) if fold_constants
            else list(range(len(nodes))))
    for position in kept:  # parameter inputs a folded node now provides are host values too
        proto, node = graph.node[order[position]], nodes[position]
        for i in KERNELS[proto.op_type].host:
            if i < len(proto.input) and i not in node.host and proto.input[i] in constants:
                node.host[i] = np.asarray(constants[proto.input[i]]).tolist()
    steps = _steps([graph.node[order[i]] for i in kept], output_names)
    return OnnxModule([nodes[i] for i in kept], steps, constants, input_names, output_names, opset)


def _fold_constants(nodes: List[OnnxNode], protos: List[Any], constants: Dict[str, Any]) -> List[int]:
    """Run once, now, every node that reads only constants (weights a "light" model makes with
    ConstantOfShape, a transposed weight, shape arithmetic on constants), as onnxruntime folds them
    when it loads a model; their outputs join `constants`. Returns the positions of the nodes left."""
    values: Dict[str, Any] = {}
    for name, array in constants.items():
        tensor = _to_torch(array)
        if tensor is not None:
            values[name] = tensor
    kept: List[int] = []
    with torch.no_grad():
        for position, (node, proto) in enumerate(zip(nodes, protos)):
            inputs = [name for name in proto.input if name]
            if proto.op_type in RANDOM_OPS or not all(name in values for name in inputs):
                kept.append(position)
                continue
            try:
                result = node(*[values[name] if name else None for name in proto.input])
            except Exception:  # noqa: BLE001 - a node that cannot run on its own here runs in the graph
                kept.append(position)
                continue
            outputs = result if isinstance(result, tuple) else (result,)
            if not all(isinstance(value, torch.Tensor) for value in outputs):
                kept.append(position)
                continue
            for name, value in zip(proto.output, outputs):
                if name:
                    values[name] = value
                    constants[name] = (value.float() if value.dtype == torch.bfloat16 else value).numpy()
    return kept


def _check_supported(graph: Any) -> None:
    problems: Set[str] = set()
    for node in graph.node:
        kernel = KERNELS.get(node.op_type) if node.domain in DEFAULT_DOMAINS else None
        if kernel is None:
            problems.add(node.op_type if node.domain in DEFAULT_DOMAINS else f"{node.domain}.{node.op_type}")
        elif kernel.check is not None:
            reason = kernel.check(_attributes(node), list(node.output))
            if reason:
                problems.add(reason)
    if problems:
        raise TrtbenchError(f"the torch backend cannot run ONNX op(s) {', '.join(sorted(problems))}",
                            hint=UNSUPPORTED_HINT)


def _attributes(node: Any) -> Dict[str, Any]:
    from onnx import AttributeProto, helper, numpy_helper

    attrs: Dict[str, Any] = {}
    for a in node.attribute:
        value = helper.get_attribute_value(a)
        if a.type == AttributeProto.TENSOR:
            value = numpy_helper.to_array(value)
        elif isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif isinstance(value, list) and value and isinstance(value[0], bytes):
            value = [v.decode("utf-8", "replace") for v in value]
        attrs[a.name] = value
    return attrs


def _topological_order(graph: Any, available: Set[str], outputs: Sequence[str]) -> List[int]:
    """Node indices in an order that computes every input first (valid ONNX already is one)."""
    produced = set(available)
    order: List[int] = []
    pending = list(range(len(graph.node)))
    while pending:
        waiting = []
        for i in pending:
            if all(not name or name in produced for name in graph.node[i].input):
                order.append(i)
                produced.update(graph.node[i].output)
            else:
                waiting.append(i)
        if len(waiting) == len(pending):
            node = graph.node[waiting[0]]
            missing = next(name for name in node.input if name and name not in produced)
            raise TrtbenchError(f"ONNX node {node.name or node.op_type!r} reads {missing!r}, which no "
                                "node, initializer or graph input provides",
                                hint="check the model with onnx.checker")
        pending = waiting
    absent = [name for name in outputs if name not in produced]
    if absent:
        raise TrtbenchError(f"the ONNX graph's output(s) {absent} are not computed by any node",
                            hint="check the model with onnx.checker")
    return order


def _steps(nodes: List[Any], outputs: Sequence[str]) -> List[Tuple[List[str], List[str], List[str]]]:
    """Per node: input names (trailing omitted ones dropped), outputs, and values read for the last time."""
    last_use: Dict[str, int] = {}
    for step, node in enumerate(nodes):
        for name in node.input:
            if name:
                last_use[name] = step
    keep = set(outputs)
    done: List[List[str]] = [[] for _ in nodes]
    for name, step in last_use.items():
        if name not in keep:
            done[step].append(name)
    steps = []
    for node, finished in zip(nodes, done):
        ins = list(node.input)
        while ins and not ins[-1]:
            ins.pop()
        steps.append((ins, list(node.output), finished))
    return steps


def _to_torch(array: Any) -> Optional[torch.Tensor]:
    """A numpy array as a torch tensor; None for strings (torch has no string tensor)."""
    if array.dtype.kind in "OSU":
        return None
    if array.dtype.name == "bfloat16":
        return torch.from_numpy(np.asarray(array, dtype=np.float32)).to(torch.bfloat16)
    return torch.from_numpy(np.array(array, copy=True))
