"""`trtbench export`: a checkpoint or a spec to ONNX, checked (and compared with onnxruntime)."""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any, Dict, Optional, Union

from trtbench import jsonio
from trtbench.errors import TrtbenchError
from trtbench.filenames import safe_name
from trtbench.models.netspec import NetSpec, resolve_spec
from trtbench.render import console

NAME = "export"
HELP = ("export a trained checkpoint or an (untrained) spec to ONNX with a dynamic batch axis, and check it; "
        "or give an ONNX model a dynamic batch (--dynamic-batch)")
EXAMPLE = "trtbench export c3d20-f3n1024 --out c3d20-f3n1024.onnx"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL.pt|SPEC|MODEL.onnx",
                        help="a checkpoint from 'trtbench train', a spec (exported untrained, "
                        "weights seeded), or an ONNX model with --dynamic-batch")
    parser.add_argument("--dynamic-batch", action="store_true",
                        help="MODEL.onnx exported with a fixed batch: write a copy whose batch is dynamic, checked "
                        "against the original at its batch and run at batches 1 and 64")
    parser.add_argument("--out", type=Path, help="ONNX file to write (default: NAME.onnx)")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    parser.add_argument("--no-verify", action="store_true",
                        help="skip the onnxruntime-against-PyTorch comparison (the ONNX checker still runs)")
    parser.add_argument("--data-dir", type=Path, help="MNIST folder for the comparison tiles "
                        "(default: $TRTBENCH_DATA_DIR; random tiles when none)")
    parser.add_argument("--json", metavar="FILE|-", help="write what was checked as JSON ('-' for stdout)")


def run(args: argparse.Namespace) -> int:
    from trtbench.models.export import export_onnx

    if args.model.lower().endswith(".onnx") or args.dynamic_batch:
        return _dynamic_batch(args)
    _check_data_dir(args.data_dir)
    source: Union[NetSpec, Path]
    if args.model.endswith((".pt", ".pth")):
        source = Path(args.model)
        if os.path.lexists(source):  # a missing one keeps the loader's hint (trtbench train ...)
            jsonio.require_regular_file(source, "checkpoint")
        default_name = source.stem
    else:
        source = resolve_spec(args.model)
        default_name = source.name
    # the default is written into the current folder whatever the name holds
    out: Path = args.out or Path(f"{safe_name(default_name)}.onnx")
    result = export_onnx(source, out, opset=args.opset, verify=not args.no_verify, data_dir=args.data_dir)
    summary: Dict[str, Any] = {"path": str(result.path), "spec": result.spec.name, "trained": result.trained,
                               "checks": {k: v for k, v in result.checks.items() if k != "node_names"}}
    summary["checks"]["node_names"] = result.checks.get("node_names", [])
    if args.json:
        jsonio.write_json(summary, args.json)
        if args.json == "-":
            return 0
    checks = result.checks
    ort = checks.get("onnxruntime")
    if ort is None:
        compared = "onnxruntime comparison skipped (--no-verify)"
    elif "skipped" in ort:
        compared = f"onnxruntime comparison skipped: {ort['skipped']}"
    else:
        compared = (f"onnxruntime matches PyTorch to {ort['relative_error']:.1e} (relative; allowed "
                    f"{ort['tolerance']:g}) on {ort['tiles']}, batches {ort['batches']}")
        if "accuracy_on_tiles" in ort:
            compared += f"; accuracy on those tiles {100 * ort['accuracy_on_tiles']:.1f} %"
    state = "trained" if result.trained else "untrained (random weights, for timing only)"
    console.line(f"wrote {result.path}: {result.spec.name}, {state}, opset {checks['opset']}, "
                 f"{checks['nodes']} nodes, {checks['input']} -> {checks['output']}")
    console.line(f"ONNX checker and shape inference passed; {compared}")
    return 0


def _check_data_dir(data_dir: Optional[Path]) -> None:
    """A --data-dir that is no folder is a typo: without this the comparison would quietly run on
    random tiles, as it does when no folder is named."""
    if data_dir is not None and not data_dir.is_dir():
        what = "does not exist" if not os.path.lexists(data_dir) else "is not a folder"
        raise TrtbenchError(f"--data-dir {data_dir} {what}", hint="give the folder of the MNIST .gz files")


def _dynamic_batch(args: argparse.Namespace) -> int:
    from trtbench.models.onnx_prepare import export_dynamic

    source = Path(args.model)
    if not args.model.lower().endswith(".onnx"):
        raise TrtbenchError(f"--dynamic-batch rewrites an ONNX model; {args.model} is not an .onnx file",
                            hint="specs and checkpoints are always exported with a dynamic batch")
    if not args.dynamic_batch:
        raise TrtbenchError(f"{args.model} is already ONNX", hint="add --dynamic-batch to give it a dynamic batch")
    jsonio.require_regular_file(source, "ONNX file")  # a FIFO is refused without being opened
    out: Path = args.out or source.with_name(f"{source.stem}-dynamic.onnx")
    if out.resolve() == source.resolve():
        raise TrtbenchError(f"--out {out} would overwrite the model", hint="choose another --out")
    result = export_dynamic(source, out)
    if args.json:
        jsonio.write_json({"path": str(out), "source": str(source), **result.to_dict()}, args.json)
        if args.json == "-":
            return 0
    console.line(f"wrote {out}: " + "; ".join(result.changes))
    if result.max_rel_diff is not None:
        console.line(f"checked: matches the original at batch {result.dynamic_from} (largest relative difference "
                     f"{result.max_rel_diff:.1g}); runs at batches 1 and 64")
    return 0
