"""The TensorRT backend: layer-time aggregation and categories (no TensorRT needed), the messages
without TensorRT or a CUDA package; the session and the build driver against the strict stand-ins
of tests/fake_tensorrt.py and tests/fake_cuda.py (events, release order, storage types, dynamic
and data-dependent shapes, TensorRT's own reasons in errors); and a real build-load-time-profile
run on the 8.x path and on the 10.x/11.x path where TensorRT and a GPU exist."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import tensorrt_conformance as conformance
from conftest import cuda_available
from fake_cuda import FakeCuda
from fake_tensorrt import PlanSpec, TensorSpec, install
from test_trt_build import make_onnx

from trtbench.backends.base import LoadOptions
from trtbench.backends.tensorrt import BACKEND
from trtbench.backends.tensorrt.profile import TRANSFER_IN, TRANSFER_OUT, aggregate_layer_times
from trtbench.errors import TrtbenchError
from trtbench.models.source import ModelSource

HAS_TRT = importlib.util.find_spec("tensorrt") is not None


def test_aggregate_means_and_categories():
    records = []
    for _ in range(4):  # four profiled inferences
        records += [(TRANSFER_IN, 0.5), ("conv1 + relu1", 2.0), ("pool1", 1.0), ("fc1", 0.25),
                    ("Reformatting CopyNode for Input Tensor 0 to conv1", 0.1), (TRANSFER_OUT, 0.05)]
    info = {"fc1": {"Name": "fc1", "LayerType": "CaskGemmConvolution", "Metadata": "[ONNX Layer: /fc1/Gemm]"},
            "pool1": {"Name": "pool1", "LayerType": "CaskPooling"}}
    result = aggregate_layer_times(records, 4, info)
    by_name = {layer.name: layer for layer in result.layers}
    assert [layer.name for layer in result.layers][:2] == [TRANSFER_IN, "conv1 + relu1"]  # engine order
    assert by_name["conv1 + relu1"].ms == pytest.approx(2.0) and by_name["conv1 + relu1"].category == "conv"
    assert by_name["pool1"].category == "pool" and by_name["pool1"].type == "CaskPooling"
    assert by_name["fc1"].category == "fc"  # TensorRT 8 runs Gemm as a 1x1 convolution
    assert by_name[TRANSFER_IN].category == "transfer" and by_name[TRANSFER_OUT].ms == pytest.approx(0.05)
    assert by_name["Reformatting CopyNode for Input Tensor 0 to conv1"].category == "reformat"
    assert result.iterations == 4 and result.unknown == []
    assert result.per_run["pool1"] == [1.0] * 4  # each layer's time in each execution, for its interval
    with pytest.raises(TrtbenchError):
        aggregate_layer_times(records, 0, info)


@pytest.mark.skipif(HAS_TRT, reason="TensorRT is installed here")
def test_without_tensorrt_the_backend_names_how_to_get_it(tmp_path):
    assert BACKEND.available() is False
    plan = tmp_path / "m.plan"
    plan.write_bytes(b"x")
    with pytest.raises(TrtbenchError) as err:
        BACKEND.load(ModelSource(path=plan, kind="plan", name="m"), LoadOptions(device="cuda"))
    text = str(err.value)
    assert "python3-libnvinfer" in text and "pip install tensorrt" in text and "trtexec" in text


def test_cuda_layer_without_packages_says_what_to_install():
    from trtbench.backends.tensorrt import cuda
    if cuda.available():
        pytest.skip(f"{cuda.available()} is installed here")
    with pytest.raises(TrtbenchError) as err:
        cuda.load_cuda()
    assert "cuda-python" in str(err.value) and "pycuda" in str(err.value)


def _run_engine(tmp_path: Path, wanted) -> None:
    trt = pytest.importorskip("tensorrt")
    if not wanted(int(trt.__version__.split(".")[0])):
        pytest.skip(f"TensorRT {trt.__version__} is not the version this test covers")
    from trtbench.backends.tensorrt.build import build_with_api
    from trtbench.backends.tensorrt.engine import BuildRequest
    from trtbench.device.targets import get_target
    from trtbench.models.inputs import read_model_inputs

    onnx = make_onnx(tmp_path / "m.onnx", relu_only=False)
    req = BuildRequest(onnx=onnx, engine=tmp_path / "m.plan", target=get_target("h100"), precision="fp32",
                       batch_range=(1, 16, 64), workspace_mib=256, inputs=read_model_inputs(onnx))
    build_with_api(req)
    session = BACKEND.load(ModelSource(path=req.engine, kind="plan", name="m"), LoadOptions(device="cuda"))
    try:
        session.set_batch(16)
        times = session.run_timed(5)
        assert len(times) == 5 and all(t > 0 for t in times)
        result = session.profile(5)
        cats = {layer.category for layer in result.layers}
        assert "conv" in cats and "transfer" in cats
        with pytest.raises(TrtbenchError, match="batch 128"):
            session.set_batch(128)  # outside the optimization profile
        assert session.info()["backend_version"] == trt.__version__
    finally:
        session.close()


@pytest.mark.gpu
@pytest.mark.skipif(not cuda_available(), reason="needs a CUDA GPU")
def test_engine_round_trip_tensorrt_8(tmp_path):
    _run_engine(tmp_path, lambda major: major == 8)


@pytest.mark.gpu
@pytest.mark.skipif(not cuda_available(), reason="needs a CUDA GPU")
def test_engine_round_trip_tensorrt_10_or_11(tmp_path):
    _run_engine(tmp_path, lambda major: major >= 10)


# ---- against the stand-ins (no TensorRT, no GPU) ------------------------------------------------

BINDINGS = conformance.nearest_api((8, 2))  # binding API, execute_async_v2, deferred profiler reports
TENSORS = conformance.api_versions()[-1]  # the newest: tensor API, execute_async_v3
NEWEST_10 = conformance.nearest_api((10, 16))
BOTH = [BINDINGS, TENSORS]


def _fakes(monkeypatch, version):
    cuda = FakeCuda()
    return install(monkeypatch, conformance.api(version), cuda), cuda


def _plan(tmp_path, trt, tensors, version=None, name="m.plan"):
    path = tmp_path / name
    path.write_bytes(PlanSpec(version or trt.__version__, tensors).to_bytes())
    return path


def _load(path, **options):
    return BACKEND.load(ModelSource(path=path, kind="plan", name="m"), LoadOptions(device="cuda", **options))


def _image(dims=(-1, 3, 8, 8), profile=((1, 3, 8, 8), (4, 3, 8, 8), (8, 3, 8, 8)), **kw):
    shapes = [list(p) for p in profile] if -1 in dims else None
    return [TensorSpec("x", "input", list(dims), profile=shapes, **kw),
            TensorSpec("y", "output", [dims[0], 10])]


@pytest.mark.parametrize("version", BOTH)
def test_events_once_per_session_and_close_releases_in_order(version, tmp_path, monkeypatch):
    trt, cuda = _fakes(monkeypatch, version)
    session = _load(_plan(tmp_path, trt, _image()))
    session.set_batch(4)
    assert session.run_timed(3) == [pytest.approx(0.25)] * 3  # one fake-clock tick between the events
    result = session.profile(2)
    session.set_batch(8)
    session.run_timed(2)
    assert cuda.count("event") == 3  # created once, not per call
    assert {layer.name: layer.ms for layer in result.layers}["conv1 + relu1"] == pytest.approx(0.1)
    trt._state.deleted.clear()
    start = len(cuda.calls)
    session.close()
    closing = [name if name != "del" else arg for name, arg in cuda.calls[start:]]
    assert cuda.leaks() == [] and cuda.count("destroy_event") == 3 and cuda.count("destroy_stream") == 1
    last_free = max(i for i, n in enumerate(closing) if n in ("free", "free_host"))
    assert last_free < closing.index("destroy_event") < closing.index("destroy_stream")
    trt_order = [closing.index(n) for n in ("destroy_stream", "IExecutionContext", "ICudaEngine", "Runtime")]
    assert trt_order == sorted(trt_order)
    calls = len(cuda.calls)
    session.close()
    assert len(cuda.calls) == calls
    with pytest.raises(TrtbenchError, match="closed"):
        session.set_batch(4)


def test_a_failure_inside_the_constructor_releases_what_was_made(tmp_path, monkeypatch):
    trt, cuda = _fakes(monkeypatch, TENSORS)
    plan = _plan(tmp_path, trt, _image())
    cuda.fail_at = {"event": 3}
    trt._state.deleted.clear()
    with pytest.raises(RuntimeError, match="cudaErrorMemoryAllocation"):
        _load(plan)
    assert cuda.leaks() == [] and cuda.count("destroy_event") == 2 and cuda.count("destroy_stream") == 1
    assert [n for n in trt._state.deleted if n in ("IExecutionContext", "ICudaEngine", "Runtime")] == \
        ["IExecutionContext", "ICudaEngine", "Runtime"]
    cuda.fail_at = {}
    trt._state.fail_context = True
    with pytest.raises(TrtbenchError, match="execution context.*out of memory"):
        _load(plan)
    assert cuda.leaks() == []


@pytest.mark.parametrize("version", BOTH)
def test_an_engine_from_another_release_says_tensorrts_reason(version, tmp_path, monkeypatch):
    trt, cuda = _fakes(monkeypatch, version)
    plan = _plan(tmp_path, trt, _image(), version="7.2.3")
    with pytest.raises(TrtbenchError) as err:
        _load(plan)
    text = str(err.value)
    assert f"expecting library version {version} got 7.2.3" in text and "rebuild it on this device" in text
    assert "\n" not in err.value.message and cuda.leaks() == []


@pytest.mark.parametrize("version", BOTH)
def test_any_number_of_inputs_and_open_dims_from_the_profile(version, tmp_path, monkeypatch):
    trt, cuda = _fakes(monkeypatch, version)
    tensors = [TensorSpec("image", "input", [-1, 3, -1, -1],
                          profile=[[1, 3, 16, 16], [4, 3, 32, 48], [8, 3, 64, 64]]),
               TensorSpec("scale", "input", [-1, 1]),
               TensorSpec("boxes", "output", [-1, 100, 4]), TensorSpec("scores", "output", [-1, 100])]
    tensors[1].profile = [[1, 1], [4, 1], [8, 1]]
    session = _load(_plan(tmp_path, trt, tensors), data={"scale": np.array([2.0], np.float32)})
    try:
        session.set_batch(2)
        host = session.buffers.host
        assert host["image"].shape == (2, 3, 32, 48) and host["scale"].tolist() == [[2.0], [2.0]]
        assert host["boxes"].shape == (2, 100, 4) and host["scores"].shape == (2, 100)
        assert 0 <= host["image"].min() and host["image"].max() < 1
        session.run_timed(1)  # the stand-in checks every bound buffer's size
        with pytest.raises(TrtbenchError, match="batch 128.*outside its optimization profile"):
            session.set_batch(128)
    finally:
        session.close()
    with pytest.raises(TrtbenchError, match="no input called 'nope'"):
        _load(_plan(tmp_path, trt, tensors), data={"nope": np.zeros(1)})
    assert cuda.leaks() == []


@pytest.mark.parametrize("version", BOTH)
def test_a_fixed_batch_engine_runs_that_batch_only(version, tmp_path, monkeypatch):
    trt, _ = _fakes(monkeypatch, version)
    session = _load(_plan(tmp_path, trt, _image(dims=(4, 3, 8, 8))))
    try:
        session.set_batch(4)
        session.run_timed(1)
        with pytest.raises(TrtbenchError, match="fixed batch of 4, not 2"):
            session.set_batch(2)
    finally:
        session.close()


def test_storage_types_beyond_numpy(tmp_path, monkeypatch):
    trt, cuda = _fakes(monkeypatch, NEWEST_10)
    kinds = [("bf", "BF16", [4]), ("f8", "FP8", [4]), ("i4", "INT4", [3, 5]), ("i64", "INT64", [2]),
             ("flag", "BOOL", [2]), ("scale", "E8M0", [2])]
    tensors = [TensorSpec(name, "input", [-1] + dims, dtype, profile=[[1] + dims, [2] + dims, [4] + dims])
               for name, dtype, dims in kinds]
    tensors += [TensorSpec("out4", "output", [-1, 7], "FP4"), TensorSpec("half", "output", [-1, 2], "HALF")]
    session = _load(_plan(tmp_path, trt, tensors))
    try:
        session.set_batch(3)
        host = session.buffers.host
        assert host["bf"].dtype == np.uint16 and host["bf"].shape == (3, 4)
        as_float = (host["bf"].astype(np.uint32) << 16).view(np.float32)
        assert (0 <= as_float).all() and (as_float < 1).all()
        assert host["f8"].dtype == np.uint8 and host["f8"].max() < 0x7F  # no FP8 E4M3 NaN
        assert host["i4"].shape == (23,)  # 45 four-bit values in 23 bytes
        assert host["i64"].dtype == np.int64 and 0 <= host["i64"].min() and host["i64"].max() < 16
        assert host["flag"].dtype == np.bool_ and host["scale"].max() < 0xFF
        assert host["out4"].shape == (11,) and host["half"].dtype == np.float16
        session.run_timed(1)
    finally:
        session.close()
    trt.DataType.COMPLEX = trt.DataType("COMPLEX", 99)  # a type this trtbench does not know
    with pytest.raises(TrtbenchError, match=r"tensor 'z' has TensorRT type COMPLEX"):
        _load(_plan(tmp_path, trt, [TensorSpec("z", "input", [1, 2], "COMPLEX")] + _image()[1:]))
    assert cuda.leaks() == []


@pytest.mark.parametrize("version", BOTH)
def test_data_dependent_output_shapes(version, tmp_path, monkeypatch):
    trt, cuda = _fakes(monkeypatch, version)
    tensors = _image()[:1] + [TensorSpec("indices", "output", [2, -1], "INT32", max_bytes=4096)]
    session = _load(_plan(tmp_path, trt, tensors))
    try:
        if version == BINDINGS:
            with pytest.raises(TrtbenchError, match="'indices'.*data-dependent.*TensorRT 8.5 or later"):
                session.set_batch(4)
        else:
            session.set_batch(4)
            assert session.buffers.host["indices"].nbytes == 4096  # TensorRT's upper bound
            session.run_timed(1)
    finally:
        session.close()
    assert cuda.leaks() == []


def test_build_errors_say_tensorrts_reason_and_release_the_builder(tmp_path, monkeypatch):
    from trtbench.backends.tensorrt.build import build_with_api
    from trtbench.backends.tensorrt.engine import BuildRequest
    from trtbench.device.targets import get_target

    trt, _ = _fakes(monkeypatch, NEWEST_10)
    onnx = make_onnx(tmp_path / "m.onnx")

    def build():
        return build_with_api(BuildRequest(onnx=onnx, engine=tmp_path / "m.plan", target=get_target("h100"),
                                           precision="fp32", batch_range=(1, 8, 16), workspace_mib=64))

    trt._state.fail_parse = "Unsupported ONNX opset"
    with pytest.raises(TrtbenchError, match="ONNX parser rejects.*Unsupported ONNX opset"):
        build()
    trt._state.fail_parse = ""
    trt._state.fail_build = "2: [builder.cpp::build] Error Code 2: Out of memory\n(workspace)"
    trt._state.deleted.clear()
    with pytest.raises(TrtbenchError) as err:
        build()
    assert "could not build" in str(err.value) and "Out of memory (workspace)" in str(err.value)
    builder_objects = ["OnnxParser", "INetworkDefinition", "IBuilderConfig", "Builder"]
    assert [n for n in trt._state.deleted if n in builder_objects] == builder_objects
    trt._state.fail_build = ""
    trt._state.fail_deserialize = "1: [runtime.cpp::deserialize] Error Code 1: Serialization (corrupt)"
    with pytest.raises(TrtbenchError, match="cannot load it back.*Serialization \\(corrupt\\)"):
        build()


def test_the_logger_keeps_the_last_errors_on_one_line(monkeypatch):
    from trtbench.backends.tensorrt.logger import keeping_logger

    trt = install(monkeypatch, conformance.api(conformance.nearest_api((8, 0))))  # Severity lives in Logger
    log = keeping_logger(trt)
    assert log.reason() == "no error logged"
    log.log(trt.Logger.WARNING, "a warning")
    assert "last warning: a warning" in log.reason()
    for i in range(8):
        log.log(trt.Logger.ERROR, f"error\n{i}")
    log.log(trt.Logger.INFO, "chatter")
    assert log.reason() == "error 5 | error 6 | error 7" and len(log.errors) == 5


def test_storage_sizes():
    from trtbench.backends.tensorrt.tensors import storage_for

    class DataType:
        def __init__(self, name):
            self.name = name

        def __str__(self):
            return f"DataType.{self.name}"

    assert storage_for(DataType("INT4"), "x", "e").nbytes((3, 5)) == 8
    assert storage_for(DataType("FP4"), "x", "e").host_shape((1, 3)) == (2,)
    assert storage_for(DataType("BF16"), "x", "e").host_shape((2, 3)) == (2, 3)
    with pytest.raises(TrtbenchError, match="'x' has TensorRT type INT2"):
        storage_for(DataType("INT2"), "x", "engine.plan")
