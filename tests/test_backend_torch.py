"""The torch backend: trace attribution (exact, on synthetic CPU and Hopper-like GPU traces) and a
real eager session on the CPU. GPU tests skip without CUDA."""
from __future__ import annotations

from pathlib import Path

import pytest

from trtbench.backends.base import LoadOptions
from trtbench.backends.torch.profile import ITERATION, LAYER_PREFIX, attribute_trace
from trtbench.categories import torch_ops
from trtbench.errors import TrtbenchError
from trtbench.models.netspec import parse_name
from trtbench.models.source import ModelSource

HOPPER_CONV_KERNEL = "sm90_xmma_gemm_f32f32_tf32f32_f32_nhwckrsc_nhwc_tilesize128x128x32_warpgroupsize1x1x1"


def span(cat: str, name: str, ts: float, dur: float, tid: int = 1, **args) -> dict:
    return {"ph": "X", "cat": cat, "name": name, "ts": ts, "dur": dur, "tid": tid, "args": args}


def layer(name: str, cls: str, ts: float, dur: float) -> dict:
    return span("user_annotation", f"{LAYER_PREFIX}{name}|{cls}", ts, dur)


def launch(corr: int, ts: float, name: str = "cudaLaunchKernel", cat: str = "cuda_runtime") -> dict:
    return span(cat, name, ts, 1, correlation=corr)


def kernel(name: str, corr: int, ts: float, dur: float, cat: str = "kernel") -> dict:
    return span(cat, name, ts, dur, tid=7, correlation=corr)


def test_gpu_kernels_are_charged_to_the_launching_module_not_their_name() -> None:
    # on Hopper a convolution runs as an xmma gemm kernel: by name it would count as fc
    assert torch_ops.categorize_kernel(HOPPER_CONV_KERNEL) == "fc"
    events = [
        span("user_annotation", ITERATION, 0, 100), launch(99, 50), kernel(HOPPER_CONV_KERNEL, 99, 60, 1000),
        span("user_annotation", ITERATION, 200, 200),
        layer("conv1.conv", "Conv2d", 210, 40),
        span("cpu_op", "aten::conv2d", 212, 36), span("cpu_op", "aten::cudnn_convolution", 215, 30),
        launch(100, 220), kernel(HOPPER_CONV_KERNEL, 100, 300, 40),
        layer("blk", "MyFusedThing", 260, 20), span("cpu_op", "aten::linear", 261, 18),
        launch(101, 262, "cuLaunchKernel", "cuda_driver"), kernel(HOPPER_CONV_KERNEL, 101, 341, 10),
        span("cpu_op", "aten::copy_", 290, 5), launch(102, 291),
        kernel("void at::native::elementwise_kernel<128, 4>", 102, 352, 3),
        launch(103, 296), kernel("void at::native::vectorized_elementwise_kernel<4>", 103, 356, 2),
        launch(104, 297, "cudaMemcpyAsync"), kernel("Memcpy DtoH (Device -> Pinned)", 104, 360, 1, "gpu_memcpy"),
    ]
    result = attribute_trace(events, skip_iterations=1)
    assert result.iterations == 1
    got = {l.name: (l.category, round(l.ms, 6)) for l in result.layers}
    assert got == {
        "conv1.conv": ("conv", 0.040),
        "blk": ("fc", 0.010),  # a module class no table knows: its dominant op decides
        "aten::copy_": ("reformat", 0.003),
        "void at::native::vectorized_elementwise_kernel<4>": ("elementwise", 0.002),  # name fallback
        "Memcpy DtoH (Device -> Pinned)": ("transfer", 0.001),
    }
    assert any("kernel name" in note for note in result.notes)


def test_cpu_layers_are_module_ranges_plus_ops_outside_modules() -> None:
    iteration = [layer("conv1.conv", "Conv2d", 10, 30), span("cpu_op", "aten::conv2d", 11, 28),
                 span("cpu_op", "aten::relu", 41, 4), span("cpu_op", "aten::clamp_min", 42, 2),
                 layer("odd", "Strange", 50, 20), span("cpu_op", "aten::max_pool2d", 51, 18),
                 span("cpu_op", "aten::max_pool2d_with_indices", 52, 16)]

    def shifted(offset: float) -> list:
        return [{**e, "ts": e["ts"] + offset} for e in iteration]

    events = ([span("user_annotation", ITERATION, 0, 80)] + shifted(0)
              + [span("user_annotation", ITERATION, 100, 80)] + shifted(100)
              + [span("user_annotation", ITERATION, 200, 80)] + shifted(200)
              + [span("cpu_op", "aten::empty", 300, 50)])  # outside every iteration
    result = attribute_trace(events, skip_iterations=1)
    assert result.iterations == 2
    got = {l.name: (l.category, round(l.ms, 6), l.type) for l in result.layers}
    assert got == {"conv1.conv": ("conv", 0.030, "Conv2d"), "aten::relu": ("elementwise", 0.004, "aten::relu"),
                   "odd": ("pool", 0.020, "Strange")}
    assert result.unknown == []


def test_no_iterations_after_warm_up_is_an_error() -> None:
    with pytest.raises(TrtbenchError):
        attribute_trace([span("user_annotation", ITERATION, 0, 10)], skip_iterations=1)


def _spec_model(name: str = "c1d4-f1n16") -> ModelSource:
    return ModelSource(path=Path(f"{name}.onnx"), kind="onnx", name=name, spec=parse_name(name).to_dict())


@pytest.fixture
def torch_backend():
    pytest.importorskip("torch")
    from trtbench.backends import get

    return get("torch")


def test_cpu_session_profiles_the_network_by_module(torch_backend) -> None:
    session = torch_backend.load(_spec_model(), LoadOptions(threads=1))
    session.set_batch(16)
    times = session.run_timed(4)
    assert len(times) == 4 and all(t > 0 for t in times)
    result = session.profile(3)
    names = {l.name: l.category for l in result.layers}
    assert {"conv1.conv": "conv", "pool": "pool", "fc1.linear": "fc", "out": "fc",
            "softmax": "elementwise", "conv1.relu": "elementwise"}.items() <= names.items()
    assert all(l.ms > 0 for l in result.layers if l.name in ("conv1.conv", "fc1.linear"))
    assert session.info()["backend_version"]
    session.close()


def test_option_errors(torch_backend, tmp_path: Path) -> None:
    import onnx
    import torch
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["r"], name="act"),
                               helper.make_node("Det", ["r"], ["y"], name="det")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(tmp_path / "det.onnx"))
    foreign = ModelSource(path=tmp_path / "det.onnx", kind="onnx", name="det")
    with pytest.raises(TrtbenchError, match=r"Det.*--backend onnxruntime"):  # the op, and the route that runs it
        torch_backend.load(foreign, LoadOptions())
    with pytest.raises(TrtbenchError, match="needs --device cuda"):
        torch_backend.load(_spec_model(), LoadOptions(precision="fp16"))
    with pytest.raises(TrtbenchError, match="--cuda-graph"):
        torch_backend.load(_spec_model(), LoadOptions(cuda_graph=True))
    if not torch.cuda.is_available():
        with pytest.raises(TrtbenchError, match="no CUDA"):
            torch_backend.load(_spec_model(), LoadOptions(device="cuda"))


@pytest.mark.gpu
@pytest.mark.parametrize("precision,graph", [("fp32", False), ("fp16", True)])
def test_cuda_session_charges_kernels_to_modules(torch_backend, precision: str, graph: bool) -> None:
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    from trtbench.measure.method import measure

    model = _spec_model("c1d20-f1n1024")
    session = torch_backend.load(model, LoadOptions(device="cuda", precision=precision, cuda_graph=graph,
                                                    channels_last=graph))
    record = measure(session, model, 1024, iterations=20, loops=3)
    assert record.tiles_per_ms > 0
    assert {"conv", "pool", "fc", "elementwise"} <= set(record.categories)
    assert record.categories["conv"] > 0
    assert record.device_name


def test_each_layers_time_in_each_profiled_iteration_is_kept_for_its_interval() -> None:
    def iteration(offset: float, conv: float) -> list:
        return [span("user_annotation", ITERATION, offset, 80), layer("conv1.conv", "Conv2d", offset + 10, conv),
                span("cpu_op", "aten::relu", offset + 50, 4)]

    events = iteration(0, 99) + iteration(100, 30) + iteration(200, 36) + iteration(300, 33)
    result = attribute_trace(events, skip_iterations=1)
    assert result.per_run["conv1.conv"] == pytest.approx([0.030, 0.036, 0.033])  # the warm-up dropped
    assert result.per_run["aten::relu"] == pytest.approx([0.004] * 3)
