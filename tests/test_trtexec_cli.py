"""trtexec versions and command lines per TensorRT release."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.conftest import TRTEXEC_FIXTURES
from trtbench.backends.trtexec.flags import (
    build_args,
    format_command,
    profile_args,
    shapes_at,
    split_shape,
    version_notes,
)
from trtbench.device.tensorrt_install import TrtVersion, detect_version, find_trtexec
from trtbench.errors import TrtbenchError


@pytest.mark.parametrize("text, expected", [
    ("8.2.1", (8, 2, 1)),
    ("8001", (8, 0, 1)),
    ("8003", (8, 0, 3)),
    ("v8201", (8, 2, 1)),
    ("v8502", (8, 5, 2)),
    ("v101601", (10, 16, 1)),
    ("TensorRT version: 10.16.1", (10, 16, 1)),
    ("TensorRT version: 8001", (8, 0, 1)),
    ("&&&& RUNNING TensorRT.trtexec [TensorRT v101601] [b11] # trtexec --help", (10, 16, 1)),
    ("10.3", (10, 3, 0)),
    ("7103", (7, 1, 3)),
])
def test_version_parse(text, expected):
    v = TrtVersion.parse(text)
    assert (v.major, v.minor, v.patch) == expected


def test_version_order_is_numeric_not_textual():
    assert TrtVersion.parse("8.6.1") < TrtVersion.parse("10.0")
    assert TrtVersion.parse("8.10") > TrtVersion.parse("8.9")
    assert str(TrtVersion.parse("v8201")) == "8.2.1"


def test_version_parse_rejects_garbage():
    with pytest.raises(TrtbenchError):
        TrtVersion.parse("latest")


def test_every_fixture_banner_reads_the_same_version_as_its_version_line():
    """The banner code (v8001/v101601) and the 'TensorRT version:' line must agree in each log."""
    checked = 0
    for path in sorted(TRTEXEC_FIXTURES.glob("*.log")):
        text = path.read_text(errors="replace")
        lines = [line for line in text.splitlines() if "TensorRT version:" in line]
        if "&&&& RUNNING" not in text or not lines:
            continue
        banner = next(line for line in text.splitlines() if "&&&& RUNNING" in line)
        assert TrtVersion.parse(banner) == TrtVersion.parse(lines[0]), path.name
        checked += 1
    assert checked >= 6


def _flags(args):
    return {a.split("=", 1)[0] for a in args[1:]}


TILES = {"tiles": ((1, 1, 28, 28), (1024, 1, 28, 28), (4096, 1, 28, 28))}


def test_build_args_8_2_uses_workspace_and_the_models_shapes():
    args = build_args(TrtVersion(8, 2, 1), "m.onnx", "m.plan", shapes=TILES, precision="fp16",
                      layer_info="l.json", timing_cache="tc")
    assert args[0] == "trtexec"
    assert "--workspace=1024" in args  # 8.2's 16 MiB default is too small
    assert "--buildOnly" in args and "--fp16" in args
    assert "--explicitBatch" not in args  # a deprecated no-op from 8.2 on (bug 7)
    assert "--memPoolSize" not in _flags(args)
    assert "--profilingVerbosity=detailed" in args and "--exportLayerInfo=l.json" in args
    assert "--minShapes=tiles:1x1x28x28" in args and "--optShapes=tiles:1024x1x28x28" in args
    assert "--maxShapes=tiles:4096x1x28x28" in args and "--timingCacheFile=tc" in args


def test_build_args_static_model_gets_no_shape_flags():
    """trtexec refuses explicit shapes for a static model, in every version (bug 1)."""
    for version in ("8.0.1", "8.2.1", "8.6.1", "10.3.0", "11.1.0"):
        args = build_args(TrtVersion.parse(version), "m.onnx", "m.plan", shapes={})
        assert not {"--minShapes", "--optShapes", "--maxShapes", "--shapes"} & _flags(args)


def test_build_args_take_every_dynamic_input_by_its_own_name_and_dims():
    """Shapes come from the model: names and dims, several inputs (bug 2)."""
    shapes = {"input.1": ((1, 3, 224, 224), (8, 3, 224, 224), (32, 3, 224, 224)),
              "im_info": ((1, 3), (8, 3), (32, 3))}
    args = build_args(TrtVersion(10, 8, 0), "m.onnx", "m.plan", shapes=shapes)
    assert "--minShapes=input.1:1x3x224x224,im_info:1x3" in args
    assert "--optShapes=input.1:8x3x224x224,im_info:8x3" in args
    assert "--maxShapes=input.1:32x3x224x224,im_info:32x3" in args
    with pytest.raises(TrtbenchError, match="commas"):
        build_args(TrtVersion(10, 8, 0), "m.onnx", "m.plan", shapes={"a,b": ((1,), (1,), (1,))})


def test_build_args_8_0_has_no_layer_info():
    args = build_args(TrtVersion(8, 0, 1), "m.onnx", "m.plan", layer_info="l.json")
    assert "--exportLayerInfo" not in _flags(args) and "--profilingVerbosity" not in _flags(args)
    assert "--explicitBatch" in args


@pytest.mark.parametrize("version", ["8.4.1", "8.5.2", "8.6.1", "10.0.1", "10.3.0", "10.16.1", "11.1.0"])
def test_mem_pool_is_a_bare_number_of_mib(version):
    """A bare number is MiB in 8.4-11.x; 10.0.x applied an M suffix twice (bug 3)."""
    args = build_args(TrtVersion.parse(version), "m.onnx", "m.plan", workspace_mib=2048)
    assert "--memPoolSize=workspace:2048" in args
    assert not {"--workspace", "--explicitBatch"} & _flags(args)
    assert ("--skipInference" in args) == TrtVersion.parse(version).at_least(8, 6)
    assert ("--buildOnly" in args) != ("--skipInference" in args)
    with pytest.raises(TrtbenchError, match="at least 1"):
        build_args(TrtVersion.parse(version), "m.onnx", "m.plan", workspace_mib=-1)


@pytest.mark.parametrize("version", ["10.0.1", "10.3.0", "10.16.1", "11.0.0"])
def test_build_args_10_and_later_avoid_removed_flags(version):
    args = build_args(TrtVersion.parse(version), "m.onnx", "m.plan", workspace_mib=512, dla_core=None)
    removed = {"--workspace", "--buildOnly", "--explicitBatch", "--nvtxMode", "--minTiming", "--heuristic"}
    assert not removed & _flags(args)
    assert "--skipInference" in args


@pytest.mark.parametrize("version", ["8.0.1", "8.2.1", "8.5.2", "8.6.1", "10.0.1", "10.16.1", "11.0.0", "11.4.0"])
def test_fp32_turns_tf32_off_on_every_version(version):
    """Both drivers build the same fp32: the API clears BuilderFlag.TF32, trtexec gets --noTF32 (bug 4)."""
    from trtbench.backends.tensorrt.versions import build_choice, features_for

    v = TrtVersion.parse(version)
    args = build_args(v, "m.onnx", "m.plan", precision="fp32")
    assert "--noTF32" in args
    assert build_choice(features_for((v.major, v.minor)), "fp32").clear_flags == ("TF32",)
    assert "--noTF32" not in build_args(v, "m.onnx", "m.plan", precision="tf32")


def test_build_args_11_refuses_fp16_flag():
    with pytest.raises(TrtbenchError, match="strongly typed"):
        build_args(TrtVersion(11, 0, 0), "m.onnx", "m.plan", precision="fp16")
    assert "--fp16" not in build_args(TrtVersion(10, 16, 1), "m.onnx", "m.plan", precision="fp32")


def test_dla_rules_are_the_version_matrix():
    """DLA: fp16/int8 before 11, none on 11.0-11.3, back on 11.4 (bug 6)."""
    args = build_args(TrtVersion(8, 5, 2), "m.onnx", "m.plan", precision="fp16", dla_core=0)
    assert "--useDLACore=0" in args and "--allowGPUFallback" in args
    with pytest.raises(TrtbenchError, match="fp16 or int8"):
        build_args(TrtVersion(8, 5, 2), "m.onnx", "m.plan", precision="fp32", dla_core=0)
    for minor in (0, 1, 2, 3):
        with pytest.raises(TrtbenchError, match="11.0 to 11.3"):
            build_args(TrtVersion(11, minor, 0), "m.onnx", "m.plan", dla_core=0)
    assert "--useDLACore=1" in build_args(TrtVersion(11, 4, 0), "m.onnx", "m.plan", dla_core=1)


def test_build_args_checks_shapes():
    with pytest.raises(TrtbenchError, match="min <= opt <= max"):
        build_args(TrtVersion(8, 6, 1), "m.onnx", "m.plan",
                   shapes={"x": ((8, 3), (4, 3), (16, 3))})


def test_profile_args_per_version(tmp_path):
    out = tmp_path / "out dir"
    at = {"tiles": (256, 1, 28, 28)}
    old = profile_args(TrtVersion(8, 0, 1), "e.plan", str(out), shapes=at, iterations=20, warmup_ms=100)
    assert f"--exportProfile={out / 'profile.json'}" in old and f"--exportTimes={out / 'times.json'}" in old
    assert "--exportLayerInfo" not in _flags(old)  # not before 8.2
    assert "--shapes=tiles:256x1x28x28" in old and "--iterations=20" in old and "--warmUp=100" in old
    assert "--separateProfileRun" in old and "--dumpProfile" in old

    new = profile_args(TrtVersion(10, 16, 1), "e.plan", str(out), shapes=at)
    assert f"--exportLayerInfo={out / 'layers.json'}" in new and "--separateProfileRun" in new
    assert "--noCudaGraph" not in new  # unknown before 11.0

    eleven = profile_args(TrtVersion(11, 0, 0), "e.plan", str(out), shapes=at)
    assert {"--noCudaGraph", "--noSpinWait", "--includeDataTransfers"} <= set(eleven)
    assert "--separateProfileRun" not in eleven

    static = profile_args(TrtVersion(8, 2, 1), "e.plan", str(out), dla_core=1)
    assert "--shapes" not in _flags(static) and "--useDLACore=1" in static


def test_shapes_at_a_batch_come_from_the_engine_metadata():
    inputs = [{"name": "x", "dims": [None, 3, 224, 224]}, {"name": "scale", "dims": [1]},
              {"name": "fixed", "dims": [4, 2]}]
    assert shapes_at(inputs, 16) == {"x": (16, 3, 224, 224)}  # static inputs keep their own shape
    assert shapes_at([{"name": "x", "dims": [1, 3, 224, 224]}], 16) == {}
    with pytest.raises(TrtbenchError, match="open dimensions"):
        shapes_at([{"name": "x", "dims": [None, 3, None, None]}], 16)


def test_format_command_quotes_spaces():
    text = format_command(["trtexec", "--loadEngine=/a b/e.plan", "--dumpProfile"])
    assert text == "trtexec '--loadEngine=/a b/e.plan' --dumpProfile"


def test_version_notes_mention_what_changes():
    assert any("separateProfileRun" in n for n in version_notes(TrtVersion(8, 2, 1)))
    assert any("CUDA graphs" in n for n in version_notes(TrtVersion(11, 0, 0)))
    assert version_notes(TrtVersion(10, 3, 0)) == []


def test_split_shape_both_spellings():
    assert split_shape("x:0:4x1x28x28") == ("x:0", [4, 1, 28, 28])
    assert split_shape("tensor-0=4x1x28x28") == ("tensor-0", [4, 1, 28, 28])


def _script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_detect_version_reads_the_banner_of_a_trtexec_on_path(tmp_path, monkeypatch):
    _script(tmp_path / "trtexec", 'echo "&&&& RUNNING TensorRT.trtexec [TensorRT v8201] # trtexec --help"\n'
                                  'echo "=== Model Options ==="\nexit 0\n')
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ.get("PATH", ""))
    assert find_trtexec() == str(tmp_path / "trtexec")
    assert detect_version() == TrtVersion(8, 2, 1)


def test_detect_version_without_banner_is_a_user_error(tmp_path):
    binary = _script(tmp_path / "not-trtexec", "echo hello\n")
    with pytest.raises(TrtbenchError, match="no TensorRT version"):
        detect_version(binary)


def test_detect_version_missing_binary_is_a_user_error(tmp_path):
    with pytest.raises(TrtbenchError, match="trtexec not found"):
        detect_version(str(tmp_path / "nowhere" / "trtexec"))
