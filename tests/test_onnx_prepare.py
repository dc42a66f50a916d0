"""A foreign ONNX model made ready to profile: names, the label post-processing cut, a dynamic batch."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import SHARED, has_module

pytestmark = pytest.mark.skipif(not has_module("onnxruntime"), reason="needs onnxruntime")

MODELS = SHARED / "fixtures" / "models"


def corpus(name: str) -> Path:
    path = MODELS / name
    if not path.is_file():
        pytest.skip(f"public model {path} not found")
    return path


def _ort_outputs(path: Path, batch: int) -> dict:
    import onnxruntime as ort

    from trtbench.models.inputs import batch_arrays, read_model_inputs

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs() if o.type.startswith("tensor(") and "string" not in o.type]
    return dict(zip(names, session.run(names, batch_arrays(read_model_inputs(path), batch))))


@pytest.mark.parametrize("name", ["mnist_cntk_zoo.onnx", "lenet5_batch10.onnx", "resnet50_light.onnx",
                                  "blazeface_mp.onnx", "ultraface_rfb320.onnx"])
def test_export_dynamic_batch_matches_the_original_and_runs_at_1_to_64(name: str, tmp_path: Path) -> None:
    from trtbench.models.inputs import read_model_inputs
    from trtbench.models.onnx_prepare import export_dynamic

    original = corpus(name)
    fixed = read_model_inputs(original)[0].dims[0]
    out = tmp_path / "dyn.onnx"
    result = export_dynamic(original, out, others=())
    assert result.dynamic_from == fixed and result.max_rel_diff is not None and result.max_rel_diff <= 1e-4
    assert read_model_inputs(out)[0].fixed_batch is None
    want, got = _ort_outputs(original, fixed), _ort_outputs(out, fixed)
    for key, value in want.items():
        scale = max(float(np.max(np.abs(value))), 1e-12)
        assert float(np.max(np.abs(got[key] - value))) / scale <= 1e-4
    for batch in (1, 3, 64) if name != "resnet50_light.onnx" else (1, 5):
        outputs = _ort_outputs(out, batch)
        for key, value in want.items():
            if value.shape[0] == fixed:
                assert outputs[key].shape[0] == batch, (key, batch)


def test_unnamed_nodes_get_optype_index_names_and_the_cut_keeps_numeric_outputs(tmp_path: Path) -> None:
    import onnx

    from trtbench.models.onnx_prepare import cut_postprocessing, name_nodes

    model = onnx.load(str(corpus("squeezenet_opset7_winml.onnx")))
    dropped = cut_postprocessing(model)
    assert dropped == ["ArrayFeatureExtractor", "ZipMap"]
    assert all(n.domain != "ai.onnx.ml" for n in model.graph.node)
    outputs = [o.name for o in model.graph.output]
    assert outputs and all(o.type.tensor_type.elem_type in (1, 7) for o in model.graph.output)
    onnx.checker.check_model(model)
    resnet = onnx.load(str(corpus("resnet50_light.onnx")))
    unnamed = [i for i, n in enumerate(resnet.graph.node) if not n.name]
    assert name_nodes(resnet) == len(unnamed) > 0
    assert resnet.graph.node[unnamed[0]].name == f"{resnet.graph.node[unnamed[0]].op_type}_{unnamed[0]}"
    assert len({n.name for n in resnet.graph.node}) == len(resnet.graph.node)


def test_a_reshape_that_folds_the_batch_is_named_before_anything_runs(tmp_path: Path) -> None:
    from test_profile_cli import foreign_net

    from trtbench.models.onnx_prepare import BatchPinned, prepare
    from trtbench.models.source import sha256_of

    pinned = foreign_net(tmp_path / "pinned.onnx", batch=4, pinned=True)
    with pytest.raises(BatchPinned, match=r"node 'flatten_all' \(Reshape\) pins the batch"):
        prepare(pinned, sha256_of(pinned), tmp_path / "cache", dynamic_batch=True)
    assert not list((tmp_path / "cache").glob("*.onnx")) if (tmp_path / "cache").exists() else True
    # the same model at its own batch needs no copy at all
    assert not prepare(pinned, sha256_of(pinned), tmp_path / "cache", dynamic_batch=False).changed


def test_the_prepared_copy_is_cached_and_says_what_changed(tmp_path: Path) -> None:
    from test_profile_cli import foreign_net

    from trtbench.models.onnx_prepare import prepare
    from trtbench.models.source import sha256_of

    model = foreign_net(tmp_path / "fixed.onnx", batch=4)
    first = prepare(model, sha256_of(model), tmp_path / "cache", dynamic_batch=True)
    assert first.changed and first.dynamic_from == 4
    assert any("to_vec [4, 576] → [-1, 576]" in c for c in first.changes)
    stamp = first.path.stat().st_mtime_ns
    again = prepare(model, sha256_of(model), tmp_path / "cache", dynamic_batch=True)
    assert again.path == first.path and again.path.stat().st_mtime_ns == stamp and again.changes == first.changes


def test_profile_at_other_batches_keeps_what_finished(cli, tmp_path: Path) -> None:
    """A fixed-batch model at several batches: each one measured and saved, defaults said."""
    import json

    from test_profile_cli import foreign_net

    model = foreign_net(tmp_path / "fixed.onnx", batch=4)
    result = cli("profile", model, "--iterations", "2", "--loops", "1", "--no-db", "--json", "out.json")
    assert result.returncode == 0, result.stderr
    assert "fixed batch of 4" in result.stderr
    runs = json.loads((tmp_path / "out.json").read_text())
    assert runs["batch"] == 4 and runs["images_per_s"] == pytest.approx(4 * 1000 / runs["end_to_end_ms"])
    result = cli("profile", model, "--batch", "1,8", "--iterations", "2", "--loops", "1", "--no-db",
                 "--json", "out.json")
    assert result.returncode == 0, result.stderr
    assert [r["batch"] for r in json.loads((tmp_path / "out.json").read_text())] == [1, 8]
    assert "made the batch dynamic" in result.stderr
