"""Every trtexec command line trtbench writes is one that trtexec of that release accepts.

The options of each release come from its own option parser (samples/common/sampleOptions.cpp at
the release tag of NVIDIA/TensorRT), extracted by tools/tensorrt_conformance/extract.py into
tests/data/tensorrt/trtexec/<version>.json. trtexec treats an unknown option as fatal, so a flag
missing there is a build or profile that fails on the device. Offline: no trtexec runs here.
"""
from __future__ import annotations

import shlex
import subprocess
from pathlib import Path
from typing import List

import pytest

from tests import tensorrt_conformance as conf
from trtbench.backends.trtexec.flags import build_args, profile_args
from trtbench.device.tensorrt_install import TrtVersion
from trtbench.errors import TrtbenchError

VERSIONS = conf.trtexec_versions()
IMAGE = {"input.1": ((1, 3, 224, 224), (8, 3, 224, 224), (32, 3, 224, 224))}
TWO_INPUTS = {"image": ((1, 3, 224, 224), (4, 3, 224, 224), (16, 3, 224, 224)),
              "scale": ((1, 2), (4, 2), (16, 2))}
# deprecated but still working: from 10.14 the help calls the precision flags superseded by
# strong typing; they still set the builder flags until 11.0 removes them
STILL_WORKING = ("--fp16", "--int8", "--best")


def test_the_data_covers_every_release_line_trtbench_writes_for():
    lines = {tuple(int(x) for x in v.split(".")[:2]) for v in VERSIONS}
    assert {(8, 0), (8, 2), (8, 4), (8, 5), (8, 6), (10, 0), (10, 16), (11, 0), (11, 1)} <= lines
    assert len([v for v in lines if v[0] == 10]) >= 10


def assert_accepted(version: str, args: List[str]) -> None:
    """Each argument after the binary: an option this release parses, with a value exactly when
    it takes one, not one it removed, and not a deprecated one (bar the precision flags)."""
    assert args[0].endswith("trtexec")
    for arg in args[1:]:
        assert arg.startswith("--"), arg
        option, has_value, value = arg.partition("=")
        status = conf.option_status(version, option)
        assert status in ("ok", "deprecated"), f"{version}: {option} is {status}"
        if status == "deprecated":
            assert option in STILL_WORKING, f"{version}: {option} is deprecated: " \
                                            f"{conf.trtexec(version)['deprecated'][option]}"
        assert option in STILL_WORKING or arg not in conf.trtexec(version)["deprecated"], \
            f"{version}: {arg} is deprecated"
        assert conf.takes_value(version, option) == bool(has_value), f"{version}: {arg}"
        if option == "--memPoolSize":
            pool, _, size = value.partition(":")
            assert pool == "workspace" and size.isdigit(), arg  # a bare number: MiB everywhere


def _precisions(version: TrtVersion) -> List[str]:
    return ["fp32", "tf32"] if version.at_least(11) else ["fp32", "tf32", "fp16", "int8", "best"]


@pytest.mark.parametrize("version", VERSIONS)
def test_build_command_lines_are_accepted(version):
    v = TrtVersion.parse(version)
    for shapes in ({}, IMAGE, TWO_INPUTS):
        for precision in _precisions(v):
            for workspace in (None, 2048):
                args = build_args(v, "m.onnx", "m.plan", shapes=shapes, precision=precision,
                                  workspace_mib=workspace, timing_cache="tc", layer_info="l.json")
                assert_accepted(version, args)
                shape_flags = [a for a in args if a.split("=")[0].endswith("Shapes")]
                assert len(shape_flags) == (3 if shapes else 0)


@pytest.mark.parametrize("version", VERSIONS)
def test_dla_builds_are_accepted_where_the_release_builds_for_the_dla(version):
    v = TrtVersion.parse(version)
    precision = "fp32" if v.at_least(11) else "fp16"
    if (11, 0) <= (v.major, v.minor) < (11, 4):
        with pytest.raises(TrtbenchError, match="DLA"):
            build_args(v, "m.onnx", "m.plan", precision=precision, dla_core=0)
        return
    assert_accepted(version, build_args(v, "m.onnx", "m.plan", shapes=IMAGE, precision=precision, dla_core=1))


@pytest.mark.parametrize("version", VERSIONS)
def test_profile_command_lines_are_accepted(version, tmp_path):
    v = TrtVersion.parse(version)
    for shapes in ({}, {"input.1": (8, 3, 224, 224)}):
        for extra in ({}, {"iterations": 50, "warmup_ms": 200}, {"dla_core": 0}):
            args = profile_args(v, "m.plan", str(tmp_path / "out"), shapes=shapes, **extra)
            assert_accepted(version, args)
            assert any(a.startswith("--shapes=") for a in args) == bool(shapes)


def _trtexec_lines(script: Path) -> List[List[str]]:
    """The trtexec command lines of an emitted script, as argv (the script's "$TRTEXEC" first)."""
    out = []
    for line in script.read_text().splitlines():
        if line.startswith('"$TRTEXEC" '):
            argv = shlex.split(line.split(" 2>&1")[0])
            out.append(["trtexec"] + argv[1:])
    return out


def _model(path: Path, batch) -> Path:
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [batch, 3, 224, 224])
    y = helper.make_tensor_value_info("out", TensorProto.FLOAT, [batch, 3, 1, 1])
    graph = helper.make_graph([helper.make_node("GlobalAveragePool", ["input.1"], ["out"])], "g", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("target, trt, data", [("tx1", None, "8.2.1"), ("nano", "8.0.1", "8.0.1"),
                                               ("agx-xavier", None, "8.5.3"), ("agx-orin-64", None, "10.16.0"),
                                               ("agx-orin-64", "10.3.0", "10.3.0"), ("thor", "11.1.0", "11.1.0"),
                                               ("gtx960", "8.6.1", "8.6.1")])
def test_emitted_scripts_are_accepted_by_the_targets_trtexec(tmp_path, target, trt, data):
    """`build --emit-script` for a static and a dynamic-batch 3x224x224 model: every trtexec line
    is accepted by the target's release; no shape flags for the static model."""
    from trtbench.api.build import emit_script

    for name, batch in (("static", 1), ("dynamic", "N")):
        onnx = _model(tmp_path / f"{name}.onnx", batch)
        script = tmp_path / f"{name}-{target}.sh"
        result = emit_script(onnx, target, script, trt_version=trt,
                             batch_range=None if batch == 1 else "1:8:32",
                             profile_batches=() if batch == 1 else (1, 8, 32), cache_dir=tmp_path / "cache")
        assert TrtVersion.parse(result.tensorrt).at_least(*(int(x) for x in data.split(".")[:2]))
        lines = _trtexec_lines(script)
        assert len(lines) == (2 if batch == 1 else 4)
        for argv in lines:
            assert_accepted(data, argv)
            has_shapes = any("Shapes=" in a or a.startswith("--shapes=") for a in argv)
            assert has_shapes == (batch != 1)
        assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
