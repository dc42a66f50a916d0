"""compare(): speedups are ratios of per-tile category times; flags, predictions, layer alignment."""

from __future__ import annotations

import sys
import types

import pytest
from fake_runs import ORT_LAYERS, TRT_LAYERS, make_record

from trtbench.analysis.compare import compare, compare_runs, pair_runs
from trtbench.analysis.costmodel import Roofs
from trtbench.errors import TrtbenchError
from trtbench.results.record import Host


def _study_pair():
    """A TX1-like run and a GTX 960-like run: 6x faster overall, fc 105x, alloc 2x (the study)."""
    layers = list(ORT_LAYERS) + [("GpuAlloc", "alloc", 0.8, "GpuAlloc")]
    a = make_record(layers=layers, device="tx1", backend="tensorrt", batch=1024)
    speed = {"fc": 105.0, "alloc": 2.0}
    b_layers = [(n, c, ms / speed.get(c, 6.0), t) for n, c, ms, t in layers]
    b = make_record(layers=b_layers, device="gtx-960", backend="tensorrt", batch=1024, seed=2)
    return a, b


def test_speedups_are_ratios_of_per_category_times() -> None:
    a = make_record(batch=1024)
    b = make_record(layers=TRT_LAYERS, backend="tensorrt", device="cuda", batch=256, seed=3)
    result = compare(a, b)
    assert [row.category for row in result.categories] == ["conv", "pool", "fc", "elementwise", "reformat"]
    for row in result.categories:
        a_tile = a.categories[row.category] / a.batch
        b_tile = b.categories[row.category] / b.batch
        assert row.a_ms == pytest.approx(a_tile)
        assert row.b_ms == pytest.approx(b_tile)
        assert row.speedup == pytest.approx(a_tile / b_tile)
    assert result.total.speedup == pytest.approx((a.end_to_end_ms / 1024) / (b.end_to_end_ms / 256))
    assert any("batch sizes" in note for note in result.notes)
    data = result.to_dict()
    assert data["categories"]["conv"]["speedup"] == pytest.approx(result.categories[0].speedup)
    assert set(data["total"]) >= {"a_ms", "b_ms", "speedup"}


def test_the_study_pattern_flags_matrix_products_and_allocation() -> None:
    a, b = _study_pair()
    result = compare(a, b)
    by_name = {row.category: row for row in result.categories}
    assert by_name["fc"].speedup == pytest.approx(105.0)
    assert by_name["alloc"].speedup == pytest.approx(2.0)
    assert by_name["conv"].speedup == pytest.approx(6.0)
    assert 5 < result.total.speedup < 8
    assert {row.category for row in result.flagged} == {"fc", "alloc"}


def test_a_category_on_one_side_only_has_no_speedup() -> None:
    a = make_record()
    b = make_record(layers=TRT_LAYERS, backend="tensorrt")
    b.categories["transfer"] = 0.3
    result = compare(a, b)
    transfer = [row for row in result.categories if row.category == "transfer"][0]
    assert transfer.speedup is None and not transfer.flagged and transfer.a_ms == 0
    assert any("transfer: only in B" in note for note in result.notes)


def _fake_targets(monkeypatch) -> None:
    peaks = {"tx1": (0.511, 1.022, 25.6), "gtx-960": (2.41, None, 112.0)}

    def get_target(name: str):
        if name not in peaks:
            raise TrtbenchError(f"no target {name}")
        fp32, fp16, bw = peaks[name]
        return Roofs(name, peak_fp32_tflops=fp32, memory_bandwidth_gbs=bw, peak_fp16_tflops=fp16)

    module = types.ModuleType("trtbench.device.targets")
    module.get_target = get_target  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "trtbench.device.targets", module)


def test_prediction_from_target_peaks(monkeypatch) -> None:
    _fake_targets(monkeypatch)
    a, b = _study_pair()
    result = compare(a, b)
    assert result.prediction is not None
    assert result.prediction.compute == pytest.approx(2.41 / 0.511)
    assert result.prediction.bandwidth == pytest.approx(112.0 / 25.6)
    by_name = {row.category: row for row in result.categories}
    assert by_name["conv"].predicted == pytest.approx(2.41 / 0.511)
    assert by_name["pool"].predicted == pytest.approx(112.0 / 25.6)
    assert by_name["alloc"].predicted is None
    assert min(2.41 / 0.511, 112 / 25.6) <= result.total.predicted <= max(2.41 / 0.511, 112 / 25.6)
    # fp16 on the TX1 uses its half2 peak; the 960 has no fast fp16 and falls back to fp32
    a.precision = "fp16"
    assert compare(a, b).prediction.compute == pytest.approx(2.41 / 1.022)
    # the host's target wins over the device name
    a.device, a.host = "cuda", Host(target="tx1")
    assert compare(a, b).prediction is not None


def test_no_prediction_without_targets(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "trtbench.device.targets", None)  # import fails
    a, b = _study_pair()
    assert compare(a, b).prediction is None
    _fake_targets(monkeypatch)
    b.device = "cpu"  # not a target
    result = compare(a, b)
    assert result.prediction is None and all(row.predicted is None for row in result.categories)


def test_layers_align_across_fusion() -> None:
    a = make_record()
    b = make_record(layers=TRT_LAYERS, backend="tensorrt")
    pairs = {tuple(p.b_names): p for p in compare(a, b).layers}
    fused = pairs[("/conv1/Conv + /relu1/Relu",)]
    assert fused.a_names == ["/conv1/Conv", "/relu1/Relu"] and fused.matched_by == "fused"
    assert fused.a_ms == pytest.approx((a.layers[0].ms + a.layers[1].ms) / a.batch)
    assert fused.category == "conv"
    assert pairs[("/pool1/MaxPool",)].matched_by == "name"
    reformat = pairs[("Reformatting CopyNode for Input Tensor 0 to /conv1/Conv",)]
    assert reformat.a_names == [] and reformat.speedup is None
    assert [p.a_names for p in compare(a, b).layers if p.b_names == []] == [["/flatten/Flatten"]]
    # every layer of both runs appears exactly once
    layers = compare(a, b).layers
    assert sorted(n for p in layers for n in p.a_names) == sorted(layer.name for layer in a.layers)
    assert sorted(n for p in layers for n in p.b_names) == sorted(layer.name for layer in b.layers)


def test_layers_with_other_names_pair_in_category_order() -> None:
    a = make_record()
    renamed = [
        ("Conv_0", "conv", 1.0, "Conv"),
        ("Relu_1", "elementwise", 0.1, "Relu"),
        ("MaxPool_2", "pool", 0.3, "MaxPool"),
        ("Gemm_3", "fc", 0.5, "Gemm"),
        ("Gemm_4", "fc", 0.04, "Gemm"),
    ]
    b = make_record(layers=renamed, backend="torch")
    pairs = {tuple(p.a_names): p for p in compare(a, b).layers}
    assert pairs[("/conv1/Conv",)].b_names == ["Conv_0"]
    assert pairs[("/fc1/Gemm",)].b_names == ["Gemm_3"] and pairs[("/out/Gemm",)].b_names == ["Gemm_4"]
    assert pairs[("/fc1/Gemm",)].matched_by == "category order"
    assert pairs[("/relu1/Relu",)].b_names == []  # elementwise layers are not paired by order


def test_several_runs_compare_the_first_with_each() -> None:
    runs = [make_record(seed=s, scale=1.0 / (s + 1)) for s in range(3)]
    results = compare_runs(runs)
    assert [r.b.run_id for r in results] == [runs[1].run_id, runs[2].run_id]
    assert all(r.a is runs[0] for r in results)
    with pytest.raises(TrtbenchError):
        compare_runs(runs[:1])


def test_batch_sweeps_pair_by_batch() -> None:
    a_side = [make_record(batch=b, device="tx1") for b in (16, 256, 1024)]
    b_side = [make_record(batch=b, device="gtx-960") for b in (1024, 64, 16)]
    pairs = pair_runs(a_side, b_side)
    assert [(x.batch, y.batch) for x, y in pairs] == [(1024, 1024), (16, 16)]
    assert len(pair_runs(a_side[:1], b_side)) == 3
    with pytest.raises(TrtbenchError, match="no batch size in common"):
        pair_runs(a_side[:2], b_side[:2][:1])


def test_prediction_with_the_bundled_target_profiles() -> None:
    targets = pytest.importorskip("trtbench.device.targets")
    a, b = _study_pair()  # devices "tx1" and "gtx-960"
    tx1, gtx = targets.get_target("tx1"), targets.get_target("gtx-960")
    prediction = compare(a, b).prediction
    assert prediction is not None
    assert prediction.compute == pytest.approx(gtx.peak_fp32_tflops / tx1.peak_fp32_tflops)
    assert prediction.bandwidth == pytest.approx(gtx.memory_bandwidth_gbs / tx1.memory_bandwidth_gbs)


def test_with_the_graph_s_flops_and_bytes_each_category_gets_its_roofline_speedup() -> None:
    """A compute-bound convolution speeds up by the peak FLOP/s ratio, a bandwidth-bound pool by
    the bandwidth ratio, whatever the category's name; a category balanced between them in between."""
    targets = pytest.importorskip("trtbench.device.targets")
    a, b = _study_pair()
    tx1, gtx = targets.get_target("tx1"), targets.get_target("gtx-960")
    cost = {"by_category": {
        "conv": {"flops": 5e8, "bytes": 1e5, "weight_bytes": 0.0},  # 5000 FLOP per byte: compute-bound
        "pool": {"flops": 1e4, "bytes": 1e6, "weight_bytes": 0.0},  # 0.01 FLOP per byte: bandwidth-bound
        "elementwise": {"flops": 4e7, "bytes": 2e6, "weight_bytes": 0.0}}}
    for record in (a, b):
        record.model = {**record.model, "cost": cost}
    prediction = compare(a, b).prediction
    compute = gtx.peak_fp32_tflops / tx1.peak_fp32_tflops
    bandwidth = gtx.memory_bandwidth_gbs / tx1.memory_bandwidth_gbs
    assert prediction.for_category("conv") == pytest.approx(compute)
    assert prediction.for_category("pool") == pytest.approx(bandwidth)
    # 20 FLOP per byte: compute-bound on the TX1 (ridge 20), bandwidth-bound on the GTX 960 (ridge 21.5)
    tx1_ms = max(4e7 / (tx1.peak_fp32_tflops * 1e12), 2e6 / (tx1.memory_bandwidth_gbs * 1e9))
    gtx_ms = max(4e7 / (gtx.peak_fp32_tflops * 1e12), 2e6 / (gtx.memory_bandwidth_gbs * 1e9))
    assert prediction.for_category("elementwise") == pytest.approx(tx1_ms / gtx_ms)
    assert prediction.to_dict()["roofline"]["conv"] == pytest.approx(compute)


def test_a_shared_origin_such_as_a_provider_does_not_merge_layers() -> None:
    a = make_record()
    b = make_record(seed=5)
    for layer in a.layers + b.layers:
        layer.origin = "CPUExecutionProvider"
    pairs = compare(a, b).layers
    assert len(pairs) == len(a.layers)
    assert all(p.matched_by == "name" and p.a_names == p.b_names for p in pairs)


def test_torch_module_names_meet_their_onnx_export_names() -> None:
    ort = [
        ("/conv1/relu/Relu_output_0_nchwc", "conv", 4.1, "Conv"),
        ("ReorderOutput", "reformat", 2.8, "Reorder"),
        ("/pool/MaxPool", "pool", 0.17, "MaxPool"),
        ("/flatten/Flatten", "reformat", 0.01, "Flatten"),
        ("fused /fc1/linear/Gemm", "fc", 3.0, "FusedGemm"),
        ("/out/Gemm", "fc", 0.02, "Gemm"),
        ("/softmax/Softmax", "elementwise", 0.01, "Softmax"),
    ]
    torch = [
        ("conv1.conv", "conv", 30.0, "Conv2d"),
        ("conv1.relu", "elementwise", 14.0, "ReLU"),
        ("pool", "pool", 16.0, "MaxPool2d"),
        ("flatten", "reformat", 0.1, "Flatten"),
        ("fc1.linear", "fc", 16.7, "Linear"),
        ("fc1.relu", "elementwise", 0.1, "ReLU"),
        ("out", "fc", 0.13, "Linear"),
        ("softmax", "elementwise", 13.0, "Softmax"),
    ]
    a, b = make_record(layers=ort), make_record(layers=torch, backend="torch")
    pairs = {tuple(p.a_names): (p.b_names, p.matched_by) for p in compare(a, b).layers}
    assert pairs[("fused /fc1/linear/Gemm",)] == (["fc1.linear"], "module path")
    assert pairs[("/softmax/Softmax",)] == (["softmax"], "module path")
    assert pairs[("/flatten/Flatten",)] == (["flatten"], "module path")
    assert pairs[("/out/Gemm",)] == (["out"], "module path")
    # onnxruntime names its fused conv after the relu's output: the categories disagree, so the
    # conv pairs with the conv by order and the relu stays on its side
    assert pairs[("/conv1/relu/Relu_output_0_nchwc",)] == (["conv1.conv"], "category order")
    assert pairs[("ReorderOutput",)] == ([], "")
    assert [p.b_names for p in compare(a, b).layers if not p.a_names] == [["conv1.relu"], ["fc1.relu"]]


def test_layers_with_other_names_pair_by_category_and_output_shape() -> None:
    """Another engine's names, a different layer order and a conv layer only one side kept:
    output shapes pair what they can, and only the rest falls back to order or stays alone."""
    a = make_record(layers=[("/conv1/Conv", "conv", 1.0, "Conv"), ("/conv2/Conv", "conv", 2.0, "Conv"),
                            ("/fc1/Gemm", "fc", 0.5, "Gemm"), ("/out/Gemm", "fc", 0.04, "Gemm")])
    b = make_record(layers=[("layer_7", "conv", 0.4, "CaskConvolution"), ("layer_9", "fc", 0.01, "CaskGemm"),
                            ("layer_8", "fc", 0.2, "CaskGemm")], backend="tensorrt")
    for layer, shape in zip(a.layers, ([20, 24, 24], [20, 20, 20], [1024], [10])):
        layer.shape = shape
    for layer, shape in zip(b.layers, ([20, 20, 20], [10], [1024])):
        layer.shape = shape
    pairs = {tuple(p.a_names): p for p in compare(a, b).layers}
    assert pairs[("/conv2/Conv",)].b_names == ["layer_7"] and pairs[("/conv2/Conv",)].matched_by == "shape"
    assert pairs[("/fc1/Gemm",)].b_names == ["layer_8"] and pairs[("/out/Gemm",)].b_names == ["layer_9"]
    assert pairs[("/conv1/Conv",)].b_names == []  # no layer of B has its shape
    # without shapes the fc layers would pair in profile order, the wrong way round
    for layer in a.layers + b.layers:
        layer.shape = None
    unshaped = {tuple(p.a_names): p for p in compare(a, b).layers}
    assert unshaped[("/fc1/Gemm",)].b_names == ["layer_9"]


def test_a_comparison_says_how_much_of_each_side_s_time_is_in_paired_layers() -> None:
    result = compare(make_record(), make_record(layers=TRT_LAYERS, backend="tensorrt"))
    a_paired, b_paired = result.paired_share()
    one_sided = sum(p.b_ms for p in result.layers if not p.a_names)
    assert 0 < a_paired <= 1 and b_paired == pytest.approx(1 - one_sided / sum(p.b_ms for p in result.layers))
    assert b_paired < 1  # TensorRT's reformat layer has no onnxruntime counterpart
    assert any(n.startswith("paired layers hold") for n in result.notes)
    assert result.to_dict()["paired_share"] == {"a": a_paired, "b": b_paired}


def test_the_total_speedup_carries_its_interval_and_one_inside_it_is_no_difference() -> None:
    """B twice as fast over 10 loops each: faster, 2 inside the interval, 1 outside; the same run
    shape measured twice with 1 % noise: the interval holds 1, so 'no difference'."""
    a = make_record(loops=10, cv=0.01, seed=1)
    b = make_record(loops=10, cv=0.01, seed=2, scale=0.5)
    result = compare(a, b)
    low, high = result.total.interval
    assert low < result.total.speedup < high and low < 2.0 < high and low > 1.0
    assert result.total.difference == "faster"
    assert result.to_dict()["total"]["interval"] == [low, high]

    same = compare(make_record(loops=10, seed=3), make_record(loops=10, seed=4))
    assert same.total.difference == "no difference"
    assert any(note.startswith("no difference end to end") for note in same.notes)


def test_one_loop_on_a_side_gives_no_interval_rather_than_a_false_one() -> None:
    result = compare(make_record(loops=1, iterations=1), make_record(loops=10, scale=0.5))  # one sample on A
    assert result.total.interval is None and result.total.difference is None


def test_a_measured_speedup_far_from_the_predicted_one_is_flagged(monkeypatch) -> None:
    import trtbench.analysis.compare as compare_module

    a = make_record(loops=10, seed=5)
    b = make_record(loops=10, seed=6, scale=0.5)  # measured: 2x
    prediction = compare_module.Prediction("tx1", "gtx960", compute=20.0, bandwidth=20.0)  # peaks say 20x
    monkeypatch.setattr(compare_module, "predict", lambda x, y: prediction)
    result = compare(a, b)
    assert result.total.off_prediction and any("over 2x away" in note for note in result.notes)
    near = compare_module.Prediction("tx1", "gtx960", compute=2.5, bandwidth=2.5)
    monkeypatch.setattr(compare_module, "predict", lambda x, y: near)
    assert not compare(a, b).total.off_prediction
