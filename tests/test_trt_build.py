"""Engine building: the version-dependent API choices (no TensorRT needed), precision and DLA
checks, the model's input, metadata, the device script; and, where TensorRT and a GPU exist, a
real build on the 8.x path and on the 10.x/11.x path."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import cuda_available

from tests import tensorrt_conformance as conformance
from trtbench.backends.tensorrt.engine import (
    BuildRequest,
    build_metadata,
    check_batch_range,
    check_dla,
    check_precision,
    metadata_path,
    read_metadata,
    write_metadata,
)
from trtbench.backends.tensorrt.versions import build_choice, features_for
from trtbench.device.host import HostInfo
from trtbench.device.targets import get_target
from trtbench.errors import TrtbenchError
from trtbench.models.inputs import read_model_inputs


def make_onnx(path: Path, batch="N", relu_only=True) -> Path:
    """A tiny single-input model with the tiles' shape (a Relu, or Conv + Relu)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("tiles", TensorProto.FLOAT, [batch, 1, 28, 28])
    if relu_only:
        nodes, out_shape, inits = [helper.make_node("Relu", ["tiles"], ["y"])], [batch, 1, 28, 28], []
    else:
        w = numpy_helper.from_array(np.ones((4, 1, 3, 3), np.float32) / 9, "w")
        nodes = [helper.make_node("Conv", ["tiles", "w"], ["c"], name="conv1"),
                 helper.make_node("Relu", ["c"], ["y"], name="relu1")]
        out_shape, inits = [batch, 4, 26, 26], [w]
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y], initializer=inits),
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7  # loadable by TensorRT 8.x parsers
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("version, explicit, pool, verbosity, tensor_api, flags, inspector, aborts", [
    ((8, 0, 1), True, False, "VERBOSE", False, True, False, True),
    ((8, 2, 1), True, False, "DETAILED", False, True, True, True),
    ((8, 4, 1), True, True, "DETAILED", False, True, True, False),
    ((8, 5, 2), True, True, "DETAILED", True, True, True, False),
    ((8, 6, 1), True, True, "DETAILED", True, True, True, False),
    ((10, 3, 0), False, True, "DETAILED", True, True, True, False),
    ((10, 16, 2), False, True, "DETAILED", True, True, True, False),
    ((11, 4, 1), False, True, "DETAILED", True, False, True, False),
])
def test_features_per_release(version, explicit, pool, verbosity, tensor_api, flags, inspector, aborts):
    f = features_for(version)
    assert f.explicit_batch_flag is explicit
    assert f.memory_pool_api is pool
    assert f.verbosity == verbosity
    assert f.tensor_api is tensor_api and f.execute == ("v3" if tensor_api else "v2")
    assert f.precision_flags is flags and f.platform_queries is flags
    assert f.engine_inspector is inspector and f.async_profile_report is inspector
    assert f.profiler_exception_aborts is aborts
    assert f.user_memory_context == ("strategy" if version[0] >= 10 else "without_device_memory")


def precision_flags(features, precision):
    """(flags set, flags cleared) for an explicitly asked precision."""
    choice = build_choice(features, precision)
    return list(choice.set_flags), list(choice.clear_flags)


def test_precision_flags():
    assert precision_flags(features_for((8, 2, 1)), "fp32") == ([], ["TF32"])
    assert precision_flags(features_for((10, 16)), "fp16") == (["FP16"], [])
    assert precision_flags(features_for((8, 6)), "int8")[0] == ["INT8", "FP16"]
    with pytest.raises(TrtbenchError, match="strongly typed"):
        precision_flags(features_for((11, 4, 1)), "fp16")
    assert features_for((11, 2)).dla is False and features_for((11, 4, 1)).dla is True


def test_precision_and_dla_checks_follow_the_profiles():
    check_precision(get_target("tx1"), "fp16")
    with pytest.raises(TrtbenchError, match="no fast int8"):
        check_precision(get_target("tx1"), "int8")
    with pytest.raises(TrtbenchError, match="no fast fp16"):
        check_precision(get_target("gtx960"), "fp16")
    with pytest.raises(TrtbenchError, match="no fast fp16"):
        check_precision(get_target("gtx1080"), "fp16")  # 1/64 rate
    check_dla(get_target("agx-orin-64"), 1)
    with pytest.raises(TrtbenchError, match="no DLA"):
        check_dla(get_target("tx1"), 0)
    with pytest.raises(TrtbenchError, match="0..1"):
        check_dla(get_target("xavier-nx"), 2)


def test_model_input_and_batch_range(tmp_path):
    dynamic = read_model_inputs(make_onnx(tmp_path / "d.onnx"))[0]
    assert dynamic.name == "tiles" and dynamic.fixed_batch is None and dynamic.dims[1:] == [1, 28, 28]
    check_batch_range([dynamic], (1, 1024, 4096), tmp_path / "d.onnx")
    fixed = read_model_inputs(make_onnx(tmp_path / "f.onnx", batch=64))[0]
    assert fixed.fixed_batch == 64
    check_batch_range([fixed], (64, 64, 64), tmp_path / "f.onnx")
    with pytest.raises(TrtbenchError, match="fixed batch of 64"):
        check_batch_range([fixed], (1, 1024, 4096), tmp_path / "f.onnx")
    (tmp_path / "junk.onnx").write_text("not onnx")
    with pytest.raises(TrtbenchError, match="not a readable ONNX"):
        read_model_inputs(tmp_path / "junk.onnx")


def test_metadata_round_trip(tmp_path):
    onnx = make_onnx(tmp_path / "m.onnx")
    engine = tmp_path / "m.tx1.fp16.plan"
    engine.write_bytes(b"not really a plan")
    req = BuildRequest(onnx=onnx, engine=engine, target=get_target("tx1"), precision="fp16",
                       batch_range=(1, 1024, 4096), workspace_mib=1024, inputs=read_model_inputs(onnx))
    host = HostInfo(machine="x86_64", gpu_name="NVIDIA GeForce GTX 960", compute_capability="5.2")
    meta = build_metadata(req, host, (False, "not a Jetson"), driver="api", tensorrt_version="8.6.1",
                          build_seconds=12.5, layers=[{"Name": "conv1", "LayerType": "CaskConvolution"}],
                          detailed=True, notes=[])
    path = write_metadata(engine, meta)
    assert path == metadata_path(engine) == tmp_path / "m.tx1.fp16.plan.json"
    back = read_metadata(engine)
    assert back["target"]["name"] == "tx1" and back["host_is_target"] is False
    assert back["compute_capability"] == "5.2" and back["batch_range"] == [1, 1024, 4096]
    assert back["versions"]["tensorrt"] == "8.6.1" and back["layers"][0]["Name"] == "conv1"
    assert len(back["engine_sha256"]) == 64 and back["model"]["input"] == "tiles"


def _script(tmp_path, target, **kw):
    from trtbench.backends.trtexec.script import emit_script
    from trtbench.device.tensorrt_install import TrtVersion

    t = get_target(target)
    version = TrtVersion.parse(kw.pop("version", t.trt_default))
    shapes = kw.pop("shapes", {"tiles": tuple((b, 1, 28, 28) for b in t.batch_range)})
    text = emit_script(t, version, tmp_path / "m.onnx", shapes=shapes, precision=kw.pop("precision", "fp16"),
                       batch_range=t.batch_range, workspace_mib=t.default_workspace_mib, **kw)
    path = tmp_path / f"{target}.sh"
    path.write_text(text)
    assert subprocess.run(["bash", "-n", str(path)]).returncode == 0
    build = next(line for line in text.splitlines() if "--saveEngine" in line)
    return text, build


def test_tx1_script_fits_tensorrt_82(tmp_path):
    text, build = _script(tmp_path, "tx1")
    assert "--explicitBatch" not in build  # a no-op from 8.2 on
    for flag in ("--workspace=1024", "--fp16", "--buildOnly", "--minShapes=tiles:1x1x28x28",
                 "--optShapes=tiles:1024x1x28x28", "--maxShapes=tiles:4096x1x28x28", "--profilingVerbosity=detailed"):
        assert flag in build
    assert "--memPoolSize" not in build
    assert "Jetson[ _-]?TX1" in text and '!= "8.2"' in text  # device and version checks
    assert "--exportProfile=" in text and "--exportLayerInfo=" in text and "--exportTimes=" in text
    assert "trtbench import-trtexec --profile" in text and "--target tx1" in text


def test_agx_orin_script_fits_tensorrt_10(tmp_path):
    text, build = _script(tmp_path, "agx-orin-64", profile_batches=[256, 1024])
    assert "--memPoolSize=workspace:2048 " in build and "--skipInference" in build and "--fp16" in build
    for gone in ("--explicitBatch", "--workspace=", "--buildOnly"):
        assert gone not in build
    assert text.count("--loadEngine=") == 2 and '!= "10.16"' in text


def test_desktop_script_checks_the_gpu_name(tmp_path):
    text, build = _script(tmp_path, "gtx960", precision="fp32")
    assert "nvidia-smi --query-gpu=name" in text and "GTX 960$" in text
    assert "--noTF32" in build and "--fp16" not in build


def test_script_refuses_the_wrong_device(tmp_path):
    """Run the TX1 script here (not a TX1): it must stop at the device check, before any trtexec."""
    make_onnx(tmp_path / "m.onnx")
    _script(tmp_path, "tx1")
    res = subprocess.run(["bash", str(tmp_path / "tx1.sh")], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "not the NVIDIA Jetson TX1" in res.stderr


needs_trt = pytest.mark.skipif(not cuda_available(), reason="needs a CUDA GPU")


def _real_build(tmp_path, major_check):
    trt = pytest.importorskip("tensorrt")
    if not major_check(int(trt.__version__.split(".")[0])):
        pytest.skip(f"TensorRT {trt.__version__} is not the version this test covers")
    from trtbench.backends.tensorrt.build import build_with_api

    onnx = make_onnx(tmp_path / "m.onnx", relu_only=False)
    req = BuildRequest(onnx=onnx, engine=tmp_path / "m.plan", target=get_target("h100"), precision="fp32",
                       batch_range=(1, 16, 64), workspace_mib=256, timing_cache=tmp_path / "tc",
                       inputs=read_model_inputs(onnx))
    version, seconds, layers, detailed, notes = build_with_api(req)
    assert req.engine.stat().st_size > 0 and (tmp_path / "tc").is_file() and seconds > 0
    assert layers and detailed  # DETAILED verbosity gives layer types
    return req


@pytest.mark.gpu
@needs_trt
def test_api_build_tensorrt_8(tmp_path):
    _real_build(tmp_path, lambda major: major == 8)


@pytest.mark.gpu
@needs_trt
def test_api_build_tensorrt_10_or_11(tmp_path):
    _real_build(tmp_path, lambda major: major >= 10)


def test_script_runs_end_to_end_with_a_stand_in_trtexec(tmp_path):
    """TRTBENCH_FORCE=1 past the device check; a test-only trtexec stand-in (8.2.1) logs its argv."""
    make_onnx(tmp_path / "m.onnx")
    _script(tmp_path, "tx1")
    stub = tmp_path / "fake-trtexec"
    stub.write_text(f"#!/usr/bin/env bash\necho '&&&& RUNNING TensorRT.trtexec [TensorRT v8201] # trtexec'\n"
                    f"echo \"$*\" >> {tmp_path}/calls.txt\n")
    stub.chmod(0o755)
    env = {"PATH": "/usr/bin:/bin", "TRTEXEC": str(stub), "TRTBENCH_FORCE": "1"}
    res = subprocess.run(["bash", str(tmp_path / "tx1.sh")], capture_output=True, text=True, env=env, timeout=60)
    assert res.returncode == 0, res.stderr
    calls = (tmp_path / "calls.txt").read_text().splitlines()
    assert calls[0] == "--help" and "--saveEngine=m.tx1.fp16.plan" in calls[1] and "--loadEngine=" in calls[2]
    assert (tmp_path / "trtbench-tx1-m" / "build.log").is_file()
    assert (tmp_path / "trtbench-tx1-m" / "b1024" / "run.log").is_file()
    assert "trtbench import-trtexec --profile trtbench-tx1-m/b1024/profile.json" in res.stdout
    stub.write_text(stub.read_text().replace("v8201", "v100300"))  # a TensorRT 10.3 trtexec
    res = subprocess.run(["bash", str(tmp_path / "tx1.sh")], capture_output=True, text=True, env=env, timeout=60)
    assert "trtexec is TensorRT 10.3, this script was written for 8.2" in res.stderr


@pytest.mark.parametrize("version", conformance.api_versions())
def test_features_match_the_real_api_of_each_release(version):
    """Each choice features_for makes is backed by the names the real bindings of that release
    have (tests/data/tensorrt/api, from the wheels and NVIDIA/TensorRT's python/src)."""
    conf = conformance
    f = features_for(tuple(int(x) for x in version.split(".")))
    if f.explicit_batch_flag:
        assert conf.enum_has(version, "NetworkDefinitionCreationFlag", "EXPLICIT_BATCH")
    assert conf.has_attr(version, "IBuilderConfig", "set_memory_pool_limit") == f.memory_pool_api
    if not f.memory_pool_api:
        assert conf.has_attr(version, "IBuilderConfig", "max_workspace_size")
    assert conf.enum_has(version, "ProfilingVerbosity", f.verbosity)
    assert conf.enum_has(version, "BuilderFlag", "FP16") == f.precision_flags
    assert conf.has_attr(version, "Builder", "platform_has_fast_fp16") == f.platform_queries
    assert conf.has_attr(version, "ICudaEngine", "create_engine_inspector") == f.engine_inspector
    assert conf.has_attr(version, "IExecutionContext", "report_to_profiler") == f.async_profile_report
    assert conf.has_attr(version, "IExecutionContext", "set_input_shape") == f.tensor_api
    assert conf.has_attr(version, "IExecutionContext", f"execute_async_{f.execute}")
    assert conf.has_attr(version, "IBuilderConfig", "builder_optimization_level") == f.optimization_level
    assert conf.enum_has(version, "BuilderFlag", "TF32")  # fp32 clears it on every release
    if f.dla:
        assert conf.enum_has(version, "DeviceType", "DLA") and conf.has_attr(version, "IBuilderConfig", "DLA_core")
        assert conf.enum_has(version, "BuilderFlag", "GPU_FALLBACK")
