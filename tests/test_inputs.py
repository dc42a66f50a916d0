"""A model's inputs read from its graph, data for them, and --input NAME=file.npy."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import has_module
from trtbench.cli.args import parse_inputs
from trtbench.errors import TrtbenchError
from trtbench.models.inputs import (ModelInput, batch_arrays, fit_to_batch, item_kind, random_array,
                                    read_model_inputs)


def two_input_model(path: Path, batch=None) -> Path:
    """An NHWC uint8 image and an int64 vector of box counts: y = mean(cast(image)) * count."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    dim = batch or "N"
    nodes = [
        helper.make_node("Cast", ["image"], ["f"], to=TensorProto.FLOAT, name="to_float"),
        helper.make_node("Transpose", ["f"], ["nchw"], perm=[0, 3, 1, 2], name="to_nchw"),
        helper.make_node("Conv", ["nchw", "k"], ["c"], name="conv"),
        helper.make_node("GlobalAveragePool", ["c"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["v"], name="flat"),
        helper.make_node("Cast", ["count"], ["cf"], to=TensorProto.FLOAT, name="count_float"),
        helper.make_node("Mul", ["v", "cf"], ["y"], name="scale"),
    ]
    k = numpy_helper.from_array(np.random.default_rng(0).standard_normal((4, 3, 3, 3)).astype(np.float32), "k")
    graph = helper.make_graph(nodes, "two-inputs",
                              [helper.make_tensor_value_info("image", TensorProto.UINT8, [dim, 32, 32, 3]),
                               helper.make_tensor_value_info("count", TensorProto.INT64, [dim, 1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [dim, 4])], [k])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_every_input_is_read_with_its_type_and_layout(tmp_path: Path) -> None:
    image, count = read_model_inputs(two_input_model(tmp_path / "m.onnx"))
    assert (image.name, image.dtype, image.layout, image.fixed_batch) == ("image", "uint8", "NHWC", None)
    assert (count.name, count.dtype, count.layout, count.item_dims) == ("count", "int64", None, [1])
    assert item_kind([image, count]) == "image"
    assert item_kind([ModelInput("t", ["b", 1, 28, 28])]) == "tile"
    assert item_kind([ModelInput("x", ["b", 3, 224, 224])]) == "image"
    assert item_kind([ModelInput("v", ["b", 128])]) == "sample"
    assert ModelInput("x", [1, 3, 224, 224]).to_dict()["layout"] == "NCHW"
    # a detector exported for any image size is still an image model
    assert item_kind([ModelInput("x", ["n", 3, "h", "w"])]) == "image"
    assert ModelInput("x", ["n", "h", "w", 3]).layout == "NHWC"


def test_random_data_has_the_input_s_type_and_a_plausible_range() -> None:
    pixels = random_array(ModelInput("i", ["b", 8, 8, 3], "uint8"), 4)
    assert pixels.dtype == np.uint8 and pixels.shape == (4, 8, 8, 3) and pixels.max() > 128
    floats = random_array(ModelInput("x", ["b", 3], "float16"), 2)
    assert floats.dtype == np.float16 and 0 <= floats.min() and floats.max() < 1
    ids = random_array(ModelInput("n", ["b", 5], "int64"), 3)
    assert ids.dtype == np.int64 and 0 <= ids.min() and ids.max() < 16


def test_the_user_s_array_is_one_item_or_a_batch() -> None:
    spec = ModelInput("x", ["b", 2, 3], "float32")
    one = np.arange(6, dtype=np.float64).reshape(2, 3)
    batch = fit_to_batch(one, spec, 4, "--input x")
    assert batch.shape == (4, 2, 3) and batch.dtype == np.float32 and (batch[3] == one).all()
    many = np.arange(30, dtype=np.float32).reshape(5, 2, 3)
    assert (fit_to_batch(many, spec, 3, "x") == many[:3]).all()
    assert fit_to_batch(many, spec, 7, "x").shape == (7, 2, 3)
    with pytest.raises(TrtbenchError, match=r"has shape \[4\]; input 'x' takes \[batch, 2, 3\]"):
        fit_to_batch(np.zeros(4), spec, 2, "--input x")
    data = batch_arrays([spec, ModelInput("y", ["b", 1], "int64")], 2, {"x": one})
    assert (data["x"][0] == one).all() and data["y"].dtype == np.int64


@given(st.text(alphabet=st.characters(blacklist_characters="=", blacklist_categories=("Cs",)), min_size=1),
       st.text(min_size=1))
def test_input_options_parse_name_and_path(name: str, path: str) -> None:
    if not name.strip() or not path.strip():
        with pytest.raises(TrtbenchError):
            parse_inputs([f"{name}={path}"])
        return
    assert parse_inputs([f"{name}={path}"]) == {name.strip(): path.strip()}
    with pytest.raises(TrtbenchError, match="given twice"):
        parse_inputs([f"{name}={path}", f"{name}={path}"])


def test_input_options_without_a_name_are_refused() -> None:
    for bad in ("file.npy", "=x.npy", "x="):
        with pytest.raises(TrtbenchError, match="NAME=FILE.npy"):
            parse_inputs([bad])


@pytest.mark.skipif(not (has_module("onnxruntime") and has_module("torch")), reason="needs onnxruntime and torch")
@pytest.mark.parametrize("backend", ["onnxruntime", "torch"])
def test_a_two_input_model_profiles_with_random_and_with_given_data(cli, tmp_path: Path, backend: str) -> None:
    model = two_input_model(tmp_path / "m.onnx")
    fast = ["--backend", backend, "--device", "cpu", "--iterations", "2", "--loops", "1", "--no-db"]
    result = cli("profile", model, "--batch", "3", *fast, "--json", "run.json")
    assert result.returncode == 0, result.stderr
    run = json.loads((tmp_path / "run.json").read_text())
    assert [i["name"] for i in run["model"]["inputs"]] == ["image", "count"] and run["model"]["item"] == "image"
    if backend != "onnxruntime":
        return  # the user's data reaches both backends through the same arrays (batch_arrays)
    np.save(tmp_path / "counts.npy", np.array([7], dtype=np.int64))  # one item, repeated to the batch
    assert cli("profile", model, "--batch", "3", *fast, "--input", "count=counts.npy").returncode == 0
    wrong = cli("profile", model, "--batch", "3", *fast, "--input", "boxes=counts.npy")
    lines = [l for l in wrong.stderr.splitlines() if l.strip()]
    assert wrong.returncode == 2 and lines[-1].startswith("trtbench: error:")
    assert "no input called 'boxes'" in lines[-1] and "image, count" in lines[-1]


@pytest.mark.skipif(not has_module("onnxruntime"), reason="needs onnxruntime")
def test_an_open_image_size_asks_for_data_naming_the_user_s_file(cli, tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("GlobalAveragePool", ["r"], ["y"])]
    graph = helper.make_graph(nodes, "any-size", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, "h", "w"])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3, 1, 1])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(tmp_path / "anysize.onnx"))
    result = cli("profile", "anysize.onnx", "--no-db", "--iterations", "2", "--loops", "1")
    line = [l for l in result.stderr.splitlines() if l.strip()][-1]
    assert result.returncode == 2 and line.startswith("trtbench: error: anysize.onnx: input 'x'")
    assert "--input x=file.npy" in line and ".trtbench" not in line
    np.save(tmp_path / "one.npy", np.zeros((3, 32, 48), np.float32))
    ok = cli("profile", "anysize.onnx", "--no-db", "--iterations", "2", "--loops", "1", "--input", "x=one.npy")
    assert ok.returncode == 0, ok.stderr
    assert "images/s" in ok.stdout
