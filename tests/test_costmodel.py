from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from trtbench.analysis import costmodel
from trtbench.errors import TrtbenchError
from trtbench.models.netspec import NetSpec, parse_name
from trtbench.results.record import RunRecord
from trtbench.sweeps.file import load_sweep

REPO = Path(__file__).resolve().parent.parent
# The study's GTX 960 constants (eqs. 14-18 and C7), mapped onto our terms
STUDY = {"fc_n2": 6.6e-11, "fc": 6.8e-6 + 4.9e-5, "fc_n": 1.9e-7, "conv_out": 2.4e-7,
         "conv_in": 3.5e-8 + 8.2e-8, "conv_out_d2": 3.03e-8, "overhead": 9.8e-3}


def study_points(batch=1024):
    return [p for p in load_sweep(REPO / "models" / "study.toml").points if p.batch == batch]


def truth(features, coef):
    return sum(coef[k] * features[k] for k in coef)


def test_study_features_follow_equations_15_to_18():
    f = costmodel.study_features(parse_name("c3d40-f2n512"))
    t = 28
    assert f["fc_n2"] == 2 * 512 ** 2 and f["fc"] == 2 and f["fc_n"] == 2 * 512
    # conv layers 2..3: output sides 28-4n, input sides 28-4(n-1), depth 40 in and out
    assert f["conv_out"] == 40 * sum((t - 4 * n) ** 2 for n in (2, 3))
    assert f["conv_in"] == 40 * sum((t - 4 * (n - 1)) ** 2 for n in (2, 3))
    assert f["conv_out_d2"] == 40 ** 2 * sum((t - 4 * n) ** 2 for n in (2, 3))
    one = costmodel.study_features(parse_name("c1d40-f2n512"))
    assert one["conv_out"] == one["conv_in"] == one["conv_out_d2"] == 0  # the sums start at n = 2


def test_general_features_count_weights_once_per_batch():
    spec = parse_name("c1d20-f1n1024")
    small, large = costmodel.general_features(spec, 1), costmodel.general_features(spec, 1000)
    assert small["fc_gflop"] == large["fc_gflop"] == pytest.approx(sum(g.flops for g in spec.layers() if g.kind == "fc") / 1e9)
    fc_weights = sum(4 * g.params for g in spec.layers() if g.kind == "fc") / 1e6
    assert small["fc_mb"] - large["fc_mb"] == pytest.approx(fc_weights * (1 - 1 / 1000))


def test_fit_recovers_known_coefficients_from_exact_data():
    rows = [costmodel.study_features(p.spec) for p in study_points()]
    y = [truth(r, STUDY) for r in rows]
    fit = costmodel.fit_equation("study", "total", rows, y)
    for name, value in STUDY.items():
        assert fit.coefficients[name] == pytest.approx(value, rel=1e-6)
    assert fit.r2 == pytest.approx(1.0) and fit.mape < 1e-6


def test_noisy_fit_reports_r2_and_out_of_sample_mape():
    rng = np.random.default_rng(7)
    rows = [costmodel.study_features(p.spec) for p in study_points()]
    y = [truth(r, STUDY) * (1 + 0.05 * rng.standard_normal()) for r in rows]
    fit = costmodel.fit_equation("study", "total", rows, y)
    assert 0.9 < fit.r2 < 1.0
    assert 1.0 < fit.mape < 15.0  # about the 5 % noise, out of sample
    assert fit.mape >= fit.in_sample_mape * 0.9
    assert fit.folds == 5 and fit.points == len(rows)


def test_nonnegative_fit_keeps_coefficients_at_or_above_zero():
    x = np.array([[1.0, 1.0], [1.0, 2.0], [1.0, 3.0], [1.0, 4.0]])
    y = np.array([4.0, 3.0, 2.0, 1.0])  # slope -1: unconstrained least squares goes negative
    free = costmodel.solve(x, y, nonnegative=False)
    assert free[1] == pytest.approx(-1.0)
    bounded = costmodel.solve(x, y, nonnegative=True)
    assert bounded[1] == 0.0 and bounded[0] == pytest.approx(2.5)


def record(spec: NetSpec, batch: int, ms_per_tile: float, categories=None, device_name="cpu-x") -> RunRecord:
    ms = ms_per_tile * batch
    return RunRecord(backend="onnxruntime", device="cpu", batch=batch, precision="fp32",
                     model={"name": spec.name, "spec": spec.to_dict()}, iterations=1, loops=1, loop_ms=[ms],
                     iteration_ms=[[ms]], end_to_end_ms=ms, tiles_per_ms=1 / ms_per_tile,
                     categories={k: v * batch for k, v in (categories or {}).items()}, device_name=device_name)


def synthetic_records(device_name="cpu-x", factor=1.0):
    out = []
    for p in study_points():
        f = costmodel.study_features(p.spec)
        cats = {"fc": STUDY["fc_n2"] * f["fc_n2"] + STUDY["fc"] * f["fc"],
                "conv": STUDY["conv_out_d2"] * f["conv_out_d2"] + 1e-3,
                "elementwise": STUDY["fc_n"] * f["fc_n"] + STUDY["conv_out"] * f["conv_out"]}
        cats = {k: v * factor for k, v in cats.items()}
        out.append(record(p.spec, 1024, factor * truth(f, STUDY), cats, device_name))
    return out


def test_fit_records_fits_total_and_categories_and_round_trips_json():
    # with the study's GPU constants FC matrix products are ~1 % of the time: skipped by default
    assert "fc" not in costmodel.fit_records(synthetic_records(), "study", batch=1024).categories
    fs = costmodel.fit_records(synthetic_records(), "study", batch=1024, min_category_share=0)
    assert fs.total.r2 == pytest.approx(1.0)
    assert set(fs.categories) == {"fc", "conv", "elementwise"}
    assert fs.categories["fc"].coefficients["fc_n2"] == pytest.approx(STUDY["fc_n2"], rel=1e-6)
    assert fs.categories["conv"].coefficients["conv_out_d2"] == pytest.approx(STUDY["conv_out_d2"], rel=1e-6)
    assert set(fs.categories["conv"].coefficients) <= {"conv_out_d2", "overhead"}  # eq. 18's terms only
    again = costmodel.FitSet.from_dict(json.loads(json.dumps(fs.to_dict())))
    spec = parse_name("c4d30-f2n700")
    assert again.predict(spec, 1024) == pytest.approx(truth(costmodel.study_features(spec), STUDY), rel=1e-6)


def test_general_model_fits_across_batches():
    rng = np.random.default_rng(0)
    coef = {"conv_gflop": 30.0, "conv_mb": 0.2, "pool_mb": 0.5, "fc_gflop": 12.0, "fc_mb": 0.4, "overhead": 1e-3}
    points = load_sweep(REPO / "models" / "study.toml").points
    recs = [record(p.spec, p.batch, truth(costmodel.general_features(p.spec, p.batch), coef) * (1 + 0.02 * rng.standard_normal()))
            for p in points]
    fs = costmodel.fit_records(recs, "general")
    assert fs.batch is None and fs.total.points == len({(p.spec.name, p.batch) for p in points})
    assert fs.total.r2 > 0.99 and fs.total.mape < 5


def test_fit_refuses_mixed_devices_and_too_few_points():
    mixed = synthetic_records("a")[:5] + synthetic_records("b")[:5]
    with pytest.raises(TrtbenchError) as err:
        costmodel.fit_records(mixed)
    assert "per device" in str(err.value)
    with pytest.raises(TrtbenchError) as err:
        costmodel.fit_records(synthetic_records()[:4])
    assert "too few" in str(err.value)


def test_predict_direct_and_scaled_by_rooflines():
    fs = costmodel.fit_records(synthetic_records("cpu-x"), "study", batch=1024)
    spec = parse_name("c2d20-f2n1024")
    direct = costmodel.predict([fs], spec, 1024, "cpu-x")
    assert not direct.scaled and direct.ms_per_tile == pytest.approx(fs.predict(spec, 1024))
    assert direct.tiles_per_ms == pytest.approx(1 / direct.ms_per_tile)
    targets = {"cpu-x": costmodel.Roofs("cpu-x", peak_fp32_tflops=1.0, peak_fp16_tflops=2.0, memory_bandwidth_gbs=50.0),
               "gpu-y": costmodel.Roofs("gpu-y", peak_fp32_tflops=4.0, peak_fp16_tflops=8.0, memory_bandwidth_gbs=400.0)}

    def get_target(name):
        if name not in targets:
            raise TrtbenchError(f"no target {name}")
        return targets[name]

    scaled = costmodel.predict([fs], spec, 1024, "gpu-y", get_target)
    assert scaled.scaled and "no measurements" in scaled.note
    ms_x, bound_x = costmodel.roofline_ms(spec, 1024, 1.0, 50.0)
    ms_y, _ = costmodel.roofline_ms(spec, 1024, 4.0, 400.0)
    assert scaled.scale == pytest.approx(ms_y / ms_x)
    assert scaled.ms_per_tile == pytest.approx(direct.ms_per_tile * ms_y / ms_x)
    assert bound_x == "compute"  # a conv net at batch 1024: ~40 FLOP/byte, above the 20 FLOP/byte ridge
    # at batch 1 an FC-heavy net reads its weights for one tile: bandwidth-bound
    assert costmodel.roofline_ms(parse_name("c1d20-f5n2048"), 1, 1.0, 50.0)[1] == "bandwidth"
    with pytest.raises(TrtbenchError):
        costmodel.predict([fs], spec, 1024, "gpu-z", get_target)
    assert math.isfinite(scaled.to_dict()["tiles_per_ms"])


def test_relative_weighting_and_the_repeat_spread():
    rng = np.random.default_rng(3)
    recs = []
    for p in study_points():
        f = costmodel.study_features(p.spec)
        for _ in range(2):  # every point measured twice, 10 % multiplicative noise
            recs.append(record(p.spec, 1024, truth(f, STUDY) * (1 + 0.1 * rng.standard_normal())))
    rel = costmodel.fit_records(recs, "study", 1024, weighting="relative")
    ab = costmodel.fit_records(recs, "study", 1024, weighting="absolute")
    assert rel.total.weighting == "relative" and ab.total.weighting == "absolute"
    # relative errors are what MAPE measures: fitting them does at least as well in sample
    assert rel.total.in_sample_mape <= ab.total.in_sample_mape + 1e-9
    assert rel.repeated_points == len({p.spec.name for p in study_points()})
    assert 3 < rel.repeat_mape < 10  # |x - mean| of two 10 % draws averages ~0.8 * 10 / sqrt(2)
    with pytest.raises(TrtbenchError):
        costmodel.fit_equation("study", "total", [costmodel.study_features(p.spec) for p in study_points()],
                               [1.0] * len(study_points()), weighting="sideways")


def test_the_general_fit_on_the_study_grid_predicts_any_onnx_model_and_says_how_far_it_extrapolates() -> None:
    """A fit made on the study's networks predicts a public model from its graph's FLOPs and bytes;
    a ResNet-50 lies far outside the study's grid, and the prediction says so feature by feature."""
    import trtbench
    from conftest import SHARED
    from fake_runs import make_record
    from trtbench.models.netspec import resolve_spec

    models = SHARED / "fixtures" / "models"
    if not (models / "resnet50_light.onnx").is_file():
        pytest.skip("public models not found")
    records = []
    for name in ("c1d20-f1n128", "c2d20-f1n1024", "c3d20-f3n1024", "c1d50-f2n512", "c2d50-f3n256",
                 "c3d50-f1n128", "c4d20-f2n1024", "c1d20-f3n1024"):
        spec = resolve_spec(name)
        for batch in (64, 1024):
            f = costmodel.general_features(spec, batch)
            ms = (0.5 * f["conv_gflop"] + 0.1 * f["fc_gflop"] + 2 * f["conv_mb"] + 0.001) * batch
            record = make_record(model=name, batch=batch)
            record.end_to_end_ms, record.tiles_per_ms, record.images_per_s = ms, batch / ms, 1000 * batch / ms
            records.append(record)
    fits = trtbench.fit(records, model="general")
    resnet = trtbench.predict(str(models / "resnet50_light.onnx"), "cpu", fits=fits, batch=1)
    gflop = resnet.ms_per_tile  # the fitted law: 0.5 ms per conv GFLOP + 2 ms per conv MB + ...
    assert gflop == pytest.approx(0.5 * 8.17 + 0.1 * 0.004 + 2 * 181 + 0.001, rel=0.05)
    assert any(o.startswith("conv_gflop") and "× the largest fitted" in o for o in resnet.outside)
    mnist = trtbench.predict(str(models / "mnist_cntk_zoo.onnx"), "cpu", fits=fits, batch=1)
    assert 0 < mnist.ms_per_tile < resnet.ms_per_tile and not any("conv_gflop" in o for o in mnist.outside)
    with pytest.raises(TrtbenchError, match="--model general"):
        costmodel.features_of("study", costmodel.GraphWorkload("m", {"by_category": {}}), 1)


def test_predicting_an_onnx_model_whose_conv_flops_are_unknown_is_refused(tmp_path: Path, monkeypatch) -> None:
    """A conv whose shapes nothing could infer would be left out of the prediction: refuse instead;
    unknown post-processing (a ZipMap) does not matter to the features."""
    from types import SimpleNamespace

    from trtbench.api import fit as fit_api
    from trtbench.models import graph_cost

    (tmp_path / "m.onnx").write_bytes(b"")
    nodes = [SimpleNamespace(flops=None, category="other", op_type="ZipMap")]
    fake = SimpleNamespace(nodes=nodes, to_dict=lambda: {"by_category": {}})
    monkeypatch.setattr(graph_cost, "graph_cost", lambda path, batch=None: fake)
    assert fit_api.graph_workload(tmp_path / "m.onnx").name == "m"
    nodes.append(SimpleNamespace(flops=None, category="conv", op_type="Conv"))
    with pytest.raises(TrtbenchError, match=r"FLOPs unknown for some nodes \(Conv\)"):
        fit_api.graph_workload(tmp_path / "m.onnx")
