"""Target profiles: every bundled profile loads, every figure has a source, derived figures agree
with their inputs, user profiles and errors, and the `targets` command."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import REPO

from trtbench.device.targets import (
    FIELDS,
    STATUSES,
    get_target,
    load_targets,
    parse_batch_range,
    roofline_ratio,
)
from trtbench.errors import TrtbenchError
from trtbench.tomlio import load_toml

EXPECTED = {"tx1", "gtx960", "nano", "tx2", "xavier-nx", "agx-xavier", "orin-nano-8gb", "orin-nano-super",
            "orin-nx-16", "agx-orin-64", "thor", "gtx1080", "rtx2080ti", "rtx3090", "rtx4090", "t4", "a100",
            "l4", "h100", "h200"}
PROFILES = sorted((REPO / "profiles").glob("*.toml"))


def test_all_profiles_load():
    targets = load_targets()
    assert set(targets) == EXPECTED
    assert {t.kind for t in targets.values()} == {"jetson", "discrete"}


def test_the_study_pair():
    tx1, gtx960 = get_target("tx1"), get_target("gtx960")
    assert (tx1.compute_capability, tx1.sm, tx1.memory_bandwidth_gbs) == ("5.3", "sm_53", 25.6)
    assert (gtx960.compute_capability, gtx960.sm, gtx960.memory_bandwidth_gbs) == ("5.2", "sm_52", 112.0)
    assert gtx960.peak_fp16_tflops is None and gtx960.peak_int8_tops is None  # no fast FP16, no DP4A
    assert tx1.peak_int8_tops is None and tx1.peak_fp16_tflops == pytest.approx(2 * tx1.peak_fp32_tflops, rel=0.01)
    assert tx1.trt_max == "8.2.1" and gtx960.trt_max.startswith("8.6")


@pytest.mark.parametrize("path", PROFILES, ids=[p.stem for p in PROFILES])
def test_every_figure_has_a_source_and_status(path: Path):
    raw = load_toml(path)
    for key, value in raw.items():  # no bare numbers outside [fields.*]
        assert not (isinstance(value, (int, float)) and not isinstance(value, bool)), key
    for key, f in raw["fields"].items():
        assert key in FIELDS
        assert f["status"] in STATUSES, key
        assert len(f["source"]) > 10, key
        assert "value" in f or f.get("note"), key
    for mode in raw.get("power_modes", []):
        assert mode["status"] in STATUSES and mode["source"]


def _formula_check(target, key, expected, rel=0.02):
    f = target.fields[key]
    if f.value is not None and f.status == "derived":
        assert f.value == pytest.approx(expected, rel=rel), (target.name, key)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_derived_figures_follow_from_their_inputs(name):
    t = get_target(name)
    cores, clock = t.value("cuda_cores"), t.value("gpu_clock_mhz")
    if cores and clock:
        _formula_check(t, "peak_fp32_tflops", cores * 2 * clock / 1e6)
    emc = t.value("memory_clock_mhz")
    if emc and t.fields["memory_bandwidth_gbs"].formula:
        bits = int(re.search(r"x (\d+) bit", t.fields["memory_bandwidth_gbs"].formula).group(1))
        _formula_check(t, "memory_bandwidth_gbs", emc * 2 * bits / 8 / 1000)
    lo, opt, hi = t.batch_range
    assert 1 <= lo <= opt <= hi


def test_roofline_ratio_gtx960_over_tx1():
    r = roofline_ratio(get_target("gtx960"), get_target("tx1"))
    assert r["compute"] == pytest.approx(2.41 / 0.511, rel=1e-6)  # docs/device-sources.md §1: ~4.7x
    assert r["bandwidth"] == pytest.approx(112 / 25.6)  # ~4.4x
    assert r["ridge_b"] == pytest.approx(511 / 25.6, rel=1e-3)
    with pytest.raises(TrtbenchError, match="no fp16 peak"):
        roofline_ratio(get_target("gtx960"), get_target("tx1"), "fp16")


def test_unknown_target_names_near_ones():
    with pytest.raises(TrtbenchError) as err:
        get_target("tx3")
    assert "tx1" in str(err.value) and "tx2" in str(err.value)
    assert get_target("jetson-tx1").name == "tx1"  # alias


def test_batch_range_parsing():
    assert parse_batch_range("1:1024:4096") == (1, 1024, 4096)
    assert parse_batch_range("64") == (64, 64, 64)
    for bad in ("4096:1024:1", "0:1:2", "a:b:c", "1:2"):
        with pytest.raises(TrtbenchError):
            parse_batch_range(bad)


def _user_profile(folder: Path, name: str = "mybox") -> Path:
    """gtx960's profile renamed, with a bandwidth of 50 GB/s."""
    text = (REPO / "profiles" / "gtx960.toml").read_text().replace('name = "gtx960"', f'name = "{name}"')
    old = "[fields.memory_bandwidth_gbs]\nvalue = 112\n"
    assert old in text
    text = text.replace(old, "[fields.memory_bandwidth_gbs]\nvalue = 50.0\n")
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


def test_user_profiles_from_option_and_environment(tmp_path, monkeypatch):
    _user_profile(tmp_path / "mine")
    assert get_target("mybox", [tmp_path / "mine"]).memory_bandwidth_gbs == 50.0
    monkeypatch.setenv("TRTBENCH_PROFILES", str(tmp_path / "mine"))
    assert "mybox" in load_targets()
    _user_profile(tmp_path / "over", name="gtx960")  # a user file replaces the bundled one
    assert get_target("gtx960", [tmp_path / "over"]).memory_bandwidth_gbs == 50.0


def test_a_profile_without_a_source_is_refused(tmp_path):
    path = _user_profile(tmp_path / "bad")
    text = path.read_text()
    start = text.index("[fields.memory_bandwidth_gbs]")
    section_end = text.index("\n\n", start)
    section = text[start:section_end]
    path.write_text(text.replace(section, "\n".join(l for l in section.splitlines() if not l.startswith("source"))))
    with pytest.raises(TrtbenchError, match="no source"):
        load_targets([tmp_path / "bad"])


def test_targets_cli_lists_and_shows(cli, tmp_path):
    res = cli("targets", "--json", "-")
    assert res.returncode == 0, res.stderr
    listed = {t["name"]: t for t in json.loads(res.stdout)}
    assert set(listed) == EXPECTED
    assert listed["tx1"]["fields"]["memory_bandwidth_gbs"]["status"] == "read"
    table = cli("targets")
    assert table.returncode == 0 and "gtx960" in table.stdout and "sm_53" in table.stdout
    show = cli("targets", "show", "tx1")
    assert show.returncode == 0, show.stderr
    assert "memory_bandwidth_gbs" in show.stdout and "25.6" in show.stdout and "telecomtalk" in show.stdout
    bad = cli("targets", "show", "tx3")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "tx1" in bad.stderr
    _user_profile(tmp_path / "mine")
    assert "mybox" in cli("targets", "--profiles", str(tmp_path / "mine")).stdout


def test_every_document_a_bundled_profile_cites_is_shipped():
    """`targets show` prints each figure's source: a document it names must be in the repository."""
    import re

    from conftest import REPO

    cited = set()
    for profile in sorted((REPO / "profiles").glob("*.toml")):
        text = profile.read_text()
        assert "shared/docs" not in text, profile.name
        cited |= set(re.findall(r"\bdocs/[\w.-]+\.md", text))
    assert "docs/device-sources.md" in cited
    for doc in cited:
        assert (REPO / doc).is_file(), doc
