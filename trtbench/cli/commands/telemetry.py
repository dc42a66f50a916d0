"""`trtbench telemetry`: read recorded device telemetry, or sample the device now.

- ``trtbench telemetry parse FILE``: a recorded tegrastats log (any L4T release) into samples, or a
  captured ``jetson_clocks --show`` / ``nvpmodel -q`` output into the clock / power-mode state;
- ``trtbench telemetry sample --seconds S``: sample this machine (NVML or tegrastats) for S seconds
  and apply the validity checks.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Dict, List

from trtbench.api.telemetry import KINDS
from trtbench.cli import args as common
from trtbench.errors import TrtbenchError
from trtbench.render import console

NAME = "telemetry"
HELP = "parse recorded tegrastats / jetson_clocks / nvpmodel output, or sample the device"
EXAMPLE = "trtbench telemetry parse tegrastats.log --json -"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    p = sub.add_parser(
        "parse", help="parse a recorded tegrastats log, jetson_clocks --show or nvpmodel -q output"
    )
    p.add_argument("file", type=Path, metavar="FILE")
    p.add_argument("--kind", default="auto", choices=KINDS, help="what FILE holds (default: detect)")
    p.add_argument("--json", metavar="FILE|-", help="write the samples/state as JSON ('-': stdout)")
    common.add_exports(p)
    s = sub.add_parser(
        "sample", help="sample this device (NVML or tegrastats) for a while and check validity"
    )
    s.add_argument("--seconds", type=float, default=5.0, help="how long (default: 5)")
    s.add_argument("--period", type=float, default=0.2, help="seconds between samples (default: 0.2)")
    s.add_argument("--device", default="cuda", choices=("cuda",), help="device (default: cuda)")
    s.add_argument("--json", metavar="FILE|-", help="write the telemetry as JSON ('-': stdout)")


def _render_samples(result: Dict[str, Any], path: Path) -> None:
    from trtbench.measure.telemetry import hottest_c  # the validity check's rule: PMIC is no reading

    samples: List[Dict[str, Any]] = result["samples"]
    t = console.table(
        f"tegrastats: {path.name} ({len(samples)} samples)",
        ["time", "GPU %", "GPU MHz", "EMC MHz", "hottest C", "power mW", "RAM MB"],
        right=["GPU %", "GPU MHz", "EMC MHz", "hottest C", "power mW", "RAM MB"],
    )
    shown = samples if len(samples) <= 20 else samples[:10] + samples[-10:]
    for s in shown:
        t.add_row(
            s.get("time") or "-",
            console.fmt(s.get("gpu_load_pct")),
            console.fmt(s.get("gpu_freq_mhz")),
            console.fmt(s.get("emc_freq_mhz")),
            console.fmt(hottest_c(s)),
            console.fmt(s.get("power_total_mw")),
            console.fmt(s.get("ram_used_mb")),
        )
    console.show(t)
    if len(samples) > 20:
        console.info(f"(first and last 10 of {len(samples)} samples; --json - gives all)")


def _render_state(result: Dict[str, Any]) -> None:
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
        console.show(t)
        verdict = "pinned" if c["pinned"] else "NOT pinned (run: sudo jetson_clocks)"
        console.line(f"clocks {verdict}; power mode {c.get('power_mode') or '?'}")
    elif "power_mode" in result:
        m = result["power_mode"]
        console.line(f"power mode {m['name']} (id {m['id']})")
    else:
        for mode_id, name in result["modes"].items():
            console.line(f"{mode_id}: {name}")


def run(args: argparse.Namespace) -> int:
    from trtbench import jsonio
    from trtbench.api.telemetry import read_telemetry, sample_telemetry

    if args.action == "sample":
        result = sample_telemetry(args.seconds, args.period, args.device)
        if args.json:
            jsonio.write_json(result, args.json)
        if args.json != "-":
            console.line(jsonio.dumps(result["summary"], indent=None))
            for c in result["checks"]:
                console.info(f"{c['status']:>7}  {c['name']}: {c['message']}")
        return 0
    if args.action != "parse":
        raise TrtbenchError("say what to do: trtbench telemetry parse FILE, or trtbench telemetry sample")
    result = read_telemetry(args.file, args.kind)
    if args.json:
        jsonio.write_json(result, args.json)
    if args.json != "-":
        if result["kind"] == "tegrastats":
            _render_samples(result, args.file)
        else:
            _render_state(result)
    return 0
