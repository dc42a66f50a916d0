from __future__ import annotations

import json

import pytest

from trtbench.errors import TrtbenchError
from trtbench.results.record import LayerTime, RunRecord, read_records, to_trtexec_profile, write_records


def make_record(batch: int = 64) -> RunRecord:
    rec = RunRecord(
        backend="onnxruntime", device="cpu", batch=batch, precision="fp32",
        model={"name": "c1d20-f1n128", "sha256": "ab"}, iterations=2, loops=2,
        loop_ms=[4.0, 5.0], iteration_ms=[[2.0, 2.0], [2.5, 2.5]], end_to_end_ms=2.25,
        tiles_per_ms=batch / 2.25,
        layers=[LayerTime("/conv1/Conv", "conv", 1.5, type="Conv"),
                LayerTime("/pool/MaxPool", "pool", 0.25),
                LayerTime("/fc1/Gemm", "fc", 0.5),
                LayerTime("/conv1/Relu", "elementwise", 0.25)],
    )
    rec.finish_layers()
    return rec


def test_finish_layers_totals_and_percentages():
    rec = make_record()
    assert rec.categories == {"conv": 1.5, "pool": 0.25, "fc": 0.5, "elementwise": 0.25}
    assert list(rec.categories) == ["conv", "pool", "fc", "elementwise"]  # canonical order
    assert sum(layer.percent for layer in rec.layers) == pytest.approx(100.0)
    assert rec.layers[0].percent == pytest.approx(60.0)


def test_json_roundtrip_single_and_array(tmp_path):
    one = tmp_path / "one.json"
    write_records([make_record()], one)
    assert isinstance(json.loads(one.read_text()), dict)
    back = read_records(one)[0]
    assert back.to_dict() == make_record().to_dict() | {"run_id": back.run_id, "created": back.created}
    many = tmp_path / "many.json"
    write_records([make_record(64), make_record(1024)], many)
    assert [r.batch for r in read_records(many)] == [64, 1024]


def test_not_a_record_is_a_user_error(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"hello": 1}')
    with pytest.raises(TrtbenchError):
        read_records(path)
    path.write_text("not json")
    with pytest.raises(TrtbenchError):
        read_records(path)


def test_newer_schema_is_refused():
    data = make_record().to_dict()
    data["schema_version"] = 99
    with pytest.raises(TrtbenchError) as err:
        RunRecord.from_dict(data)
    assert "upgrade" in str(err.value)


def test_trtexec_profile_shape():
    record = make_record()
    rows = to_trtexec_profile(record)
    assert rows[0]["count"] == 2
    run = rows[0]["trtbench"]  # what import-trtexec reads back; trtexec's readers ignore it
    assert (run["backend"], run["device"], run["precision"], run["batch"]) == \
        (record.backend, record.device, record.precision, record.batch)
    assert rows[1]["trtbench"]["category"] == record.layers[0].category
    assert rows[1]["name"] == "/conv1/Conv"
    assert rows[1]["averageMs"] == pytest.approx(1.5)
    assert rows[1]["timeMs"] == pytest.approx(3.0)
    assert sum(r["percentage"] for r in rows[1:]) == pytest.approx(100.0)
