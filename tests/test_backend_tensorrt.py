"""The TensorRT backend: layer-time aggregation and categories (no TensorRT needed), the messages
without TensorRT or a CUDA package, and a real build-load-time-profile run on the 8.x path and on
the 10.x/11.x path where TensorRT and a GPU exist."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from conftest import cuda_available
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
    from trtbench.models.inputs import read_model_input

    onnx = make_onnx(tmp_path / "m.onnx", relu_only=False)
    req = BuildRequest(onnx=onnx, engine=tmp_path / "m.plan", target=get_target("h100"), precision="fp32",
                       batch_range=(1, 16, 64), workspace_mib=256, input=read_model_input(onnx))
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
