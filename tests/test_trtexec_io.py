"""Parsers for trtexec's JSON exports and console logs, on the real fixtures of every version."""
from __future__ import annotations

import json
import math
import re

import pytest

from tests.conftest import TRTEXEC_FIXTURES
from trtbench.backends.trtexec.parsers import parse_layer_info, parse_log, parse_profile, parse_times
from trtbench.device.tensorrt_install import TrtVersion
from trtbench.errors import TrtbenchError

F = TRTEXEC_FIXTURES
PROFILES = sorted(F.glob("*profile.json"))
LAYER_INFOS = sorted(p for p in F.glob("*.json") if "graph" in p.name or "exportLayerInfo" in p.name
                     or "layer_names_only" in p.name)
LOGS = sorted(F.glob("*.log"))


def _ids(p):
    return p.name[:70]


@pytest.mark.parametrize("path", PROFILES, ids=_ids)
def test_profile_fixture(path):
    prof = parse_profile(path)
    raw = json.loads(path.read_text())  # these fixtures happen to be strict JSON: an independent reading
    assert prof.count == raw[0]["count"]
    assert [r.name for r in prof.rows] == [r["name"] for r in raw[1:]]
    assert prof.has_median == ("medianMs" in raw[1])
    assert abs(sum(r.percentage for r in prof.rows) - 100.0) < 0.01
    for row in prof.rows:
        assert row.time_ms == pytest.approx(row.average_ms * prof.count, rel=2e-3, abs=1e-6)
    assert prof.total_ms == pytest.approx(sum(r["timeMs"] for r in raw[1:]))


def test_profile_four_and_five_keys():
    old = parse_profile(F / "ismetdagli__HaX-CoNN__trt7.1.3-XavierAGX-googlenet_gpu_transition_at_-1.profile.json")
    new = parse_profile(F / "NVIDIA__TensorRT__trex-A100-fp32-resnet.onnx.engine.profile.json")
    assert not old.has_median and all(r.median_ms is None for r in old.rows) and old.count == 12485
    assert new.has_median and new.rows[0].median_ms == pytest.approx(0.52224)


def test_profile_with_unescaped_names_and_nan_falls_back_to_lines(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('[\n  { "count" : 4 }\n'
                    ', { "name" : "Conv "quoted" \\x + Relu", "timeMs" : 2.0, "averageMs" : 0.5, "percentage" : 80 }\n'
                    ', { "name" : "Idle", "timeMs" : nan, "averageMs" : nan, "medianMs" : nan, "percentage" : inf }\n'
                    ', { "name" : "MaxPool_2", "timeMs" : 0.5, "averageMs" : 0.125, "medianMs" : 0.1, "percentage" : 20 }\n'
                    ']\n')
    with pytest.raises(ValueError):
        json.loads(path.read_text())
    prof = parse_profile(path)
    assert not prof.strict_json and prof.count == 4
    assert [r.name for r in prof.rows] == ['Conv "quoted" \\x + Relu', "Idle", "MaxPool_2"]
    assert math.isnan(prof.rows[1].average_ms) and prof.rows[2].median_ms == 0.1
    assert prof.total_ms == pytest.approx(2.5)


def test_profile_without_count_infers_it(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps([{"name": "a", "timeMs": 3.0, "averageMs": 0.3, "percentage": 100.0}]))
    assert parse_profile(path).count == 10


@pytest.mark.parametrize("text", ["{}", "[1, 2]", "not json at all", "[]"])
def test_profile_rejects_other_files(tmp_path, text):
    path = tmp_path / "x.json"
    path.write_text(text)
    with pytest.raises(TrtbenchError, match="x.json"):
        parse_profile(path)


def test_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(TrtbenchError, match="does not exist"):
        parse_profile(tmp_path / "nope.json")


@pytest.mark.parametrize("path", LAYER_INFOS, ids=_ids)
def test_layer_info_fixture(path):
    info = parse_layer_info(path)
    raw = json.loads(path.read_text())
    assert info.names == [x["Name"] if isinstance(x, dict) else x for x in raw["Layers"]]
    assert info.bindings == raw["Bindings"]
    assert info.detailed == isinstance(raw["Layers"][0], dict)
    if info.detailed:
        first = raw["Layers"][0]["Inputs"][0]["Dimensions"][0]
        assert info.batch() == first


def test_layer_info_bare_list_and_io_tensors():
    from trtbench.backends.trtexec.parsers import layer_info_from_json
    info = layer_info_from_json({"Layers": [{"Name": "a", "LayerType": "NoOp"}],
                                 "I/O Tensors": [{"Name": "x", "Mode": "Input"}]})
    assert info.bindings == ["x"] and info.detailed
    assert layer_info_from_json(["a", "b"]).names == ["a", "b"]
    with pytest.raises(TrtbenchError, match="Layers"):
        layer_info_from_json({"layers": []})


def test_times_fixture():
    path = F / "NVIDIA__TensorRT__trex-RTX3090-fp32-resnet.onnx.engine.timing.json"
    times = parse_times(path)
    raw = json.loads(path.read_text())
    assert len(times.compute_ms) == len(raw) == 263
    assert times.compute_ms == [r["computeMs"] for r in raw]
    assert set(times.h2d_ms) == {0.0} and times.end_to_end_ms == []  # transfers off; no endToEndMs (8.4+)


def test_times_trt7_keys(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps([{"startInMs": 0, "inMs": 0.1, "computeMs": 2.0, "outMs": 0.2, "latencyMs": 2.3,
                                 "endToEndMs": 2.5}] * 3))
    times = parse_times(path)
    assert times.h2d_ms == [0.1] * 3 and times.d2h_ms == [0.2] * 3 and times.end_to_end_ms == [2.5] * 3


def _expected_version(text):
    m = re.search(r"TensorRT version: (\S+)", text) or re.search(r"\[TensorRT (v\d+)\]", text)
    return TrtVersion.parse(m.group(1)) if m else None


@pytest.mark.parametrize("path", LOGS, ids=_ids)
def test_log_fixture(path):
    text = path.read_text()
    log = parse_log(path)
    assert log.version == _expected_version(text)
    device = re.search(r"Selected Device: (.+)", text)
    assert log.device.name == (device.group(1).strip() if device else "")
    sms = re.search(r"\] SMs: (\d+)", text)
    assert log.device.sms == (int(sms.group(1)) if sms else None)
    throughput = re.search(r"Throughput: (\S+) qps", text)
    if throughput:
        assert log.summary.throughput_qps == float(throughput.group(1))
        compute = re.search(r"GPU Compute Time: min = \S+ ms, max = \S+ ms, mean = (\S+) ms", text)
        assert log.summary.gpu_compute.mean == float(compute.group(1))
        assert log.summary.gpu_compute.percentiles[99.0] > 0
        assert (log.summary.end_to_end is not None) == ("End-to-End Host Latency" in text)
    if "=== Profile (" in text:
        iterations = int(re.search(r"=== Profile \((\d+) iterations", text).group(1))
        m = re.search(r"\[I\]\s+Total\s+([\d.]+)", text) or \
            re.search(r"\[I\]\s+([\d.]+)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+Total\s*$", text, re.M)
        assert log.profile.count == iterations
        assert log.profile.table_total_ms == float(m.group(1))
        assert log.profile.total_ms == pytest.approx(float(m.group(1)), rel=1e-3)
    if "Layers:" in text:
        assert log.layer_info is not None and log.layer_info.bindings
    assert log.summary_suppressed == ("e2e network timing is not reported" in text)


def test_log_table_orientation_by_version():
    old = parse_log(F / "XMR13__ALPR_Jetson__trt8.5.2-XavierNX-LPRNet-dumpProfile.excerpt.log").profile
    assert old.rows[0].name == "[HostToDeviceCopy 0]" and old.rows[0].median_ms == pytest.approx(0.0285)
    assert old.rows[1].name == "tf_op_layer_Sum/Sum_reduce_min"
    new = parse_log(F / "NVIDIA__trt-samples-for-hackathon-cn__trt10.16.1-H100-result-05-dumpProfile.log").profile
    assert new.rows[0].name == "__mye59_0_myl0_0" and new.rows[0].time_ms == pytest.approx(31.40)
    assert new.rows[3].name == "Reformatting CopyNode for Input Tensor 0 to {ForeignNode[node_conv2d_1...node_relu_1]}"
    trt7 = parse_log(F / "ismetdagli__HaX-CoNN__trt7.1.3-XavierAGX-googlenet-DLA-dumpProfile.excerpt.log")
    assert trt7.profile.rows[1].name.startswith("{conv1/7x7_s2,") and trt7.profile.rows[1].median_ms is None
    assert trt7.summary.style == "trt7" and trt7.summary.gpu_compute.percentiles == {99.0: 3.87695}
    assert trt7.summary.total_gpu_compute_s == pytest.approx(3.68068)


def test_log_shapes_batch_and_build():
    nano = parse_log(F / "unknown-repo__jetson-nano__trt8.2.1-Nano-culane18-resnet18-build-and-run.log")
    assert nano.batch == 1 and nano.build_seconds == pytest.approx(184.708) and len(nano.gpu_layers) == 26
    assert nano.device.compute_capability == "5.3" and nano.device.compute_clock_ghz == pytest.approx(0.9216)
    gtx = parse_log(F / "NVIDIA__trt-samples-for-hackathon-cn__trt8.0.3-GTX1070-build-and-run-FP32.excerpt.log")
    assert gtx.input_shapes == {"x:0": [4, 1, 28, 28]} and gtx.options["Build Options"]["Workspace"] == "1024 MiB"
    assert gtx.warmup_queries == 1240 and gtx.summary.queries == 19295
    h100 = parse_log(F / "NVIDIA__trt-samples-for-hackathon-cn__trt10.16.1-H100-loadEngine-cudagraph-run.excerpt.log")
    assert h100.batch == 4 and h100.device.compute_clock_ghz == pytest.approx(1.755)  # "Application" clock


def test_log_dump_layer_info_oneline():
    log = parse_log(F / "NVIDIA__trt-samples-for-hackathon-cn__trt10.16.1-H100-result-04-dumpLayerInfo.log")
    info = log.layer_info
    assert info.detailed and info.bindings == ["x", "y", "z"]
    first = info.layers[0]
    assert first["Name"] == "node_conv2d + node_relu" and first["ParameterType"] == "Convolution"
    assert first["Kernel"] == [5, 5] and "node_relu" in first["Metadata"]
    assert info.layers[4]["LayerType"] == "gemm" and "ParameterType" not in info.layers[4]
    names = json.loads((F / "NVIDIA__trt-samples-for-hackathon-cn__trt10.16-H100-model-trained-exportLayerInfo.json")
                       .read_text())["Layers"]
    assert info.names == [x["Name"] for x in names]  # the same engine as the JSON export


def test_trex_metadata_reads_as_a_log():
    log = parse_log(F / "NVIDIA__TensorRT__trex-A100-fp32-resnet.onnx.engine.profile.metadata.json")
    assert log.device.name == "NVIDIA A100 80GB PCIe" and log.device.sms == 108
    assert log.summary.gpu_compute.mean == pytest.approx(2.00003) and log.summary.throughput_qps == 499.294
    assert log.batch == 32


def test_log_rejects_unrelated_text(tmp_path):
    path = tmp_path / "x.log"
    path.write_text("hello\nworld\n")
    with pytest.raises(TrtbenchError, match="trtexec output"):
        parse_log(path)
