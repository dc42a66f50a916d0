"""`trtbench targets`: the device profiles; `targets show NAME` details one; `targets host` this machine."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, List

from trtbench import jsonio
from trtbench.cli import args as common
from trtbench.errors import TrtbenchError
from trtbench.render import console

NAME = "targets"
HELP = "list the target device profiles (show NAME: every figure with its source; host: this machine)"
EXAMPLE = "trtbench targets show tx1"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("words", nargs="*", metavar="show NAME | host",
                        help="nothing: list; `show NAME` (or just NAME): one profile; `host`: what this machine is")
    parser.add_argument("--profiles", type=Path, action="append", default=[], metavar="DIR",
                        help="extra folder of target profiles (also: TRTBENCH_PROFILES)")
    parser.add_argument("--json", metavar="FILE|-", help="write JSON instead of a table ('-' for stdout)")
    common.add_exports(parser)


def run(args: argparse.Namespace) -> int:
    from trtbench.device.targets import get_target, load_targets

    words: List[str] = list(args.words)
    if not words:
        return _list(args, load_targets(args.profiles))
    if words[0] == "host" and len(words) == 1:
        return _host(args, load_targets(args.profiles))
    if words[0] == "show":
        words = words[1:]
    if len(words) != 1:
        raise TrtbenchError(f"cannot read `targets {' '.join(args.words)}`",
                            hint="use `trtbench targets`, `trtbench targets show NAME` or `trtbench targets host`")
    return _show(args, get_target(words[0], args.profiles))


def _list(args: argparse.Namespace, targets: dict) -> int:
    if args.json:
        jsonio.write_json([t.to_dict() for t in targets.values()], args.json)
        return 0
    columns = ["name", "kind", "SM", "cores", "FP32 TF", "FP16 TF", "INT8 TOPS", "GB/s", "TensorRT", "builds for",
               "precision"]
    t = console.table("Target profiles (peaks; `trtbench targets show NAME` gives each figure's source)", columns,
                      right=["cores", "FP32 TF", "FP16 TF", "INT8 TOPS", "GB/s"])
    for target in sorted(targets.values(), key=lambda x: (x.kind, x.peak_fp32_tflops or 0)):
        t.add_row(target.name, target.kind, target.sm, console.fmt(target.value("cuda_cores")),
                  console.fmt(target.peak_fp32_tflops), console.fmt(target.peak_fp16_tflops),
                  console.fmt(target.peak_int8_tops), console.fmt(target.memory_bandwidth_gbs),
                  f"{target.trt_min}-{target.trt_max}", target.trt_default, target.default_precision)
    console.show(t)
    return 0


def _show(args: argparse.Namespace, target: Any) -> int:
    from trtbench.device.targets import FIELDS

    if args.json:
        jsonio.write_json(target.to_dict(), args.json)
        return 0
    console.line(f"{target.name}: {target.title} ({target.kind}, {target.gpu}, {target.sm})")
    console.line(f"profile: {target.path}")
    console.line("sources: each figure's source below; the notes they cite are docs/device-sources.md in trtbench's "
                 "repository (https://github.com/trtbench/trtbench)")
    console.line(f"default precision: {target.default_precision} ({target.precision_note})")
    t = console.table("Figures", ["field", "value", "unit", "status", "source"], right=["value"])
    for key, (unit, _meaning) in FIELDS.items():
        f = target.fields.get(key)
        if f is None:
            continue
        value = f.value if f.value is not None else f"none: {f.note}"
        source = f.source + (f" [{f.formula}]" if f.formula else "")
        t.add_row(key, str(value), unit, f.status, source)
    console.show(t)
    if target.power_modes:
        m = console.table("Power modes (nvpmodel; match by name, ids differ per JetPack)",
                          ["id", "name", "W", "GPU max MHz", "default", "status", "source"], right=["id", "W"])
        for mode in target.power_modes:
            m.add_row(str(mode.id), mode.name, _g(mode.watts), _g(mode.gpu_max_mhz),
                      "yes" if mode.default else "", mode.status, mode.source)
        console.show(m)
    elif target.power_note:
        console.line(f"power modes: {target.power_note}")
    return 0


def _g(value: Any) -> str:
    return "-" if value is None else f"{value:g}"


def _host(args: argparse.Namespace, targets: dict) -> int:
    from trtbench.device.host import detect_host, host_matches

    host = detect_host()
    matches = {name: host_matches(host, t) for name, t in targets.items()}
    if args.json:
        jsonio.write_json({"host": host.to_dict(), "targets": [n for n, (ok, _) in matches.items() if ok]}, args.json)
        return 0
    console.line(f"host: {host.describe()}")
    if host.jetpack:
        console.line(f"JetPack {host.jetpack} (L4T {host.l4t.release if host.l4t else '?'})")
    trt = f"{host.tensorrt_version} ({host.tensorrt_source})" if host.tensorrt_version else "not found"
    console.line(f"TensorRT: {trt}")
    for note in host.notes:
        console.warn(note)
    found = [n for n, (ok, _) in matches.items() if ok]
    console.line("matching targets: " + (", ".join(found) if found else "none (engines built here fit no profile; "
                                          "add one with --profiles DIR)"))
    return 0
