"""What machine is this: Jetson module and L4T release, GPU name and compute capability, TensorRT.

Engines are built for one GPU and one TensorRT release, so `trtbench build --target` compares
this host with the target profile (`host_matches`). Jetson facts come from files under a root
folder (``/`` normally, a fixture tree in tests): ``/proc/device-tree/model``,
``/proc/device-tree/compatible``, ``/etc/nv_tegra_release``, ``/proc/meminfo``. Discrete GPUs are
asked through NVML (``pynvml`` from nvidia-ml-py), else ``nvidia-smi``, else torch.cuda when
torch is installed (not on a Jetson, whose device tree already gives the compute capability).
"""
from __future__ import annotations

import platform
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from trtbench.device.targets import Target

# SoC (device-tree "compatible") -> CUDA compute capability (jetson_stats CUDA_TABLE).
SOC_COMPUTE_CAPABILITY = {"tegra210": "5.3", "tegra186": "6.2", "tegra194": "7.2", "tegra234": "8.7",
                          "tegra264": "11.0"}

# L4T release -> (JetPack, TensorRT it ships); shared/docs/targets.md §5, tensorrt-api.md §7.1.
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


@dataclass
class HostInfo:
    """This machine, as far as engine building cares."""

    hostname: str = ""
    machine: str = ""  # platform.machine(): x86_64, aarch64
    jetson_model: Optional[str] = None  # /proc/device-tree/model without the NUL
    soc: Optional[str] = None  # tegra210 ... tegra264
    l4t: Optional[L4TRelease] = None
    memory_mb: Optional[int] = None  # MemTotal; on a Jetson the GPU shares it
    gpu_name: Optional[str] = None
    compute_capability: Optional[str] = None
    gpu_source: str = ""  # nvml, torch, nvidia-smi, device-tree
    tensorrt_version: Optional[str] = None
    tensorrt_source: str = ""  # python, trtexec, jetpack
    trtexec: Optional[str] = None
    notes: List[str] = field(default_factory=list)

    @property
    def is_jetson(self) -> bool:
        return bool(self.soc and self.soc.startswith("tegra")) or self.l4t is not None

    @property
    def jetpack(self) -> Optional[str]:
        return self.l4t.jetpack() if self.l4t else None

    def describe(self) -> str:
        """One phrase: ``NVIDIA Jetson Nano Developer Kit (L4T 32.7.1, sm_53)``."""
        if self.is_jetson:
            what = self.jetson_model or f"a Jetson ({self.soc or 'unknown SoC'})"
            extra = [f"L4T {self.l4t.release}" if self.l4t else "", _sm(self.compute_capability)]
        elif self.gpu_name:
            what, extra = self.gpu_name, [_sm(self.compute_capability)]
        else:
            what, extra = f"{self.machine or 'this machine'} with no NVIDIA GPU found", []
        extra = [e for e in extra if e]
        return what + (f" ({', '.join(extra)})" if extra else "")

    def to_dict(self) -> Dict[str, Any]:
        data = asdict(self)
        data["jetpack"] = self.jetpack
        data["is_jetson"] = self.is_jetson
        return data


def _sm(cc: Optional[str]) -> str:
    return "sm_" + cc.replace(".", "") if cc else ""


def _read(path: Path) -> Optional[str]:
    try:
        return path.read_bytes().decode("utf-8", "replace").replace("\x00", "\n").strip()
    except OSError:
        return None


def read_jetson(root: Path, host: HostInfo) -> None:
    """Fill the Jetson facts from files under `root`."""
    model = _read(root / "proc/device-tree/model")
    if model:
        host.jetson_model = model.splitlines()[0].strip()
    compatible = _read(root / "proc/device-tree/compatible") or ""
    m = re.search(r"nvidia,(tegra\d{3})", compatible)
    if m:
        host.soc = m.group(1)
    release = _read(root / "etc/nv_tegra_release")
    if release:
        host.l4t = parse_nv_tegra_release(release)
        if host.l4t is None:
            host.notes.append(f"{root / 'etc/nv_tegra_release'} has an unknown format")
    meminfo = _read(root / "proc/meminfo") or ""
    m = re.search(r"MemTotal:\s*(\d+)\s*kB", meminfo)
    if m:
        host.memory_mb = int(m.group(1)) // 1024
    if host.soc and host.soc in SOC_COMPUTE_CAPABILITY and host.is_jetson:
        host.compute_capability = SOC_COMPUTE_CAPABILITY[host.soc]
        host.gpu_source = "device-tree"


def _gpu_from_nvml() -> Optional[Tuple[str, Optional[str]]]:
    try:
        import pynvml  # nvidia-ml-py
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except Exception:  # NVMLError_LibraryNotFound, DriverNotLoaded, ...
        return None
    try:
        if pynvml.nvmlDeviceGetCount() < 1:
            return None
        handle = pynvml.nvmlDeviceGetHandleByIndex(0)
        name = pynvml.nvmlDeviceGetName(handle)
        name = name.decode() if isinstance(name, bytes) else str(name)
        try:
            major, minor = pynvml.nvmlDeviceGetCudaComputeCapability(handle)
            cc: Optional[str] = f"{major}.{minor}"
        except Exception:
            cc = None
        return name, cc
    except Exception:
        return None
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:
            pass


def _gpu_from_torch() -> Optional[Tuple[str, Optional[str]]]:
    import importlib.util
    if importlib.util.find_spec("torch") is None:
        return None
    try:
        import torch
        if not torch.cuda.is_available():
            return None
        major, minor = torch.cuda.get_device_capability(0)
        return torch.cuda.get_device_name(0), f"{major}.{minor}"
    except Exception:
        return None


def parse_nvidia_smi(text: str) -> Optional[Tuple[str, Optional[str]]]:
    """The first line of ``nvidia-smi --query-gpu=name,compute_cap --format=csv,noheader``."""
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if parts and parts[0]:
            cc = parts[1] if len(parts) > 1 and re.fullmatch(r"\d+\.\d+", parts[1]) else None
            return parts[0], cc
    return None


def _gpu_from_nvidia_smi() -> Optional[Tuple[str, Optional[str]]]:
    binary = shutil.which("nvidia-smi")
    if not binary:
        return None
    for query in ("name,compute_cap", "name"):  # compute_cap needs driver >= 510
        try:
            proc = subprocess.run([binary, f"--query-gpu={query}", "--format=csv,noheader"],
                                  capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if proc.returncode == 0:
            return parse_nvidia_smi(proc.stdout)
    return None


def _tensorrt_version() -> Tuple[Optional[str], str, Optional[str]]:
    """(version, how it was found, trtexec path)."""
    import importlib.util

    from trtbench.backends.trtexec.binary import detect_version, find_trtexec
    trtexec = find_trtexec()
    if importlib.util.find_spec("tensorrt") is not None:
        try:
            import tensorrt
            return str(tensorrt.__version__), "python", trtexec
        except Exception:
            pass
    if trtexec:
        try:
            return str(detect_version(trtexec)), "trtexec", trtexec
        except Exception:
            pass
    return None, "", trtexec


def detect_host(root: Path = Path("/"), probe: bool = True) -> HostInfo:
    """Describe this machine. `root` prefixes the Jetson files (tests pass a fixture tree);
    `probe=False` skips NVML / torch / nvidia-smi / TensorRT, leaving only the file facts."""
    host = HostInfo(hostname=platform.node(), machine=platform.machine())
    read_jetson(Path(root), host)
    if not probe:
        return host
    probes = [("nvml", _gpu_from_nvml), ("nvidia-smi", _gpu_from_nvidia_smi)]
    if not (host.is_jetson and host.compute_capability):  # importing torch on a Jetson takes seconds
        probes.append(("torch", _gpu_from_torch))
    for source, ask in probes:
        found = ask()
        if found:
            host.gpu_name, cc = found
            host.compute_capability = cc or host.compute_capability
            host.gpu_source = source
            break
    host.tensorrt_version, host.tensorrt_source, host.trtexec = _tensorrt_version()
    if host.tensorrt_version is None and host.l4t is not None and host.l4t.bundled_tensorrt():
        host.notes.append(f"JetPack {host.jetpack} ships TensorRT {host.l4t.bundled_tensorrt()}, "
                          "but neither its Python bindings nor trtexec were found")
    return host


def _matches_any(patterns: List[str], text: Optional[str]) -> bool:
    return bool(text) and any(re.search(p, str(text), re.IGNORECASE) for p in patterns)


def host_matches(host: HostInfo, target: Target) -> Tuple[bool, str]:
    """Whether an engine built here would be one for `target`, and why (one phrase)."""
    detect = target.detect
    ccs = [target.compute_capability, *detect.get("compute_capability_aliases", [])]
    if target.kind == "jetson":
        if not host.is_jetson:
            return False, f"this host is {host.describe()}, not a Jetson"
        if detect.get("soc") and host.soc and host.soc != detect["soc"]:
            return False, f"this Jetson has SoC {host.soc} ({host.jetson_model or 'model unknown'}), " \
                          f"{target.name} has {detect['soc']}"
        if not _matches_any(detect.get("model", []), host.jetson_model):
            return False, f"device-tree model {host.jetson_model!r} is not a {target.title} " \
                          f"(same SoC {host.soc}: pass --force if it is one on a custom carrier board)"
        memory = target.memory_gb
        if memory and host.memory_mb and not (0.75 * memory <= host.memory_mb / 1024 <= 1.1 * memory):
            return False, f"this {host.jetson_model} has {host.memory_mb / 1024:.0f} GB, {target.name} " \
                          f"is the {memory:g} GB module"
        return True, f"{host.describe()} is a {target.title}"
    if host.is_jetson:
        return False, f"this host is {host.describe()}, not a {target.title}"
    if not host.gpu_name:
        return False, f"no NVIDIA GPU found on this host ({host.machine}), {target.name} is a {target.title}"
    if not _matches_any(detect.get("gpu_name", []), host.gpu_name):
        return False, f"this host's GPU is {host.gpu_name}, not a {target.title}"
    if host.compute_capability and host.compute_capability not in ccs:
        return False, f"{host.gpu_name} reports compute capability {host.compute_capability}, " \
                      f"{target.name} has {target.compute_capability}"
    return True, f"{host.describe()} is a {target.title}"


def matching_targets(host: HostInfo, targets: Dict[str, Target]) -> List[str]:
    """Names of the profiles this host is."""
    return [name for name, t in targets.items() if host_matches(host, t)[0]]
