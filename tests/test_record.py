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


# ---- well-formed records (trtbench.results.wellformed) ---------------------------------------

import copy  # noqa: E402
import math  # noqa: E402

from fake_runs import make_record as real_record  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from trtbench import jsonio  # noqa: E402
from trtbench.results import wellformed  # noqa: E402
from trtbench.results.store import parse_row  # noqa: E402

REAL = real_record(batch=64, iterations=4, loops=2).to_dict()  # a real record's shape (validated on to_dict)


def mutated(path, value):
    data = copy.deepcopy(REAL)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


def test_a_real_record_is_well_formed():
    assert wellformed.problems(REAL) == []
    assert wellformed.problems(jsonio.plain(make_record().to_dict())) == []


@pytest.mark.parametrize("path, value, words", [
    (("batch",), 0, "batch is 0, not a whole number from 1 to 10,000,000"),
    (("batch",), "12", "batch is the text '12', not a whole number"),
    (("batch",), True, "batch is true, not a whole number"),
    (("batch",), 64.0, "write it without .0"),
    (("batch",), 10 ** 8, "batch is 100,000,000"),
    (("end_to_end_ms",), float("nan"), "end_to_end_ms is NaN, not a finite number"),
    (("end_to_end_ms",), None, "end_to_end_ms is null, not a number (NaN is written as null)"),
    (("tiles_per_ms",), "12", "tiles_per_ms is the text '12', not a number"),
    (("iterations",), -1, "iterations is -1"),
    (("loops",), 2.5, "loops is 2.5, not a whole number"),
    (("iteration_ms", 1, 2), "0.7", "iteration_ms[1][2] is the text '0.7'"),
    (("iteration_ms",), [1.0, 2.0], "iteration_ms[0] is 1.0, not a list of times"),
    (("loop_ms", 0), float("inf"), "loop_ms[0] is Infinity, not a finite number"),
    (("layers", 3, "ms"), -0.5, "layers[3].ms is -0.5, not zero or more"),
    (("layers", 0, "name"), 7, "layers[0].name is 7, not text"),
    (("layers", 1, "category"), "", "layers[1].category is empty"),
    (("categories", "conv"), float("nan"), "categories.conv is NaN"),
    (("kind",), "benchmark", "kind is the text 'benchmark', not one of profile, drift"),
    (("model",), "c1d20", "model is the text 'c1d20', not a JSON object"),
    (("validity", "verdict"), "GOOD", "validity.verdict is the text 'GOOD'"),
    (("run_id",), "not-an-id", "run_id is the text 'not-an-id', not 32 (or 12) hex digits"),
    (("notes",), "one note", "notes is not a list of text"),
])
def test_a_broken_field_is_one_line_naming_the_record_and_the_field(path, value, words):
    with pytest.raises(wellformed.BadRecord) as err:
        RunRecord.from_dict(mutated(path, value), source="tx1.json, record 2 of 4")
    line = str(err.value)
    assert line.startswith("tx1.json, record 2 of 4: ") and words in line and "\n" not in line
    assert err.value.hint  # says how to fix it


@pytest.mark.parametrize("path, value", [
    (("overhead",), None), (("overhead",), float("nan")), (("overhead",), -0.2),  # may be null; NaN is null
    (("images_per_s",), None), (("images_per_s",), float("nan")),  # None: derived from tiles_per_ms
    (("validity", "cold_ms"), float("nan")), (("telemetry",), None), (("drift",), None),
    (("layers", 0, "percent"), None),
])
def test_null_where_the_schema_allows_it_reads_and_formats(path, value):
    from trtbench.render import console

    record = RunRecord.from_dict(mutated(path, value))
    row = record.summary()
    assert console.fmt(row["images_per_s"]) and console.fmt(record.overhead) and f"{row['batch']:,}" == "64"
    jsonio.dumps(record.to_dict())


def test_missing_optional_fields_are_tolerated_and_missing_needed_ones_named():
    data = copy.deepcopy(REAL)
    for name in ("warmup", "notes", "telemetry", "drift", "overhead", "images_per_s", "tags", "session", "host"):
        data.pop(name)
    assert RunRecord.from_dict(data).batch == 64
    data.pop("end_to_end_ms")
    with pytest.raises(wellformed.BadRecord, match="end_to_end_ms is missing"):
        RunRecord.from_dict(data)


def test_a_text_schema_version_is_refused():
    with pytest.raises(TrtbenchError, match="schema_version '3'"):
        RunRecord.from_dict(mutated(("schema_version",), "3"))


def test_a_drift_run_needs_its_series():
    with pytest.raises(wellformed.BadRecord, match="drift is missing"):
        RunRecord.from_dict(mutated(("kind",), "drift"))


_PATHS = [(k,) for k in REAL if k != "schema_version"] + [
    ("model", "name"), ("categories", "conv"), ("categories", "fc"), ("layers", 0, "ms"), ("layers", 1, "name"),
    ("layers", 2, "category"), ("layers", 0, "percent"), ("loop_ms", 1), ("iteration_ms", 0, 3),
    ("iteration_ms", 1), ("validity", "verdict"), ("validity", "cold_ms"), ("validity", "checks"),
]
_DELETE = object()
_VALUES = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, 0, -1, 1, 10 ** 8, "12", "", "x", True, False, None, [], {},
                     [1.0], [[1.0]], {"a": 1}, [{"name": "x", "status": "ok", "message": ""}], _DELETE]),
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-10 ** 9, 10 ** 9), st.text(max_size=4),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_PATHS), _VALUES), min_size=1, max_size=3))
def test_a_mutated_record_is_refused_in_one_line_or_works_everywhere(mutations):
    """Whatever one does to a real record's fields, reading it either fails as a one-line user
    error or gives a record that lists, formats, stores and reads back."""
    from trtbench.render import console

    data = copy.deepcopy(REAL)
    for path, value in mutations:
        target = data
        for key in path[:-1]:
            target = target[key] if isinstance(target, (dict, list)) and _has(target, key) else None
            if target is None:
                break
        if isinstance(target, (dict, list)) and _has(target, path[-1]):
            if value is _DELETE:
                del target[path[-1]]
            else:
                target[path[-1]] = value
    assert isinstance(wellformed.problems(data), list)  # never raises
    try:
        record = RunRecord.from_dict(data, source="mutated.json")
    except TrtbenchError as exc:
        assert "\n" not in str(exc)
        return
    row = record.summary()
    cells = [f"{row['batch']:,}", console.fmt(row["images_per_s"], 4), console.fmt(row["end_to_end_ms"], 4),
             console.fmt(record.overhead), console.fmt(record.ms_per_tile)]
    cells += [console.fmt(layer.ms) for layer in record.layers] + [console.fmt(v) for v in record.categories.values()]
    text = jsonio.dumps(record.to_dict(), indent=None)  # what the store writes (schema-checked in the suite)
    back = parse_row(record.run_id, text)  # and how it reads it back
    assert (back.run_id, back.batch, back.end_to_end_ms) == (record.run_id, record.batch, record.end_to_end_ms)
    assert [(x.name, x.ms) for x in back.layers] == [(x.name, x.ms) for x in record.layers]
    assert jsonio.dumps(parse_row(back.run_id, jsonio.dumps(back.to_dict())).to_dict()) == jsonio.dumps(back.to_dict())


def _has(container, key):
    return key in container if isinstance(container, dict) else isinstance(key, int) and -len(container) <= key < len(container)
