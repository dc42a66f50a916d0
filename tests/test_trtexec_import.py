"""trtexec outputs → RunRecord, on every fixture in shared/fixtures/trtexec.

For each file: per-category totals add up to the file's layer total (±0.1 %), and no layer whose
type or name says convolution or pooling lands in "other".
"""
from __future__ import annotations

import json
import re
from typing import Dict, Optional

import pytest

from tests.conftest import TRTEXEC_FIXTURES
from trtbench.backends.trtexec.importer import import_outputs
from trtbench.backends.trtexec.parsers import parse_layer_info, parse_log, parse_profile
from trtbench.errors import TrtbenchError
from trtbench.results.record import RunRecord

F = TRTEXEC_FIXTURES
A100 = "NVIDIA__TensorRT__trex-A100-fp32-resnet.onnx.engine"
MOBILENET = "NVIDIA__TensorRT__trex-tests-mobilenet.qat.onnx.engine"
H100_INFO = "NVIDIA__trt-samples-for-hackathon-cn__trt10.16-H100-model-trained-exportLayerInfo.json"
H100_PROFILE_LOG = "NVIDIA__trt-samples-for-hackathon-cn__trt10.16.1-H100-result-05-dumpProfile.log"

# Which inputs each fixture is imported with: the file itself in its role, plus its real partners.
PARTNERS: Dict[str, Dict[str, str]] = {
    f"{A100}.profile.json": {"layers": f"{A100}.graph.json", "log": f"{A100}.profile.metadata.json"},
    f"{A100}.graph.json": {"profile": f"{A100}.profile.json"},
    f"{A100}.profile.metadata.json": {"profile": f"{A100}.profile.json"},
    f"{MOBILENET}.profile.json": {"layers": f"{MOBILENET}.graph.json"},
    f"{MOBILENET}.graph.json": {"profile": f"{MOBILENET}.profile.json"},
    H100_INFO: {"log": H100_PROFILE_LOG},
}


def _role(name: str) -> str:
    if name.endswith("profile.json"):
        return "profile"
    if name.endswith("timing.json"):
        return "times"
    if name.endswith(".log") or name.endswith("metadata.json"):
        return "log"
    return "layers"


FIXTURES = sorted(p.name for p in F.iterdir() if p.name != "SOURCES.md")


def _import(name: str, batch: Optional[int] = None) -> RunRecord:
    files = {_role(name): name, **PARTNERS.get(name, {})}
    return import_outputs(**{role: (F / files[role] if role in files else None)
                             for role in ("profile", "layers", "times", "log")}, batch=batch)


def _file_total_ms(name: str) -> Optional[float]:
    """The layer total per inference according to the file, read independently of the parsers."""
    files = {_role(name): name, **PARTNERS.get(name, {})}
    if "profile" in files:
        raw = json.loads((F / files["profile"]).read_text())
        return sum(r["timeMs"] for r in raw[1:]) / raw[0]["count"]
    if "log" in files and (F / files["log"]).suffix == ".log":
        text = (F / files["log"]).read_text()
        if "=== Profile (" in text:
            count = int(re.search(r"=== Profile \((\d+) iterations", text).group(1))
            m = re.search(r"\[I\]\s+Total\s+([\d.]+)", text) or \
                re.search(r"\[I\]\s+([\d.]+)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+Total\s*$", text, re.M)
            return float(m.group(1)) / count
    return None


def _says_conv_or_pool(name: str, layer_type: Optional[str]) -> bool:
    if layer_type and re.search(r"Conv|Pool", layer_type):
        return True
    return bool(re.search(r"conv|pool", name, re.I)) and not name.startswith("{")  # {…} = a whole subgraph


def test_every_fixture_has_a_role():
    assert len(FIXTURES) >= 23
    roles = {_role(n) for n in FIXTURES}
    assert roles == {"profile", "layers", "times", "log"}


@pytest.mark.parametrize("name", FIXTURES, ids=lambda n: n[:70])
def test_fixture_imports(name):
    files = {_role(name): name, **PARTNERS.get(name, {})}
    if set(files) == {"layers"}:
        # layer info alone has no times: importing must say so; its names still categorise
        with pytest.raises(TrtbenchError, match="nothing to import"):
            _import(name)
        from trtbench.categories.tensorrt_layers import categorize
        info = parse_layer_info(F / name)
        for layer_name, layer in zip(info.names, info.layers):
            category = categorize(layer_name, layer if info.detailed else None)
            assert not (category == "other" and _says_conv_or_pool(layer_name, layer.get("LayerType"))), layer_name
        return
    text = (F / name).read_text() if name.endswith(".log") else ""
    if text and "Throughput" not in text and "=== Profile (" not in text:
        with pytest.raises(TrtbenchError, match="no per-layer profile, no times"):  # a build-only log
            _import(name)
        return
    record = _import(name)
    assert record.backend == "trtexec"
    total = _file_total_ms(name)
    if total is not None:
        assert record.layers
        assert sum(record.categories.values()) == pytest.approx(total, rel=1e-3)
        assert sum(layer.ms for layer in record.layers) == pytest.approx(total, rel=1e-3)
    for layer in record.layers:
        assert not (layer.category == "other" and _says_conv_or_pool(layer.name, layer.type)), layer.name
    assert record.end_to_end_ms > 0
    json.dumps(record.to_dict(), allow_nan=False)  # a record that any JSON reader accepts


def test_a100_categories_match_the_engine_graph():
    """Expected totals from the graph's own types: Convolution → conv (1×1 named Gemm → fc), Pooling →
    pool, Reformat/NoOp → reformat."""
    graph = {x["Name"]: x for x in json.loads((F / f"{A100}.graph.json").read_text())["Layers"]}
    raw = json.loads((F / f"{A100}.profile.json").read_text())
    expected: Dict[str, float] = {}
    for row in raw[1:]:
        layer = graph[row["name"]]
        kind = {"Convolution": "conv", "Pooling": "pool"}.get(layer.get("ParameterType"), "reformat")
        if row["name"].startswith("Gemm"):
            kind = "fc"
        expected[kind] = expected.get(kind, 0.0) + row["averageMs"]
    record = _import(f"{A100}.profile.json")
    assert record.categories.keys() == expected.keys()
    for kind, ms in expected.items():
        assert record.categories[kind] == pytest.approx(ms, rel=1e-6)
    assert record.device_name == "NVIDIA A100 80GB PCIe" and record.batch == 32
    assert record.end_to_end_ms == pytest.approx(2.00003)
    assert record.tiles_per_ms == pytest.approx(32 / 2.00003)
    gemm = next(layer for layer in record.layers if layer.name == "Gemm_48")
    assert gemm.category == "fc" and gemm.type == "CaskConvolution/Convolution"
    # output shapes from the graph, batch dimension dropped
    for layer in record.layers:
        dims = (graph[layer.name].get("Outputs") or [{}])[0].get("Dimensions")
        assert layer.shape == (dims[1:] if dims and len(dims) > 1 else None)
    assert gemm.shape is not None and len(gemm.shape) >= 1
    assert not any("by name alone" in n for n in record.notes)  # every row had layer info
    assert any("only 1 iteration" in n for n in record.notes)


def test_mobilenet_int8_qdq():
    record = _import(f"{MOBILENET}.profile.json")
    assert record.precision == "int8"  # from the Int8 tensor formats
    assert record.layers[0].name == "QuantizeLinear_2" and record.layers[0].category == "reformat"
    assert record.layers[-2].category == "fc"  # classifier Gemm run as a 1×1 convolution
    warn = record.validity.not_ok()
    assert any("profiled run" in c.name for c in warn)  # no timed run was given


def test_h100_profile_table_joined_with_layer_info_of_another_build():
    record = _import(H100_INFO)
    by_name = {layer.name: layer for layer in record.layers}
    assert by_name["node_max_pool2d"].type == "CaskPooling/Pooling"  # joined by name
    assert by_name["node_conv2d_myl0_1"].category == "conv" and by_name["node_conv2d_myl0_1"].type is None
    assert record.backend_version == "10.16.1" and record.device_name == "NVIDIA H100 PCIe"
    assert any("no layer-info record" in n for n in record.notes)


def test_times_give_per_iteration_compute_and_batch_gives_tiles_per_ms():
    times = F / "NVIDIA__TensorRT__trex-RTX3090-fp32-resnet.onnx.engine.timing.json"
    compute = [r["computeMs"] for r in json.loads(times.read_text())]
    record = import_outputs(None, None, times, None, batch=64)
    assert record.iteration_ms == [compute] and record.iterations == len(compute) and record.loops == 1
    assert record.end_to_end_ms == pytest.approx(sum(compute) / len(compute))
    assert record.tiles_per_ms == pytest.approx(64 / record.end_to_end_ms)
    unknown = import_outputs(None, None, times, None)
    assert unknown.tiles_per_ms == 0.0 and any("--batch" in n for n in unknown.notes)


def test_trt7_dla_profile_without_log():
    record = _import("ismetdagli__HaX-CoNN__trt7.1.3-XavierAGX-googlenet_dla_mark_at_10.profile.json", batch=1)
    total = sum(record.categories.values())
    assert record.categories["dla"] > 0.9 * total  # 93 % is the wait for the DLA's output: DLA compute
    # the copies into and out of the DLA's memory stay transfers, apart from the DLA's work
    assert record.categories["transfer"] == pytest.approx((415.646 + 200.936 + 55.2247) / 11296, rel=1e-4)
    assert "other" not in record.categories
    assert any("by name alone" in n for n in record.notes)


def test_dla_subgraph_of_a_dla_run_is_dla_work(tmp_path):
    """TensorRT 8.5 on Orin names the DLA subgraph {ForeignNode[...]}, as Myelin's: a run whose
    options say DLACore charges it to dla; the same table without them leaves it other."""
    excerpt = (TRTEXEC_FIXTURES / "ismetdagli__HaX-CoNN__trt8.5.2-AGXOrin-googlenet-DLA-dumpProfile.excerpt.log")
    head = ("[11/29/2023-16:18:00] [I] === System Options ===\n"
            "[11/29/2023-16:18:00] [I] Device: 0\n"
            "[11/29/2023-16:18:00] [I] DLACore: 0\n")
    log = tmp_path / "dla.log"
    log.write_text(head + excerpt.read_text())
    on_dla = import_outputs(None, None, None, log, batch=1)
    assert on_dla.categories["dla"] == pytest.approx(1.0320, rel=1e-3) and "other" not in on_dla.categories
    gpu = import_outputs(None, None, None, excerpt, batch=1)
    assert "dla" not in gpu.categories and gpu.categories["other"] == pytest.approx(1.0320, rel=1e-3)


def test_nano_8_0_summary_and_engine_name():
    record = _import("unknown-repo__jetson-nano__trt8.0.1-Nano-yolo-fp16-exportTimes-exportProfile.log")
    assert record.device_name == "NVIDIA Tegra X1" and record.backend_version == "8.0.1"
    assert record.precision == "fp16" and record.batch == 1
    assert record.end_to_end_ms == pytest.approx(40.0027) and record.iterations == 100
    assert record.model["name"] == "best_deepstream.onnx_b1_gpu0_fp16"
    assert record.telemetry.trtexec["summary"]["end_to_end"]["mean"] == pytest.approx(40.6771)


def test_profile_join_by_position_when_names_differ(tmp_path):
    prof = tmp_path / "p.json"
    prof.write_text(json.dumps([{"count": 2}, {"name": "a", "timeMs": 2.0, "averageMs": 1.0, "percentage": 50},
                                {"name": "b", "timeMs": 2.0, "averageMs": 1.0, "percentage": 50}]))
    layers = tmp_path / "l.json"
    layers.write_text(json.dumps({"Layers": [
        {"Name": "a [profile 1]", "LayerType": "CaskConvolution", "ParameterType": "Convolution", "Kernel": [3, 3]},
        {"Name": "b [profile 1]", "LayerType": "TiledPooling", "ParameterType": "Pooling"}]}))
    record = import_outputs(prof, layers, None, None, batch=8)
    assert [x.category for x in record.layers] == ["conv", "pool"]
    other = tmp_path / "l2.json"
    other.write_text(json.dumps({"Layers": [
        {"Name": "x", "LayerType": "CaskConvolution", "ParameterType": "Convolution"},
        {"Name": "y", "LayerType": "CaskPooling", "ParameterType": "Pooling"}]}))
    record = import_outputs(prof, other, None, None, batch=8)
    assert [x.category for x in record.layers] == ["conv", "pool"]
    assert any("by position" in n for n in record.notes)


def test_nothing_to_import(tmp_path):
    with pytest.raises(TrtbenchError, match="nothing to import"):
        import_outputs(None, None, None, None)
    zero = tmp_path / "p.json"
    zero.write_text(json.dumps([{"count": 5}, {"name": "a", "timeMs": 0, "averageMs": 0, "percentage": 0}]))
    with pytest.raises(TrtbenchError, match="all zero"):
        import_outputs(zero, None, None, None)


def test_log_profile_counts_match_parsers():
    """The import keeps every profile row, zero-time rows included."""
    name = f"{A100}.profile.json"
    assert len(_import(name).layers) == len(parse_profile(F / name).rows) == 32
    log = parse_log(F / "XMR13__ALPR_Jetson__trt8.5.2-XavierNX-LPRNet-dumpProfile.excerpt.log")
    record = _import("XMR13__ALPR_Jetson__trt8.5.2-XavierNX-LPRNet-dumpProfile.excerpt.log")
    assert len(record.layers) == len(log.profile.rows) == 28
    assert record.categories["transfer"] == pytest.approx(16.77 / 309)


def test_old_versions_drop_warm_up_queries_from_times(tmp_path):
    times = tmp_path / "t.json"
    times.write_text(json.dumps([{"computeMs": ms, "latencyMs": ms} for ms in (9.0, 8.0, 1.0, 1.0, 1.0)]))
    log = tmp_path / "run.log"
    log.write_text("&&&& RUNNING TensorRT.trtexec [TensorRT v8401] # trtexec --loadEngine=m.plan "
                   "--shapes=x:2x1x28x28\n[08/17/2022-07:51:12] [I] Warmup completed 2 queries over 200 ms\n")
    record = import_outputs(None, None, times, log)
    assert record.iteration_ms == [[1.0, 1.0, 1.0]] and record.batch == 2
    assert record.tiles_per_ms == pytest.approx(2.0)
    log.write_text(log.read_text().replace("v8401", "v8502"))  # 8.5+ leaves warm-up out of the file
    assert import_outputs(None, None, times, log).iterations == 5
    assert any("warm-up" in n for n in import_outputs(None, None, times, None).notes)
