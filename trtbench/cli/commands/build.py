"""`trtbench build MODEL --target NAME`: a TensorRT engine for one device, or a script to make it there."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict, Optional

from trtbench.errors import TrtbenchError
from trtbench.render import console

NAME = "build"
HELP = "build a TensorRT engine for a target device (on that device), or write a script to run there"
EXAMPLE = "trtbench build c3d20-f3n1024 --target tx1 --emit-script build-tx1.sh"

WHY = ("TensorRT engines only run on the GPU and TensorRT release that built them, so build on the "
       "device")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", help="an .onnx file, or a spec name / .toml (exported on the fly)")
    parser.add_argument("--target", required=True, help="target profile name (see `trtbench targets`)")
    parser.add_argument("--precision", choices=("fp32", "fp16", "int8"),
                        help="default: the target's default precision")
    parser.add_argument("--batch-range", metavar="MIN:OPT:MAX", help="optimization profile (default: the target's)")
    parser.add_argument("--workspace", type=int, metavar="MiB", help="builder workspace (default: the target's)")
    parser.add_argument("--dla-core", type=int, metavar="N", help="build for DLA core N (Xavier, Orin)")
    parser.add_argument("--timing-cache", type=Path, metavar="FILE", help="read and update this timing cache")
    parser.add_argument("--driver", choices=("api", "trtexec"), default="api",
                        help="api: the TensorRT Python package; trtexec: run trtexec (default: api)")
    parser.add_argument("--trtexec", default="trtexec", help="trtexec binary for --driver trtexec")
    parser.add_argument("--out", type=Path, metavar="ENGINE", help="default: MODEL.TARGET.PRECISION.plan beside MODEL")
    parser.add_argument("--emit-script", type=Path, metavar="FILE",
                        help="write a shell script that builds and profiles on the device; build nothing here")
    parser.add_argument("--trt-version", metavar="X.Y[.Z]",
                        help="with --emit-script: the device's TensorRT (default: the target's, e.g. 8.2.1 for tx1)")
    parser.add_argument("--profile-batch", type=int, action="append", metavar="N",
                        help="with --emit-script: batch(es) to profile (default: the range's OPT)")
    parser.add_argument("--force", action="store_true", help="build on this host even if it is not the target")
    parser.add_argument("--profiles", type=Path, action="append", default=[], metavar="DIR",
                        help="extra folder of target profiles")
    parser.add_argument("--cache-dir", type=Path, default=Path(".trtbench") / "onnx",
                        help="where on-the-fly ONNX exports go")
    parser.add_argument("--json", metavar="FILE|-", help="also write the engine metadata as JSON")


def _onnx_path(text: str, cache_dir: Path) -> Path:
    from trtbench.models.source import onnx_file, resolve_model

    model = resolve_model(text, cache_dir)
    if model.kind == "plan":
        raise TrtbenchError(f"{text} is already an engine plan", hint="give the .onnx model it was built from")
    return onnx_file(model)


def run(args: argparse.Namespace) -> int:
    from trtbench.backends.tensorrt import build as trt_build
    from trtbench.device.targets import get_target, parse_batch_range

    target = get_target(args.target, args.profiles)
    precision = args.precision or target.default_precision
    batch_range = parse_batch_range(args.batch_range) if args.batch_range else target.batch_range
    workspace = args.workspace if args.workspace is not None else target.default_workspace_mib
    trt_build.check_precision(target, precision)
    trt_build.check_dla(target, args.dla_core)
    onnx = _onnx_path(args.model, args.cache_dir)
    model_input = trt_build.read_model_input(onnx)
    trt_build.check_batch_range(model_input, batch_range, onnx)

    if args.emit_script:
        return _emit(args, target, onnx, model_input, precision, batch_range, workspace)

    from trtbench.device.host import detect_host, host_matches

    host = detect_host()
    matches = host_matches(host, target)
    if not matches[0] and not args.force:
        raise TrtbenchError(f"{matches[1]}; {WHY}",
                            hint=f"--emit-script FILE writes a trtexec script to run on the {target.name}, "
                                 "--force builds here anyway")
    if args.driver == "api":
        import importlib.util
        if importlib.util.find_spec("tensorrt") is None:
            raise trt_build.tensorrt_missing()
    if not matches[0]:
        console.warn(f"building for {target.name} on another host (--force): {matches[1]}")
    engine = args.out or onnx.with_name(f"{onnx.stem}.{target.name}.{precision}.plan")
    req = trt_build.BuildRequest(onnx=onnx, engine=engine, target=target, precision=precision,
                                 batch_range=batch_range, workspace_mib=workspace, dla_core=args.dla_core,
                                 timing_cache=args.timing_cache, input=model_input,
                                 precision_given=bool(args.precision))
    log: Optional[Path] = None
    if args.driver == "trtexec":
        version, seconds, layers, detailed, notes, log = trt_build.build_with_trtexec(req, args.trtexec)
    else:
        version, seconds, layers, detailed, notes = trt_build.build_with_api(req)
    _check_version_range(target, version, notes)
    metadata = trt_build.build_metadata(req, host, matches, driver=args.driver, tensorrt_version=version,
                                        build_seconds=seconds, layers=layers, detailed=detailed, notes=notes)
    meta_path = trt_build.write_metadata(engine, metadata)
    _write_json(args.json, metadata)
    for note in notes:
        console.warn(note)
    console.info(f"built {engine} for {target.name} ({precision}, batches {':'.join(map(str, batch_range))}, "
                 f"TensorRT {version}, {seconds:.1f} s); metadata {meta_path}" + (f"; log {log}" if log else ""))
    return 0


def _check_version_range(target: Any, version: str, notes: list) -> None:
    from trtbench.device.targets import version_tuple

    v = version_tuple(version)[:2]
    if not version_tuple(target.trt_min)[:2] <= v <= version_tuple(target.trt_max)[:2]:
        notes.append(f"TensorRT {version} is outside {target.name}'s range {target.trt_min}..{target.trt_max}: "
                     "this engine will not load on that device's TensorRT")


def _emit(args: argparse.Namespace, target: Any, onnx: Path, model_input: Any, precision: str,
          batch_range: Any, workspace: int) -> int:
    from trtbench.backends.trtexec.script import emit_script
    from trtbench.backends.trtexec.flags import TrtVersion

    version = TrtVersion.parse(args.trt_version or target.trt_default)
    if version.at_least(11) and not args.precision and precision != "fp32":
        console.info(f"TensorRT {version} takes precision from the ONNX model: building it as exported "
                     f"(labelled fp32; for {precision}, export the ONNX model in {precision})")
        precision = "fp32"
    text = emit_script(target, version, onnx, input_name=model_input.name, precision=precision,
                       batch_range=batch_range, workspace_mib=workspace, dla_core=args.dla_core,
                       profile_batches=args.profile_batch or (), script_file=args.emit_script.name)
    path: Path = args.emit_script
    path.write_text(text)
    path.chmod(0o755)
    _write_json(args.json, {"script": str(path), "target": target.name, "tensorrt": str(version),
                            "model": str(onnx), "precision": precision, "batch_range": list(batch_range)})
    console.info(f"wrote {path} for {target.title} (TensorRT {version}); copy it and {onnx} into one folder "
                 f"on the device and run: bash {path.name}")
    return 0


def _write_json(dest: Optional[str], data: Dict[str, Any]) -> None:
    if not dest:
        return
    text = json.dumps(data, indent=2, default=str) + "\n"
    if dest == "-":
        sys.stdout.write(text)
    else:
        Path(dest).write_text(text)
