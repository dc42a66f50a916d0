"""resolve_model: ONNX files (ours and from elsewhere), checkpoints, specs, plans, bad input."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from trtbench.errors import TrtbenchError
from trtbench.models.source import onnx_file, resolve_model


def foreign_onnx(path: Path, metadata: dict = None) -> Path:
    """A tiny conv net built by hand: arbitrary node names, no trtbench spec unless given."""
    w = numpy_helper.from_array(np.ones((2, 1, 5, 5), np.float32), "w")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="zz_conv"),
             helper.make_node("Relu", ["c"], ["y"], name="")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 1, 28, 28])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2, 24, 24])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in (metadata or {}).items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(path))
    return path


def test_onnx_from_elsewhere(tmp_path: Path) -> None:
    path = foreign_onnx(tmp_path / "net.onnx")
    model = resolve_model(str(path), tmp_path / "cache")
    assert model.kind == "onnx" and model.spec is None and model.name == "net"
    assert model.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert onnx_file(model) == path


def test_onnx_with_spec_metadata(tmp_path: Path) -> None:
    spec = {"name": "c1d2-f1n8", "input": [1, 28, 28], "conv": [], "fc": [8], "classes": 10}
    path = foreign_onnx(tmp_path / "ours.onnx", {"trtbench.spec": json.dumps(spec)})
    model = resolve_model(str(path), tmp_path)
    assert model.spec == spec and model.name == "c1d2-f1n8"


@pytest.mark.parametrize("content", [b"", b"not an onnx model at all \x00\x01\x02" * 10])
def test_corrupt_onnx_is_one_user_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    with pytest.raises(TrtbenchError, match="not a readable ONNX model"):
        resolve_model(str(path), tmp_path)


def test_missing_files_and_unknown_specs(tmp_path: Path) -> None:
    for text in ("nope.onnx", "nope.pt", "nope.plan"):
        with pytest.raises(TrtbenchError, match="does not exist"):
            resolve_model(str(tmp_path / text), tmp_path)
    with pytest.raises(TrtbenchError, match="unknown spec"):
        resolve_model("no-such-network", tmp_path)


def test_plan_is_passed_through(tmp_path: Path) -> None:
    path = tmp_path / "e.plan"
    path.write_bytes(b"engine bytes")
    model = resolve_model(str(path), tmp_path)
    assert model.kind == "plan" and model.sha256 == hashlib.sha256(b"engine bytes").hexdigest()
    with pytest.raises(TrtbenchError):
        onnx_file(model)


def test_spec_name_is_exported_once_and_reused(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("trtbench.models.export")
    cache = tmp_path / "cache"
    first = resolve_model("c1d4-f1n16", cache)
    assert first.kind == "onnx" and first.path.parent == cache and first.name == "c1d4-f1n16"
    assert first.spec and first.spec["fc"] == [16]
    stamp = first.path.stat().st_mtime_ns
    second = resolve_model("c1d4-f1n16", cache)
    assert second.path == first.path and second.path.stat().st_mtime_ns == stamp
    assert second.sha256 == first.sha256


def test_checkpoint_is_exported_for_onnx_backends(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("trtbench.models.export")
    from trtbench.models import torchnet
    from trtbench.models.netspec import parse_name

    spec = parse_name("c1d4-f1n16")
    path = tmp_path / "net.pt"
    torchnet.save_checkpoint(path, spec, torchnet.build_model(spec, seed=0), None, False, None)
    model = resolve_model(str(path), tmp_path / "cache")
    assert model.kind == "checkpoint" and model.name == "c1d4-f1n16" and model.spec["fc"] == [16]
    assert model.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    exported = onnx_file(model)
    assert exported.parent == tmp_path / "cache" and exported.is_file()
    assert resolve_model(str(path), tmp_path / "cache").metadata["onnx"] == str(exported)


def test_a_spec_named_like_a_path_stays_in_the_cache(tmp_path):
    """A spec's name becomes its export's file name: `../../x` must not climb out of the cache."""
    (tmp_path / "evil.toml").write_text('name = "../../escaped"\ninput = 28\nclasses = 10\nfc = [16]\n'
                                        '[[conv]]\nout = 4\nkernel = 3\n')
    cache = tmp_path / "a" / "b" / "cache"
    source = resolve_model(str(tmp_path / "evil.toml"), cache)
    assert source.path.resolve().parent == cache.resolve() and source.path.is_file()
    assert [p.parent for p in tmp_path.rglob("*.onnx")] == [cache]  # nothing written above the cache
