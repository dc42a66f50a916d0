"""`trtbench runs`, `show` and `compare` through the real CLI, in a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_runs import TRT_LAYERS, make_record

from trtbench.results.record import read_records, write_records


@pytest.fixture
def run_files(tmp_path: Path):
    """A TX1-like and a GTX 960-like engine run at batches 64 and 1024, as JSON files."""
    tx1 = [
        make_record(device="tx1", backend="tensorrt", batch=b, layers=TRT_LAYERS, scale=20)
        for b in (64, 1024)
    ]
    gtx = [
        make_record(device="gtx960", backend="tensorrt", batch=b, layers=TRT_LAYERS, scale=3, seed=4)
        for b in (64, 1024)
    ]
    write_records(tx1, tmp_path / "tx1.json")
    write_records(gtx, tmp_path / "gtx960.json")
    return tx1, gtx


def test_import_is_idempotent_and_runs_lists_and_filters(cli, tmp_path: Path, run_files) -> None:
    tx1, gtx = run_files
    first = cli("runs", "import", "tx1.json", "gtx960.json", "--db", "hist.db")
    assert first.returncode == 0, first.stderr
    assert "imported 4" in first.stderr
    again = cli("runs", "import", "tx1.json", "--db", "hist.db")
    assert "imported 0" in again.stderr and "2 already there" in again.stderr
    listed = json.loads(cli("runs", "--db", "hist.db", "--json", "-").stdout)
    assert sorted(r["run_id"] for r in listed) == sorted(r.run_id for r in tx1 + gtx)
    only = json.loads(
        cli("runs", "--db", "hist.db", "--device", "tx1", "--batch", "1024", "--json", "-").stdout
    )
    assert [r["run_id"] for r in only] == [tx1[1].run_id]
    assert only[0]["tiles_per_ms"] == pytest.approx(tx1[1].tiles_per_ms)
    table = cli("runs", "--db", "hist.db", "--model", "c1d20-f1n1024")
    assert table.returncode == 0 and all(r.run_id[:12] in table.stdout for r in tx1 + gtx)
    assert "per second" in table.stdout and " tiles " in table.stdout and "\x1b[" not in table.stdout  # plain text in a pipe


def test_export_then_import_elsewhere_round_trips(cli, tmp_path: Path, run_files) -> None:
    tx1, _ = run_files
    cli("runs", "import", "tx1.json", "--db", "jetson.db")
    out = cli("runs", "export", tx1[0].run_id[:7], tx1[1].run_id, "--out", "moved.json", "--db", "jetson.db")
    assert out.returncode == 0, out.stderr
    moved = read_records(tmp_path / "moved.json")
    assert [r.to_dict() for r in moved] == [r.to_dict() for r in tx1]
    cli("runs", "import", "moved.json", "--db", "desktop.db")
    listed = json.loads(cli("runs", "--db", "desktop.db", "--json", "-").stdout)
    assert len(listed) == 2
    # no ids: every run matching the filters, oldest first; a filter before or after ACTION
    cli("runs", "import", "gtx960.json", "--db", "jetson.db")
    assert cli("runs", "export", "--device", "tx1", "--out", "f1.json", "--db", "jetson.db").returncode == 0
    assert cli("runs", "--batch", "64", "export", "--out", "f2.json", "--db", "jetson.db").returncode == 0
    assert [r.run_id for r in read_records(tmp_path / "f1.json")] == [r.run_id for r in tx1]
    assert sorted(r.device for r in read_records(tmp_path / "f2.json")) == ["gtx960", "tx1"]
    empty = cli("runs", "export", "--device", "h100", "--out", "f3.json", "--db", "jetson.db")
    assert empty.returncode == 2 and "no runs" in empty.stderr


def test_show_re_renders_a_stored_run_and_a_file(cli, tmp_path: Path, run_files) -> None:
    tx1, _ = run_files
    cli("runs", "import", "tx1.json", "--db", "hist.db")
    shown = cli("show", tx1[1].run_id[:8], "--db", "hist.db")
    assert shown.returncode == 0, shown.stderr
    for text in (tx1[1].run_id, "Time per category", "conv", "/pool1/MaxPool", "verdict: VALID"):
        assert text in shown.stdout
    from_file = cli("show", "tx1.json")
    assert "by batch" in from_file.stdout and tx1[0].run_id in from_file.stdout
    data = json.loads(cli("show", "tx1.json", "--json", "-").stdout)
    assert [d["batch"] for d in data] == [64, 1024]


def test_compare_json_speedups_are_ratios_of_category_times(cli, tmp_path: Path, run_files) -> None:
    tx1, gtx = run_files
    cli("runs", "import", "gtx960.json", "--db", "hist.db")
    result = cli("compare", str(tmp_path / "tx1.json"), gtx[1].run_id, "--db", "hist.db", "--json", "-")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    # A's file holds batches 64 and 1024: B (batch 1024) meets A's batch-1024 run
    assert data["a"]["run_id"] == tx1[1].run_id and data["b"]["run_id"] == gtx[1].run_id
    a, b = tx1[1], gtx[1]
    for category, row in data["categories"].items():
        a_tile, b_tile = a.categories[category] / a.batch, b.categories[category] / b.batch
        assert row["a_ms"] == pytest.approx(a_tile) and row["b_ms"] == pytest.approx(b_tile)
        assert row["speedup"] == pytest.approx(a_tile / b_tile)
    assert data["total"]["speedup"] == pytest.approx(a.ms_per_tile / b.ms_per_tile)


def test_compare_files_batch_by_batch_with_a_table(cli, run_files) -> None:
    tx1, gtx = run_files
    both = json.loads(cli("compare", "tx1.json", "gtx960.json", "--json", "-").stdout)
    assert [(c["a"]["batch"], c["b"]["batch"]) for c in both] == [(64, 64), (1024, 1024)]
    table = cli("compare", "tx1.json", "gtx960.json")
    assert table.returncode == 0, table.stderr
    assert "speedup of B over A" in table.stdout and "Layers, aligned" in table.stdout


def test_user_errors_are_one_line(cli, tmp_path: Path, run_files) -> None:
    cases = [
        ("show", "nope", "--db", "hist.db"),
        ("show", "missing.json"),
        ("compare", "tx1.json"),
        ("runs", "export", "no-such-run", "--out", "x.json", "--db", "hist.db"),  # not hex: never a prefix
        ("runs", "--tag", "novalue"),
        ("runs", "--since", "yesterday-ish"),
        ("runs", "import", "tx1.json", "--db", "tx1.json/sub.db"),
    ]
    cli("runs", "import", "gtx960.json", "--db", "hist.db")
    for args in cases:
        out = cli(*args)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("trtbench: error:"), (args, out.stderr)
    assert "is not writable" in cli(*cases[-1]).stderr


def test_runs_on_a_missing_database_says_so_without_creating_it(cli, tmp_path: Path) -> None:
    out = cli("runs", "--db", "none.db")
    assert out.returncode == 0 and "does not exist" in out.stderr
    assert not (tmp_path / "none.db").exists()


# ---- a poisoned store: bad records are refused, bad rows skipped and set aside ----------------

import math  # noqa: E402
import os  # noqa: E402
import sqlite3  # noqa: E402


def _one_error_line(out) -> str:
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(lines) == 1 and lines[0].startswith("trtbench: error:"), out.stderr
    return lines[0]


def _run_ids(cli, db: str) -> list:
    out = cli("runs", "--db", db, "--json", "-")
    assert out.returncode == 0, out.stderr
    return [r["run_id"] for r in json.loads(out.stdout)]


def test_a_damaged_row_is_skipped_checked_and_quarantined(cli, tmp_path: Path, run_files) -> None:
    tx1, gtx = run_files
    assert cli("runs", "import", "tx1.json", "gtx960.json", "--db", "hist.db").returncode == 0
    garbage, nan = tx1[0].run_id, gtx[1].run_id
    conn = sqlite3.connect(str(tmp_path / "hist.db"))
    conn.execute("UPDATE runs SET record = 'not json {' WHERE run_id = ?", (garbage,))
    data = gtx[1].to_dict()
    data["end_to_end_ms"], data["batch"] = math.nan, "12"
    conn.execute("UPDATE runs SET record = ? WHERE run_id = ?", (json.dumps(data), nan))
    conn.commit()
    conn.close()
    good = sorted([tx1[1].run_id, gtx[0].run_id])

    listed = cli("runs", "--db", "hist.db")
    assert listed.returncode == 0, listed.stderr
    assert tx1[1].run_id[:12] in listed.stdout and garbage[:12] not in listed.stdout
    warnings = [line for line in listed.stderr.splitlines() if line.startswith("warning: skipped run")]
    assert len(warnings) == 2 and all("trtbench runs check --repair --db hist.db" in w for w in warnings)
    assert any(nan in w and "batch is the text '12'" in w for w in warnings)
    assert sorted(_run_ids(cli, "hist.db")) == good
    exported = cli("runs", "export", "--out", "all.json", "--db", "hist.db")
    assert exported.returncode == 0 and garbage in exported.stderr
    assert sorted(r.run_id for r in read_records(tmp_path / "all.json")) == good
    assert nan in _one_error_line(cli("show", nan[:10], "--db", "hist.db"))
    assert cli("show", tx1[1].run_id, "--db", "hist.db").returncode == 0

    checked = cli("runs", "check", "--db", "hist.db")
    assert checked.returncode == 1 and garbage in checked.stdout and nan in checked.stdout
    assert "runs check --repair" in checked.stdout
    report = json.loads(cli("runs", "check", "--db", "hist.db", "--json", "-").stdout)
    assert not report["clean"] and {d["run_id"] for d in report["damaged"]} == {garbage, nan}

    repaired = cli("runs", "check", "--repair", "--db", "hist.db")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "moved 2 damaged run(s) into the quarantine table" in repaired.stdout
    clean = cli("runs", "--db", "hist.db")
    assert clean.returncode == 0 and "warning" not in clean.stderr
    assert sorted(_run_ids(cli, "hist.db")) == good
    assert cli("runs", "check", "--db", "hist.db").returncode == 0


@pytest.mark.parametrize("field, value, words", [
    ("end_to_end_ms", math.nan, "end_to_end_ms is NaN, not a finite number"),
    ("batch", 0, "batch is 0, not a whole number from 1 to 10,000,000"),
    ("tiles_per_ms", "12", "tiles_per_ms is the text '12', not a number"),
])
def test_import_refuses_a_bad_record_in_one_line_and_stores_nothing(cli, tmp_path: Path, run_files,
                                                                     field, value, words) -> None:
    tx1, _ = run_files
    data = [r.to_dict() for r in tx1]
    data[1][field] = value
    (tmp_path / "bad.json").write_text(json.dumps(data))  # Python's json writes NaN as it is
    line = _one_error_line(cli("runs", "import", "bad.json", "--db", "hist.db"))
    assert f"bad.json, record 2 of 2 (run {tx1[1].run_id}): {words}" in line
    assert "nothing was imported" in line and "--skip-bad" in line
    assert not (tmp_path / "hist.db").exists() or _run_ids(cli, "hist.db") == []
    skipping = cli("runs", "import", "bad.json", "--skip-bad", "--db", "hist.db")
    assert skipping.returncode == 0 and "imported 1 run(s)" in skipping.stderr
    assert f"not imported: bad.json, record 2 of 2 (run {tx1[1].run_id})" in skipping.stderr
    assert _run_ids(cli, "hist.db") == [tx1[0].run_id]


def _real_db(cli, tmp_path: Path) -> bytes:
    from fake_runs import make_record

    layers = [(f"layer{i}", "conv", 0.1, "Conv") for i in range(60)]
    write_records([make_record(batch=b, layers=layers) for b in range(1, 25)], tmp_path / "many.json")
    assert cli("runs", "import", "many.json", "--db", "real.db").returncode == 0
    return (tmp_path / "real.db").read_bytes()


@pytest.mark.parametrize("damage", ["random bytes", "truncated"])
def test_a_corrupted_database_file_is_refused_and_left_unchanged(cli, tmp_path: Path, run_files,
                                                                 damage: str) -> None:
    whole = _real_db(cli, tmp_path)
    broken = os.urandom(len(whole)) if damage == "random bytes" else whole[: len(whole) // 2]
    path = tmp_path / "broken.db"
    path.write_bytes(broken)
    for args in (("runs",), ("runs", "import", "tx1.json"), ("show", "abc123")):
        line = _one_error_line(cli(*args, "--db", "broken.db"))
        assert "broken.db is not a trtbench database" in line and "trtbench runs check" in line, line
        assert path.read_bytes() == broken
    checked = cli("runs", "check", "--db", "broken.db")
    assert checked.returncode == 1 and "move it aside" in checked.stdout
    assert path.read_bytes() == broken
