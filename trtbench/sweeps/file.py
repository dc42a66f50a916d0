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
    if values["batch"] < 1:
        raise TrtbenchError(f"group '{group}': batch {values['batch']} must be at least 1")
    spec = NetSpec.study(values["conv_layers"], values["depth"], values["fc_layers"], values["neurons"])
    return SweepPoint(group, spec, int(values["batch"]), dict(values))


MAX_POINTS = 10_000  # a sweep of more points is a typo, or weeks of measuring


def _int(value: Any, where: str, source: str) -> int:
    """A whole number from a TOML value, or one line naming where it is and what it was."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or \
            value in (float("inf"), float("-inf")) or int(value) != value:
        raise TrtbenchError(f"{source}: {where} is {value!r}; expected a whole number",
                            hint="see models/study.toml for the format")
    return int(value)


def _table(value: Any, where: str, source: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TrtbenchError(f"{source}: {where} must be a table, not {type(value).__name__}")
    return value


def parse_sweep(table: Mapping[str, Any], source: str) -> Sweep:
    """A Sweep from a parsed TOML table; values of the wrong type, and sweeps of more than
    `MAX_POINTS` points, are one line naming the file (checked before any point is made)."""
    defaults = {"conv_layers": 1, "depth": 20, "fc_layers": 1, "neurons": 1024, "batch": 1024}
    given = _table(table.get("defaults", {}), "[defaults]", source)
    defaults.update({k: _int(v, f"defaults.{k}", source) for k, v in given.items() if k in PARAMETERS})
    groups = []
    raw_groups = table.get("group", [])
    if not isinstance(raw_groups, list):
        raise TrtbenchError(f"{source}: group must be a list of [[group]] tables")
    if not raw_groups:
        raise TrtbenchError(f"{source}: a sweep file needs at least one [[group]]")
    total = 0
    for i, raw in enumerate(raw_groups, start=1):
        raw = _table(raw, f"group {i}", source)
        name = str(raw.get("name", f"group{i}"))
        unknown = [k for k in raw if k not in (*PARAMETERS, "name", "title", "points")]
        if unknown:
            raise TrtbenchError(f"{source}: group '{name}' has unknown key(s) {', '.join(unknown)}",
                                hint=f"known keys: {', '.join(PARAMETERS)}, name, title, points")
        points: List[SweepPoint] = []
        if "points" in raw:
            listed = raw["points"]
            if not isinstance(listed, list):
                raise TrtbenchError(f"{source}: group '{name}': points must be a list of tables")
            rows = [_table(p, f"group '{name}' point {j}", source) for j, p in enumerate(listed, start=1)]
            total += len(rows)
            _check_total(total, source)
            varied = tuple(sorted({str(k) for p in rows for k in p}))
            for j, p in enumerate(rows, start=1):
                values = {k: _int(v, f"group '{name}' point {j} {k}", source) for k, v in p.items()}
                points.append(_point(name, {**defaults, **values}))
        else:
            varied = tuple(k for k in raw if k in PARAMETERS and isinstance(raw[k], list))
            count = 1
            for k in varied:
                count *= len(raw[k])
            total += count
            _check_total(total, source)
            fixed = {k: _int(raw[k], f"group '{name}' {k}", source) for k in raw
                     if k in PARAMETERS and not isinstance(raw[k], list)}
            lists = [[_int(v, f"group '{name}' {k}", source) for v in raw[k]] for k in varied]
            for combo in itertools.product(*lists):
                points.append(_point(name, {**defaults, **fixed, **dict(zip(varied, combo))}))
        groups.append(SweepGroup(name, str(raw.get("title", name)), varied, tuple(points)))
    return Sweep(str(table.get("name", Path(source).stem)), str(table.get("description", "")), source,
                 tuple(groups))


def _check_total(total: int, source: str) -> None:
    if total > MAX_POINTS:
        raise TrtbenchError(f"{source}: the sweep has more than {MAX_POINTS:,} points ({total:,} so far)",
                            hint="use fewer values, or split it into several sweep files")


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
