"""What a Jetson is: its SoC's compute capability, its Jetson Linux (L4T) release and the JetPack
and TensorRT that release ships; parsed from /etc/nv_tegra_release or dpkg's nvidia-l4t-core."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

# SoC (device-tree "compatible") -> CUDA compute capability (jetson_stats CUDA_TABLE).
SOC_COMPUTE_CAPABILITY = {"tegra210": "5.3", "tegra186": "6.2", "tegra194": "7.2", "tegra234": "8.7",
                          "tegra264": "11.0"}


# L4T release -> (JetPack, TensorRT it ships); docs/device-sources.md §5, tensorrt-api.md §7.1.
L4T_JETPACK: List[Tuple[str, str, str]] = [
    ("32.4.3", "4.4", "7.1.3"), ("32.5.1", "4.5.1", "7.1.3"), ("32.6.1", "4.6", "8.0.1"),
    ("32.7.1", "4.6.1", "8.2.1"), ("32.7.2", "4.6.2", "8.2.1"), ("32.7.3", "4.6.3", "8.2.1"),
    ("32.7.4", "4.6.4", "8.2.1"), ("32.7.5", "4.6.5", "8.2.1"), ("32.7.6", "4.6.6", "8.2.1"),
    ("35.1", "5.0.2", "8.4.1"), ("35.2.1", "5.1", "8.5.2"), ("35.3.1", "5.1.1", "8.5.2"),
    ("35.4.1", "5.1.2", "8.5.2"), ("36.3", "6.0", "8.6.2"), ("36.4", "6.1", "10.3"),
    ("36.4.3", "6.2", "10.3"), ("36.4.4", "6.2.1", "10.3"), ("38.2", "7.0", "10.13"), ("38.4", "7.1", "10.13"),
    ("39.2", "7.2", "10.16.2"), ("39.2.1", "7.2.1", "10.16.2"),
]


# Release lines whose exact point release is not in the table above: L4T major.minor -> same.
L4T_LINE = {"32.7": ("4.6.x", "8.2.1"), "35": ("5.1.x", "8.5.2"), "36.4": ("6.x", "10.3"), "36.5": ("6.2.2", "10.3"),
            "38": ("7.x", "10.13"), "39": ("7.2.x", "10.16.2")}


_NV_TEGRA = re.compile(r"#\s*R(\d+)\s*\(release\),\s*REVISION:\s*(\d+)\.(\d+)(?:,\s*GCID:\s*(\d+))?"
                       r"(?:,\s*BOARD:\s*([\w-]+))?(?:,\s*EABI:\s*(\w+))?(?:,\s*DATE:\s*(.+))?")


_L4T_CORE = re.compile(r"nvidia-l4t-core\s+(\d+)\.(\d+)\.(\d+)-(\d+)")


@dataclass
class L4TRelease:
    """One Jetson Linux release, e.g. R32.7.1 (``release`` = "32.7.1")."""

    release: str
    board: str = ""
    date: str = ""
    gcid: str = ""

    @property
    def major(self) -> int:
        return int(self.release.split(".")[0])

    def jetpack(self) -> Optional[str]:
        return _jetpack_row(self.release)[0]

    def bundled_tensorrt(self) -> Optional[str]:
        return _jetpack_row(self.release)[1]


def _jetpack_row(release: str) -> Tuple[Optional[str], Optional[str]]:
    parts = release.split(".")
    for candidate in (release, ".".join(parts[:2]) if parts[2:] == ["0"] else None):
        for l4t, jetpack, trt in L4T_JETPACK:
            if candidate and l4t == candidate:
                return jetpack, trt
    for prefix in (".".join(parts[:2]), parts[0]):
        if prefix in L4T_LINE:
            return L4T_LINE[prefix]
    return None, None


def parse_nv_tegra_release(text: str) -> Optional[L4TRelease]:
    """The first line of /etc/nv_tegra_release (all formats R24–R39), e.g.
    ``# R32 (release), REVISION: 7.1, GCID: 29818004, BOARD: t210ref, EABI: aarch64, DATE: ...``."""
    for line in text.splitlines():
        m = _NV_TEGRA.search(line)
        if m:
            release = f"{m.group(1)}.{m.group(2)}.{m.group(3)}"
            return L4TRelease(release=release, board=m.group(5) or "", date=(m.group(7) or "").strip(),
                              gcid=m.group(4) or "")
    return None


def parse_l4t_core(text: str) -> Optional[L4TRelease]:
    """``dpkg-query --show nvidia-l4t-core`` output (TAB or space): ``nvidia-l4t-core\\t36.4.4-2025...``."""
    m = _L4T_CORE.search(text)
    if not m:
        return None
    return L4TRelease(release=f"{m.group(1)}.{m.group(2)}.{m.group(3)}", date=m.group(4))




def is_jetson(root: Path = Path("/")) -> bool:
    """Whether the host under `root` is a Jetson: it has an L4T release file or an NVIDIA Tegra
    device tree."""
    compatible = root / "proc/device-tree/compatible"
    try:
        tegra = b"nvidia,tegra" in compatible.read_bytes()
    except OSError:
        tegra = False
    return tegra or (root / "etc/nv_tegra_release").is_file()
