"""jetson_clocks / nvpmodel parsing (fixtures), telemetry checks, and `trtbench telemetry`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import JETSON_FIXTURES

from trtbench.device import jetson_power as jetson
from trtbench.measure import telemetry

CLOCKS = JETSON_FIXTURES / "jetson_clocks"
NVPMODEL = JETSON_FIXTURES / "nvpmodel"
TEGRA = JETSON_FIXTURES / "tegrastats"
needs_fixtures = pytest.mark.skipif(
    not CLOCKS.is_dir(), reason=f"jetson fixtures not found at {JETSON_FIXTURES}"
)


def _one(folder: Path, part: str) -> Path:
    found = [p for p in folder.glob("*.txt") if part in p.name]
    assert len(found) == 1, (part, found)
    return found[0]


# fixture -> (pinned, GPU (min, max, current) MHz of the first GPU clock, power mode, number of CPUs)
CLOCK_CASES = {
    "TX1-jetson_clocks.sh-show": (True, (998.4, 998.4, 998.4), None, 4),
    "Nano-MAXN-jetson_clocks-show-unlocked": (False, (76.8, 921.6, 76.8), "MAXN", 4),
    "Nano-5W-jetson_clocks-show-before": (False, (76.8, 614.4, 460.8), "5W", 4),
    "Nano-5W-jetson_clocks-show-after-locked": (True, (614.4, 614.4, 614.4), "5W", 4),
    "AGXOrin64GB-MAXN-jetson_clocks-show": (False, (306.0, 1300.5, 306.0), "MAXN", 12),
    "OrinNanoSuper-25W-jetson_clocks-show": (False, (306.0, 918.0, 306.0), "25W", 6),
    "AGXThor-MAXN-jetson_clocks-show-locked": (True, (1575.0, 1575.0, 1575.0), "MAXN", 14),
    "MAXN_SUPER-jetson_clocks-show-locked": (True, (1020.0, 1020.0, 1020.0), "MAXN_SUPER", 1),
}


@needs_fixtures
@pytest.mark.parametrize("part", sorted(CLOCK_CASES))
def test_jetson_clocks_fixtures(part: str) -> None:
    pinned, gpu, mode, cpus = CLOCK_CASES[part]
    state = jetson.parse_jetson_clocks(_one(CLOCKS, part).read_text())
    assert state.pinned is pinned
    g = state.gpus[0]
    assert (g.min / 1e6, g.max / 1e6, g.current / 1e6) == pytest.approx(gpu)
    assert state.power_mode == mode
    assert len(state.cpus) == cpus


@needs_fixtures
def test_jetson_clocks_details() -> None:
    thor = jetson.parse_jetson_clocks(_one(CLOCKS, "AGXThor").read_text())
    assert [g.name for g in thor.gpus] == ["gpu-gpc-0", "gpu-nvd-0"]
    assert thor.emc is not None and thor.emc.override is True and thor.emc.max == 4266000000
    assert thor.machine == "NVIDIA Jetson AGX Thor Developer Kit" and thor.soc_family == "tegra264"
    before = jetson.parse_jetson_clocks(_one(CLOCKS, "Nano-5W-jetson_clocks-show-before").read_text())
    # the 5W mode caps the CPUs to one clock, so the CPUs look pinned while the GPU is not
    assert before.cpu_pinned and not before.gpu_pinned
    assert [c.online for c in before.cpus] == [True, True, False, False]
    tx1 = jetson.parse_jetson_clocks(_one(CLOCKS, "TX1").read_text())
    assert tx1.cpus[0].governor == "interactive"  # from the misspelt "Gonvernor"
    orin = jetson.parse_jetson_clocks(_one(CLOCKS, "AGXOrin64GB").read_text())
    assert {e.name for e in orin.engines} >= {"DLA0_CORE", "PVA0_AXI"}
    nano_super = jetson.parse_jetson_clocks(_one(CLOCKS, "OrinNanoSuper-25W").read_text())
    assert nano_super.active_gpu_tpcs == 4 and nano_super.emc is not None and nano_super.emc.override is None


NVP_CASES = {
    "anton-xavier-setup": ("MODE_30W_4CORE", 5, "cool", 0),
    "deepstream-notes": ("MODE_15W_2CORE", 0, "cool", 0),
    "nvpmodel-q-nonroot": ("MODE_15W_DESKTOP", 7, "quiet", 14),
    "Nano-nvpmodel-q": ("MAXN", 0, None, 1),
    "OrinNanoSuper-nvpmodel-q": ("25W", 1, None, 0),
    "nvpmodel-q-MAXN": ("MAXN", 0, None, 0),
    "default-120W": ("120W", 1, None, 0),
}


@needs_fixtures
@pytest.mark.parametrize("part", sorted(NVP_CASES))
def test_nvpmodel_fixtures(part: str) -> None:
    mode = jetson.parse_nvpmodel(_one(NVPMODEL, part).read_text())
    assert (mode.name, mode.id, mode.fan_mode, len(mode.messages)) == NVP_CASES[part]


@needs_fixtures
def test_nvpmodel_conf_lines() -> None:
    text = _one(NVPMODEL, "POWER_MODEL-lines").read_text()
    assert jetson.detect_kind(text) == "nvpmodel_conf"
    assert jetson.parse_power_models(text) == {0: "15W", 1: "25W", 2: "MAXN_SUPER"}


# ---- checks ---------------------------------------------------------------------------------
def _by_name(checks: list) -> dict:
    return {c.name: c for c in checks}


def test_checks_on_steady_nvml_samples_are_ok() -> None:
    samples = [{"t": i * 0.2, "sm_mhz": 1980, "temp_c": 60, "util_pct": 99, "reasons": 0} for i in range(10)]
    checks = _by_name(telemetry.checks(samples))
    assert {c.status for c in checks.values()} == {"ok"}
    assert set(checks) == {"throttling", "clock-change", "temperature"}


def test_checks_flag_thermal_throttling_clock_change_and_heat() -> None:
    samples = (
        [{"sm_mhz": 1980, "temp_c": 70, "util_pct": 99, "reasons": 0}] * 5
        + [{"sm_mhz": 1500, "temp_c": 88, "util_pct": 99, "reasons": 0x20}] * 5
        + [{"sm_mhz": 300, "temp_c": 50, "util_pct": 0, "reasons": 0x1}]
    )  # idle gap: not counted
    checks = _by_name(telemetry.checks(samples))
    assert checks["throttling"].status == "invalid" and "sw_thermal_slowdown" in checks["throttling"].message
    assert checks["clock-change"].status == "warn" and "1500-1980" in checks["clock-change"].message
    assert checks["temperature"].status == "warn"
    assert "nvidia-smi" in checks["clock-change"].fix


def test_power_cap_is_a_warning_not_invalid() -> None:
    checks = _by_name(telemetry.checks([{"sm_mhz": 1700, "reasons": 0x4}] * 3))
    assert checks["throttling"].status == "warn" and "power" in checks["throttling"].message


@needs_fixtures
def test_checks_on_jetson_samples_and_clock_state() -> None:
    from trtbench.device import tegrastats

    samples = tegrastats.parse_file(_one(TEGRA, "gustavz"))  # GR3D 140 -> 1300 -> 1032 MHz
    unpinned = jetson.parse_jetson_clocks(_one(CLOCKS, "Nano-MAXN-jetson_clocks-show-unlocked").read_text())
    checks = _by_name(
        telemetry.checks(samples, busy_pct=0, jetson={"clocks": unpinned.to_dict()}, source="tegrastats")
    )
    assert checks["clock-change"].status == "warn" and "jetson_clocks" in checks["clock-change"].fix
    assert checks["clocks-pinned"].status == "warn" and "76.8-921.6 MHz" in checks["clocks-pinned"].message
    assert checks["temperature"].status == "ok"  # PMIC's fixed 100C is not a temperature reading
    locked = jetson.parse_jetson_clocks(_one(CLOCKS, "after-locked").read_text())
    checks = _by_name(telemetry.checks(samples, jetson={"clocks": locked.to_dict()}))
    assert checks["clocks-pinned"].status == "ok"
    checks = _by_name(telemetry.checks(samples, source="tegrastats"))
    assert checks["clocks-pinned"].status == "warn" and "root" in checks["clocks-pinned"].message


def test_record_checks_of_empty_telemetry() -> None:
    assert telemetry.record_checks({}) == []


# ---- CLI ------------------------------------------------------------------------------------
@needs_fixtures
def test_cli_parse_tegrastats_json(cli) -> None:
    path = _one(TEGRA, "R39.2-AGXThor")
    done = cli("telemetry", "parse", path, "--json", "-")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["kind"] == "tegrastats" and len(data["samples"]) == 2
    first = data["samples"][0]
    assert first["gpu_freq_mhz"] == 314 and first["temps_c"]["gpu"] == 35.906
    assert first["rails"]["VIN_SYS_5V0"] == {"current_mw": 6767, "average_mw": 6767, "max_mw": 6767}
    assert data["summary"]["samples"] == 2


@needs_fixtures
def test_cli_parse_clocks_and_modes(cli) -> None:
    done = cli("telemetry", "parse", _one(CLOCKS, "Nano-5W-jetson_clocks-show-before"))
    assert done.returncode == 0 and "NOT pinned" in done.stdout
    done = cli("telemetry", "parse", _one(NVPMODEL, "default-120W"), "--json", "-")
    assert json.loads(done.stdout)["power_mode"]["name"] == "120W"


def test_cli_parse_errors(cli, tmp_path: Path) -> None:
    done = cli("telemetry", "parse", tmp_path / "missing.log")
    assert done.returncode == 2 and "does not exist" in done.stderr and "Traceback" not in done.stderr
    (tmp_path / "junk.txt").write_text("nothing here\n")
    done = cli("telemetry", "parse", tmp_path / "junk.txt")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
