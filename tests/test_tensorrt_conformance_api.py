"""The in-process TensorRT route against a strict stand-in of every recorded TensorRT release.

For each release in tests/data/tensorrt/api (names taken from the real bindings: wheels for 8.6
and later, NVIDIA/TensorRT python/src for 8.0-8.5), `build_with_api` builds three models (the
tiles, two inputs, a static 3x224x224 image) and a `TensorRTSession` lives a whole life on the
engine. The stand-in (tests/fake_tensorrt.py) has only that release's names, so this proves that
every TensorRT attribute trtbench uses on the branch it takes for release V exists in V.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, List

import pytest
import tensorrt_conformance as conformance
from fake_cuda import FakeCuda
from fake_tensorrt import install
from test_trt_build import make_onnx

from trtbench.backends.base import LoadOptions
from trtbench.backends.tensorrt import BACKEND
from trtbench.backends.tensorrt.build import build_with_api
from trtbench.backends.tensorrt.engine import BuildRequest
from trtbench.backends.tensorrt.versions import features_for
from trtbench.device.targets import get_target, version_tuple
from trtbench.errors import TrtbenchError
from trtbench.models.source import ModelSource

VERSIONS = conformance.api_versions()
BUILDER_OBJECTS = ["OnnxParser", "INetworkDefinition", "IBuilderConfig", "Builder"]


def test_the_data_covers_every_supported_release():
    have = {version_tuple(v)[:2] for v in VERSIONS}
    assert {(8, 0), (8, 2), (8, 4), (8, 5), (8, 6), (10, 0), (11, 0), (11, 4)} <= have
    assert len([v for v in have if v[0] == 10]) >= 3  # 10.0, some 10.x, the newest 10.x


def two_input_onnx(path: Path) -> Path:
    """image [N, 3, 8, 8] * gain [N, 1, 1, 1] → y: a model with two batched inputs."""
    import onnx
    from onnx import TensorProto, helper

    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, 8, 8])
    gain = helper.make_tensor_value_info("gain", TensorProto.FLOAT, ["N", 1, 1, 1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, 8, 8])
    graph = helper.make_graph([helper.make_node("Mul", ["image", "gain"], ["y"], name="mul")], "g",
                              [image, gain], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.save(model, str(path))
    return path


def static_onnx(path: Path) -> Path:
    """A fixed-shape 1x3x224x224 image model (no optimization profile needed)."""
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 224, 224])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 224, 224])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="relu")], "g", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.save(model, str(path))
    return path


def request(onnx: Path, precision: str = "fp32", batch_range=(1, 16, 64), **kw: Any) -> BuildRequest:
    return BuildRequest(onnx=onnx, engine=onnx.with_suffix(".plan"), target=get_target("h100"),
                        precision=precision, batch_range=batch_range, workspace_mib=256, **kw)


def in_order(log: List[str], names: List[str]) -> bool:
    """`names` appear in `log` in this order (other entries between them are fine)."""
    positions = [log.index(n) for n in names]
    return positions == sorted(positions)


def life(engine: Path, cuda: FakeCuda, trt: Any, batch: int) -> None:
    """A whole session: load, set_batch, time, profile, layer info, info, close twice."""
    trt._state.deleted.clear()
    trt._state.enqueues = 0
    session = BACKEND.load(ModelSource(path=engine, kind="plan", name="m"), LoadOptions(device="cuda"))
    session.set_batch(batch)
    times = session.run_timed(3)
    assert len(times) == 3 and all(t > 0 for t in times)
    result = session.profile(2)
    names = [layer.name for layer in result.layers]
    assert "[HostToDevice input]" in names and len(names) >= 3
    inspector = features_for(version_tuple(trt.__version__)).engine_inspector
    assert bool(session.layer_info()) is inspector  # 8.0: no inspector (and no build metadata here)
    assert session.info()["backend_version"] == trt.__version__
    assert trt._state.enqueues == 3 + 2
    session.close()
    calls = len(cuda.calls)
    session.close()
    assert len(cuda.calls) == calls  # the second close does nothing
    assert cuda.leaks() == []
    assert in_order(trt._state.deleted, ["IExecutionContext", "ICudaEngine", "Runtime"])


@pytest.mark.parametrize("version", VERSIONS)
def test_build_and_run_on_every_release(version, tmp_path, monkeypatch):
    cuda = FakeCuda()
    trt = install(monkeypatch, conformance.api(version), cuda)
    feats = features_for(version_tuple(version))
    req = request(make_onnx(tmp_path / "m.onnx", relu_only=False), timing_cache=tmp_path / "tc")
    built, _, layers, detailed, _ = build_with_api(req)
    assert built == version and (tmp_path / "tc").is_file() and req.engine.is_file()
    config = trt._state.configs[-1]
    assert "TF32" not in config["flags"]  # fp32 clears TF32 on every release
    assert config["profiles"] == [{"tiles": [[1, 1, 28, 28], [16, 1, 28, 28], [64, 1, 28, 28]]}]
    assert ("pool:WORKSPACE" in config["values"]) is feats.memory_pool_api
    assert (config["values"].get("max_workspace_size") == 256 << 20) is not feats.memory_pool_api
    assert config["values"].get("default_device_type") is None
    assert detailed is feats.engine_inspector and bool(layers) is feats.engine_inspector
    deleted = trt._state.deleted
    assert in_order(deleted, BUILDER_OBJECTS)
    if feats.engine_inspector:  # the build loads the plan back for the inspector, and releases it
        assert in_order(deleted, BUILDER_OBJECTS[-1:] + ["EngineInspector", "ICudaEngine", "Runtime"])
    life(req.engine, cuda, trt, 16)


@pytest.mark.parametrize("version", VERSIONS)
def test_two_inputs_and_a_static_model_on_every_release(version, tmp_path, monkeypatch):
    cuda = FakeCuda()
    trt = install(monkeypatch, conformance.api(version), cuda)
    req = request(two_input_onnx(tmp_path / "two.onnx"), batch_range=(1, 4, 8))
    build_with_api(req)
    shapes = trt._state.configs[-1]["profiles"]
    assert len(shapes) == 1 and sorted(shapes[0]) == ["gain", "image"]  # one profile, every dynamic input
    life(req.engine, cuda, trt, 4)

    static = request(static_onnx(tmp_path / "static.onnx"), batch_range=(1, 1, 1))
    build_with_api(static)
    assert trt._state.configs[-1]["profiles"] == []
    session = BACKEND.load(ModelSource(path=static.engine, kind="plan", name="s"), LoadOptions(device="cuda"))
    try:
        session.set_batch(1)
        assert session.run_timed(1)
        with pytest.raises(TrtbenchError, match="fixed batch of 1"):
            session.set_batch(2)
    finally:
        session.close()
    assert cuda.leaks() == []


@pytest.mark.parametrize("version", VERSIONS)
def test_precision_and_dla_follow_build_choice(version, tmp_path, monkeypatch):
    trt = install(monkeypatch, conformance.api(version), FakeCuda())
    feats = features_for(version_tuple(version))
    onnx = make_onnx(tmp_path / "m.onnx")
    build_with_api(request(onnx, precision="tf32"))
    assert "TF32" in trt._state.configs[-1]["flags"]  # tf32 keeps TensorRT's default
    if feats.precision_flags:
        build_with_api(request(onnx, precision="fp16"))
        assert "FP16" in trt._state.configs[-1]["flags"]
        dla = request(onnx, precision="fp16", dla_core=1)
    else:
        created = len(trt._state.created)
        with pytest.raises(TrtbenchError, match="strongly typed"):
            build_with_api(request(onnx, precision="fp16"))
        assert len(trt._state.created) == created  # refused before any TensorRT object exists
        dla = request(onnx, precision="fp32", dla_core=1)
    if feats.dla:
        build_with_api(dla)
        config = trt._state.configs[-1]
        assert str(config["values"]["default_device_type"]) == "DeviceType.DLA"
        assert config["values"]["DLA_core"] == 1 and "GPU_FALLBACK" in config["flags"]
        # the engine's metadata says DLA core 1: the session loads it onto that core
        dla.engine.with_name(dla.engine.name + ".json").write_text('{"dla_core": 1}')
        session = BACKEND.load(ModelSource(path=dla.engine, kind="plan", name="d"), LoadOptions(device="cuda"))
        try:
            assert session.runtime.DLA_core == 1
            session.set_batch(4)
            assert session.run_timed(1)
        finally:
            session.close()
    else:
        created = len(trt._state.created)
        with pytest.raises(TrtbenchError, match="DLA"):
            build_with_api(dla)
        assert len(trt._state.created) == created


def test_api_build_of_the_targets_default_on_11_names_the_engine_for_what_it_is(tmp_path, monkeypatch):
    """Thor's default precision is fp16; TensorRT 11 builds the model as exported (fp32): the
    engine and its metadata say fp32, with a note, not a file called .fp16.plan."""
    from trtbench.api.build import build

    install(monkeypatch, conformance.api("11.4.0"), FakeCuda())
    onnx = make_onnx(tmp_path / "m.onnx")
    result = build(onnx, "thor", force=True, cache_dir=tmp_path / "cache")
    assert result.engine == tmp_path / "m.thor.fp32.plan" and result.engine.is_file()
    assert result.metadata["precision"] == "fp32" and result.metadata["engine"] == "m.thor.fp32.plan"
    assert not (tmp_path / "m.thor.fp16.plan").exists()
    assert any("as exported" in note for note in result.notes)
    assert [i["name"] for i in result.metadata["model"]["inputs"]] == ["tiles"]
