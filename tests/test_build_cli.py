"""`trtbench build` through the real CLI: the host check, --emit-script, --force without TensorRT."""
from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

import pytest
from conftest import SHARED
from test_trt_build import make_onnx

from trtbench.device.host import detect_host, host_matches
from trtbench.device.targets import get_target


def _here_is(target: str) -> bool:
    return host_matches(detect_host(), get_target(target))[0]


def test_wrong_host_stops_with_one_line(cli, tmp_path):
    if _here_is("tx1"):
        pytest.skip("this host is a TX1")
    make_onnx(tmp_path / "m.onnx")
    res = cli("build", "m.onnx", "--target", "tx1")
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("trtbench: error:")
    assert "GPU and TensorRT release" in res.stderr and "--emit-script" in res.stderr
    assert not list(tmp_path.glob("*.plan"))


def test_emit_script_for_tx1_and_agx_orin(cli, tmp_path):
    make_onnx(tmp_path / "m.onnx")
    res = cli("build", "m.onnx", "--target", "tx1", "--emit-script", "tx1.sh", "--json", "-")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["tensorrt"] == "8.2.1"
    script = (tmp_path / "tx1.sh").read_text()
    build = next(line for line in script.splitlines() if "--saveEngine" in line)
    assert "--workspace=1024" in build and "--fp16" in build and "--explicitBatch" not in build
    assert "bash tx1.sh" in script
    res = cli("build", "m.onnx", "--target", "agx-orin-64", "--emit-script", "orin.sh", "--batch-range", "1:256:1024")
    assert res.returncode == 0, res.stderr
    build = next(line for line in (tmp_path / "orin.sh").read_text().splitlines() if "--saveEngine" in line)
    assert "--memPoolSize=workspace:2048 " in build and "--explicitBatch" not in build
    assert "--maxShapes=tiles:1024x1x28x28" in build
    assert subprocess.run(["bash", "-n", str(tmp_path / "orin.sh")]).returncode == 0


def _image_model(path: Path, batch) -> Path:
    """A 3x224x224 classifier input named as torchvision exports name it ("input.1")."""
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [batch, 3, 224, 224])
    y = helper.make_tensor_value_info("out", TensorProto.FLOAT, [batch, 3, 1, 1])
    node = helper.make_node("GlobalAveragePool", ["input.1"], ["out"], name="gap")
    model = helper.make_model(helper.make_graph([node], "g", [x], [y]), opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("target, trt", [("tx1", "8.2.1"), ("agx-orin-64", "10.16.2"), ("thor", "11.4.1")])
def test_emit_script_shapes_come_from_the_model(cli, tmp_path, target, trt):
    """A static 3x224x224 model gets no shape flags (trtexec refuses them); a dynamic-batch one
    gets them with its own input name and dims, for the profile batches as well."""
    _image_model(tmp_path / "static.onnx", 1)
    res = cli("build", "static.onnx", "--target", target, "--emit-script", "s.sh", "--trt-version", trt, "--json", "-")
    assert res.returncode == 0, res.stderr
    text = (tmp_path / "s.sh").read_text()
    assert "Shapes=" not in text and "--shapes=" not in text
    assert "--batch 1 " in text  # the import line: the model's own batch
    _image_model(tmp_path / "dyn.onnx", "batch")
    res = cli("build", "dyn.onnx", "--target", target, "--emit-script", "d.sh", "--batch-range", "1:8:32",
              "--trt-version", trt, "--profile-batch", "4", "--profile-batch", "8")
    assert res.returncode == 0, res.stderr
    text = (tmp_path / "d.sh").read_text()
    for flag in ("--minShapes=input.1:1x3x224x224", "--optShapes=input.1:8x3x224x224",
                 "--maxShapes=input.1:32x3x224x224", "--shapes=input.1:4x3x224x224", "--shapes=input.1:8x3x224x224"):
        assert flag in text
    assert "1x28x28" not in text
    assert subprocess.run(["bash", "-n", str(tmp_path / "d.sh")]).returncode == 0


def test_emit_script_for_another_tensorrt_and_bad_options(cli, tmp_path):
    make_onnx(tmp_path / "m.onnx")
    res = cli("build", "m.onnx", "--target", "tx1", "--emit-script", "s.sh", "--trt-version", "8.0.1")
    assert res.returncode == 0, res.stderr
    build = next(line for line in (tmp_path / "s.sh").read_text().splitlines() if "--saveEngine" in line)
    assert "--exportLayerInfo" not in build  # 8.0 has no layer info
    bad = cli("build", "m.onnx", "--target", "gtx960", "--precision", "fp16", "--emit-script", "x.sh")
    assert bad.returncode == 2 and "no fast fp16" in bad.stderr and not (tmp_path / "x.sh").exists()
    make_onnx(tmp_path / "fixed.onnx", batch=64)
    bad = cli("build", "fixed.onnx", "--target", "tx1", "--emit-script", "y.sh", "--batch-range", "1:1024:4096")
    assert bad.returncode == 2 and "fixed batch of 64" in bad.stderr
    bad = cli("build", "missing.onnx", "--target", "tx1", "--emit-script", "z.sh")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


@pytest.mark.skipif(importlib.util.find_spec("tensorrt") is not None, reason="TensorRT is installed here")
def test_force_without_tensorrt_names_how_to_get_it(cli, tmp_path):
    make_onnx(tmp_path / "m.onnx")
    res = cli("build", "m.onnx", "--target", "tx1", "--force")
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    for words in ("python3-libnvinfer", "pip install tensorrt", "--driver trtexec", "--emit-script"):
        assert words in res.stderr


def _stand_in_trtexec(tmp_path, layer_info, log):
    """A test stand-in for trtexec 8.2.1: prints a real build log, writes the engine and copies a
    real --exportLayerInfo file. (Tests only: product code never fakes TensorRT.)"""
    stub = tmp_path / "trtexec"
    stub.write_text(f"""#!/usr/bin/env bash
echo "&&&& RUNNING TensorRT.trtexec [TensorRT v8201] # trtexec $*"
[ "$1" = --help ] && exit 0
for a in "$@"; do
  case "$a" in
    --saveEngine=*) printf 'plan' > "${{a#--saveEngine=}}" ;;
    --exportLayerInfo=*) cp {layer_info} "${{a#--exportLayerInfo=}}" ;;
  esac
done
cat {log}
echo "$*" > {tmp_path}/argv.txt
""")
    stub.chmod(0o755)
    return stub


def test_force_with_the_trtexec_driver_writes_engine_metadata_and_log(cli, tmp_path):
    from conftest import TRTEXEC_FIXTURES
    layer_info = TRTEXEC_FIXTURES / "NVIDIA__trt-samples-for-hackathon-cn__trt10.16-H100-model-trained-exportLayerInfo.json"
    log = TRTEXEC_FIXTURES / "unknown-repo__jetson-nano__trt8.2.1-Nano-culane18-resnet18-build-and-run.log"
    if not (layer_info.is_file() and log.is_file()):
        pytest.skip("trtexec fixtures not found")
    if _here_is("nano"):
        pytest.skip("this host is a Nano")
    make_onnx(tmp_path / "m.onnx")
    stub = _stand_in_trtexec(tmp_path, layer_info, log)
    res = cli("build", "m.onnx", "--target", "nano", "--force", "--driver", "trtexec", "--trtexec", str(stub),
              "--batch-range", "1:64:256", "--timing-cache", "tc.bin")
    assert res.returncode == 0, res.stderr
    assert "warning: building for nano on another host" in res.stderr
    argv = (tmp_path / "argv.txt").read_text()
    assert "--workspace=1024" in argv and "--fp16" in argv and "--maxShapes=tiles:256x1x28x28" in argv
    assert "--timingCacheFile=tc.bin" in argv
    engine = tmp_path / "m.nano.fp16.plan"
    meta = json.loads((tmp_path / "m.nano.fp16.plan.json").read_text())
    assert engine.read_bytes() == b"plan" and (tmp_path / "m.nano.fp16.plan.build.log").is_file()
    assert meta["target"]["name"] == "nano" and meta["host_is_target"] is False and meta["driver"] == "trtexec"
    assert meta["versions"]["tensorrt"] == "8.2.1" and meta["batch_range"] == [1, 64, 256]
    assert meta["layer_info_detailed"] is True and meta["layers"] and "LayerType" in meta["layers"][0]


def test_emit_script_for_a_model_with_label_post_processing(cli, tmp_path):
    """The real SqueezeNet ends in ZipMap (ai.onnx.ml), which TensorRT cannot parse: the script
    builds a copy without it, written beside the script, at the model's own input size."""
    import onnx

    squeezenet = SHARED / "fixtures" / "models" / "squeezenet_opset7_winml.onnx"
    if not squeezenet.is_file():
        pytest.skip("the shared models are not here")
    res = cli("build", squeezenet, "--target", "tx1", "--emit-script", "sq.sh", "--batch-range", "1:8:32")
    assert res.returncode == 0, res.stderr
    assert "ZipMap" in res.stderr and "TensorRT cannot parse it" in res.stderr
    copy = tmp_path / "squeezenet_opset7_winml-trt.onnx"
    assert not [n for n in onnx.load(str(copy)).graph.node if n.domain == "ai.onnx.ml"]
    script = (tmp_path / "sq.sh").read_text()
    assert "MODEL=squeezenet_opset7_winml-trt.onnx" in script
    assert "--optShapes=data:8x3x227x227" in script and "--shapes=data:8x3x227x227" in script


def test_an_image_model_gets_an_image_batch_range(cli, tmp_path):
    """The targets' 1:1024:4096 is for 28x28 tiles; a dynamic 3x224x224 model is built for
    1:1:32 unless told, and says so."""
    _image_model(tmp_path / "dyn.onnx", "batch")
    res = cli("build", "dyn.onnx", "--target", "tx1", "--emit-script", "d.sh")
    assert res.returncode == 0, res.stderr
    assert "batch range 1:1:32" in res.stderr
    text = (tmp_path / "d.sh").read_text()
    assert "--maxShapes=input.1:32x3x224x224" in text and "--shapes=input.1:1x3x224x224" in text
