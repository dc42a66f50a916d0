"""Host detection on the real Jetson fixtures (nv_tegra_release, dpkg-query, device-tree model) and
host-versus-target matching."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import JETSON_FIXTURES

from trtbench.device.host import HostInfo, detect_host, host_matches, matching_targets, parse_nvidia_smi
from trtbench.device.jetson import parse_l4t_core, parse_nv_tegra_release
from trtbench.device.targets import get_target, load_targets

RELEASES = sorted(p for p in (JETSON_FIXTURES / "nv_tegra_release").glob("*nv_tegra_release*"))
MODELS = JETSON_FIXTURES / "device_tree_model"

pytestmark = pytest.mark.skipif(not RELEASES, reason=f"Jetson fixtures not found at {JETSON_FIXTURES}")


@pytest.mark.parametrize("path", RELEASES, ids=[p.name[:60] for p in RELEASES])
def test_every_nv_tegra_release_fixture_parses(path: Path):
    expected = re.search(r"R(\d+\.\d+\.\d+)", path.name).group(1)  # the release is in the file name
    release = parse_nv_tegra_release(path.read_text())
    assert release is not None and release.release == expected
    assert release.board in ("t186ref", "t210ref", "generic")
    assert release.date and release.gcid.isdigit()
    assert release.jetpack() is not None


def test_known_l4t_releases_map_to_jetpack_and_tensorrt():
    by_name = {p.name: parse_nv_tegra_release(p.read_text()) for p in RELEASES}
    nano = next(r for n, r in by_name.items() if "R32.7.1" in n)
    xavier = next(r for n, r in by_name.items() if "R32.6.1" in n)
    super_ = next(r for n, r in by_name.items() if "R39.2.1" in n)
    assert (nano.jetpack(), nano.bundled_tensorrt(), nano.board) == ("4.6.1", "8.2.1", "t210ref")
    assert (xavier.jetpack(), xavier.bundled_tensorrt()) == ("4.6", "8.0.1")  # not 8.2 (tensorrt-api.md)
    assert (super_.jetpack(), super_.bundled_tensorrt()) == ("7.2.1", "10.16.2")
    assert "PM" in next(r for n, r in by_name.items() if "R39.2.0" in n).date  # R39 dates carry AM/PM


def test_dpkg_query_samples_tab_or_space():
    lines = (JETSON_FIXTURES / "nv_tegra_release" / "dpkg-query-nvidia-l4t-core-samples.txt").read_text().splitlines()
    releases = [parse_l4t_core(line).release for line in lines]
    assert releases == ["32.7.1", "35.4.1", "36.4.4", "38.4.0", "39.2.0", "39.2.1"]


def _fake_root(tmp_path: Path, model: str, soc: str, release: Path = None, mem_kb: int = 0) -> Path:
    (tmp_path / "proc/device-tree").mkdir(parents=True)
    (tmp_path / "etc").mkdir()
    (tmp_path / "proc/device-tree/model").write_bytes(model.encode() + b"\x00")
    (tmp_path / "proc/device-tree/compatible").write_bytes(b"nvidia,p3768\x00nvidia,%s\x00" % soc.encode())
    if release:
        (tmp_path / "etc/nv_tegra_release").write_text(release.read_text())
    if mem_kb:
        (tmp_path / "proc/meminfo").write_text(f"MemTotal:       {mem_kb} kB\nMemFree: 1 kB\n")
    return tmp_path


def test_orin_nano_super_fixture_tree_is_detected_and_matched(tmp_path):
    model = (MODELS / "unknown-repo__jetson-env-report__OrinNanoSuper-proc-device-tree-model.txt").read_text().strip()
    release = next(p for p in RELEASES if "R39.2.1" in p.name)
    root = _fake_root(tmp_path, model, "tegra234", release, mem_kb=7486 * 1024)
    host = detect_host(root, probe=False)
    assert host.is_jetson and host.jetson_model == model
    assert (host.soc, host.compute_capability, host.jetpack) == ("tegra234", "8.7", "7.2.1")
    assert sorted(matching_targets(host, load_targets())) == ["orin-nano-8gb", "orin-nano-super"]
    ok, why = host_matches(host, get_target("tx1"))
    assert not ok and "tegra234" in why


def test_early_agx_xavier_model_string(tmp_path):
    model = (MODELS / "unknown-repo__gwb-cuda-notes__AGXXavier-R32.6.1-proc-device-tree-model.txt").read_text().strip()
    release = next(p for p in RELEASES if "R32.6.1" in p.name)
    host = detect_host(_fake_root(tmp_path, model, "tegra194", release, mem_kb=31920 * 1024), probe=False)
    assert matching_targets(host, load_targets()) == ["agx-xavier"]
    assert host.l4t.bundled_tensorrt() == "8.0.1"


def test_memory_size_tells_module_variants_apart(tmp_path):
    host = detect_host(_fake_root(tmp_path, "Jetson AGX Orin", "tegra234", mem_kb=30697 * 1024), probe=False)
    ok, why = host_matches(host, get_target("agx-orin-64"))
    assert not ok and "30 GB" in why


def test_unknown_carrier_board_needs_force(tmp_path):
    host = detect_host(_fake_root(tmp_path, "ACME Vision Box", "tegra210"), probe=False)
    ok, why = host_matches(host, get_target("tx1"))
    assert not ok and "--force" in why


def test_discrete_hosts():
    desk = HostInfo(machine="x86_64", gpu_name="NVIDIA GeForce GTX 960", compute_capability="5.2")
    assert host_matches(desk, get_target("gtx960"))[0]
    ok, why = host_matches(desk, get_target("tx1"))
    assert not ok and "not a Jetson" in why
    ti = HostInfo(machine="x86_64", gpu_name="NVIDIA GeForce GTX 1080 Ti", compute_capability="6.1")
    assert not host_matches(ti, get_target("gtx1080"))[0]
    wrong_cc = HostInfo(machine="x86_64", gpu_name="NVIDIA H100 PCIe", compute_capability="8.0")
    assert not host_matches(wrong_cc, get_target("h100"))[0]
    none = HostInfo(machine="x86_64")
    ok, why = host_matches(none, get_target("rtx4090"))
    assert not ok and "no NVIDIA GPU" in why


def test_nvidia_smi_csv():
    assert parse_nvidia_smi("NVIDIA H100 80GB HBM3, 9.0\n") == ("NVIDIA H100 80GB HBM3", "9.0")
    assert parse_nvidia_smi("NVIDIA GeForce GTX 960\n") == ("NVIDIA GeForce GTX 960", None)
    assert parse_nvidia_smi("") is None


def test_detect_host_here_does_not_fail():
    host = detect_host()
    assert host.describe()
    assert isinstance(host.to_dict()["is_jetson"], bool)
