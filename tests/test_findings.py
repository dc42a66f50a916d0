"""The study's findings judged from synthetic runs whose costs are known."""
from __future__ import annotations

from trtbench.models.netspec import NetSpec
from trtbench.results.record import LayerTime, RunRecord
from trtbench.study2016 import findings as f


def run(spec: NetSpec, batch: int, ms_per_tile: float, fc_ms: float = 0.0, created: str = "2026") -> RunRecord:
    rec = RunRecord(backend="onnxruntime", device="cpu", batch=batch, precision="fp32",
                    model={"name": spec.name, "spec": spec.to_dict()}, iterations=1, loops=1,
                    loop_ms=[ms_per_tile * batch], iteration_ms=[[ms_per_tile * batch]],
                    end_to_end_ms=ms_per_tile * batch, tiles_per_ms=1 / ms_per_tile, created=created,
                    layers=[LayerTime("fc", "fc", fc_ms or ms_per_tile * batch / 2),
                            LayerTime("conv", "conv", ms_per_tile * batch / 2)])
    rec.finish_layers()
    return rec


def flop_cost(spec: NetSpec, batch: int) -> float:
    """ms/tile proportional to FLOPs, with a per-batch overhead that fades with batch size."""
    return spec.flops * 1e-8 + 2.0 / batch + 1e-4


def grid(cost=flop_cost):
    recs = []
    for b in (16, 64, 256, 512, 1024, 2048, 4096):
        for k in range(1, 6):
            recs.append(run(NetSpec.study(1, 20, k, 1024), b, cost(NetSpec.study(1, 20, k, 1024), b)))
        for m in range(2, 6):
            recs.append(run(NetSpec.study(m, 20, 1, 1024), b, cost(NetSpec.study(m, 20, 1, 1024), b)))
    return f.index_runs(recs)


def test_conv_vs_fc_uses_marginal_costs():
    finding = f.conv_vs_fc(grid())
    expected_conv = (NetSpec.study(5, 20, 1, 1024).flops - NetSpec.study(1, 20, 1, 1024).flops) / 4 * 1e-8
    expected_fc = (NetSpec.study(1, 20, 5, 1024).flops - NetSpec.study(1, 20, 1, 1024).flops) / 4 * 1e-8
    assert abs(finding.figures["ratio"] - expected_conv / expected_fc) < 0.2
    assert finding.verdict == (f.HOLDS if expected_conv / expected_fc >= 2 else f.PARTLY)


def test_second_conv_layer_is_most_expensive_when_cost_follows_flops():
    assert f.second_conv_costs_most(grid()).verdict == f.HOLDS
    # a device where every conv layer costs the same: the finding does not hold
    flat = grid(lambda s, b: 1e-3 * len(s.conv) + 1e-4 * len(s.fc))
    assert f.second_conv_costs_most(flat).verdict == f.DOES_NOT_HOLD


def test_batch_curve_flattening():
    assert f.batch_flattens(grid()).verdict == f.HOLDS
    # throughput that keeps doubling with batch does not flatten
    keeps_rising = grid(lambda s, b: 1.0 / b)
    assert f.batch_flattens(keeps_rising).verdict != f.HOLDS


def test_neurons_multiple_of_128():
    recs = []
    for n in (100, 128, 200, 256, 400, 512):
        spec = NetSpec.study(1, 20, 3, n)
        fc_flops = sum(g.flops for g in spec.layers() if g.kind == "fc")
        penalty = 1.0 if n % 128 == 0 else 1.5
        recs.append(run(spec, 1024, 1e-3, fc_ms=fc_flops * 1024 * 1e-9 * penalty))
    finding = f.neurons_multiple_of_128(f.index_runs(recs))
    assert finding.verdict == f.HOLDS
    assert finding.figures["share"] == 1.0
    assert f.neurons_multiple_of_128(grid()).verdict == f.UNTESTED  # only multiples measured


def test_training_time_vs_throughput():
    runs = grid()  # throughput follows FLOPs: c1d20-f1n1024 fastest, then c1d20-f5n1024, then c5d20-f1n1024
    unrelated = [{"spec": "c1d20-f5n1024", "times_to_accuracy": {"97": 50.0}},
                 {"spec": "c5d20-f1n1024", "times_to_accuracy": {"97": 30.0}},
                 {"spec": "c1d20-f1n1024", "times_to_accuracy": {"97": 40.0}}]
    assert f.training_vs_throughput(unrelated, runs).verdict == f.HOLDS
    same_order = [{"spec": "c1d20-f1n1024", "times_to_accuracy": {"97": 10.0}},
                  {"spec": "c1d20-f5n1024", "times_to_accuracy": {"97": 20.0}},
                  {"spec": "c5d20-f1n1024", "times_to_accuracy": {"97": 30.0}}]
    assert f.training_vs_throughput(same_order, runs).verdict == f.DOES_NOT_HOLD
    assert f.training_vs_throughput(same_order[:2], runs).verdict == f.UNTESTED


def test_untested_findings_say_what_they_need():
    assert f.device_speedup(None).verdict == f.UNTESTED
    assert "compare" in f.device_speedup(None).measured
    assert f.allocation_drift(None).verdict == f.UNTESTED
    assert f.linear_model(None).verdict == f.UNTESTED


def _drift_json(alloc_growth: float, compute_growth: float = 0.0) -> dict:
    """A `trtbench drift --json` payload from the real analysis of per-loop series."""
    import random

    from trtbench.analysis.drift import analyse_parts

    rng = random.Random(1)
    alloc = [2.0 + alloc_growth * i + rng.gauss(0, 0.02) for i in range(200)]
    compute = [50.0 + compute_growth * i + rng.gauss(0, 0.3) for i in range(200)]
    parts = {"alloc": alloc, "compute": compute, "total": [a + c for a, c in zip(alloc, compute)]}
    report = analyse_parts(parts, direction="up")
    return {**report.to_dict(), "source": {"loops": 200}, "series": parts}


def test_allocation_drift_verdicts_from_drift_analysis():
    grows = f.allocation_drift(_drift_json(alloc_growth=0.05))  # allocation +10 ms over 200 loops
    assert grows.verdict == f.HOLDS, grows.measured
    assert grows.figures["drifted"][0] == "alloc"
    steady = f.allocation_drift(_drift_json(alloc_growth=0.0))
    assert steady.verdict == f.DOES_NOT_HOLD and "no drift" in steady.measured
    compute_only = f.allocation_drift(_drift_json(alloc_growth=0.0, compute_growth=0.05))
    assert compute_only.verdict == f.DOES_NOT_HOLD and "compute" in compute_only.measured


def test_linear_model_verdicts_from_saved_fits():
    from trtbench.analysis import costmodel

    def study_cost(spec: NetSpec) -> float:  # ms/tile made of the study's own terms
        x = costmodel.study_features(spec)
        return 1e-3 + 6.6e-11 * x["fc_n2"] + 3e-8 * x["conv_out_d2"] / 400 + 2e-8 * x["conv_in"]

    specs = [NetSpec.study(1, 20, k, n) for k in range(1, 6) for n in (128, 256, 512, 1024, 2048)]
    specs += [NetSpec.study(m, d, 1, 1024) for m in range(2, 6) for d in (5, 10, 20, 40, 80)]
    recs = [run(s, 1024, study_cost(s)) for s in specs]
    good = f.linear_model(costmodel.fit_records(recs, "study", 1024).to_dict())
    assert good.verdict == f.HOLDS, good.measured
    assert good.figures["r2"] > 0.99
    # the same networks with times that swing 10x either way: the model cannot describe them
    scrambled = [run(s, 1024, study_cost(s) * (3.0 if i % 2 else 0.3)) for i, s in enumerate(specs)]
    bad = f.linear_model(costmodel.fit_records(scrambled, "study", 1024).to_dict())
    assert bad.verdict != f.HOLDS, bad.measured


def test_device_speedup_against_the_specs_ratio():
    measured = {"total": {"speedup": 6.0}, "categories": [{"category": "conv", "speedup": 6.5},
                                                         {"category": "fc", "speedup": 40.0}]}
    near = f.device_speedup({**measured, "predicted_speedup": 5.0})
    assert near.verdict == f.HOLDS and "fc 40.00×" in near.measured
    far = f.device_speedup({**measured, "predicted_speedup": 20.0})
    assert far.verdict == f.DOES_NOT_HOLD
    unknown = f.device_speedup(measured)
    assert unknown.verdict == f.UNTESTED and unknown.measured.startswith("overall 6.00×")


def test_study_comparison_of_tx1_and_gtx960_runs_judges_against_their_profiles():
    """Finding 6 from saved runs of two target devices: the speedup is measured from the records and
    the expected one comes from the profiles' peaks (GTX 960 2.41 TFLOP/s over TX1 0.511)."""
    from fake_runs import make_record

    from trtbench.device.targets import get_target
    from trtbench.study2016.collect import StudyResults, judge_all, speedup_summary

    tx1 = [make_record(model=m, device="tx1", scale=6.0, device_name="tx1") for m in ("c1d20-f1n1024", "c3d20-f3n1024")]
    gtx = [make_record(model=m, device="gtx960", scale=1.0, device_name="gtx960") for m in ("c1d20-f1n1024", "c3d20-f3n1024")]
    summary = speedup_summary(tx1, gtx)
    expected = get_target("gtx960").peak_fp32_tflops / get_target("tx1").peak_fp32_tflops
    assert abs(summary["total"]["speedup"] - 6.0) < 1e-9
    assert abs(summary["predicted_speedup"] - expected) < 1e-9
    six = judge_all(StudyResults(records=gtx), StudyResults(records=tx1))[5]
    assert six.number == 6 and six.verdict == f.HOLDS and "overall 6.00×" in six.measured
