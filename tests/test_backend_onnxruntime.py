"""The onnxruntime backend: trace parsing (exact, synthetic) and a real session on a foreign model."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trtbench.backends.base import LoadOptions
from trtbench.backends.onnxruntime.profile import parse_trace
from trtbench.errors import TrtbenchError
from trtbench.models.source import ModelSource


def run(ts: float, dur: float) -> dict:
    return {"cat": "Session", "name": "model_run", "ts": ts, "dur": dur, "ph": "X"}


def node(name: str, op: str, ts: float, dur: float, provider: str = "CPUExecutionProvider") -> dict:
    return {"cat": "Node", "name": f"{name}_kernel_time", "ts": ts, "dur": dur, "ph": "X",
            "args": {"op_name": op, "provider": provider}}


def test_parse_trace_skips_the_warm_up_run_and_averages() -> None:
    events = [run(0, 100), node("a", "Conv", 10, 90), node("a", "Conv", 10, 1, "x"),  # warm-up run
              run(200, 50), node("a", "Conv", 205, 30), node("p", "MaxPool", 240, 4),
              node("m", "MemcpyToHost", 245, 2), node("q", "Weird", 246, 1),
              {"cat": "Node", "name": "a_fence_before", "ts": 206, "dur": 5},
              run(300, 50), node("a", "Conv", 305, 10), node("p", "MaxPool", 340, 6),
              node("m", "MemcpyToHost", 346, 2), node("q", "Weird", 348, 1)]
    result = parse_trace(events, skip_runs=1)
    assert result.iterations == 2
    got = {l.name: (l.category, l.ms, l.type) for l in result.layers}
    assert got == {"a": ("conv", 0.020, "Conv"), "p": ("pool", 0.005, "MaxPool"),
                   "m": ("transfer", 0.002, "MemcpyToHost"), "q": ("other", 0.001, "Weird")}
    assert result.unknown == ["Weird"]


def test_nodes_sharing_a_name_are_told_apart_by_index() -> None:
    def indexed(i: str, ts: float, dur: float) -> dict:
        event = node("ReorderOutput", "ReorderOutput", ts, dur)
        event["args"]["node_index"] = i
        return event

    events = [run(0, 10), indexed("3", 1, 1), indexed("9", 2, 1),
              run(20, 10), indexed("3", 21, 2), indexed("9", 22, 4)]
    got = {l.name: l.ms for l in parse_trace(events).layers}
    assert got == {"ReorderOutput#3": 0.002, "ReorderOutput#9": 0.004}


def test_parse_trace_without_run_events_counts_occurrences() -> None:
    events = [node("a", "Gemm", 0, 100), node("a", "Gemm", 200, 4), node("a", "Gemm", 300, 6)]
    result = parse_trace(events, skip_runs=1)
    assert result.iterations == 2 and result.layers[0].ms == pytest.approx(0.005)


def test_parse_trace_with_nothing_after_warm_up_is_an_error() -> None:
    with pytest.raises(TrtbenchError):
        parse_trace([run(0, 10), node("a", "Conv", 1, 5)], skip_runs=1)


def _net(path: Path, batch=None) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.standard_normal(s).astype(np.float32), n)
             for n, s in (("k", (4, 1, 5, 5)), ("w", (576, 10)))]
    inits.append(numpy_helper.from_array(np.array([-1, 576], np.int64), "shape"))
    nodes = [helper.make_node("Conv", ["img", "k"], ["c"], name="first thing"),
             helper.make_node("Relu", ["c"], ["r"], name="r"),
             helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2], name="p"),
             helper.make_node("Reshape", ["p", "shape"], ["f"], name="flat"),
             helper.make_node("MatMul", ["f", "w"], ["l"], name="mm"),
             helper.make_node("Softmax", ["l"], ["probs"], axis=1, name="sm")]
    dim = batch if batch else "N"
    graph = helper.make_graph(nodes, "foreign",
                              [helper.make_tensor_value_info("img", TensorProto.FLOAT, [dim, 1, 28, 28])],
                              [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [dim, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


@pytest.fixture
def ort_backend():
    pytest.importorskip("onnxruntime")
    from trtbench.backends import get

    return get("onnxruntime")


def test_real_session_times_and_profiles_a_foreign_model(tmp_path: Path, ort_backend) -> None:
    from trtbench.models.source import resolve_model

    model = resolve_model(str(_net(tmp_path / "f.onnx")), tmp_path)
    session = ort_backend.load(model, LoadOptions(threads=1))
    session.set_batch(8)
    times = session.run_timed(5)
    assert len(times) == 5 and all(t > 0 for t in times)
    result = session.profile(4)
    assert result.iterations == 4
    categories = {l.category for l in result.layers}
    assert {"conv", "pool", "fc", "elementwise"} <= categories
    # a node onnxruntime fused or rewrote names the graph's nodes it runs; the others are themselves
    import onnx

    graph_names = {n.name for n in onnx.load(str(tmp_path / "f.onnx")).graph.node}
    origins = [l.origin for l in result.layers if l.origin]
    assert origins and all(set(o.split(" + ")) <= graph_names for o in origins)
    shapes = {l.type: l.shape for l in result.layers}
    assert shapes["MatMul"] == [10] and shapes["MaxPool"][-2:] == [12, 12]  # output dims, batch dropped
    assert any(n.startswith("nodes per execution provider: CPUExecutionProvider ") for n in result.notes)
    session.set_batch(3)  # a new batch after profiling still runs
    assert len(session.run_timed(2)) == 2
    assert session.info()["backend_version"]
    session.close()


def test_fixed_batch_model_refuses_another_batch(tmp_path: Path, ort_backend) -> None:
    from trtbench.models.source import resolve_model

    model = resolve_model(str(_net(tmp_path / "fixed.onnx", batch=4)), tmp_path)
    session = ort_backend.load(model, LoadOptions())
    with pytest.raises(TrtbenchError, match="batch 4 only"):
        session.set_batch(16)
    session.set_batch(4)
    assert len(session.run_timed(1)) == 1


def test_unsupported_options_are_user_errors(tmp_path: Path, ort_backend) -> None:
    from trtbench.models.source import resolve_model

    model = resolve_model(str(_net(tmp_path / "f.onnx")), tmp_path)
    with pytest.raises(TrtbenchError, match="fp16"):
        ort_backend.load(model, LoadOptions(precision="fp16"))
    import onnxruntime

    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        with pytest.raises(TrtbenchError, match="onnxruntime-gpu"):
            ort_backend.load(model, LoadOptions(device="cuda"))


# ---- the registry -------------------------------------------------------------------------

def _source(kind: str) -> ModelSource:
    return ModelSource(path=Path(f"m.{kind}"), kind=kind, name="m")


def test_registry_names_unknown_and_missing_backends(monkeypatch) -> None:
    from trtbench import backends
    from trtbench.backends import onnxruntime as ort_module

    assert backends.names() == ["onnxruntime", "torch", "tensorrt", "trtexec"]
    with pytest.raises(TrtbenchError, match="unknown backend 'tensorflow'"):
        backends.get("tensorflow")
    monkeypatch.setattr(type(ort_module.BACKEND), "available", lambda self: False)
    with pytest.raises(TrtbenchError) as info:
        backends.get("onnxruntime")
    assert "pip install 'trtbench[ort]'" in str(info.value)
    if not backends.is_available("tensorrt"):
        with pytest.raises(TrtbenchError, match="pip install"):
            backends.get("tensorrt")


def test_auto_choice_says_why(ort_backend) -> None:
    from trtbench import backends

    backend, reason = backends.choose("auto", _source("onnx"))
    if not backends.is_available("tensorrt"):
        assert backend.name == "onnxruntime" and "auto" in reason and "tensorrt" in reason
    with pytest.raises(TrtbenchError, match="engine plan"):
        backends.choose("onnxruntime", _source("plan"))


def test_auto_on_cuda_without_a_gpu_backend_is_a_user_error(ort_backend) -> None:
    import onnxruntime

    from trtbench import backends

    if backends.is_available("tensorrt") or "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("a GPU backend is installed here")
    with pytest.raises(TrtbenchError, match="--device cuda"):
        backends.choose("auto", _source("onnx"), device="cuda")  # no spec: torch cannot rebuild it
