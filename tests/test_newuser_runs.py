"""`trtbench runs` on a narrow screen (issue 15 item 4): numbers and short keys are never cut
("b…" for the batch column was what new users saw); long text wraps, and columns that cannot fit
at all are left out, named on stderr, and kept in the exports."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from conftest import TRTEXEC_FIXTURES
from fake_runs import make_record

from trtbench.render.console import fmt
from trtbench.results.record import write_records

PROFILE = TRTEXEC_FIXTURES / "NVIDIA__TensorRT__trex-A100-fp32-resnet.onnx.engine.profile.json"


@pytest.fixture
def db(cli, tmp_path: Path) -> str:
    """A trtexec import (a 44-character model name) and two runs of other shapes, one tagged."""
    if not PROFILE.is_file():
        pytest.skip(f"trtexec fixture not found at {PROFILE}")
    done = cli("import-trtexec", "--profile", PROFILE, "--batch", "32", "--db", "runs.db")
    assert done.returncode == 0, done.stderr
    tagged = make_record(model="c1d20-f1n128", batch=2, precision="fp16", seed=2)
    tagged.tags = {"sweep": "narrow-screens"}
    write_records([make_record(batch=1024), tagged], tmp_path / "more.json")
    assert cli("runs", "import", "more.json", "--db", "runs.db").returncode == 0
    return "runs.db"


@pytest.mark.parametrize("columns", [60, 80, 100, 200])
def test_numbers_and_keys_stay_whole_at_any_width(cli, db: str, columns: int) -> None:
    runs = json.loads(cli("runs", "--db", db, "--json", "-").stdout)
    done = cli("runs", "--db", db, env={"COLUMNS": str(columns)})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= columns, done.stdout
    assert "…" not in done.stdout
    cells = set(re.split(r"[\s|]+", done.stdout))
    for run in runs:
        assert f"{run['batch']:,}" in cells
        assert fmt(run["images_per_s"], 4) in cells
        assert run["verdict"] in cells
        assert run["run_id"][:6] in done.stdout
    header = next(line for line in lines if " run " in line)
    for name in ("batch", "verdict"):
        assert name in header.split()
    hidden = re.search(r"\((.*) left out to fit (\d+) columns", done.stderr)
    if columns >= 200:
        assert hidden is None and "ms/batch" in header and "created" in header
    else:
        assert hidden is not None and hidden.group(2) == str(columns)
        for name in hidden.group(1).split(", "):
            assert f" {name} " not in f" {header} "


def test_a_narrow_screen_still_exports_every_column(cli, db: str, tmp_path: Path) -> None:
    done = cli("runs", "--db", db, "--csv", "runs.csv", env={"COLUMNS": "60"})
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "runs.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["run", "created", "model", "backend", "device", "prec", "batch", "per second",
                       "ms/batch", "verdict", "tags"]
    assert len(rows) == 4 and "NVIDIA__TensorRT__trex-A100-fp32-resnet.onnx" in rows[1] + rows[2] + rows[3]
