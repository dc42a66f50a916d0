"""Target profiles: one TOML file per device (``profiles/<name>.toml``), each figure with its source.

A profile gives the engine-build defaults for a device (precision, workspace, batch range, the
TensorRT release its scripts are written for) and the roofline numbers the analyses use (peak
FP32/FP16/INT8, memory bandwidth). Every figure lives in a ``[fields.<key>]`` table::

    [fields.memory_bandwidth_gbs]
    value = 25.6
    status = "read"          # read | derived | unverified
    source = "docs/device-sources.md §3: ..."
    formula = "1600 MHz x 2 x 64 bit / 8"   # optional: how a derived value was computed
    note = "..."                              # optional; a field without `value` means "none"

Profiles come from the bundled ``profiles/`` folder, then ``TRTBENCH_PROFILES`` and ``--profiles``
folders; a later file with the same name replaces an earlier one.
"""
from __future__ import annotations

import difflib
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from trtbench import env
from trtbench.errors import TrtbenchError
from trtbench.results.wellformed import MAX_BATCH  # beyond a run record's largest batch, a typo
from trtbench.tomlio import load_toml

STATUSES = ("read", "derived", "unverified")
KINDS = ("jetson", "discrete")
PRECISIONS = ("fp32", "fp16", "int8")

# key -> (unit, meaning); the order is the order `targets show` prints them in.
FIELDS: Dict[str, Tuple[str, str]] = {
    "compute_capability": ("", "CUDA compute capability"),
    "sm_count": ("", "streaming multiprocessors"),
    "cuda_cores": ("", "CUDA cores"),
    "tensor_cores": ("", "tensor cores"),
    "gpu_base_clock_mhz": ("MHz", "GPU base clock"),
    "gpu_clock_mhz": ("MHz", "GPU clock for the peaks (Jetson: maximum of the fastest mode; desktop: boost)"),
    "memory_clock_mhz": ("MHz", "memory (EMC) clock"),
    "peak_fp32_tflops": ("TFLOPS", "peak FP32"),
    "peak_fp16_tflops": ("TFLOPS", "peak FP16 TensorRT can use (tensor cores, dense, where present)"),
    "peak_int8_tops": ("TOPS", "peak INT8, dense"),
    "memory_gb": ("GB", "memory size"),
    "memory_bandwidth_gbs": ("GB/s", "peak memory bandwidth"),
    "dla_cores": ("", "DLA cores"),
    "tdp_w": ("W", "board / module power"),
    "newest_jetpack": ("", "newest JetPack"),
    "trt_min": ("", "oldest TensorRT trtbench drives on this device"),
    "trt_max": ("", "newest TensorRT for this device"),
    "trt_default": ("", "TensorRT that --emit-script writes for (newest JetPack's, or newest usable)"),
    "default_workspace_mib": ("MiB", "builder workspace"),
    "batch_range": ("", "optimization-profile batch range min:opt:max"),
}
REQUIRED_FIELDS = ("compute_capability", "peak_fp32_tflops", "memory_bandwidth_gbs", "trt_min", "trt_max",
                   "trt_default", "default_workspace_mib", "batch_range")
# What a figure may be: a count of units (0 where a device has none, as most have no DLA), a rate
# or size above 0 (a negative peak would turn a roofline scale around), or a version string.
COUNTS = ("sm_count", "cuda_cores", "tensor_cores", "dla_cores")
POSITIVE = ("gpu_base_clock_mhz", "gpu_clock_mhz", "memory_clock_mhz", "peak_fp32_tflops", "peak_fp16_tflops",
            "peak_int8_tops", "memory_gb", "memory_bandwidth_gbs", "tdp_w")
VERSIONS = {"compute_capability": re.compile(r"\d+\.\d+"), "trt_min": re.compile(r"\d+\.\d+(\.\d+)?"),
            "trt_max": re.compile(r"\d+\.\d+(\.\d+)?"), "trt_default": re.compile(r"\d+\.\d+(\.\d+)?")}
MAX_WORKSPACE_MIB = 1 << 20  # 1 TiB: more than any GPU has; a larger workspace is a typo


@dataclass(frozen=True)
class Field:
    """One figure of a profile: its value (None: the device has none), where it came from, how sure."""

    value: Any
    source: str
    status: str
    formula: str = ""
    note: str = ""

    def to_dict(self) -> Dict[str, Any]:
        data = {"value": self.value, "status": self.status, "source": self.source}
        if self.formula:
            data["formula"] = self.formula
        if self.note:
            data["note"] = self.note
        return data


@dataclass(frozen=True)
class PowerMode:
    """An nvpmodel mode; ids differ per module and JetPack, so modes are matched by name."""

    id: int
    name: str
    source: str
    status: str
    watts: Optional[float] = None
    gpu_max_mhz: Optional[float] = None
    default: bool = False

    def to_dict(self) -> Dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class Target:
    """A device trtbench builds engines for and compares against."""

    name: str
    title: str
    kind: str  # jetson | discrete
    path: Path
    gpu: str
    default_precision: str
    fields: Dict[str, Field]
    compute_capability: str
    peak_fp32_tflops: Optional[float]
    peak_fp16_tflops: Optional[float]
    peak_int8_tops: Optional[float]
    memory_bandwidth_gbs: Optional[float]
    trt_min: str
    trt_max: str
    trt_default: str
    default_workspace_mib: int
    batch_range: Tuple[int, int, int]
    aliases: Tuple[str, ...] = ()
    power_modes: List[PowerMode] = field(default_factory=list)
    detect: Dict[str, Any] = field(default_factory=dict)
    precision_note: str = ""
    power_note: str = ""

    def value(self, key: str) -> Any:
        """A field's value, or None when the profile lacks it."""
        f = self.fields.get(key)
        return f.value if f else None

    @property
    def sm(self) -> str:
        """``sm_53`` for compute capability 5.3."""
        return "sm_" + self.compute_capability.replace(".", "")

    @property
    def dla_cores(self) -> int:
        return int(self.value("dla_cores") or 0)

    @property
    def memory_gb(self) -> Optional[float]:
        return _number(self.value("memory_gb"))

    @property
    def newest_jetpack(self) -> Optional[str]:
        return self.value("newest_jetpack")

    def peak(self, precision: str = "fp32") -> Optional[float]:
        """Peak TFLOPS (TOPS for int8) at this precision; None when the device has no fast path."""
        if precision not in PRECISIONS:
            raise TrtbenchError(f"unknown precision {precision!r}", hint=f"use one of {', '.join(PRECISIONS)}")
        return {"fp32": self.peak_fp32_tflops, "fp16": self.peak_fp16_tflops, "int8": self.peak_int8_tops}[precision]

    def compute_peak(self, precision: str = "fp32") -> Optional[float]:
        """The peak a run at `precision` can reach: its own where the device has a fast path, else
        fp32's (fp16 on a GTX 960, tf32 everywhere: profiles list no tf32 peak). What the
        analyses scale by; `peak` is the strict figure the engine build checks."""
        own = self.peak(precision) if precision in PRECISIONS else None
        if precision == "fp16" and own is not None and self.peak_fp32_tflops and own < self.peak_fp32_tflops:
            own = None  # a "fast" path slower than fp32 (the GTX 960's fp16) is no fast path
        return own or self.peak_fp32_tflops

    def to_dict(self) -> Dict[str, Any]:
        return {
            "name": self.name, "title": self.title, "kind": self.kind, "gpu": self.gpu, "path": str(self.path),
            "aliases": list(self.aliases), "default_precision": self.default_precision,
            "precision_note": self.precision_note, "compute_capability": self.compute_capability,
            "peak_fp32_tflops": self.peak_fp32_tflops, "peak_fp16_tflops": self.peak_fp16_tflops,
            "peak_int8_tops": self.peak_int8_tops, "memory_bandwidth_gbs": self.memory_bandwidth_gbs,
            "trt_min": self.trt_min, "trt_max": self.trt_max, "trt_default": self.trt_default,
            "default_workspace_mib": self.default_workspace_mib, "batch_range": list(self.batch_range),
            "fields": {k: f.to_dict() for k, f in self.fields.items()},
            "power_modes": [m.to_dict() for m in self.power_modes],
            **({"power_note": self.power_note} if self.power_note else {}),
        }


def _number(value: Any) -> Optional[float]:
    return None if value is None else float(value)


def parse_batch_range(text: str) -> Tuple[int, int, int]:
    """``"1:1024:4096"`` → (1, 1024, 4096); a single number N means N:N:N."""
    parts = str(text).split(":")
    try:
        nums = [int(p) for p in parts]
    except ValueError:
        nums = []
    if len(nums) == 1:
        nums = nums * 3
    if len(nums) != 3 or not (1 <= nums[0] <= nums[1] <= nums[2] <= MAX_BATCH):
        raise TrtbenchError(f"batch range {text!r} is not MIN:OPT:MAX with "
                            f"1 <= MIN <= OPT <= MAX <= {MAX_BATCH:,}",
                            hint="write it like 1:1024:4096")
    return nums[0], nums[1], nums[2]


def _check_figure(where: str, key: str, value: Any) -> None:
    """One [fields.KEY] value against what such a figure can be (see COUNTS, POSITIVE, VERSIONS)."""
    if value is None:  # a figure with a note saying why there is none
        return
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if key in COUNTS and not (number and float(value).is_integer() and 0 <= value <= 10 ** 7):
        raise TrtbenchError(f"{where} value {value!r} is not a whole number from 0 up")
    if key in POSITIVE and not (number and 0 < value < math.inf):
        raise TrtbenchError(f"{where} value {value!r} is not a number above 0")
    if key == "default_workspace_mib" and not (number and float(value).is_integer()
                                                and 1 <= value <= MAX_WORKSPACE_MIB):
        raise TrtbenchError(f"{where} value {value!r} is not a whole number of MiB "
                            f"from 1 to {MAX_WORKSPACE_MIB:,}")
    if key == "batch_range":
        try:
            parse_batch_range(value)
        except TrtbenchError as exc:
            raise TrtbenchError(f"{where}: {exc.message}", hint=exc.hint) from None
    if key in VERSIONS and not VERSIONS[key].fullmatch(str(value)):
        like = "8.7" if key == "compute_capability" else "8.2.1"
        raise TrtbenchError(f"{where} value {value!r} is not a version like {like}")


def _parse_field(path: Path, key: str, raw: Any) -> Field:
    where = f"{path}: [fields.{key}]"
    if not isinstance(raw, dict):
        raise TrtbenchError(f"{where} must be a table with value, status and source")
    status = raw.get("status")
    if status not in STATUSES:
        raise TrtbenchError(f"{where} has status {status!r}", hint=f"use one of {', '.join(STATUSES)}")
    source = str(raw.get("source", "")).strip()
    if not source:
        raise TrtbenchError(f"{where} has no source", hint="say where the figure comes from")
    if "value" not in raw and not raw.get("note"):
        raise TrtbenchError(f"{where} has neither a value nor a note saying why there is none")
    unknown = set(raw) - {"value", "status", "source", "formula", "note"}
    if unknown:
        raise TrtbenchError(f"{where} has unknown keys {sorted(unknown)}")
    _check_figure(where, key, raw.get("value"))
    return Field(raw.get("value"), source, status, str(raw.get("formula", "")), str(raw.get("note", "")))


def _parse_power_mode(path: Path, raw: Dict[str, Any]) -> PowerMode:
    try:
        mode = PowerMode(id=int(raw["id"]), name=str(raw["name"]), source=str(raw["source"]),
                         status=str(raw["status"]), watts=_number(raw.get("watts")),
                         gpu_max_mhz=_number(raw.get("gpu_max_mhz")), default=bool(raw.get("default", False)))
    except KeyError as exc:
        raise TrtbenchError(f"{path}: a [[power_modes]] entry lacks {exc.args[0]!r}",
                            hint="each mode needs id, name, status and source") from None
    if mode.status not in STATUSES:
        raise TrtbenchError(f"{path}: power mode {mode.name} has status {mode.status!r}",
                            hint=f"use one of {', '.join(STATUSES)}")
    return mode


def parse_target(path: Path, data: Dict[str, Any]) -> Target:
    """Build a Target from one parsed profile; a malformed profile is a TrtbenchError naming it
    (values of the wrong type included)."""
    try:
        return _parse_target(path, data)
    except (TypeError, ValueError, OverflowError, AttributeError, KeyError, IndexError) as exc:
        raise TrtbenchError(f"{path}: not a valid target profile ({exc.__class__.__name__}: {str(exc)[:120]})",
                            hint="compare it with profiles/tx1.toml") from None


def _parse_target(path: Path, data: Dict[str, Any]) -> Target:
    if not isinstance(data.get("fields", {}), dict) or not isinstance(data.get("detect", {}), dict):
        raise TypeError("[fields] and [detect] must be tables")
    for key in ("name", "title", "kind", "default_precision"):
        if not data.get(key):
            raise TrtbenchError(f"{path} lacks {key!r}")
    if data["kind"] not in KINDS:
        raise TrtbenchError(f"{path}: kind {data['kind']!r} is not one of {', '.join(KINDS)}")
    if data["default_precision"] not in PRECISIONS:
        raise TrtbenchError(f"{path}: default_precision {data['default_precision']!r} is not one of "
                            f"{', '.join(PRECISIONS)}")
    raw_fields = data.get("fields", {})
    fields = {key: _parse_field(path, key, raw) for key, raw in raw_fields.items()}
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TrtbenchError(f"{path}: unknown fields {sorted(unknown)}", hint=f"known: {', '.join(FIELDS)}")
    missing = [k for k in REQUIRED_FIELDS if k not in fields]
    if missing:
        raise TrtbenchError(f"{path} lacks [fields.{missing[0]}]", hint=f"required: {', '.join(REQUIRED_FIELDS)}")
    # A number outside [fields.*] would be a figure without a source.
    for key, value in data.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            raise TrtbenchError(f"{path}: {key} = {value} is a figure outside [fields.*]",
                                hint=f"move it to [fields.{key}] with its source and status")
    value = {k: f.value for k, f in fields.items()}
    return Target(
        name=str(data["name"]), title=str(data["title"]), kind=str(data["kind"]), path=path,
        gpu=str(data.get("gpu", "")), default_precision=str(data["default_precision"]), fields=fields,
        compute_capability=str(value["compute_capability"]),
        peak_fp32_tflops=_number(value.get("peak_fp32_tflops")),
        peak_fp16_tflops=_number(value.get("peak_fp16_tflops")),
        peak_int8_tops=_number(value.get("peak_int8_tops")),
        memory_bandwidth_gbs=_number(value.get("memory_bandwidth_gbs")),
        trt_min=str(value["trt_min"]), trt_max=str(value["trt_max"]), trt_default=str(value["trt_default"]),
        default_workspace_mib=int(value["default_workspace_mib"]),
        batch_range=parse_batch_range(value["batch_range"]),
        aliases=tuple(str(a) for a in data.get("aliases", [])),
        power_modes=[_parse_power_mode(path, m) for m in data.get("power_modes", [])],
        detect=dict(data.get("detect", {})), precision_note=str(data.get("precision_note", "")),
        power_note=str(data.get("power_note", "")),
    )


def load_target_file(path: Path) -> Target:
    target = parse_target(path, load_toml(path))
    if target.name != path.stem:
        raise TrtbenchError(f"{path} has name {target.name!r}; a profile's name must match its file name",
                            hint=f"rename the file to {target.name}.toml or change name")
    return target


def load_targets(extra_dirs: Sequence[Path] = ()) -> Dict[str, Target]:
    """Every profile: bundled, then TRTBENCH_PROFILES, then `extra_dirs` (later replaces earlier)."""
    targets: Dict[str, Target] = {}
    bundled = env.profile_dirs()[0]
    for folder in [*env.profile_dirs(), *[Path(d) for d in extra_dirs]]:
        if not folder.is_dir():
            if folder != bundled:
                what = "is not a folder" if os.path.lexists(folder) else "does not exist"
                raise TrtbenchError(f"profile folder {folder} {what}",
                                    hint="check --profiles / TRTBENCH_PROFILES")
            continue
        for path in sorted(folder.glob("*.toml")):
            target = load_target_file(path)
            targets[target.name] = target
    return targets


def get_target(name: str, extra_dirs: Sequence[Path] = ()) -> Target:
    """The profile called `name` (or one of its aliases); unknown names list the nearest ones."""
    targets = load_targets(extra_dirs)
    if name in targets:
        return targets[name]
    for target in targets.values():
        if name in target.aliases:
            return target
    names = sorted(targets) + sorted(a for t in targets.values() for a in t.aliases)
    near = difflib.get_close_matches(name, names, n=3, cutoff=0.4)
    hint = (f"did you mean {', '.join(near)}? " if near else "") + \
        "`trtbench targets` lists them; add your own with --profiles DIR"
    raise TrtbenchError(f"unknown target {name!r}", hint=hint)


def roofline_ratio(a: Target, b: Target, precision: str = "fp32") -> Dict[str, float]:
    """How much faster `a` is than `b` on paper: ``compute`` (peak ratio at `precision`),
    ``bandwidth`` (memory bandwidth ratio), and each device's ridge point in FLOP/byte."""
    pa, pb = a.peak(precision), b.peak(precision)
    for target, peak in ((a, pa), (b, pb)):
        if peak is None:
            note = target.fields.get(_PEAK_KEYS[precision])
            why = f" ({note.note})" if note and note.note else ""
            raise TrtbenchError(f"target {target.name} has no {precision} peak{why}",
                                hint="compare at another precision, e.g. fp32")
        if target.memory_bandwidth_gbs is None:
            raise TrtbenchError(f"target {target.name} has no memory bandwidth in {target.path}")
    assert pa is not None and pb is not None and a.memory_bandwidth_gbs and b.memory_bandwidth_gbs
    return {
        "compute": pa / pb,
        "bandwidth": a.memory_bandwidth_gbs / b.memory_bandwidth_gbs,
        "ridge_a": pa * 1000.0 / a.memory_bandwidth_gbs,
        "ridge_b": pb * 1000.0 / b.memory_bandwidth_gbs,
    }


_PEAK_KEYS = {"fp32": "peak_fp32_tflops", "fp16": "peak_fp16_tflops", "int8": "peak_int8_tops"}


def version_tuple(text: str) -> Tuple[int, ...]:
    """``"8.2.1"`` → (8, 2, 1); used to compare TensorRT and JetPack versions numerically."""
    return tuple(int(p) for p in re.findall(r"\d+", str(text))[:3])
