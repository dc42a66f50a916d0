"""The real-model corpus (../shared/fixtures/models, SOURCES.md): every public model profiles on
onnxruntime and torch (CPU) at its own batch and at others, with categories that fit its op types,
and the two backends' runs pair layer by layer."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import pytest

from conftest import SHARED, has_module

MODELS = SHARED / "fixtures" / "models"
FILES = sorted(p.name for p in MODELS.glob("*.onnx")) if MODELS.is_dir() else []
# op types that are post-processing, not a CNN's work: honestly "other" (listed with -v)
POSTPROCESSING = {"ArgMax", "ArgMin", "TopK", "NonMaxSuppression"}
FAST = dict(iterations=2, loops=1, warmup=1, profile_iterations=2, telemetry=False)

pytestmark = [pytest.mark.skipif(not FILES, reason=f"no public models at {MODELS}"),
              pytest.mark.skipif(not (has_module("onnxruntime") and has_module("torch")),
                                 reason="needs onnxruntime and torch")]


def _op_types(path: Path) -> set:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return {n.op_type for n in model.graph.node if n.domain in ("", "ai.onnx")}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Dict[str, Dict[str, object]]:
    """Each model profiled once per backend at its own batch (shared by the tests below)."""
    import trtbench

    cache = tmp_path_factory.mktemp("cache")
    out: Dict[str, Dict[str, object]] = {}
    for name in FILES:
        out[name] = {backend: trtbench.profile(str(MODELS / name), backend=backend, device="cpu", threads=1,
                                               cache_dir=cache, **FAST)[0]
                     for backend in ("onnxruntime", "torch")}
    return out


@pytest.mark.parametrize("name", FILES)
def test_every_op_type_has_a_category(name: str) -> None:
    from trtbench.categories import OTHER, onnx_ops

    unknown = {op for op in _op_types(MODELS / name) if onnx_ops.categorize(op) == OTHER} - POSTPROCESSING
    assert not unknown, f"{name}: op types with no category: {sorted(unknown)}"


@pytest.mark.parametrize("name", FILES)
def test_each_model_runs_at_its_own_batch_on_both_backends(runs, name: str) -> None:
    from trtbench.models.inputs import read_model_inputs

    declared = read_model_inputs(MODELS / name)[0].fixed_batch
    types = _op_types(MODELS / name)
    for backend, record in runs[name].items():
        assert record.batch == (declared or 1), (backend, record.batch)
        assert record.images_per_s == pytest.approx(record.batch * 1000 / record.end_to_end_ms)
        assert record.model["item"] in ("tile", "image") and record.model["cost"]["flops_per_item"] > 0
        assert record.categories.get("conv", 0) > 0
        other = record.categories.get("other", 0.0) / sum(record.categories.values())
        assert other < 0.05, (backend, record.categories)
        if backend == "torch":  # one converted module per ONNX node: its type is the op type
            assert {layer.type for layer in record.layers} <= types


@pytest.mark.parametrize("name", FILES)
def test_torch_and_onnxruntime_runs_pair_layer_by_layer(runs, name: str) -> None:
    from trtbench.analysis.compare import compare

    torch_run, ort_run = runs[name]["torch"], runs[name]["onnxruntime"]
    result = compare(torch_run, ort_run)
    a_paired, b_paired = result.paired_share()
    assert a_paired is not None and a_paired >= 0.8, (a_paired, b_paired)
    # what onnxruntime runs that torch does not is only the layout reorders it inserts itself
    # (their share of the time varies with the machine's load, so it is not asserted)
    types = {layer.name: layer.type for layer in ort_run.layers}
    one_sided = {types[n] for pair in result.layers if not pair.a_names for n in pair.b_names}
    assert one_sided <= {"ReorderInput", "ReorderOutput", "MemcpyToHost", "MemcpyFromHost"}, one_sided


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("backend", ["onnxruntime", "torch"])
def test_other_batches_make_the_batch_dynamic(tmp_path: Path, name: str, backend: str) -> None:
    import trtbench

    batches: List[int] = [2, 3]
    records = trtbench.profile(str(MODELS / name), batch=batches, backend=backend, device="cpu", threads=1,
                               layers=False, cache_dir=tmp_path, **{k: v for k, v in FAST.items()
                                                                    if k != "profile_iterations"})
    assert [r.batch for r in records] == batches
    assert all(r.images_per_s == pytest.approx(r.batch * 1000 / r.end_to_end_ms) for r in records)


def test_the_hook_command_line_runs_a_corpus_model(cli) -> None:
    """What a new user types first: no flag but the model."""
    name = "mnist_cntk_zoo.onnx" if "mnist_cntk_zoo.onnx" in FILES else FILES[0]
    result = cli("profile", MODELS / name, "--iterations", "3", "--loops", "2", "--no-db")
    assert result.returncode == 0, result.stderr
    assert "images/s" in result.stdout
