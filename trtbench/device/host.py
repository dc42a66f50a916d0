"""What machine is this: CPU, Jetson module and L4T release, GPU, driver and compute capability, TensorRT.

One probe serves every purpose: `detect_host` for `trtbench build` and `trtbench targets host`,
and `fingerprint` (the same probe without the slow tools, once per process) for every run record.

Engines are built for one GPU and one TensorRT release, so `trtbench build --target` compares
this host with the target profile (`host_matches`). Jetson facts come from files under a root
folder (``/`` normally, a fixture tree in tests): ``/proc/device-tree/model``,
``/proc/device-tree/compatible``, ``/etc/nv_tegra_release``, ``/proc/meminfo``. Discrete GPUs are
asked through NVML (``pynvml`` from nvidia-ml-py), else ``nvidia-smi``, else torch.cuda when
torch is installed (not on a Jetson, whose device tree already gives the compute capability).
"""
from __future__ import annotations

import functools
import os
import platform
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from trtbench.device.jetson import SOC_COMPUTE_CAPABILITY, L4TRelease, parse_nv_tegra_release
from trtbench.device.targets import Target
from trtbench.results.record import Host


@dataclass
class HostInfo:
    """This machine: CPU, OS, GPU and driver, Jetson module and release, TensorRT."""

    hostname: str = ""
    machine: str = ""  # platform.machine(): x86_64, aarch64
    os: str = ""
    cpu: str = ""
    cores: Optional[int] = None
    python: str = ""
    jetson_model: Optional[str] = None  # /proc/device-tree/model without the NUL
    soc: Optional[str] = None  # tegra210 ... tegra264
    l4t: Optional[L4TRelease] = None
    memory_mb: Optional[int] = None  # MemTotal; on a Jetson the GPU shares it
    gpu_name: Optional[str] = None
    compute_capability: Optional[str] = None
    gpu_source: str = ""  # nvml, torch, nvidia-smi, device-tree
    driver: Optional[str] = None  # NVIDIA driver version
    cuda: Optional[str] = None  # the CUDA version the driver supports
    tensorrt_version: Optional[str] = None
    tensorrt_source: str = ""  # python, trtexec, jetpack
    trtexec: Optional[str] = None
    power_mode: Optional[str] = None  # nvpmodel's current mode (Jetson)
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


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo), else what platform says."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


GpuFacts = Dict[str, Optional[str]]  # name, compute_capability, driver, cuda


def _gpu_from_torch() -> Optional[GpuFacts]:
    import importlib.util
    if importlib.util.find_spec("torch") is None:
        return None
    try:
        import torch
        if not torch.cuda.is_available():
            return None
        major, minor = torch.cuda.get_device_capability(0)
        return {"name": torch.cuda.get_device_name(0), "compute_capability": f"{major}.{minor}",
                "cuda": getattr(torch.version, "cuda", None)}
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


def _gpu_from_nvidia_smi() -> Optional[GpuFacts]:
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
            found = parse_nvidia_smi(proc.stdout)
            return {"name": found[0], "compute_capability": found[1]} if found else None
    return None


def _tensorrt_version(run_trtexec: bool) -> Tuple[Optional[str], str, Optional[str]]:
    """(version, how it was found, trtexec path). Without `run_trtexec`, only a tensorrt module
    that is already imported counts (importing it, or running trtexec, takes seconds)."""
    import importlib.util
    import sys

    from trtbench.device.tensorrt_install import detect_version, find_trtexec

    if not run_trtexec:
        module = sys.modules.get("tensorrt")
        return (str(module.__version__), "python", None) if module is not None else (None, "", None)
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


def detect_host(root: Path = Path("/"), probe: bool = True, tools: bool = True) -> HostInfo:
    """Describe this machine. `root` prefixes the Jetson files (tests pass a fixture tree).

    `probe=False` reads only those files. `tools=False` asks NVML, nvidia-smi and nvpmodel but
    does not import torch or tensorrt nor run trtexec (each takes seconds): what every run
    record's fingerprint uses (`fingerprint`).
    """
    from trtbench.device import nvml

    host = HostInfo(hostname=platform.node(), machine=platform.machine(),
                    os=f"{platform.system()} {platform.release()}", cpu=cpu_model(), cores=os.cpu_count(),
                    python=platform.python_version())
    read_jetson(Path(root), host)
    if not probe:
        return host
    probes: List[Tuple[str, Callable[[], Optional[GpuFacts]]]] = [("nvml", nvml.gpu_facts),
                                                                 ("nvidia-smi", _gpu_from_nvidia_smi)]
    if tools and not (host.is_jetson and host.compute_capability):  # importing torch on a Jetson takes seconds
        probes.append(("torch", _gpu_from_torch))
    for source, ask in probes:
        found = ask()
        if found and found.get("name"):
            host.gpu_name = found["name"]
            host.compute_capability = found.get("compute_capability") or host.compute_capability
            host.driver, host.cuda = found.get("driver"), found.get("cuda")
            host.gpu_source = source
            break
    host.tensorrt_version, host.tensorrt_source, host.trtexec = _tensorrt_version(run_trtexec=tools)
    bundled = host.l4t.bundled_tensorrt() if host.l4t is not None else None
    if host.tensorrt_version is None and bundled:
        if tools:
            host.notes.append(f"JetPack {host.jetpack} ships TensorRT {bundled}, "
                              "but neither its Python bindings nor trtexec were found")
        else:
            host.tensorrt_version, host.tensorrt_source = bundled, "jetpack"
    if host.is_jetson:
        from trtbench.device.jetson_power import read_power_mode

        host.power_mode = read_power_mode()
    return host


@functools.lru_cache(maxsize=1)
def _this_host() -> HostInfo:
    return detect_host(tools=False)


def fingerprint(target: Optional[str] = None) -> Host:
    """This host as a run record's `Host` (probed once per process, without slow tools)."""
    from trtbench import __version__

    host = _this_host()
    return Host(hostname=host.hostname, machine=host.machine, os=host.os, cpu=host.cpu, cores=host.cores,
                memory_mb=host.memory_mb, python=host.python, trtbench=__version__, gpu_name=host.gpu_name,
                compute_capability=host.compute_capability, driver=host.driver, cuda=host.cuda,
                tensorrt=host.tensorrt_version, jetson_model=host.jetson_model, soc=host.soc,
                l4t=host.l4t.release if host.l4t else None, jetpack=host.jetpack, power_mode=host.power_mode,
                target=target)


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
