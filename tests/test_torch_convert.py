"""The ONNX → torch converter (backends/torch/onnx_module.py), checked against onnxruntime on the CPU:
the real public models in ../shared/fixtures/models, models trtbench exports, MobileNet-like blocks
exported by torch at opsets 11/13/17, and small graphs per op. fp16 runs on the CPU; CUDA tests
skip without a GPU."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from trtbench.backends.torch.onnx_module import OnnxModule, convert, onnx_node_names  # noqa: E402
from trtbench.errors import TrtbenchError  # noqa: E402

SHARED = Path(os.environ.get("TRTBENCH_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
MODELS = SHARED / "fixtures" / "models"
MODEL_FILES = sorted(p.name for p in MODELS.glob("*.onnx")) if MODELS.is_dir() else []
# onnx's own "light" public CNNs (AlexNet ... VGG-19), installed with the onnx package
LIGHT = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
# AlexNet, ZFNet and VGG-19 are left out: 60-140 M weights take seconds to randomise, and their ops
# (Conv, Relu, LRN, MaxPool, Gemm, Dropout) are covered by the others
LARGE_LIGHT = {"light_bvlc_alexnet.onnx", "light_zfnet512.onnx", "light_vgg19.onnx"}
LIGHT_FILES = sorted(p.name for p in LIGHT.glob("light_*.onnx") if p.name not in LARGE_LIGHT)
RNG = np.random.default_rng(7)


def _cpu_runs_half_convolution() -> bool:
    try:
        ones = torch.ones(1, 1, 3, 3, dtype=torch.half)
        torch.nn.functional.conv2d(ones, ones)
    except RuntimeError:
        return False
    return True


needs_cpu_half = pytest.mark.skipif(not _cpu_runs_half_convolution(),
                                    reason="this torch build cannot run fp16 convolution on the CPU")
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.fixture
def exact_cuda():
    """Full float32 on the GPU: cuDNN's TF32 convolutions would miss onnxruntime's CPU results by ~1e-3."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


# ---- helpers ---------------------------------------------------------------------------------

def ort_run(model: Any, feeds: Dict[str, np.ndarray]) -> List[np.ndarray]:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    source = model.SerializeToString() if isinstance(model, onnx.ModelProto) else str(model)
    session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def ort_profiled_names(model: Any, feeds: Dict[str, np.ndarray], folder: Path) -> set:
    """The node names onnxruntime's profiler reports for one run (graph optimisations off)."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.enable_profiling = True
    options.profile_file_prefix = str(folder / "ort")
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    session.run(None, feeds)
    events = json.loads(Path(session.end_profiling()).read_text())
    suffix = "_kernel_time"
    return {e["name"][:-len(suffix)] for e in events if e.get("cat") == "Node" and e["name"].endswith(suffix)}


def assert_names_pair_with_onnxruntime(module: OnnxModule, model: Any, feeds: Dict[str, np.ndarray],
                                       folder: Path) -> None:
    """Every node onnxruntime runs has a node module of the same name. The exceptions are onnxruntime's:
    Constant nodes become initializers, and an op it runs as an ONNX function (HardSwish here) is
    replaced by the function's nodes, named f"{op_type}_{index}" with indices after the graph's."""
    names = [n.onnx_name for n in module.nodes]
    assert len(set(names)) == len(names)
    skipped = {n.onnx_name for n in module.nodes if n.op_type in ("Constant", "HardSwish")}
    ran = ort_profiled_names(model, feeds, folder)
    assert set(names) - skipped <= ran
    for extra in ran - set(names):
        assert int(extra.rsplit("_", 1)[1]) >= len(names) - len(skipped), extra


def torch_run(module: OnnxModule, feeds: Dict[str, np.ndarray]) -> List[np.ndarray]:
    with torch.no_grad():
        out = module(*[torch.from_numpy(np.array(feeds[name])) for name in module.input_names])
    return [t.numpy() for t in (out if isinstance(out, tuple) else (out,))]


def assert_matches(got: Sequence[np.ndarray], want: Sequence[np.ndarray]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape, (g.shape, w.shape)
        assert g.dtype == w.dtype, (g.dtype, w.dtype)
        if np.issubdtype(w.dtype, np.floating):
            finite = np.isfinite(w)
            assert (np.isfinite(g) == finite).all()
            np.testing.assert_array_equal(g[~finite], w[~finite])
            scale = max(1.0, float(np.abs(w[finite]).max())) if finite.any() else 1.0
            assert float(np.abs(g[finite].astype(np.float64) - w[finite]).max(initial=0.0)) <= 1e-4 * scale
        else:
            np.testing.assert_array_equal(g, w)


def check(model: Any, feeds: Dict[str, np.ndarray]) -> OnnxModule:
    """Convert `model` (a ModelProto) and compare its outputs with onnxruntime's on `feeds`."""
    module = convert(model)
    assert_matches(torch_run(module, feeds), ort_run(model, feeds))
    return module


def onnx_type(dtype: np.dtype) -> int:
    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def make_model(nodes: List[Any], feeds: Dict[str, np.ndarray], outputs: Sequence[str],
               inits: Optional[Dict[str, np.ndarray]] = None, opset: int = 13) -> Any:
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info(k, onnx_type(v.dtype), v.shape) for k, v in feeds.items()],
        [helper.make_value_info(name, onnx.TypeProto()) for name in outputs],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in (inits or {}).items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def rand(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def i64(*values: Any) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def run_model(module: OnnxModule, x: np.ndarray) -> Any:
    with torch.no_grad():
        return module(torch.from_numpy(x))


# ---- real public models ------------------------------------------------------------------------

def cut_ml_ops(model: Any) -> Any:
    """The model with its ai.onnx.ml post-processing cut, by the product's own cut."""
    from trtbench.models.onnx_prepare import cut_postprocessing

    cut = onnx.ModelProto()
    cut.CopyFrom(model)
    cut_postprocessing(cut)
    return cut


def corpus_model(name: str) -> Any:
    """A public model of the corpus, post-processing cut where it has some."""
    model = onnx.load(str(MODELS / name))
    return cut_ml_ops(model) if any(n.domain == "ai.onnx.ml" for n in model.graph.node) else model


def corpus_input(model: Any) -> Dict[str, np.ndarray]:
    inits = {t.name for t in model.graph.initializer}
    feeds = {}
    for value in model.graph.input:
        if value.name in inits:
            continue
        dims = [d.dim_value if d.dim_value > 0 else (2 if i == 0 else 1)
                for i, d in enumerate(value.type.tensor_type.shape.dim)]
        feeds[value.name] = RNG.random(dims, dtype=np.float32)
    return feeds


@pytest.mark.parametrize("name", MODEL_FILES or ["(none)"])
def test_public_model_matches_onnxruntime(name: str, tmp_path: Path) -> None:
    if not MODEL_FILES:
        pytest.skip(f"no public models at {MODELS}")
    model = corpus_model(name)
    feeds = corpus_input(model)
    module = check(model, feeds)
    assert [n.onnx_name for n in module.nodes] == onnx_node_names(model.graph)
    assert_names_pair_with_onnxruntime(module, model, feeds, tmp_path)


def test_squeezenet_cut_keeps_both_outputs() -> None:
    path = MODELS / "squeezenet_opset7_winml.onnx"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    cut = cut_ml_ops(onnx.load(str(path)))
    assert sorted(o.name for o in cut.graph.output) == ["LabelId", "loss1"]  # int64 class id, probabilities
    module = convert(cut)
    x = RNG.random((2, 3, 227, 227), dtype=np.float32)
    outputs = dict(zip(module.output_names, run_model(module, x)))
    probs, label = outputs["loss1"], outputs["LabelId"]
    assert probs.shape == (2, 10) and label.dtype == torch.int64


def test_onnx_ml_ops_are_refused_in_one_line() -> None:
    path = MODELS / "squeezenet_opset7_winml.onnx"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    with pytest.raises(TrtbenchError) as caught:
        convert(onnx.load(str(path)))
    text = str(caught.value)
    assert "\n" not in text and "ai.onnx.ml.ZipMap" in text and "ai.onnx.ml.ArrayFeatureExtractor" in text
    assert caught.value.hint == "use --backend onnxruntime for this model"


def with_random_weights(model: Any) -> Any:
    """A "light" model (weights made at run time by ConstantOfShape nodes, all zeros) with random
    weights instead, as initializers, so that its outputs say something."""
    graph = model.graph
    shapes = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    variances = {n.input[4] for n in graph.node if n.op_type == "BatchNormalization"}
    weights, kept = [], []
    for node in graph.node:
        if node.op_type == "ConstantOfShape" and node.input[0] in shapes:
            shape = [int(d) for d in shapes[node.input[0]]]
            fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
            value = (RNG.uniform(0.5, 1.5, shape) if node.output[0] in variances
                     else RNG.uniform(-1, 1, shape) * np.sqrt(3.0 / fan_in))
            weights.append(numpy_helper.from_array(value.astype(np.float32), node.output[0]))
        else:
            kept.append(node)
    out = onnx.ModelProto()
    out.CopyFrom(model)
    del out.graph.node[:]
    out.graph.node.extend(kept)
    out.graph.initializer.extend(weights)
    return out


@pytest.mark.parametrize("name", LIGHT_FILES or ["(none)"])
def test_onnx_light_model_with_random_weights_matches_onnxruntime(name: str) -> None:
    if not LIGHT_FILES:
        pytest.skip(f"onnx's light models are not installed at {LIGHT}")
    model = with_random_weights(onnx.load(str(LIGHT / name)))
    check(model, corpus_input(model))


def test_resnet50_light_with_random_weights_matches_onnxruntime() -> None:
    path = MODELS / "resnet50_light.onnx"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    model = with_random_weights(onnx.load(str(path)))
    check(model, corpus_input(model))


def test_trtbench_export_matches_onnxruntime(tmp_path: Path) -> None:
    from trtbench.models.export import export_onnx
    from trtbench.models.netspec import resolve_spec

    out = tmp_path / "m.onnx"
    export_onnx(resolve_spec("c2d20-f1n128"), out, verify=False)
    model = onnx.load(str(out))
    check(model, corpus_input(model))


# ---- MobileNet-like blocks exported by torch -------------------------------------------------

class MobileBlocks(torch.nn.Module):
    """Depthwise-separable blocks with HardSwish, SiLU, squeeze-excite, residual adds, a Concat,
    nearest and bilinear upsampling, a ConvTranspose, ceil-mode pooling and a classifier head."""

    def __init__(self) -> None:
        super().__init__()
        nn = torch.nn
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.BatchNorm2d(16), nn.Hardswish())
        self.dw = nn.Sequential(nn.Conv2d(16, 16, 3, 1, 1, groups=16), nn.BatchNorm2d(16), nn.SiLU(),
                                nn.Conv2d(16, 16, 1), nn.BatchNorm2d(16))
        self.se = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(16, 8, 1), nn.ReLU(), nn.Conv2d(8, 16, 1),
                                nn.Hardsigmoid())
        self.down = nn.Sequential(nn.Conv2d(16, 32, 3, 2, 1), nn.ReLU6(), nn.MaxPool2d(3, 2, ceil_mode=True))
        self.up = nn.ConvTranspose2d(32, 16, 4, 2, 1)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(48 * 8 * 8, 10))
        for bn in (self.stem[1], self.dw[1], self.dw[4]):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 1.5)

    def forward(self, x: Any) -> Any:
        F = torch.nn.functional
        x = self.stem(x)                                  # 16x16
        x = x + self.dw(x)
        x = x * self.se(x)
        low = self.down(x)                                # 4x4
        up = F.interpolate(low, scale_factor=2.0, mode="nearest")
        smooth = F.interpolate(self.up(low), size=(8, 8), mode="bilinear", align_corners=False)
        pooled = F.avg_pool2d(x, 2)                       # 8x8
        y = torch.cat([up, smooth[:, :8], pooled[:, 8:]], 1)
        return torch.softmax(self.head(y), -1), y.mean((2, 3)).reshape(x.shape[0], -1)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("opset", [11, 13, 17])
def test_torch_exported_mobile_blocks_match_onnxruntime(opset: int, tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = MobileBlocks().eval()
    out = tmp_path / f"mobile{opset}.onnx"
    torch.onnx.export(net, (torch.randn(2, 3, 32, 32),), str(out), opset_version=opset, dynamo=False,
                      input_names=["x"], dynamic_axes={"x": {0: "batch"}})
    model = onnx.load(str(out))
    x = RNG.random((3, 3, 32, 32), dtype=np.float32)
    module = check(model, {"x": x})
    with torch.no_grad():
        reference = net(torch.from_numpy(x))
    np.testing.assert_allclose(torch_run(module, {"x": x})[0], reference[0].numpy(), atol=1e-5)
    assert_names_pair_with_onnxruntime(module, model, {"x": x}, tmp_path)


class OldOpsetNet(torch.nn.Module):
    """What torch exports at opsets 9 and 10: Upsample / Resize-10, PRelu, a Pad before MaxPool."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(8)
        self.act = torch.nn.PReLU(8)

    def forward(self, x: Any) -> Any:
        F = torch.nn.functional
        y = F.interpolate(self.act(self.bn(self.conv(x))), scale_factor=2.0, mode="nearest")
        return torch.cat([F.max_pool2d(y, 3, 2, 1), F.avg_pool2d(y, 2)], 1).flatten(1).log_softmax(-1)


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
@pytest.mark.parametrize("opset", [9, 10])
def test_torch_exported_old_opset_upsampling_matches_onnxruntime(opset: int, tmp_path: Path) -> None:
    torch.manual_seed(0)
    out = tmp_path / f"old{opset}.onnx"
    torch.onnx.export(OldOpsetNet().eval(), (torch.randn(2, 3, 16, 16),), str(out), opset_version=opset,
                      dynamo=False, input_names=["x"])
    model = onnx.load(str(out))
    assert {"Upsample" if opset == 9 else "Resize", "PRelu"} <= {n.op_type for n in model.graph.node}
    check(model, {"x": RNG.random((2, 3, 16, 16), dtype=np.float32)})


# ---- node modules: names, calls, order, dtypes ---------------------------------------------------

def small_net(opset: int = 13) -> Any:
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"], name=""),
             helper.make_node("Shape", ["r"], ["s"], name="shape_of_r"),
             helper.make_node("Constant", [], ["zero"], value=numpy_helper.from_array(np.array(0, np.int64))),
             helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
             helper.make_node("Unsqueeze", ["n", "axes"], ["n1"]),
             helper.make_node("Concat", ["n1", "minus1"], ["shape"], axis=0),
             helper.make_node("Reshape", ["r", "shape"], ["flat"]),
             helper.make_node("Gemm", ["flat", "fc", "fcb"], ["y"], transB=1, name="fc")]
    inits = {"w": rand(4, 3, 3, 3), "axes": i64(0), "minus1": i64(-1),
             "fc": rand(5, 4 * 6 * 6), "fcb": rand(5)}
    return make_model(nodes, {"x": rand(2, 3, 6, 6)}, ["y"], inits, opset)


def test_node_names_and_every_node_module_runs_once_per_forward(tmp_path: Path) -> None:
    model = small_net()
    feeds = {"x": rand(2, 3, 6, 6)}
    module = check(model, feeds)
    # onnxruntime numbers unnamed nodes without counting Constant nodes (it folds them first)
    assert [n.onnx_name for n in module.nodes] == [
        "Conv_0", "Relu_1", "shape_of_r", "Constant_3", "Gather_3", "Unsqueeze_4", "Concat_5", "Reshape_6",
        "fc"]
    assert_names_pair_with_onnxruntime(module, model, feeds, tmp_path)
    assert [n.op_type for n in module.nodes] == [n.op_type for n in model.graph.node]
    calls: Dict[str, int] = {}

    def count(mod: Any, args: Any, out: Any) -> None:
        calls[mod.onnx_name] = calls.get(mod.onnx_name, 0) + 1

    for node in module.nodes:
        node.register_forward_hook(count)
    run_model(module, rand(3, 3, 6, 6))
    run_model(module, rand(1, 3, 6, 6))
    assert calls == {n.onnx_name: 2 for n in module.nodes}
    assert module.input_names == ["x"] and module.output_names == ["y"]


def test_nodes_out_of_order_are_sorted_and_keep_their_names() -> None:
    model = small_net()
    shuffled = list(model.graph.node)[::-1]
    del model.graph.node[:]
    model.graph.node.extend(shuffled)
    module = convert(model)
    assert [n.onnx_name for n in module.nodes][:2] == ["Constant_5", "Conv_7"]
    assert module.nodes[-1].onnx_name == "fc"
    assert sorted(n.onnx_name for n in module.nodes) == sorted(onnx_node_names(model.graph))
    assert tuple(run_model(module, rand(2, 3, 6, 6)).shape) == (2, 5)


def test_half_and_to_dtype_keep_integer_buffers() -> None:
    module = convert(small_net())
    assert {t.dtype for t in module.buffers()} == {torch.float32, torch.int64}
    assert {t.dtype for t in module.to(dtype=torch.float16).buffers()} == {torch.float16, torch.int64}
    assert {t.dtype for t in module.float().buffers()} == {torch.float32, torch.int64}


@needs_cpu_half
def test_half_module_runs_on_cpu() -> None:
    model = small_net()
    module = convert(model).half()
    x = rand(2, 3, 6, 6)
    y = run_model(module, x.astype(np.float16))
    full = torch_run(convert(model), {"x": x})[0]
    assert y.dtype == torch.float16
    np.testing.assert_allclose(y.float().numpy(), full, atol=5e-2 * max(1.0, np.abs(full).max()))


@needs_cpu_half
def test_half_public_model_runs_on_cpu() -> None:
    path = MODELS / "blazeface_mp.onnx"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    model = onnx.load(str(path))
    module = convert(model)
    x = RNG.random((1, 3, 128, 128), dtype=np.float32)
    full = run_model(module, x)
    half = run_model(module.half(), x.astype(np.float16))
    for h, f in zip(half, full):
        assert h.dtype == torch.float16
        assert float((h.float() - f).abs().max()) <= 2e-2 * max(1.0, float(f.abs().max()))


@needs_cuda
@pytest.mark.parametrize("name", MODEL_FILES or ["(none)"])
def test_public_model_on_cuda_fp32_and_fp16(name: str, exact_cuda: None) -> None:
    if not MODEL_FILES:
        pytest.skip(f"no public models at {MODELS}")
    model = corpus_model(name)
    feeds = corpus_input(model)
    want = ort_run(model, feeds)
    module = convert(model).cuda()
    inputs = [torch.from_numpy(feeds[n]).cuda() for n in module.input_names]
    with torch.no_grad():
        got = module(*inputs)
        got = got if isinstance(got, tuple) else (got,)
        assert_matches([t.cpu().numpy() for t in got], want)
        half = module.half()(*[t.half() for t in inputs])
    half = half if isinstance(half, tuple) else (half,)
    for h, w in zip(half, want):
        if np.issubdtype(w.dtype, np.floating):
            assert h.dtype == torch.float16
            assert float(np.abs(h.float().cpu().numpy() - w).max()) <= 5e-2 * max(1.0, float(np.abs(w).max()))


# ---- errors ----------------------------------------------------------------------------------

def test_unsupported_ops_are_all_named_in_one_line_before_building() -> None:
    nodes = [helper.make_node("Relu", ["x"], ["a"]),
             helper.make_node("Frobnicate", ["a"], ["b"], domain="com.example"),
             helper.make_node("Loop", ["a"], ["c"]),
             helper.make_node("MaxPool", ["x"], ["d", "idx"], kernel_shape=[2, 2]),
             helper.make_node("Resize", ["x", "", "s"], ["e"], mode="cubic")]
    model = make_model(nodes, {"x": rand(1, 1, 4, 4)}, ["b", "c", "d", "e"])
    model.opset_import.append(helper.make_opsetid("com.example", 1))
    with pytest.raises(TrtbenchError) as caught:
        convert(model)
    message = caught.value.message
    assert "\n" not in str(caught.value)
    for part in ("com.example.Frobnicate", "Loop", "MaxPool (Indices output)", "Resize (mode=cubic)"):
        assert part in message
    assert "Relu" not in message
    assert caught.value.hint == "use --backend onnxruntime for this model"


def test_a_value_nothing_provides_is_a_user_error() -> None:
    model = make_model([helper.make_node("Add", ["x", "ghost"], ["y"])], {"x": rand(2)}, ["y"])
    with pytest.raises(TrtbenchError, match="ghost"):
        convert(model)


# ---- one op at a time against onnxruntime ----------------------------------------------------------

X4 = rand(2, 3, 5, 6)
POS = np.abs(X4) + 0.1
BOOL = RNG.random((3, 4)) > 0.5
BOOL2 = RNG.random((3, 4)) > 0.5
INTS = RNG.integers(-9, 9, (3, 4)).astype(np.int64)
NONZERO_INTS = np.where(INTS == 0, 3, INTS)


def case(op_type: str, feeds: Dict[str, np.ndarray], opset: int = 13,
         inits: Optional[Dict[str, np.ndarray]] = None, outs: int = 1, id: str = "",
         inputs: Optional[List[str]] = None, **attrs: Any) -> Any:
    names = inputs if inputs is not None else list(feeds) + list(inits or {})
    outputs = [f"y{i}" for i in range(outs)]
    node = helper.make_node(op_type, names, outputs, **attrs)
    return pytest.param(op_type, feeds, inits or {}, opset, outputs, node, id=id or f"{op_type}-{opset}")


UNARY = ["Relu", "Sigmoid", "Tanh", "Exp", "Neg", "Abs", "Floor", "Ceil", "Round", "Sign", "Erf", "Softsign",
         "Softplus", "Identity", "Sin", "Cos"]
ELEMENTWISE = [case(op, {"x": X4}) for op in UNARY] + [
    case(op, {"x": POS}) for op in ("Log", "Sqrt", "Reciprocal")] + [
    case("LeakyRelu", {"x": X4}, alpha=0.2), case("Elu", {"x": X4}, alpha=0.7), case("Selu", {"x": X4}),
    case("Celu", {"x": X4}, alpha=1.5), case("HardSigmoid", {"x": X4}, alpha=0.3, beta=0.4),
    case("HardSwish", {"x": X4 * 4}, opset=14), case("Gelu", {"x": X4}, opset=20),
    case("Gelu", {"x": X4}, opset=20, approximate="tanh", id="Gelu-tanh"), case("Mish", {"x": X4}, opset=18),
    case("ThresholdedRelu", {"x": X4}, opset=10, alpha=0.5), case("Not", {"x": BOOL}),
    case("PRelu", {"x": X4}, inits={"slope": rand(3, 1, 1)}),
    case("Clip", {"x": X4}, opset=6, min=-0.5, max=0.7, id="Clip-6-attrs"),
    case("Clip", {"x": X4}, opset=11, inits={"lo": np.array(-0.3, np.float32)}, id="Clip-11-min"),
    case("Clip", {"x": X4}, opset=13, inputs=["x", "", "hi"], inits={"hi": np.array(0.2, np.float32)},
         id="Clip-13-max"),
    case("Clip", {"x": INTS}, opset=13, inits={"lo": i64(-2).reshape(()), "hi": i64(3).reshape(())},
         id="Clip-int"),
    case("Add", {"a": X4, "b": rand(5, 1)}), case("Sub", {"a": X4, "b": rand(6)}),
    case("Mul", {"a": X4, "b": rand(3, 1, 1)}), case("Div", {"a": X4, "b": POS[:1]}),
    case("Div", {"a": INTS, "b": NONZERO_INTS}, id="Div-int"), case("Pow", {"a": POS, "b": rand(6)}),
    case("Mod", {"a": INTS, "b": NONZERO_INTS}, id="Mod-int"),
    case("Mod", {"a": X4, "b": POS}, fmod=1, id="Mod-fmod"),
    case("Equal", {"a": INTS, "b": NONZERO_INTS}), case("Greater", {"a": X4, "b": rand(6)}),
    case("Less", {"a": X4, "b": rand(6)}), case("GreaterOrEqual", {"a": INTS, "b": NONZERO_INTS}, opset=12),
    case("LessOrEqual", {"a": INTS, "b": NONZERO_INTS}, opset=12),
    case("And", {"a": BOOL, "b": BOOL2}), case("Or", {"a": BOOL, "b": BOOL2}),
    case("Xor", {"a": BOOL, "b": BOOL2}),
    case("Where", {"c": BOOL, "a": rand(3, 4), "b": rand(4)}),
    case("Sum", {"a": X4, "b": rand(6), "c": rand(5, 1)}),
    case("Max", {"a": X4, "b": rand(6), "c": rand(5, 1)}),
    case("Min", {"a": X4, "b": rand(6)}), case("Mean", {"a": X4, "b": rand(6), "c": rand(5, 1)}),
    case("MatMul", {"a": rand(2, 3, 4, 5), "b": rand(5, 7)}),
    case("MatMul", {"a": rand(4), "b": rand(3, 4, 2)}, id="MatMul-1d"),
    case("Einsum", {"a": rand(2, 3, 4), "b": rand(2, 4, 5)}, opset=12, equation="bij,bjk->bik"),
]

SOFTMAX = [case(op, {"x": rand(2, 3, 4)}, opset=opset, axis=axis, id=f"{op}-{opset}-axis{axis}")
           for op in ("Softmax", "LogSoftmax", "Hardmax") for opset in (11, 13) for axis in (1, -1)] + [
    case("Softmax", {"x": rand(2, 3, 4)}, opset=9, id="Softmax-9-default"),
    case("Softmax", {"x": rand(2, 3, 4)}, opset=13, id="Softmax-13-default")]

REDUCE = [
    case("ReduceMean", {"x": X4}, axes=[1, -1], keepdims=0, id="ReduceMean-13-attr"),
    case("ReduceMean", {"x": X4}, opset=18, inits={"axes": i64(2, 3)}, id="ReduceMean-18-input"),
    case("ReduceSum", {"x": X4}, inits={"axes": i64(1)}, id="ReduceSum-13-input"),
    case("ReduceSum", {"x": X4}, opset=11, axes=[0, 2], id="ReduceSum-11-attr"),
    case("ReduceSum", {"x": X4}, inits={"axes": np.zeros(0, np.int64)}, noop_with_empty_axes=1,
         id="ReduceSum-noop"),
    case("ReduceSum", {"x": X4}, id="ReduceSum-all"),
    case("ReduceMax", {"x": X4}, opset=18, inits={"axes": i64(-1)}, id="ReduceMax-18"),
    case("ReduceMin", {"x": X4}, axes=[1], keepdims=0),
    case("ReduceProd", {"x": X4}, axes=[1, 2]), case("ReduceL1", {"x": X4}, axes=[3]),
    case("ReduceL2", {"x": X4}, axes=[1]), case("ReduceSumSquare", {"x": X4}, axes=[2]),
    case("ReduceLogSumExp", {"x": X4}, axes=[1]), case("ReduceLogSum", {"x": POS}, axes=[1]),
    case("ReduceSum", {"x": INTS.astype(np.int32)}, opset=11, axes=[1], id="ReduceSum-int32"),
    case("ArgMax", {"x": X4}, axis=1, keepdims=0), case("ArgMin", {"x": X4}, axis=-1),
    case("ArgMax", {"x": np.array([[1, 3, 3, 2]], np.float32)}, select_last_index=1, axis=1,
         id="ArgMax-last"),
    case("TopK", {"x": X4}, opset=11, inits={"k": i64(3)}, outs=2, axis=-1, id="TopK-11"),
    case("TopK", {"x": X4}, opset=11, inits={"k": i64(2)}, outs=2, axis=1, largest=0, id="TopK-11-smallest"),
    case("TopK", {"x": X4}, opset=9, outs=2, k=2, id="TopK-9-attr"),
]

SHAPES = [
    case("Reshape", {"x": X4}, inits={"s": i64(0, -1, 6)}, id="Reshape-zero-copies"),
    case("Reshape", {"x": X4}, opset=14, inits={"s": i64(6, 5, 6)}, allowzero=1, id="Reshape-allowzero"),
    case("Flatten", {"x": X4}, axis=0, id="Flatten-0"), case("Flatten", {"x": X4}, axis=2, id="Flatten-2"),
    case("Flatten", {"x": X4}, opset=11, axis=-1, id="Flatten-neg"),
    case("Flatten", {"x": X4}, opset=9, id="Flatten-9"),
    case("Transpose", {"x": X4}, perm=[0, 2, 3, 1]), case("Transpose", {"x": X4}, id="Transpose-reverse"),
    case("Squeeze", {"x": rand(1, 3, 1, 4)}, opset=11, axes=[0, -2], id="Squeeze-11"),
    case("Squeeze", {"x": rand(1, 3, 1, 4)}, inits={"a": i64(2)}, id="Squeeze-13"),
    case("Squeeze", {"x": rand(1, 3, 1, 4)}, id="Squeeze-all"),
    case("Unsqueeze", {"x": rand(3, 4)}, opset=11, axes=[0, 3], id="Unsqueeze-11"),
    case("Unsqueeze", {"x": rand(3, 4)}, inits={"a": i64(-1, 1)}, id="Unsqueeze-13"),
    case("Concat", {"a": X4, "b": rand(2, 3, 5, 2)}, axis=-1),
    case("Split", {"x": X4}, opset=11, outs=2, axis=3, split=[2, 4], id="Split-11-attr"),
    case("Split", {"x": X4}, inits={"s": i64(1, 2)}, outs=2, axis=1, id="Split-13-input"),
    case("Split", {"x": X4}, outs=3, axis=3, id="Split-13-equal"),
    case("Split", {"x": X4}, opset=18, outs=3, axis=2, num_outputs=3, id="Split-18-uneven"),
    case("Slice", {"x": X4}, opset=9, starts=[1, -4], ends=[1000, -1], axes=[2, 3], id="Slice-9-attrs"),
    case("Slice", {"x": X4}, inits={"s": i64(-1, 4), "e": i64(-1000, 0), "a": i64(2, 3), "t": i64(-2, -1)},
         id="Slice-13-negative-steps"),
    case("Slice", {"x": X4}, inits={"s": i64(0, 1), "e": i64(2, 9223372036854775807)}, id="Slice-13-no-axes"),
    case("Slice", {"x": X4}, opset=10, inits={"s": i64(1), "e": i64(5), "a": i64(3), "t": i64(2)},
         id="Slice-10"),
    case("Gather", {"x": X4}, inits={"i": i64(-1, 0, 2)}, axis=1, id="Gather-negative"),
    case("Gather", {"x": X4}, inits={"i": np.array(3, np.int64)}, axis=3, id="Gather-scalar"),
    case("Gather", {"x": X4}, inits={"i": np.array([[0, 1], [-1, 0]], np.int32)}, axis=0, id="Gather-2d"),
    case("GatherElements", {"x": rand(3, 4)}, inits={"i": np.array([[0, -1, 2, 1]], np.int64)}, axis=0),
    case("GatherND", {"x": rand(3, 4, 5)}, inits={"i": np.array([[0, 1], [2, -1]], np.int64)}),
    case("ScatterND", {"x": rand(4, 5), "u": rand(2, 5)}, opset=11,
         inits={"i": np.array([[1], [3]], np.int64)}, inputs=["x", "i", "u"]),
    case("Shape", {"x": X4}), case("Shape", {"x": X4}, opset=15, start=1, end=-1, id="Shape-15-start-end"),
    case("Size", {"x": X4}),
    case("Cast", {"x": X4 * 5}, to=TensorProto.INT32, id="Cast-to-int32"),
    case("Cast", {"x": INTS}, to=TensorProto.FLOAT, id="Cast-to-float"),
    case("Cast", {"x": INTS}, to=TensorProto.BOOL, id="Cast-to-bool"),
    case("CastLike", {"x": INTS, "like": rand(1)}, opset=15),
    case("Dropout", {"x": X4}, opset=12, outs=2, id="Dropout-mask"), case("Dropout", {"x": X4}, opset=7),
    case("Constant", {}, value=numpy_helper.from_array(rand(2, 3)), id="Constant-value"),
    case("Constant", {}, opset=12, value_floats=[1.0, 2.5], id="Constant-floats"),
    case("Constant", {}, opset=12, value_int=4, id="Constant-int"),
    case("ConstantOfShape", {}, inits={"s": i64(2, 3)}, value=numpy_helper.from_array(i64(7)),
         id="ConstantOfShape-int"),
    case("ConstantOfShape", {}, opset=9, inits={"s": i64(4)}, id="ConstantOfShape-default"),
    case("Expand", {"x": rand(3, 1)}, inits={"s": i64(2, 1, 4)}),
    case("Tile", {"x": rand(2, 3)}, inits={"r": i64(2, 3)}),
    case("Range", {}, opset=11, inits={"a": np.array(1, np.int64), "b": np.array(10, np.int64),
                                       "c": np.array(3, np.int64)}, id="Range-int"),
    case("Range", {"a": np.array(0.5, np.float32), "b": np.array(-2.0, np.float32),
                   "c": np.array(-0.7, np.float32)}, opset=11, id="Range-float"),
    case("NonZero", {"x": INTS}),
    case("DepthToSpace", {"x": rand(1, 8, 2, 3)}, blocksize=2, id="DepthToSpace-DCR"),
    case("DepthToSpace", {"x": rand(1, 8, 2, 3)}, blocksize=2, mode="CRD", id="DepthToSpace-CRD"),
    case("SpaceToDepth", {"x": rand(1, 2, 4, 6)}, blocksize=2),
    case("Pad", {"x": X4}, opset=10, pads=[0, 0, 1, 2, 0, 0, 2, 1], value=1.5, id="Pad-10-attr"),
    case("Pad", {"x": X4}, opset=11,
         inits={"p": i64(0, 0, 1, 2, 0, 0, 2, -1), "v": np.array(-1.0, np.float32)},
         id="Pad-11-constant-negative"),
    case("Pad", {"x": X4}, opset=11, inits={"p": i64(0, 1, 2, 3, 0, 1, 1, 2)}, mode="reflect",
         id="Pad-11-reflect"),
    case("Pad", {"x": X4}, opset=13, inits={"p": i64(1, 0, 2, 3, 0, 0, 1, 2)}, mode="edge", id="Pad-13-edge"),
    case("Pad", {"x": X4}, opset=18, inputs=["x", "p", "", "a"],
         inits={"p": i64(1, 2, 3, 0), "a": i64(-1, 2)},
         id="Pad-18-axes"),
    case("Pad", {"x": X4}, opset=19, inits={"p": i64(0, 0, 2, 7, 0, 0, 1, 3)}, mode="wrap", id="Pad-19-wrap"),
]

NN = [
    case("Conv", {"x": X4}, inits={"w": rand(4, 3, 3, 3), "b": rand(4)}, pads=[1, 1, 1, 1], id="Conv-2d"),
    case("Conv", {"x": rand(2, 4, 9, 8)}, inits={"w": rand(6, 2, 3, 2)}, group=2, strides=[2, 1],
         dilations=[2, 1],
         pads=[0, 1, 2, 0], id="Conv-group-dilated-asymmetric"),
    case("Conv", {"x": rand(1, 4, 7, 7)}, inits={"w": rand(4, 1, 3, 3)}, group=4, strides=[2, 2],
         auto_pad="SAME_UPPER",
         id="Conv-depthwise-same-upper"),
    case("Conv", {"x": rand(1, 3, 6, 6)}, inits={"w": rand(2, 3, 2, 2)}, strides=[2, 2],
         auto_pad="SAME_LOWER",
         id="Conv-same-lower"),
    case("Conv", {"x": rand(1, 3, 8, 8)}, inits={"w": rand(2, 3, 3, 3)}, auto_pad="VALID", id="Conv-valid"),
    case("Conv", {"x": rand(2, 3, 10)}, inits={"w": rand(4, 3, 3), "b": rand(4)}, pads=[2, 1], strides=[2],
         id="Conv-1d"),
    case("Conv", {"x": rand(1, 2, 4, 5, 6)}, inits={"w": rand(3, 2, 3, 3, 3)}, pads=[1, 1, 1, 1, 1, 1],
         id="Conv-3d"),
    case("ConvTranspose", {"x": rand(1, 4, 5, 5)}, inits={"w": rand(4, 3, 3, 3), "b": rand(3)},
         strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1], id="ConvTranspose-output-padding"),
    case("ConvTranspose", {"x": rand(1, 4, 5, 5)}, inits={"w": rand(4, 2, 3, 3), "b": rand(4)},
         strides=[2, 2], group=2, pads=[0, 1, 2, 0], id="ConvTranspose-group-asymmetric"),
    case("ConvTranspose", {"x": rand(1, 2, 4, 4)}, inits={"w": rand(2, 3, 3, 3)}, strides=[2, 2],
         output_shape=[9, 10], id="ConvTranspose-output-shape"),
    case("ConvTranspose", {"x": rand(1, 2, 4, 4)}, inits={"w": rand(2, 3, 4, 4)}, strides=[2, 2],
         auto_pad="SAME_UPPER", id="ConvTranspose-same-upper"),
    case("ConvTranspose", {"x": rand(1, 2, 7)}, inits={"w": rand(2, 3, 3)}, strides=[3], dilations=[2],
         id="ConvTranspose-1d"),
    case("BatchNormalization", {"x": X4},
         inits={"s": rand(3), "b": rand(3), "m": rand(3), "v": POS[0, 0, 0, :3]},
         epsilon=1e-3),
    case("BatchNormalization", {"x": X4}, opset=7,
         inits={"s": rand(3), "b": rand(3), "m": rand(3), "v": POS[0, 0, 0, :3]}, spatial=1,
         id="BatchNormalization-7"),
    case("InstanceNormalization", {"x": X4}, inits={"s": rand(3), "b": rand(3)}, epsilon=1e-4),
    case("LayerNormalization", {"x": X4}, opset=17, inits={"s": rand(6), "b": rand(6)}),
    case("LayerNormalization", {"x": X4}, opset=17, inits={"s": rand(5, 6)}, axis=2, outs=3,
         id="LayerNormalization-stats"),
    case("GroupNormalization", {"x": rand(2, 4, 3, 3)}, opset=21, inits={"s": rand(4), "b": rand(4)},
         num_groups=2),
    case("LpNormalization", {"x": X4}, axis=1, p=1, id="LpNormalization-p1"),
    case("LpNormalization", {"x": X4}, id="LpNormalization-p2"),
    case("LRN", {"x": X4}, size=3, alpha=0.01),
    case("LRN", {"x": rand(2, 6, 3, 3)}, size=5, bias=2.0, id="LRN-5"),
    case("MaxPool", {"x": X4}, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
         id="MaxPool-symmetric"),
    case("MaxPool", {"x": X4}, opset=12, kernel_shape=[3, 2], strides=[2, 2], ceil_mode=1, id="MaxPool-ceil"),
    case("MaxPool", {"x": X4}, opset=12, kernel_shape=[3, 3], strides=[2, 3], pads=[0, 1, 2, 0], ceil_mode=1,
         id="MaxPool-ceil-asymmetric"),
    case("MaxPool", {"x": X4}, opset=12, kernel_shape=[2, 2], dilations=[2, 2], id="MaxPool-dilated"),
    case("MaxPool", {"x": X4}, kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER",
         id="MaxPool-same-upper"),
    case("MaxPool", {"x": rand(2, 3, 9)}, kernel_shape=[3], strides=[2], id="MaxPool-1d"),
    case("MaxPool", {"x": rand(1, 2, 4, 5, 6)}, kernel_shape=[2, 2, 2], strides=[2, 2, 2], id="MaxPool-3d"),
    case("MaxPool", {"x": X4}, opset=8, outs=1, kernel_shape=[2, 2], id="MaxPool-8"),
    case("AveragePool", {"x": X4}, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
         count_include_pad=1,
         id="AveragePool-include-pad"),
    case("AveragePool", {"x": X4}, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
         id="AveragePool-exclude-pad"),
    case("AveragePool", {"x": X4}, kernel_shape=[2, 3], strides=[2, 2], ceil_mode=1, id="AveragePool-ceil"),
    case("AveragePool", {"x": X4}, kernel_shape=[3, 3], strides=[2, 2], pads=[0, 2, 1, 0],
         count_include_pad=1,
         ceil_mode=1, id="AveragePool-asymmetric-include-ceil"),
    case("AveragePool", {"x": X4}, kernel_shape=[3, 3], strides=[2, 2], pads=[0, 2, 1, 0],
         id="AveragePool-asymmetric"),
    case("AveragePool", {"x": X4}, opset=19, kernel_shape=[2, 2], dilations=[2, 1],
         id="AveragePool-19-dilated"),
    case("AveragePool", {"x": X4}, kernel_shape=[3, 3], auto_pad="SAME_LOWER", id="AveragePool-same-lower"),
    case("GlobalAveragePool", {"x": X4}), case("GlobalMaxPool", {"x": X4}),
    case("Gemm", {"a": rand(4, 5)}, inits={"b": rand(6, 5), "c": rand(6)}, transB=1, id="Gemm-linear"),
    case("Gemm", {"a": rand(5, 4)}, inits={"b": rand(5, 6), "c": rand(4, 6)}, transA=1, alpha=0.5, beta=2.0,
         id="Gemm-transA-alpha-beta"),
    case("Gemm", {"a": rand(4, 5), "b": rand(5, 6)}, opset=11, id="Gemm-no-C"),
    case("Gemm", {"a": rand(4, 5)}, opset=9, inits={"b": rand(6, 5), "c": rand(1, 1)}, transB=1, beta=0.5,
         id="Gemm-scalar-C"),
    case("ImageScaler", {"x": X4}, opset=9, scale=0.5, bias=[1.0, 2.0, -3.0]),
    case("QuantizeLinear", {"x": X4}, inits={"s": np.array(0.02, np.float32), "z": np.array(128, np.uint8)},
         id="QuantizeLinear-uint8"),
    case("QuantizeLinear", {"x": X4},
         inits={"s": np.array([0.01, 0.02, 0.03], np.float32), "z": np.zeros(3, np.int8)}, axis=1,
         id="QuantizeLinear-per-axis-int8"),
    case("DequantizeLinear", {"q": RNG.integers(0, 255, (2, 3, 4), dtype=np.uint8)},
         inits={"s": np.array(0.05, np.float32), "z": np.array(100, np.uint8)}, id="DequantizeLinear-uint8"),
    case("DequantizeLinear", {"q": RNG.integers(-128, 127, (2, 3, 4), dtype=np.int8)},
         inits={"s": np.array([0.1, 0.2, 0.3], np.float32)}, axis=1, id="DequantizeLinear-per-axis"),
]

RESIZE = [
    case("Upsample", {"x": X4}, opset=7, scales=[1.0, 1.0, 2.0, 3.0], id="Upsample-7-nearest"),
    case("Upsample", {"x": X4}, opset=9, inits={"s": np.array([1, 1, 2, 2], np.float32)}, mode="linear",
         id="Upsample-9-linear"),
    case("Resize", {"x": X4}, opset=10, inits={"s": np.array([1, 1, 2, 2], np.float32)},
         id="Resize-10-nearest"),
    case("Resize", {"x": X4}, opset=10, inits={"s": np.array([1, 1, 1.5, 0.5], np.float32)}, mode="linear",
         id="Resize-10-linear"),
    case("Resize", {"x": X4}, opset=10, inits={"s": np.array([1, 1, 0.6, 1.7], np.float32)},
         id="Resize-10-nearest-down"),
    case("Resize", {"x": X4}, opset=11, inputs=["x", "r", "s", "z"], inits={
        "r": np.zeros(0, np.float32), "s": np.zeros(0, np.float32), "z": i64(2, 3, 9, 11)},
        mode="linear", coordinate_transformation_mode="align_corners",
        id="Resize-11-linear-align-corners-sizes"),
    case("Resize", {"x": X4}, opset=11, inputs=["x", "r", "s"], inits={
        "r": np.zeros(0, np.float32), "s": np.array([1, 1, 2, 2], np.float32)},
        coordinate_transformation_mode="asymmetric", nearest_mode="floor",
        id="Resize-11-nearest-asymmetric-floor"),
]
for _mode, _coord, _nearest, _scales in [
        ("nearest", "half_pixel", "round_prefer_floor", [1, 1, 0.6, 1.7]),
        ("nearest", "half_pixel", "round_prefer_ceil", [1, 1, 2.5, 0.5]),
        ("nearest", "tf_half_pixel_for_nn", "round_prefer_floor", [1, 1, 1.5, 2.0]),
        ("nearest", "align_corners", "ceil", [1, 1, 1.6, 2.0]),
        ("nearest", "asymmetric", "floor", [1, 1, 3.0, 0.5]),
        ("linear", "half_pixel", "round_prefer_floor", [1, 1, 2.0, 2.0]),
        ("linear", "half_pixel", "round_prefer_floor", [1, 1, 0.5, 0.7]),
        ("linear", "pytorch_half_pixel", "round_prefer_floor", [1, 1, 1.4, 0.2]),
        ("linear", "asymmetric", "round_prefer_floor", [1, 1, 1.5, 2.5]),
        ("linear", "align_corners", "round_prefer_floor", [1, 1, 2.0, 1.5])]:
    RESIZE.append(case("Resize", {"x": X4}, inputs=["x", "", "s"], inits={"s": np.array(_scales, np.float32)},
                       mode=_mode, coordinate_transformation_mode=_coord, nearest_mode=_nearest,
                       id=f"Resize-13-{_mode}-{_coord}-{_nearest}-{_scales[2]}x{_scales[3]}"))
RESIZE += [
    case("Resize", {"x": X4}, opset=18, inputs=["x", "", "", "z"], inits={"z": i64(4, 12)}, axes=[2, 3],
         mode="linear", id="Resize-18-axes-sizes"),
    case("Resize", {"x": X4}, opset=18, inputs=["x", "", "", "z"], inits={"z": i64(8, 8)}, axes=[2, 3],
         keep_aspect_ratio_policy="not_larger", id="Resize-18-not-larger"),
    case("Resize", {"x": X4}, opset=19, inputs=["x", "", "s"],
         inits={"s": np.array([1, 1, 1.5, 0.8], np.float32)}, mode="linear",
         coordinate_transformation_mode="half_pixel_symmetric", id="Resize-19-half-pixel-symmetric"),
]


OPS = ELEMENTWISE + SOFTMAX + REDUCE + SHAPES + NN + RESIZE
OP_CASE = "op_type,feeds,inits,opset,outputs,node"


@pytest.mark.parametrize(OP_CASE, OPS)
def test_op_matches_onnxruntime(op_type: str, feeds: Dict[str, np.ndarray], inits: Dict[str, np.ndarray],
                                opset: int, outputs: List[str], node: Any) -> None:
    model = make_model([node], feeds, outputs, inits, opset)
    module = check(model, feeds)
    assert [n.op_type for n in module.nodes] == [op_type]


# ops whose float16 result may differ from float32's by more than rounding (a step, a rounding, a cast)
HALF_EXACT = {"Floor", "Ceil", "Round", "Sign", "Mod", "Cast"}


@needs_cpu_half
@pytest.mark.parametrize(OP_CASE, OPS)
def test_op_runs_in_half(op_type: str, feeds: Dict[str, np.ndarray], inits: Dict[str, np.ndarray], opset: int,
                         outputs: List[str], node: Any) -> None:
    """module.half() with half inputs: no op crashes on the CPU; float outputs stay close to float32's."""
    module = convert(make_model([node], feeds, outputs, inits, opset))
    full = torch_run(module, feeds)
    module.half()
    inputs = [torch.from_numpy(np.array(feeds[name])) for name in module.input_names]
    with torch.no_grad():
        half = module(*[t.half() if t.is_floating_point() else t for t in inputs])
    for h, f in zip(half if isinstance(half, tuple) else (half,), full):
        assert tuple(h.shape) == f.shape
        if f.dtype == np.float32 and op_type not in HALF_EXACT:
            assert h.dtype == torch.float16
            scale = max(1.0, float(np.abs(f).max(initial=0)))
            assert float(np.abs(h.float().numpy() - f).max(initial=0)) <= 2e-2 * scale


@needs_cuda
@pytest.mark.parametrize(OP_CASE, OPS)
def test_op_on_cuda_matches_onnxruntime(op_type: str, feeds: Dict[str, np.ndarray],
                                        inits: Dict[str, np.ndarray], opset: int, outputs: List[str],
                                        node: Any, exact_cuda: None) -> None:
    model = make_model([node], feeds, outputs, inits, opset)
    module = convert(model).cuda()
    with torch.no_grad():
        out = module(*[torch.from_numpy(np.array(feeds[name])).cuda() for name in module.input_names])
    got = [t.cpu().numpy() for t in (out if isinstance(out, tuple) else (out,))]
    assert_matches(got, ort_run(model, feeds))


def test_shape_arithmetic_chain_computed_at_run_time() -> None:
    """Shape → Gather → Unsqueeze → Concat → Reshape / Slice with computed ends / ConstantOfShape."""
    nodes = [helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("Gather", ["s", "one"], ["c"], axis=0),
             helper.make_node("Mul", ["c", "two"], ["c2"]),
             helper.make_node("Unsqueeze", ["c2", "zero_axis"], ["c2u"]),
             helper.make_node("Concat", ["first", "c2u", "minus1"], ["shape"], axis=0),
             helper.make_node("Reshape", ["x", "shape"], ["r"]),
             helper.make_node("Div", ["c2u", "two1"], ["half"]),
             helper.make_node("Slice", ["r", "zero1", "half", "one1"], ["y"]),
             helper.make_node("ConstantOfShape", ["s"], ["zeros"],
                              value=numpy_helper.from_array(np.array([0.5], np.float32))),
             helper.make_node("Add", ["zeros", "x"], ["z"])]
    inits = {"one": np.array(1, np.int64), "two": np.array(2, np.int64), "zero_axis": i64(0), "first": i64(0),
             "minus1": i64(-1), "two1": i64(2), "zero1": i64(0), "one1": i64(1)}
    model = make_model(nodes, {"x": rand(2, 4, 3, 6)}, ["y", "z"], inits)
    check(model, {"x": rand(2, 4, 3, 6)})


def test_dynamic_graph_input_and_string_constant_run() -> None:
    labels = numpy_helper.from_array(np.array(["cat", "dog"], dtype=object), "labels")
    nodes = [helper.make_node("Constant", [], ["labels"], value=labels),
             helper.make_node("Relu", ["x"], ["y"])]
    model = make_model(nodes, {"x": rand(2, 3)}, ["y"])
    module = convert(model)
    assert run_model(module, rand(5, 3)).shape == (5, 3)


def test_constant_subgraphs_fold_at_conversion_as_onnxruntime_folds_them() -> None:
    """A "light" model makes its weights with ConstantOfShape nodes: folded once, not run per inference."""
    path = MODELS / "resnet50_light.onnx"
    if not path.is_file():
        pytest.skip(f"public model {path} not found")
    model = onnx.load(str(path))
    folded = convert(model, fold_constants=True)
    assert not any(n.op_type == "ConstantOfShape" for n in folded.nodes)
    assert sum(1 for n in folded.nodes if n.op_type == "Conv") == 53
    x = RNG.random((1, 3, 224, 224), dtype=np.float32)
    with torch.inference_mode():
        want = convert(model)(torch.from_numpy(x))
        got = folded(torch.from_numpy(x))
    assert torch.allclose(want, got)


def test_a_half_module_keeps_float_results_in_half_precision() -> None:
    """A Cast to FLOAT inside a graph run in fp16 must not feed float32 into a half convolution."""
    from onnx import TensorProto, helper

    nodes = [helper.make_node("Cast", ["x"], ["f"], to=TensorProto.FLOAT, name="to_float"),
             helper.make_node("Conv", ["f", "w"], ["y"], name="conv")]
    model = make_model(nodes, {"x": rand(1, 3, 6, 6)}, ["y"], {"w": rand(4, 3, 3, 3)}, 13)
    module = convert(model).half()
    x = torch.from_numpy(rand(1, 3, 6, 6)).half()
    try:
        torch.nn.functional.conv2d(x, torch.ones(4, 3, 3, 3, dtype=torch.float16))
    except RuntimeError as exc:
        pytest.skip(f"no half convolution on this CPU: {exc}")
    with torch.inference_mode(), pytest.raises(RuntimeError):  # float32 into half weights
        module(x)
    module.compute_dtype = torch.float16
    with torch.inference_mode():
        y = module(x)
    assert y.dtype == torch.float16 and tuple(y.shape) == (1, 4, 4, 4)


def _u8(*shape: int) -> np.ndarray:
    return RNG.integers(0, 256, shape).astype(np.uint8)


def _i8(*shape: int) -> np.ndarray:
    # |w| < 64: onnxruntime's x86 u8×s8 kernels add products in pairs into int16 and saturate there
    # for larger weights (its documented reduce-range caveat); the ONNX operators do not saturate
    return RNG.integers(-63, 64, shape).astype(np.int8)


INT8_CASES = [
    pytest.param([helper.make_node("DynamicQuantizeLinear", ["x"], ["q", "s", "z"])], {"x": rand(2, 3, 5)},
                 ["q", "s", "z"], {}, 0, id="DynamicQuantizeLinear"),
    pytest.param([helper.make_node("ConvInteger", ["x", "w", "xz", "wz"], ["y"], pads=[1, 1, 1, 1])],
                 {"x": _u8(1, 8, 6, 6)}, ["y"], {"w": _i8(4, 8, 3, 3), "xz": np.array(128, np.uint8),
                                                 "wz": np.array(0, np.int8)}, 0, id="ConvInteger"),
    pytest.param([helper.make_node("MatMulInteger", ["a", "b", "az"], ["y"])], {"a": _u8(3, 16)}, ["y"],
                 {"b": _i8(16, 5), "az": np.array(7, np.uint8)}, 0, id="MatMulInteger"),
    pytest.param([helper.make_node("QLinearConv", ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"], ["y"],
                                   pads=[1, 1, 1, 1], strides=[2, 2])],
                 {"x": _u8(1, 8, 7, 7)}, ["y"],
                 {"xs": np.array(0.02, np.float32), "xz": np.array(120, np.uint8), "w": _i8(4, 8, 3, 3),
                  "ws": np.array([0.01, 0.02, 0.015, 0.03], np.float32), "wz": np.zeros(4, np.int8),
                  "ys": np.array(0.5, np.float32), "yz": np.array(100, np.uint8),
                  "b": RNG.integers(-500, 500, 4).astype(np.int32)}, 1, id="QLinearConv-per-channel"),
    pytest.param([helper.make_node("QLinearMatMul", ["a", "as", "az", "b", "bs", "bz", "ys", "yz"], ["y"])],
                 {"a": _u8(3, 16)}, ["y"],
                 {"as": np.array(0.05, np.float32), "az": np.array(128, np.uint8), "b": _i8(16, 5),
                  "bs": np.array(0.02, np.float32), "bz": np.array(0, np.int8),
                  "ys": np.array(0.3, np.float32), "yz": np.array(90, np.uint8)}, 1, id="QLinearMatMul"),
]


@pytest.mark.parametrize("nodes, feeds, outputs, inits, steps", INT8_CASES)
def test_integer_and_qlinear_ops_match_onnxruntime(nodes, feeds, outputs, inits, steps) -> None:
    """Integer ops exactly; quantized-linear ops to within `steps` quantization steps (rounding at
    a step boundary may differ between float emulation and integer kernels). Checked against the
    operator's own arithmetic too, for an int32 sum beyond int16."""
    model = make_model(nodes, feeds, outputs, inits, 13)
    got, want = torch_run(convert(model), feeds), ort_run(model, feeds)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        if np.issubdtype(w.dtype, np.floating):
            np.testing.assert_allclose(g, w, rtol=1e-6)
        else:
            assert int(np.abs(g.astype(np.int64) - w.astype(np.int64)).max(initial=0)) <= steps


def test_integer_matmul_keeps_every_int32_sum() -> None:
    a = RNG.integers(0, 256, (3, 64)).astype(np.uint8)
    b = RNG.integers(-128, 128, (64, 5)).astype(np.int8)
    model = make_model([helper.make_node("MatMulInteger", ["a", "b", "az"], ["y"])], {"a": a}, ["y"],
                       {"b": b, "az": np.array(7, np.uint8)}, 13)
    want = (a.astype(np.int64) - 7) @ b.astype(np.int64)
    np.testing.assert_array_equal(torch_run(convert(model), {"a": a})[0], want)


def test_a_shape_a_folded_node_computes_is_read_on_the_host_once() -> None:
    """Reshape's target made by Concat(init, init): after folding it is a host value, so no
    device-to-host copy per inference (and a CUDA graph can capture the node)."""
    nodes = [helper.make_node("Concat", ["a", "b"], ["shape"], axis=0, name="target"),
             helper.make_node("Reshape", ["x", "shape"], ["y"], name="rs")]
    model = make_model(nodes, {"x": rand(2, 3, 4)}, ["y"], {"a": i64(2), "b": i64(12)}, 13)
    folded = convert(model, fold_constants=True)
    assert [(n.onnx_name, n.host) for n in folded.nodes] == [("rs", {1: [2, 12]})]
    assert tuple(run_model(folded, rand(2, 3, 4)).shape) == (2, 12)


def test_host_reads_name_the_nodes_a_cuda_graph_could_not_capture() -> None:
    if not (MODELS / "ultraface_rfb320.onnx").is_file():
        pytest.skip("public models not found")
    ultraface = convert(onnx.load(str(MODELS / "ultraface_rfb320.onnx")), fold_constants=True)
    assert ultraface.host_reads() and all(name.startswith("Reshape_") for name in ultraface.host_reads())
    assert convert(onnx.load(str(MODELS / "mnist_cntk_zoo.onnx")), fold_constants=True).host_reads() == []
