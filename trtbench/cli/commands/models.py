"""`trtbench models`: the network specs trtbench knows."""
from __future__ import annotations

import argparse
from typing import Dict

from trtbench import jsonio
from trtbench.cli import args as common
from trtbench.models.netspec import NetSpec, bundled_specs
from trtbench.render import console
from trtbench.sweeps.file import bundled_sweeps

NAME = "models"
HELP = "list the network specs: the study's family (from the sweep files), LeNet-5 and your own"
EXAMPLE = "trtbench models --json -"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", metavar="FILE|-", help="write the list as JSON ('-' for stdout)")
    common.add_exports(parser)


def known_specs() -> Dict[str, NetSpec]:
    """Every spec: those of the bundled sweeps (the study grid), then named spec files."""
    specs: Dict[str, NetSpec] = {}
    for sweep in bundled_sweeps().values():
        specs.update(sweep.specs())
    specs.update(bundled_specs())
    return specs


def run(args: argparse.Namespace) -> int:
    specs = known_specs()
    if args.json:
        jsonio.write_json([spec.to_dict() for spec in specs.values()], args.json)
        return 0
    t = console.table("Network specs", ["name", "layers", "params", "MFLOP/tile"], right=["params", "MFLOP/tile"])
    for spec in specs.values():
        layers = " ".join(
            f"{g.name}{list(g.out_shape)}" if g.kind != "pool" else "pool" for g in spec.layers()
        )
        t.add_row(spec.name, layers, f"{spec.params:,}", f"{spec.flops / 1e6:.2f}")
    console.show(t)
    return 0
