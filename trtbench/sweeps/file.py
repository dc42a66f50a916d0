"""Sweep files: groups of (network, batch) points, e.g. the study's four experiment groups.

Format (TOML, ``kind = "sweep"``)::

    [defaults]            # study-family parameters and batch used where a group does not vary them
    conv_layers = 1
    depth = 20
    fc_layers = 1
    neurons = 1024
    batch = 1024

    [[group]]
    name = "fc-batch"
    title = "..."
    fc_layers = [1, 2, 3, 4, 5]        # a list varies the parameter (cartesian product)
    batch = [16, 32, 64]
    # or: points = [{conv_layers = 5, fc_layers = 1}, ...]   explicit points

A point's key (``group/spec@batch``) is stable, so a sweep can resume and skip what is done.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping

from trtbench.errors import TrtbenchError
from trtbench.models.netspec import NetSpec
from trtbench.tomlio import load_toml

PARAMETERS = ("conv_layers", "depth", "fc_layers", "neurons", "batch")


@dataclass(frozen=True)
class SweepPoint:
    group: str
    spec: NetSpec
    batch: int
    variables: Dict[str, int]  # the parameter values of this point (all five)

    @property
    def key(self) -> str:
        return f"{self.group}/{self.spec.name}@{self.batch}"


@dataclass(frozen=True)
class SweepGroup:
    name: str
    title: str
    varied: tuple  # names of the parameters this group varies, in file order
    points: tuple  # of SweepPoint


@dataclass(frozen=True)
class Sweep:
    name: str
    description: str
    path: str
    groups: tuple  # of SweepGroup

    @property
    def points(self) -> List[SweepPoint]:
        return [p for g in self.groups for p in g.points]

    def specs(self) -> Dict[str, NetSpec]:
        """Every distinct network in the sweep, by name."""
        return {p.spec.name: p.spec for p in self.points}


def _point(group: str, values: Mapping[str, int]) -> SweepPoint:
    spec = NetSpec.study(values["conv_layers"], values["depth"], values["fc_layers"], values["neurons"])
    return SweepPoint(group, spec, int(values["batch"]), dict(values))


def parse_sweep(table: Mapping[str, Any], source: str) -> Sweep:
    """A Sweep from a parsed TOML table."""
    defaults = {"conv_layers": 1, "depth": 20, "fc_layers": 1, "neurons": 1024, "batch": 1024}
    defaults.update({k: int(v) for k, v in table.get("defaults", {}).items() if k in PARAMETERS})
    groups = []
    raw_groups = table.get("group", [])
    if not raw_groups:
        raise TrtbenchError(f"{source}: a sweep file needs at least one [[group]]")
    for i, raw in enumerate(raw_groups, start=1):
        name = str(raw.get("name", f"group{i}"))
        unknown = [k for k in raw if k not in (*PARAMETERS, "name", "title", "points")]
        if unknown:
            raise TrtbenchError(f"{source}: group '{name}' has unknown key(s) {', '.join(unknown)}",
                                hint=f"known keys: {', '.join(PARAMETERS)}, name, title, points")
        points: List[SweepPoint] = []
        if "points" in raw:
            varied = tuple(sorted({k for p in raw["points"] for k in p}))
            for p in raw["points"]:
                points.append(_point(name, {**defaults, **{k: int(v) for k, v in p.items()}}))
        else:
            varied = tuple(k for k in raw if k in PARAMETERS and isinstance(raw[k], list))
            fixed = {k: int(raw[k]) for k in raw if k in PARAMETERS and not isinstance(raw[k], list)}
            for combo in itertools.product(*(raw[k] for k in varied)):
                points.append(_point(name, {**defaults, **fixed, **dict(zip(varied, map(int, combo)))}))
        groups.append(SweepGroup(name, str(raw.get("title", name)), varied, tuple(points)))
    return Sweep(str(table.get("name", Path(source).stem)), str(table.get("description", "")), source,
                 tuple(groups))


def load_sweep(path: Path) -> Sweep:
    """Read and expand a sweep file."""
    table = load_toml(path)
    if table.get("kind") != "sweep":
        raise TrtbenchError(f"{path} is not a sweep file (it needs kind = \"sweep\")")
    return parse_sweep(table, str(path))


def bundled_sweeps() -> Dict[str, Sweep]:
    """Sweep files in the model folders, by name."""
    from trtbench import env

    sweeps: Dict[str, Sweep] = {}
    for folder in env.model_dirs():
        for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
            if load_toml(path).get("kind") == "sweep":
                sweep = load_sweep(path)
                sweeps[sweep.name] = sweep
    return sweeps
