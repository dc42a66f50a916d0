"""`trtbench telemetry`: read recorded device telemetry, or sample the device now.

- ``trtbench telemetry parse FILE``: a recorded tegrastats log (any L4T release) into samples, or a
  captured ``jetson_clocks --show`` / ``nvpmodel -q`` output into the clock / power-mode state;
- ``trtbench telemetry sample --seconds S``: sample this machine (NVML or tegrastats) for S seconds
  and apply the validity checks.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

from trtbench.device import jetson_power as jetson
from trtbench.device import tegrastats
from trtbench.errors import TrtbenchError
from trtbench.measure.telemetry import summarise
from trtbench.render import console

NAME = "telemetry"
HELP = "parse recorded tegrastats / jetson_clocks / nvpmodel output, or sample the device"
EXAMPLE = "trtbench telemetry parse tegrastats.log --json -"
KINDS = ("auto", "tegrastats", "jetson_clocks", "nvpmodel")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    p = sub.add_parser(
        "parse", help="parse a recorded tegrastats log, jetson_clocks --show or nvpmodel -q output"
    )
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--kind", default="auto", choices=KINDS, help="what FILE holds (default: detect)")
    p.add_argument("--json", metavar="FILE|-", help="write the samples/state as JSON ('-': stdout)")
    s = sub.add_parser(
        "sample", help="sample this device (NVML or tegrastats) for a while and check validity"
    )
    s.add_argument("--seconds", type=float, default=5.0, help="how long (default: 5)")
    s.add_argument("--period", type=float, default=0.2, help="seconds between samples (default: 0.2)")
    s.add_argument("--device", default="cuda", choices=("cuda",), help="device (default: cuda)")
    s.add_argument("--json", metavar="FILE|-", help="write the telemetry as JSON ('-': stdout)")


def _write_json(target: str, payload: Any) -> None:
    text = json.dumps(payload, indent=2)
    if target == "-":
        sys.stdout.write(text + "\n")
        return
    try:
        Path(target).write_text(text + "\n")
    except OSError as exc:
        raise TrtbenchError(f"cannot write {target}: {exc.strerror}") from None


def parse_file(path: Path, kind: str = "auto") -> Dict[str, Any]:
    """``{"kind": ..., ...}``: samples for tegrastats, the state for jetson_clocks / nvpmodel."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        raise TrtbenchError(f"{path} does not exist") from None
    except OSError as exc:
        raise TrtbenchError(f"cannot read {path}: {exc.strerror}") from None
    if kind == "auto":
        kind = "tegrastats" if tegrastats.looks_like_tegrastats(text) else (jetson.detect_kind(text) or "")
        if not kind:
            raise TrtbenchError(
                f"{path} is neither tegrastats, jetson_clocks --show nor nvpmodel -q output",
                hint="name it with --kind",
            )
    if kind == "tegrastats":
        samples = tegrastats.parse_file(path)
        return {"kind": kind, "samples": [s.to_dict() for s in samples], "summary": summarise(samples)}
    if kind == "jetson_clocks":
        return {"kind": kind, "clocks": jetson.parse_jetson_clocks(text).to_dict()}
    if kind == "nvpmodel_conf":
        return {"kind": kind, "modes": jetson.parse_power_models(text)}
    mode = jetson.parse_nvpmodel(text)
    if mode.name is None:
        raise TrtbenchError(f"{path} has no 'NV Power Mode:' line", hint="capture it with: nvpmodel -q")
    return {"kind": kind, "power_mode": mode.to_dict()}


def _render_samples(result: Dict[str, Any], path: Path) -> None:
    samples: List[Dict[str, Any]] = result["samples"]
    t = console.table(
        f"tegrastats: {path.name} ({len(samples)} samples)",
        ["time", "GPU %", "GPU MHz", "EMC MHz", "hottest C", "power mW", "RAM MB"],
        right=["GPU %", "GPU MHz", "EMC MHz", "hottest C", "power mW", "RAM MB"],
    )
    shown = samples if len(samples) <= 20 else samples[:10] + samples[-10:]
    for s in shown:
        temps = s.get("temps_c") or {}
        hottest = max(temps.values()) if temps else None
        t.add_row(
            s.get("time") or "-",
            console.fmt(s.get("gpu_load_pct")),
            console.fmt(s.get("gpu_freq_mhz")),
            console.fmt(s.get("emc_freq_mhz")),
            console.fmt(hottest),
            console.fmt(s.get("power_total_mw")),
            console.fmt(s.get("ram_used_mb")),
        )
    console.stdout().print(t)
    if len(samples) > 20:
        console.info(f"(first and last 10 of {len(samples)} samples; --json - gives all)")


def _render_state(result: Dict[str, Any]) -> None:
    out = console.stdout()
    if "clocks" in result:
        c = result["clocks"]
        t = console.table("jetson_clocks", ["domain", "min", "max", "current", "pinned"])
        for g in c["gpus"]:
            t.add_row(
                g["name"],
                f"{g['min'] / 1e6:.1f} MHz",
                f"{g['max'] / 1e6:.1f} MHz",
                f"{g['current'] / 1e6:.1f} MHz",
                "yes" if g["min"] == g["max"] == g["current"] else "no",
            )
        if c.get("emc"):
            e = c["emc"]
            t.add_row(
                "EMC",
                f"{e['min'] / 1e6:.1f} MHz",
                f"{e['max'] / 1e6:.1f} MHz",
                f"{e['current'] / 1e6:.1f} MHz",
                {True: "override", False: "no", None: "-"}[e.get("override")],
            )
        for cpu in c["cpus"]:
            t.add_row(
                cpu["name"],
                f"{cpu['min'] / 1e3:.0f} MHz",
                f"{cpu['max'] / 1e3:.0f} MHz",
                f"{cpu['current'] / 1e3:.0f} MHz",
                "offline"
                if cpu.get("online") is False
                else ("yes" if cpu["min"] == cpu["max"] == cpu["current"] else "no"),
            )
        out.print(t)
        verdict = "pinned" if c["pinned"] else "NOT pinned (run: sudo jetson_clocks)"
        out.print(f"clocks {verdict}; power mode {c.get('power_mode') or '?'}", markup=False)
    elif "power_mode" in result:
        m = result["power_mode"]
        out.print(f"power mode {m['name']} (id {m['id']})", markup=False)
    else:
        for mode_id, name in result["modes"].items():
            out.print(f"{mode_id}: {name}", markup=False)


def _sample(args: argparse.Namespace) -> int:
    from trtbench.measure.sampler import Sampler, auto_source
    from trtbench.measure.telemetry import record_checks

    source = auto_source(args.device)
    if source is None:
        raise TrtbenchError(
            "no telemetry source here: neither tegrastats (Jetson) nor NVML (pynvml) is available",
            hint="on a desktop GPU: pip install nvidia-ml-py",
        )
    with Sampler(source, period_s=args.period) as sampler:
        time.sleep(args.seconds)
    result = sampler.result()
    result["summary"] = summarise(result.get("samples", []))
    checks = record_checks(result)
    result["checks"] = [c.to_dict() if hasattr(c, "to_dict") else vars(c) for c in checks]
    if args.json:
        _write_json(args.json, result)
    if args.json != "-":
        console.stdout().print(json.dumps(result["summary"]), markup=False)
        for c in result["checks"]:
            console.info(f"{c['status']:>7}  {c['name']}: {c['message']}")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.action == "sample":
        return _sample(args)
    if args.action != "parse":
        raise TrtbenchError("say what to do: trtbench telemetry parse FILE, or trtbench telemetry sample")
    result = parse_file(args.file, args.kind)
    if args.json:
        _write_json(args.json, {"file": str(args.file), **result})
    if args.json != "-":
        if result["kind"] == "tegrastats":
            _render_samples(result, args.file)
        else:
            _render_state(result)
    return 0
