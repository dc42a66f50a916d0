"""`trtbench build MODEL --target NAME`: a TensorRT engine for one device, or a script to make it there."""
from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from trtbench.cli import args as common
from trtbench.render import console

NAME = "build"
HELP = "build a TensorRT engine for a target device (on that device), or write a script to run there"
EXAMPLE = "trtbench build c3d20-f3n1024 --target tx1 --emit-script build-tx1.sh"


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
    common.add_cache_dir(parser)
    common.add_json(parser, "the engine metadata (or the script's summary)")


def run(args: argparse.Namespace) -> int:
    from trtbench import jsonio
    from trtbench.api.build import build, emit_script

    shared = dict(precision=args.precision, batch_range=args.batch_range, workspace_mib=args.workspace,
                  dla_core=args.dla_core, profiles=args.profiles, cache_dir=args.cache_dir)
    if args.emit_script:
        script = emit_script(args.model, args.target, args.emit_script, trt_version=args.trt_version,
                             profile_batches=args.profile_batch or (), **shared)
        for note in script.notes:
            console.info(note)
        if args.json:
            jsonio.write_json(script.to_dict(), args.json)
        console.info(f"wrote {script.script} for {script.target.title} (TensorRT {script.tensorrt}); copy it and "
                     f"{script.onnx} into one folder on the device and run: bash {shlex.quote(script.script.name)}")
        return 0
    result = build(args.model, args.target, timing_cache=args.timing_cache, driver=args.driver,
                   trtexec=args.trtexec, out=args.out, force=args.force, **shared)
    if args.json:
        jsonio.write_json(result.metadata, args.json)
    for note in result.notes:
        console.warn(note)
    meta = result.metadata
    console.info(f"built {result.engine} for {meta['target']['name']} ({meta['precision']}, batches "
                 f"{':'.join(map(str, meta['batch_range']))}, TensorRT {meta['versions']['tensorrt']}, "
                 f"{meta['build_seconds']:.1f} s); metadata {result.engine.name}.json"
                 + (f"; log {result.log}" if result.log else ""))
    return 0
