"""`trtbench telemetry parse`: the table's "hottest" column follows the validity check's rule
(issue 15 item 4): the L4T 32 PMIC sensor's fixed 100 °C / 50 °C is not a temperature reading."""

from __future__ import annotations

import json

import pytest
from conftest import JETSON_FIXTURES

TX1 = JETSON_FIXTURES / "tegrastats" / "DataDog__datadog-agent__L4T32-TX1-tegrastats.txt"


def _column(stdout: str, name: str) -> list:
    lines = stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if name in line)
    names = [c.strip() for c in lines[header].split("|")]
    rows = [line for line in lines[header + 1:] if "|" in line and not set(line) <= set("-+| ")]
    return [[c.strip() for c in row.split("|")][names.index(name)] for row in rows]


@pytest.mark.skipif(not TX1.is_file(), reason=f"TX1 tegrastats fixture not found at {TX1}")
def test_hottest_skips_the_tx1_dummy_pmic_sensor(cli) -> None:
    assert "PMIC@100C" in TX1.read_text()  # the fixture still carries the dummy reading
    done = cli("telemetry", "parse", TX1)
    assert done.returncode == 0, done.stderr
    assert _column(done.stdout, "hottest C") == ["42.8"]  # Tdiode@42.75C, not PMIC@100C

    summary = json.loads(cli("telemetry", "parse", TX1, "--json", "-").stdout)["summary"]
    assert summary["temp_c_max"] == 42.75  # the table and the summary agree
