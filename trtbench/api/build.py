"""`trtbench.build` and `trtbench.emit_script`: a TensorRT engine for a target, or a script that makes it there.

TensorRT engines only run on the GPU and TensorRT release that built them, so `build` refuses to
build on a host that is not the target (unless ``force``), and `emit_script` writes the trtexec
commands for the target's TensorRT release to run on the device.
"""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from trtbench import jsonio
from trtbench.backends.tensorrt.engine import (
    BuildRequest,
    Shape,
    profile_shapes,
    BuildResult,
    build_metadata,
    check_batch_range,
    check_dla,
    check_precision,
    write_metadata,
)
from trtbench.device.targets import MAX_WORKSPACE_MIB, Target, get_target, parse_batch_range, version_tuple
from trtbench.errors import TrtbenchError
from trtbench.filenames import safe_name
from trtbench.backends.tensorrt.versions import build_choice, features_for
from trtbench.models.inputs import TILE, ModelInput, fixed_batch, item_kind, read_model_inputs
from trtbench.models.source import DEFAULT_CACHE, onnx_file, resolve_model

IMAGE_BATCH_RANGE = (1, 1, 32)
VERSION_FORM = re.compile(r"\d{1,3}\.\d{1,3}(\.\d{1,4})?")  # --trt-version X.Y[.Z]
WHY = "TensorRT engines only run on the GPU and TensorRT release that built them, so build on the device"
DRIVERS = ("api", "trtexec")


@dataclass
class _Plan:
    target: Target
    onnx: Path
    inputs: List[ModelInput]
    shapes: Dict[str, Tuple[Shape, Shape, Shape]]  # min/opt/max of each dynamic input
    precision: str
    batch_range: Tuple[int, int, int]
    workspace_mib: int
    notes: List[str] = field(default_factory=list)
    original: Optional[Path] = None  # the user's ONNX file when `onnx` is a copy TensorRT can parse


def _plan(model: Union[str, Path], target: str, precision: Optional[str], batch_range: Optional[str],
          workspace_mib: Optional[int], dla_core: Optional[int], profiles: Sequence[Path],
          cache_dir: Path) -> _Plan:
    chosen = get_target(target, profiles)
    precision = precision or chosen.default_precision
    batches = parse_batch_range(batch_range) if batch_range else chosen.batch_range
    workspace = workspace_mib if workspace_mib is not None else chosen.default_workspace_mib
    if not 1 <= workspace <= MAX_WORKSPACE_MIB:
        raise TrtbenchError(f"workspace {workspace:,} MiB is not from 1 to {MAX_WORKSPACE_MIB:,} MiB (1 TiB)",
                            hint="give --workspace in MiB, e.g. 1024")
    check_precision(chosen, precision)
    check_dla(chosen, dla_core)
    source = resolve_model(str(model), Path(cache_dir))
    if source.kind == "plan":
        raise TrtbenchError(f"{model} is already an engine plan", hint="give the .onnx model it was built from")
    onnx = original = onnx_file(source)
    notes: List[str] = []
    if source.kind == "onnx" and not source.spec:
        onnx, notes = _without_postprocessing(onnx, source.sha256, Path(cache_dir))
    inputs = read_model_inputs(onnx)
    fixed = fixed_batch(inputs)
    if fixed is not None and not batch_range:  # a fixed-batch export is built at its own batch
        batches = (fixed, fixed, fixed)
    elif not batch_range and item_kind(inputs) != TILE:
        # the targets' ranges (1:1024:4096) are for the study's 28x28 tiles; 4096 images of 3x224x224
        # are 2.4 GB of input alone. Other models run at batch 1 by default, as trtexec does.
        batches = IMAGE_BATCH_RANGE
        notes.append(f"batch range {':'.join(map(str, batches))} for this model (the target's "
                     f"{':'.join(map(str, chosen.batch_range))} is for 28x28 tiles); --batch-range MIN:OPT:MAX "
                     "for others")
    check_batch_range(inputs, batches, onnx)
    shapes = profile_shapes(inputs, batches, onnx)
    return _Plan(chosen, onnx, inputs, shapes, precision, batches, workspace, notes, original)


def _without_postprocessing(onnx: Path, sha256: str, cache_dir: Path) -> Tuple[Path, List[str]]:
    """The model TensorRT can parse: a copy without ``ai.onnx.ml`` label post-processing (ZipMap
    and friends, which TensorRT has no importer for), else the model itself."""
    from trtbench.models.inputs import load_graph
    from trtbench.models.onnx_prepare import ML_DOMAIN, prepare

    if not any(node.domain == ML_DOMAIN for node in load_graph(onnx).graph.node):
        return onnx, []
    prepared = prepare(onnx, sha256, cache_dir)
    return prepared.path, [f"trtbench {change}; TensorRT cannot parse it"
                           for change in prepared.changes if "post-processing" in change]


def build(model: Union[str, Path], target: str, *, precision: Optional[str] = None,
          batch_range: Optional[str] = None, workspace_mib: Optional[int] = None, dla_core: Optional[int] = None,
          timing_cache: Optional[Path] = None, driver: str = "api", trtexec: str = "trtexec",
          out: Optional[Path] = None, force: bool = False, profiles: Sequence[Path] = (),
          cache_dir: Path = DEFAULT_CACHE) -> BuildResult:
    """Build an engine of `model` (an ONNX file or a spec) for `target` on this host.

    `precision`, `batch_range` ("MIN:OPT:MAX"), `workspace_mib`: the target profile's defaults
    when None. `driver`: "api" (the tensorrt package) or "trtexec". Raises `TrtbenchError` when
    this host is not the target (unless `force`), or TensorRT / trtexec is missing. The engine's
    metadata JSON is written beside it; `BuildResult.notes` says what the caller should know.
    """
    from trtbench.device.host import detect_host, host_matches

    if driver not in DRIVERS:
        raise TrtbenchError(f"unknown build driver {driver!r}", hint=f"choose one of: {', '.join(DRIVERS)}")
    plan = _plan(model, target, precision, batch_range, workspace_mib, dla_core, profiles, cache_dir)
    host = detect_host()
    matches = host_matches(host, plan.target)
    if not matches[0] and not force:
        raise TrtbenchError(f"{matches[1]}; {WHY}",
                            hint=f"--emit-script FILE writes a trtexec script to run on the {plan.target.name}, "
                                 "--force builds here anyway")
    if driver == "api" and importlib.util.find_spec("tensorrt") is None:
        from trtbench.backends.tensorrt.build import tensorrt_missing

        raise tensorrt_missing()
    notes: List[str] = list(plan.notes)
    if not matches[0]:
        notes.append(f"building for {plan.target.name} on another host (force): {matches[1]}")
    named = plan.original or plan.onnx
    engine = Path(out) if out else named.with_name(f"{named.stem}.{plan.target.name}.{plan.precision}.plan")
    req = BuildRequest(onnx=plan.onnx, engine=engine, target=plan.target, precision=plan.precision,
                       batch_range=plan.batch_range, workspace_mib=plan.workspace_mib, dla_core=dla_core,
                       timing_cache=timing_cache, inputs=plan.inputs, precision_given=bool(precision))
    log: Optional[Path] = None
    if driver == "trtexec":
        from trtbench.backends.trtexec.build import build_with_trtexec

        version, seconds, layers, detailed, driver_notes, log = build_with_trtexec(req, trtexec)
    else:
        from trtbench.backends.tensorrt.build import build_with_api

        version, seconds, layers, detailed, driver_notes = build_with_api(req)
    if not out and req.precision != plan.precision and engine.is_file():
        # 11.x built the target's default precision as exported (fp32): name the engine for what it is
        renamed = named.with_name(f"{named.stem}.{plan.target.name}.{req.precision}.plan")
        engine.replace(renamed)
        engine = req.engine = renamed
    notes.extend(driver_notes)
    notes.extend(_version_range_notes(plan.target, version))
    metadata = build_metadata(req, host, matches, driver=driver, tensorrt_version=version,
                              build_seconds=seconds, layers=layers, detailed=detailed, notes=notes)
    write_metadata(engine, metadata)
    return BuildResult(engine=engine, metadata=metadata, log=log, notes=notes)


def _version_range_notes(target: Target, version: str) -> List[str]:
    v = version_tuple(version)[:2]
    if version_tuple(target.trt_min)[:2] <= v <= version_tuple(target.trt_max)[:2]:
        return []
    return [f"TensorRT {version} is outside {target.name}'s range {target.trt_min}..{target.trt_max}: "
            "this engine will not load on that device's TensorRT"]


@dataclass
class ScriptResult:
    """A device script written by `emit_script`, and what it was written for."""

    script: Path
    target: Target
    tensorrt: str
    onnx: Path
    precision: str
    batch_range: Tuple[int, int, int]
    notes: List[str] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        return {"script": str(self.script), "target": self.target.name, "tensorrt": self.tensorrt,
                "model": str(self.onnx), "precision": self.precision, "batch_range": list(self.batch_range)}


def _check_script_path(path: Path) -> None:
    """The script goes to a regular file or a new one: writing to a FIFO would block until some
    reader opened it, and a device or folder is no place for it."""
    if str(path) == "-" or not str(path).strip():
        raise TrtbenchError(f"--emit-script {str(path)!r} is not a file name",
                            hint="e.g. --emit-script build.sh")
    if os.path.lexists(path):
        jsonio.require_regular_file(path, "--emit-script")


def emit_script(model: Union[str, Path], target: str, script: Path, *, trt_version: Optional[str] = None,
                precision: Optional[str] = None, batch_range: Optional[str] = None,
                workspace_mib: Optional[int] = None, dla_core: Optional[int] = None,
                profile_batches: Sequence[int] = (), profiles: Sequence[Path] = (),
                cache_dir: Path = DEFAULT_CACHE) -> ScriptResult:
    """Write a shell script that builds and profiles `model` for `target` on the device itself,
    for its TensorRT release (`trt_version`, default the target's), and import-trtexec lines to
    bring the results back."""
    from trtbench.backends.trtexec.script import emit_script as script_text
    from trtbench.device.tensorrt_install import TrtVersion

    path = Path(script)
    _check_script_path(path)
    if trt_version is not None and not VERSION_FORM.fullmatch(trt_version.strip()):
        # TrtVersion.parse finds a version inside any text ("8.2.1;rm" reads as 8.2.1): a flag is
        # held to its documented form, so a typo is not silently taken for another release
        raise TrtbenchError(f"--trt-version {trt_version!r} is not X.Y or X.Y.Z",
                            hint="e.g. --trt-version 8.2.1")
    plan = _plan(model, target, precision, batch_range, workspace_mib, dla_core, profiles, cache_dir)
    version = TrtVersion.parse(trt_version or plan.target.trt_default)
    choice = build_choice(features_for(version.parts), plan.precision,
                          given=bool(precision), dla_core=dla_core)
    onnx, notes = plan.onnx, list(plan.notes) + list(choice.notes)
    if plan.notes:  # the device needs the copy TensorRT can parse, beside the script
        onnx = path.parent / f"{safe_name(Path(str(model)).stem)}-trt.onnx"
        try:
            shutil.copyfile(plan.onnx, onnx)
        except OSError as exc:
            raise TrtbenchError(f"cannot write {onnx}: {exc.strerror}") from None
        notes.append(f"wrote {onnx}: copy it to the device with the script")
    text = script_text(plan.target, version, onnx, shapes=plan.shapes, precision=choice.precision,
                       batch_range=plan.batch_range, workspace_mib=plan.workspace_mib, dla_core=dla_core,
                       profile_batches=profile_batches, script_file=path.name)
    jsonio.write_text(text, path, "--emit-script")  # atomic: an interrupted write leaves no half script
    try:
        path.chmod(0o755)
    except OSError as exc:
        raise TrtbenchError(f"cannot make {path} executable: {exc.strerror}") from None
    return ScriptResult(path, plan.target, str(version), onnx, choice.precision, plan.batch_range, notes)
