"""`trtbench predict`: ms/tile and tiles/ms of a network from a fitted cost model."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, List

from trtbench import env
from trtbench.analysis import costmodel
from trtbench.errors import TrtbenchError
from trtbench.models.netspec import resolve_spec
from trtbench.render import console

NAME = "predict"
HELP = "predict ms/tile and tiles/ms of a network on a target from a fitted cost model"
EXAMPLE = "trtbench predict c3d20-f3n1024 --target cpu --fit fit.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="SPEC", help="a network: c3d20-f3n1024, a bundled name or a .toml file")
    parser.add_argument("--target", required=True,
                        help="the device: one a fit was measured on (its device or device name), or a target "
                             "profile to scale to by rooflines")
    parser.add_argument("--batch", type=int, default=1024, help="batch size (default: 1024)")
    parser.add_argument("--fit", type=Path, default=None, help="a fit file from 'trtbench fit --save' (else fit from --db)")
    parser.add_argument("--model", default="study", choices=costmodel.MODELS,
                        help="with --db: the model to fit (default: study; general uses every batch)")
    parser.add_argument("--sweep", default=None, help="with --db: fit only this sweep's runs")
    parser.add_argument("--precision", default=None, help="precision for roofline scaling (default: the fit's)")
    parser.add_argument("--measured-as", default=None, metavar="TARGET",
                        help="the target profile of the device the fit was measured on (when no profile is named after it)")
    parser.add_argument("--measured-roofs", default=None, metavar="TFLOPS,GBS",
                        help="or its fp32 peak TFLOP/s and memory bandwidth GB/s, e.g. 0.2,20 for a small CPU")
    parser.add_argument("--db", type=Path, default=None, help="database file (default: TRTBENCH_DB or ./trtbench.db)")
    parser.add_argument("--json", metavar="FILE|-", help="write the prediction as JSON ('-' for stdout)")


def load_fits(path: Path) -> List[costmodel.FitSet]:
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise TrtbenchError(f"fit file {path} does not exist", hint="write one with: trtbench fit --save FILE") from None
    except (OSError, ValueError) as exc:
        raise TrtbenchError(f"{path} is not a fit file ({exc})", hint="write one with: trtbench fit --save FILE") from None
    items = data if isinstance(data, list) else [data]
    return [costmodel.FitSet.from_dict(item, source=str(path)) for item in items]


def _fits_from_db(args: argparse.Namespace) -> List[costmodel.FitSet]:
    from trtbench.cli.commands import fit as fit_command

    ns = argparse.Namespace(db=args.db, sweep=args.sweep, runs=None, sweep_run=None, backend=None, device_name=None)
    records = fit_command.load_records(ns)
    return fit_command.fit_all(records, args.model, None, 5, True)


def _get_target() -> Any:
    try:
        from trtbench.device.targets import get_target
    except ImportError:
        return None
    return get_target


def _roofs(text: str) -> costmodel.Roofs:
    try:
        tflops, gbs = (float(v) for v in text.split(","))
    except ValueError:
        raise TrtbenchError(f"--measured-roofs {text!r} is not TFLOPS,GBS", hint="e.g. --measured-roofs 0.2,20") from None
    if tflops <= 0 or gbs <= 0:
        raise TrtbenchError("--measured-roofs needs positive TFLOP/s and GB/s")
    return costmodel.Roofs("measured device", tflops, gbs)


def run(args: argparse.Namespace) -> int:
    if args.batch < 1:
        raise TrtbenchError(f"--batch must be at least 1, got {args.batch}")
    spec = resolve_spec(args.spec)
    if args.fit is None and args.db is None:
        args.db = env.db_path()
    fits = load_fits(args.fit) if args.fit else _fits_from_db(args)
    get_target = _get_target()
    measured_as = None
    if args.measured_as:
        if get_target is None:
            raise TrtbenchError("--measured-as needs target profiles (trtbench.device.targets), missing here")
        measured_as = get_target(args.measured_as)
    elif args.measured_roofs:
        measured_as = _roofs(args.measured_roofs)
    p = costmodel.predict(fits, spec, args.batch, args.target, get_target, args.precision, measured_as)
    if args.json:
        fit_json = json.dumps(p.to_dict(), indent=2)
        if args.json == "-":
            print(fit_json)
            return 0
        Path(args.json).write_text(fit_json + "\n")
    t = console.table(f"{spec.name} at batch {args.batch} on {args.target} ({p.model} model)",
                      ["ms/tile", "tiles/ms", "ms/batch", "measured on", "roofline scale"],
                      right=["ms/tile", "tiles/ms", "ms/batch", "roofline scale"])
    t.add_row(f"{p.ms_per_tile:.4g}", console.fmt(p.tiles_per_ms), console.fmt(p.ms_per_tile * args.batch),
              f"{p.fit_backend} on {p.fit_device}", f"{p.scale:.3g}" if p.bound else "- (measured)")
    console.stdout().print(t)
    if p.bound:
        console.warn(p.note)
    else:
        console.info(p.note)
    return 0
