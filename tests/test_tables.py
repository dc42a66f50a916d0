"""Rendering records: what the tables say, in plain text."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from fake_runs import ORT_LAYERS, TRT_LAYERS, make_record
from rich.console import Console

from trtbench.render import tables
from trtbench.results.record import LayerTime, read_records, write_records


def render(records, verbose: bool = False) -> str:
    buffer = io.StringIO()
    tables.print_records(records, verbose=verbose, console=Console(file=buffer, width=200, no_color=True))
    return buffer.getvalue()


def row(text: str, first: str) -> list:
    """The cells of the table row that starts with `first`."""
    for line in text.splitlines():
        cells = [c.strip() for c in re.split(r"\s*[|│]\s*", line.strip())]
        if cells and cells[0] == first:
            return cells
    raise AssertionError(f"no row {first!r} in:\n{text}")


def test_headline_shows_throughput_spread_and_overhead() -> None:
    record = make_record(batch=1024, overhead=0.0625)
    record.iteration_ms = [[20.0, 22.0], [20.0, 22.0]]
    record.loops, record.iterations = 2, 2
    text = render([record])
    assert record.run_id in text and "batch 1,024" in text and "onnxruntime 1.20.1" in text
    assert re.search(
        r"spread\s+CV 5\.5 %, 20\.0–22\.0 ms per iteration", text
    )  # sample stdev 1.155 / mean 21 = 5.50 %
    assert re.search(r"profiler overhead\s+6\.2 %", text)
    assert re.search(r"timed\s+2 loops × 2 iterations", text)
    assert re.search(r"tiles/ms\s+" + re.escape(f"{record.tiles_per_ms:.2f}"), text)


def test_category_table_in_canonical_order_with_per_tile_times() -> None:
    record = make_record(batch=512)
    text = render([record])
    section = text.split("Time per category")[1].split("Layers")[0]
    order = [name for name in ("conv", "pool", "fc", "elementwise", "reformat") if name in section]
    positions = [section.index(f" {name} ") for name in order]
    assert positions == sorted(positions) and len(order) == 5
    conv = row(section, "conv")
    total = sum(record.categories.values())
    assert float(conv[1]) == pytest.approx(record.categories["conv"], rel=1e-2)
    assert float(conv[2].rstrip(" %")) == pytest.approx(100 * record.categories["conv"] / total, abs=0.05)
    assert float(conv[3]) == pytest.approx(1000 * record.categories["conv"] / 512, rel=1e-2)


def test_long_layer_lists_are_cut_unless_verbose() -> None:
    layers = [(f"layer{i:02d}", "conv", 0.1 + i, "Conv") for i in range(20)]
    record = make_record(layers=layers)
    short = render([record])
    assert "Slowest 15 of 20 layers" in short and "5 more" in short
    assert "layer19" in short and "layer04 " not in short  # the five fastest are cut
    full = render([record], verbose=True)
    assert all(f"layer{i:02d}" in full for i in range(20)) and "more" not in full


def test_validity_warnings_name_the_fix_and_passing_checks_stay_quiet() -> None:
    record = make_record(
        validity={
            "verdict": "WARN",
            "checks": [
                {
                    "name": "spread",
                    "status": "warn",
                    "message": "CV 6.1 % is over 3 %",
                    "fix": "use --loops 10",
                },
                {"name": "iterations", "status": "pass", "message": "enough iterations"},
            ],
        }
    )
    text = render([record])
    assert "verdict: WARN" in text
    assert "WARN spread: CV 6.1 % is over 3 % (fix: use --loops 10)" in text
    assert "enough iterations" not in text


def test_a_warning_shared_by_several_batches_is_printed_once() -> None:
    shared = {"name": "cpu-governor", "status": "warn", "message": "CPU frequency scaling is on", "fix": "pin it"}
    own = {"name": "spread", "status": "warn", "message": "CV 9 % at batch 16", "fix": "more loops"}
    records = [make_record(batch=16, validity={"verdict": "WARN", "checks": [shared, own]}),
               make_record(batch=1024, validity={"verdict": "WARN", "checks": [shared]})]
    text = render(records)
    assert text.count("CPU frequency scaling is on") == 1
    assert text.count("verdict: WARN") == 2 and "CV 9 % at batch 16" in text
    assert "also, as for the batch above: WARN cpu-governor: CPU frequency scaling is…" in text  # named, not hidden
    assert render(records, verbose=True).count("CPU frequency scaling is on") == 2


def test_batch_table_for_several_batches_of_one_model() -> None:
    records = [make_record(batch=b, scale=1 + b / 4096) for b in (1024, 16, 256)]
    text = render(records)
    assert "by batch" in text
    section = text.split("by batch")[1]
    assert [row(section, f"{b:,}")[0] for b in (16, 256, 1024)]
    assert section.index(" 16 ") < section.index(" 256 ") < section.index(" 1,024 ")
    assert float(row(section, "256")[1].replace(",", "")) == pytest.approx(records[2].images_per_s, rel=1e-3)
    assert float(row(section, "256")[2]) == pytest.approx(records[2].tiles_per_ms, rel=1e-3)
    assert "images/s" in section and "tiles/ms" in section
    assert "by batch" not in render([make_record(), make_record(layers=TRT_LAYERS, backend="tensorrt")])


def test_units_follow_what_an_item_is() -> None:
    """Images/s for any model, tiles/ms only for the study's tiles, samples/s for vectors."""
    tiles = render([make_record(batch=64)])
    assert re.search(r"images/s\s+[\d,.]+", tiles) and re.search(r"tiles/ms\s+[\d.]+", tiles)
    assert re.search(r"ms per tile\s", tiles)
    image = make_record(batch=64)
    image.model = {"name": "resnet", "item": "image", "inputs": [{"name": "x", "shape": [1, 3, 224, 224],
                                                                  "dtype": "float32", "layout": "NCHW"}]}
    text = render([image])
    assert re.search(r"images/s\s+" + re.escape(f"{image.images_per_s:,.0f}"), text)
    assert "tiles/ms" not in text and "µs per image" in text and re.search(r"ms per image\s", text)
    image.model["item"] = "sample"
    assert "samples/s" in render([image]) and "tiles/ms" not in render([image])


def test_layer_type_column_only_when_known() -> None:
    record = make_record()
    record.layers = [LayerTime(name="a", category="conv", ms=1.0), LayerTime(name="b", category="fc", ms=1.0)]
    record.finish_layers()
    header = [line for line in render([record]).splitlines() if line.strip().startswith("layer")][0]
    assert "type" not in header


def test_write_records_to_stdout_and_file(tmp_path: Path, capsys) -> None:
    records = [make_record(batch=64), make_record(batch=1024)]
    write_records(records, "-")
    data = json.loads(capsys.readouterr().out)
    assert [item["batch"] for item in data] == [64, 1024]
    write_records(records[:1], tmp_path / "one.json")
    assert read_records(tmp_path / "one.json")[0].to_dict() == records[0].to_dict()


def test_comparison_table_flags_and_predictions(monkeypatch) -> None:
    import sys
    import types

    from trtbench.analysis.compare import compare
    from trtbench.analysis.costmodel import Roofs

    peaks = {"tx1": (0.511, 25.6), "gtx960": (2.41, 112.0)}
    module = types.ModuleType("trtbench.device.targets")
    module.get_target = lambda name: Roofs(name, *peaks[name])  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "trtbench.device.targets", module)
    a = make_record(device="tx1", backend="tensorrt")
    fast = {"fc": 105.0}
    b_layers = [(n, c, ms / fast.get(c, 6.0), t) for n, c, ms, t in ORT_LAYERS]
    b = make_record(device="gtx960", backend="tensorrt", layers=b_layers)
    buffer = io.StringIO()
    tables.print_comparisons([compare(a, b)], console=Console(file=buffer, width=200, no_color=True))
    text = buffer.getvalue()
    fc, conv = row(text, "fc"), row(text, "conv")
    assert fc[3] == "105×" and "departs" in fc[-1]
    assert conv[3] == "6.00×" and "departs" not in conv[-1]
    assert conv[5] == f"{2.41 / 0.511:.2f}×"  # after the speedup's interval
    assert conv[4] == "-"  # these records keep no per-category intervals
    total = row(text, "total")
    low, high = (float(x) for x in total[4].rstrip("×").split("–"))
    assert low < float(total[3].rstrip("×")) < high  # the end-to-end speedup's bootstrap interval
    assert "predicted from target profiles tx1 → gtx960" in text
