"""tegrastats parsing over every fixture (L4T 28 to L4T 39). Expected values were read off the
fixture lines by eye, not taken from the parser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import JETSON_FIXTURES

from trtbench.device import tegrastats

TEGRA = JETSON_FIXTURES / "tegrastats"
FILES = sorted(TEGRA.glob("*.txt")) if TEGRA.is_dir() else []
needs_fixtures = pytest.mark.skipif(not FILES, reason=f"tegrastats fixtures not found at {TEGRA}")

# file prefix -> line index -> expected:
#   (gpu load %, gpu freqs MHz, (sensor, °C), (rail, cur, avg[, max]), time)
EXPECTED = {
    "DataDog__datadog-agent__L4T32-AGXXavier": {0: (0, [318], ("GPU", 37.5), ("SOC", 932, 932), None)},
    "DataDog__datadog-agent__L4T32-Nano": {0: (0, [76], ("GPU", 36.0), ("POM_5V_IN", 1022, 1022), None)},
    "DataDog__datadog-agent__L4T32-TX1": {0: (0, [76], ("Tdiode", 42.75), ("VDD_CPU", 76, 178), None)},
    "DataDog__datadog-agent__L4T32-TX2": {0: (0, [624], ("BCPU", 37.5), ("VDD_SYS_DDR", 883, 883), None)},
    "DataDog__datadog-agent__L4T32-XavierNX": {0: (62, [306], ("GPU", 43.0), ("VDD_SOC", 1353, 1353), None)},
    "DataDog__datadog-agent__L4T35-OrinNX16GB": {
        0: (0, [611], ("GPU", 45.875), ("VDD_IN", 5299, 5299), None)
    },
    "DataDog__datadog-agent__L4T36-AGXOrin32GB": {
        0: (0, [305, 305], ("gpu", 47.812), ("VIN_SYS_5V0", 4767, 4767), None)
    },
    "DataDog__datadog-agent__L4T36-AGXOrin64GB": {
        0: (0, [], ("gpu", 37.75), ("VDD_GPU_SOC", 4940, 4940), None)
    },
    "catid__blog2022": {
        0: (0, [0, 0], ("CPU", 42.593), ("VDDQ_VDD2_1V8AO", 301, 301), "2023-04-24T00:01:24")
    },
    "gustavz__realtime_object_detection": {
        0: (0, [140], ("GPU", 41.0), ("VDD_IN", 5586, 4351), None),
        1: (0, [1300], ("GPU", 42.0), ("VDD_GPU", 1922, 206), None),
        2: (99, [1032], ("Tdiode", 39.5), ("VDD_DDR", 1574, 1096), None),
    },
    "henrygd__beszel__JP6-OrinNano8GB-tegrastats-nonroot": {
        0: (0, [], ("gpu", 49.031), ("VDD_IN", 4824, 4824), "2025-06-18T11:25:24")
    },
    "henrygd__beszel__JP6-OrinNano8GB-tegrastats.txt": {
        0: (63, [621], ("gpu", 53.343), ("VDD_SOC", 2817, 2817), "2024-11-15T08:38:09")
    },
    "henrygd__beszel__L4T32-TX2": {0: (0, [114], ("GPU", 39.5), ("VDD_SYS_CPU", 1917, 1917), None)},
    "hordiales__jetson-tx1-dev": {0: (3, [76], None, None, None), 1: (39, [76], None, None, None)},
    "lesomnus__tegra-exporter__R36.4.4": {
        0: (0, [0, 0], ("cpu", 52.562), ("VIN_SYS_5V0", 4707, 4707), "2026-05-09T18:42:06"),
        1: (0, [0, 0], ("tj", 52.343), ("VIN_SYS_5V0", 4607, 4657), "2026-05-09T18:42:07"),
    },
    "lesomnus__tegra-exporter__R38.4-AGXThor": {
        1: (None, [0, 0, 0], ("soc012", 36.062), ("VDD_CPU_SOC_MSS", 4923, 4544), "2026-05-17T10:00:33")
    },
    "lesomnus__tegra-exporter__R39.2-AGXOrin64GB": {
        0: (0, [0, 0], ("soc1", 49.0), ("VDD_CPU_CV", 2643, 2643, 2643), "2026-07-31T14:58:05")
    },
    "lesomnus__tegra-exporter__R39.2-AGXThor": {
        0: (None, [314, 314, 314], ("gpu", 35.906), ("VDD_GPU", 4925, 4925, 4925), "2026-07-23T15:29:26"),
        1: (
            None,
            [314, 314, 314],
            ("cpu", 34.312),
            ("VDD_CPU_SOC_MSS", 7953, 8332, 8710),
            "2026-07-23T15:29:27",
        ),
    },
    "rbonghi__jetson_stats__JP7.2": {
        0: (12, [1300, 1300], ("gpu", 47.625), ("VDD_GPU_SOC", 5139, 5139, 5139), "2026-07-25T09:08:28")
    },
    "rbonghi__jetson_stats__issue624": {
        0: (84, [713], ("cv2", 60.875), ("VDD_IN", 17946, 15710), "2025-05-15T18:30:28")
    },
    "rbonghi__jetson_stats__pr16": {
        0: (0, [76], ("GPU", 21.0), ("POM_5V_GPU", 41, 31), None),
        1: (51, [307], ("GPU", 22.0), ("POM_5V_CPU", 613, 2), None),
    },
    "stereolabs__zed-python-api": {
        0: (32, [114], None, None, None),
        1: (18, [624], None, None, None),
        2: (0, [216], None, None, None),
        3: (66, [114], None, None, None),
    },
    "unknown-repo__gwb-cuda-notes": {
        0: (39, [], ("GPU", 35.0), None, None),
        1: (42, [], ("AUX", 34.5), None, None),
    },
    "unknown-repo__jetson-env-report": {
        1: (0, [305], ("gpu", 46.562), ("VDD_IN", 3462, 3522, 3582), "2026-09-19T13:33:03"),
        3: (0, [306], ("soc0", 46.312), ("VDD_CPU_GPU_CV", 442, 462, 523), "2026-09-19T13:33:05"),
    },
    "waggle-sensor__jetson-exporter__JP4.6.1": {0: (0, [76], ("GPU", 40.0), ("POM_5V_IN", 1750, 1628), None)},
    "waggle-sensor__jetson-exporter__JP5.1.2": {
        0: (0, [114], ("GPU", 45.5), ("VDD_IN", 2763, 2846), "2024-07-09T13:31:31")
    },
    "waggle-sensor__jetson-exporter__L4T32": {0: (0, [1109], ("GPU", 31.5), ("VDD_IN", 6140, 5510), None)},
}


def _expected_for(path: Path) -> dict:
    matches = [v for k, v in EXPECTED.items() if path.name.startswith(k)]
    assert len(matches) == 1, f"{path.name}: {len(matches)} entries in EXPECTED"
    return matches[0]


@needs_fixtures
def test_every_fixture_has_expectations() -> None:
    assert len(FILES) >= 27
    for path in FILES:
        _expected_for(path)


@needs_fixtures
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name[:60])
def test_fixture_parses_to_expected_values(path: Path) -> None:
    samples = tegrastats.parse_file(path)
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    assert len(samples) == len(lines)
    for sample in samples:
        assert sample.unparsed == [], sample.unparsed
        assert sample.ram_used_mb and sample.ram_total_mb and sample.ram_used_mb < sample.ram_total_mb
        assert sample.cpu_load_pct and len(sample.cpu_load_pct) == len(sample.cpu_freq_mhz)
    for index, (load, freqs, temp, rail, when) in _expected_for(path).items():
        s = samples[index]
        assert s.gpu_load_pct == load
        assert s.gpu_freqs_mhz == [float(f) for f in freqs]
        assert s.gpu_freq_mhz == (max(freqs) if freqs else None)
        assert s.time == when
        if temp is None:
            assert s.temps_c == {}
        else:
            assert s.temps_c[temp[0]] == pytest.approx(temp[1])
        if rail is None:
            assert s.rails == {}
        else:
            r = s.rails[rail[0]]
            assert (r.current_mw, r.average_mw) == (rail[1], rail[2])
            assert r.max_mw == (rail[3] if len(rail) > 3 else None)


_TEMP_TOKEN = re.compile(r"^([A-Za-z]\w*)@(-?[\d.]+)C")
_POWER_TOKEN = re.compile(r"^\d+(mW)?/\d+(mW)?(/\d+(mW)?)?$")


@needs_fixtures
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name[:60])
def test_every_temperature_and_rail_on_the_line_comes_out(path: Path) -> None:
    """Cross-check against a plain token scan of the raw line: no sensor or rail is dropped."""
    for line, sample in zip(
        [ln for ln in path.read_text().splitlines() if ln.strip()], tegrastats.parse_file(path)
    ):
        tokens = line.split()
        for i, token in enumerate(tokens):
            m = _TEMP_TOKEN.match(token)
            if m:
                if float(m.group(2)) == -256:
                    assert m.group(1) in sample.sensors_off
                else:
                    assert sample.temps_c[m.group(1)] == float(m.group(2))
            if i > 0 and _POWER_TOKEN.match(token):
                assert tokens[i - 1] in sample.rails
        if "GR3D" in line and re.search(r"GR3D_FREQ \d*%?@|GR3D \d+%@", line):
            assert sample.gpu_freqs_mhz, "a GR3D frequency is on the line"


def test_special_forms() -> None:
    # L4T 28 TX1: one cluster frequency after the list
    s = tegrastats.parse_line(
        "RAM 3607/3983MB (lfb 47x4MB) SWAP 873/8192MB (cached 281MB) "
        "cpu [17%,11%,65%,0%]@1734 EMC 1%@1600 APE 25 GR3D 39%@76"
    )
    assert s.cpu_load_pct == [17, 11, 65, 0] and s.cpu_freq_mhz == [1734] * 4
    assert (s.emc_load_pct, s.emc_freq_mhz, s.swap_used_mb) == (1, 1600, 873)
    # offline sensor, offline cores, engines in all forms
    s = tegrastats.parse_line(
        "RAM 1/2MB CPU [5%@729,off] GR3D_FREQ 0%@0 GR3D2_FREQ 7%@0 NVDEC 192 "
        "NVENC0_FREQ @1556 VIC 59%@423 OFA off GPU@-256C tj@40C VDD_IN 10/20"
    )
    assert s.cpu_load_pct == [5, None] and s.gpu_load_pct == 7 and s.gpu_freqs_mhz == [0, 0]
    assert s.sensors_off == ["GPU"] and s.temps_c == {"tj": 40.0} and s.gpu_temp_c is None
    assert s.engines["NVDEC"].freq_mhz == 192 and s.engines["NVENC0"].freq_mhz == 1556
    assert s.engines["VIC"].load_pct == 59 and s.engines["OFA"].on is False
    assert s.power_total_mw == 10


def test_power_total_uses_the_input_rail_else_the_sum() -> None:
    nano = tegrastats.parse_line("RAM 1/2MB CPU [1%@1] POM_5V_IN 1022/1022 POM_5V_GPU 5/5 POM_5V_CPU 204/204")
    assert nano.power_total_mw == 1022
    orin = tegrastats.parse_line("RAM 1/2MB CPU [1%@1] VDD_GPU_SOC 2412mW/2412mW VDD_CPU_CV 1607mW/1607mW")
    assert orin.power_total_mw == 2412 + 1607


def test_unknown_tokens_are_kept_not_fatal() -> None:
    s = tegrastats.parse_line("RAM 1/2MB CPU [1%@1] FUTURE_THING ??? GR3D_FREQ 5%@100")
    assert "???" in s.unparsed and s.gpu_load_pct == 5


def test_not_tegrastats_is_a_user_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.log"
    bad.write_text("hello\n")
    with pytest.raises(Exception, match="does not look like tegrastats"):
        tegrastats.parse_file(bad)
