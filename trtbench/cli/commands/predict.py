"""`trtbench predict`: ms per item and images/s of a network (a spec or any ONNX model) from a fitted cost model."""
from __future__ import annotations

import argparse
from pathlib import Path

from trtbench.analysis import costmodel
from trtbench.cli import args as common
from trtbench.render import console

NAME = "predict"
HELP = "predict ms per item and images/s of a network or an ONNX model on a target from a fitted cost model"
EXAMPLE = "trtbench predict c3d20-f3n1024 --target cpu --fit fit.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="MODEL",
                        help="a network: c3d20-f3n1024, a bundled name, a .toml file, or any .onnx model "
                        "(predicted from its graph's FLOPs and bytes with the general model)")
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
    common.add_db(parser, "with no --fit: fit the runs in this database")
    common.add_json(parser, "the prediction")
    common.add_exports(parser)


def run(args: argparse.Namespace) -> int:
    from trtbench import jsonio
    from trtbench.api.fit import predict

    p = predict(args.spec, args.target, fits=args.fit, batch=args.batch, sweep=args.sweep, db=common.db_path(args),
                model=args.model, precision=args.precision, measured_as=args.measured_as,
                measured_roofs=args.measured_roofs)
    if args.json:
        jsonio.write_json(p.to_dict(), args.json)
        if args.json == "-":
            return 0
    tiles = not str(args.spec).lower().endswith(".onnx")  # the study's networks take 28x28 tiles
    item = "tile" if tiles else _item(Path(args.spec))
    rates = ["ms/tile", "images/s", "tiles/ms"] if tiles else [f"ms/{item}", f"{item}s/s"]
    t = console.table(f"{p.spec} at batch {args.batch} on {args.target} ({p.model} model)",
                      [*rates, "ms/batch", "measured on", "roofline scale"], right=[*rates, "ms/batch", "roofline scale"])
    t.add_row(f"{p.ms_per_tile:.4g}", console.fmt(1000.0 * p.tiles_per_ms),
              *([console.fmt(p.tiles_per_ms)] if tiles else []), console.fmt(p.ms_per_tile * args.batch),
              f"{p.fit_backend} on {p.fit_device}", f"{p.scale:.3g}" if p.bound else "- (measured)")
    console.show(t)
    if p.outside:
        console.warn("an extrapolation: " + "; ".join(p.outside))
    if p.bound:
        console.warn(p.note)
    else:
        console.info(p.note)
    return 0


def _item(path: Path) -> str:
    """What one item of an ONNX model's batch is (image, tile, sample)."""
    from trtbench.models.inputs import item_kind, read_model_inputs

    return item_kind(read_model_inputs(path))
