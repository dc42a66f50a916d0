"""ONNX export of a spec or a checkpoint, with the checks that make the file trustworthy.

The exported graph takes ``tiles`` float32 [batch,1,28,28] (already normalised: the per-pixel
normalisation stays outside the network, as in the study) and gives ``probs`` [batch,10] (softmax
included). ``batch`` is a dynamic axis. Metadata: ``trtbench.spec`` (JSON of the spec),
``trtbench.trained`` ("true"/"false"), ``trtbench.normalisation`` (a summary, when known).

Exporter: torch's TorchScript-based exporter (``dynamo=False``). It is fast (0.1 s against 3 s)
and names nodes after the module scopes (``/conv1/conv/Conv``, ``/fc1/linear/Gemm``), which the
per-layer profiles need; the torch.export-based exporter (the default since torch 2.9) names them
``node_conv2d``. If a later torch drops the old exporter, the new one is used and
``checks["exporter"]`` says so.
"""
from __future__ import annotations

import contextlib
import inspect
import io
import json
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np

from trtbench import __version__
from trtbench.errors import TrtbenchError
from trtbench.models.mnist import MnistData, Normalisation
from trtbench.models.netspec import NetSpec

INPUT_NAME = "tiles"
OUTPUT_NAME = "probs"
BATCH_AXIS = "batch"
TOLERANCE = 1e-4  # max |onnxruntime - torch| relative to max |torch|
VERIFY_BATCHES = (1, 64)  # two sizes: the second proves the batch axis is really dynamic
META_SPEC = "trtbench.spec"
META_TRAINED = "trtbench.trained"
META_NORMALISATION = "trtbench.normalisation"


@dataclass
class ExportResult:
    path: Path
    spec: NetSpec
    trained: bool
    checks: Dict[str, Any] = field(default_factory=dict)


def export_onnx(source: Union[NetSpec, Path], out: Path, opset: int = 17, verify: bool = True,
                data_dir: Optional[Path] = None) -> ExportResult:
    """Export a spec (untrained, weights seeded) or a checkpoint to ONNX at `out`, and check it.

    Checks: the ONNX checker (full, with strict shape inference), the input/output names and the
    dynamic batch axis; with `verify` and onnxruntime installed, onnxruntime's output against
    PyTorch's on real MNIST test tiles (random tiles when MNIST is not found) at batch 1 and 64.
    A failed check raises TrtbenchError and removes `out`.
    """
    from trtbench.models.torchnet import DEFAULT_SEED, build_model, load_checkpoint, with_softmax

    if isinstance(source, NetSpec):
        spec, model, norm, trained = source, build_model(source, seed=DEFAULT_SEED), None, False
    else:
        ckpt = load_checkpoint(Path(source))
        spec, model, norm, trained = ckpt.spec, ckpt.model, ckpt.normalisation, ckpt.trained
    net = with_softmax(model).eval()
    out = Path(out)
    if out.is_dir() or not out.name:
        raise TrtbenchError(f"{out} is a folder, not a file to export to", hint="give --out a file name, e.g. m.onnx")
    if not out.parent.exists():
        out.parent.mkdir(parents=True)
    checks: Dict[str, Any] = {"opset": opset}
    work = out.with_name(f".{out.stem}.{os.getpid()}.tmp.onnx")  # renamed into place once checked: never half a file
    try:
        checks["exporter"] = _export(net, spec, work, opset)
        checks.update(_check_and_annotate(work, spec, trained, norm))
        if verify:
            checks["onnxruntime"] = _verify(net, work, spec, norm, data_dir, trained)
        work.replace(out)
    except BaseException:  # a failed check, a full disk, Ctrl-C: nothing is left behind
        if work.exists():
            work.unlink()
        raise
    return ExportResult(out, spec, trained, checks)


def _export(net: Any, spec: NetSpec, out: Path, opset: int) -> str:
    import torch

    example = torch.zeros(2, spec.input_channels, spec.input_size, spec.input_size)
    names: Dict[str, Any] = {"input_names": [INPUT_NAME], "output_names": [OUTPUT_NAME],
                             "opset_version": opset}
    legacy = dict(names)
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        legacy["dynamo"] = False  # torch >= 2.5 has both; older torch (a Jetson's) only the old one
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the old exporter's deprecation notice
            torch.onnx.export(net, (example,), str(out), do_constant_folding=True,
                              dynamic_axes={INPUT_NAME: {0: BATCH_AXIS}, OUTPUT_NAME: {0: BATCH_AXIS}},
                              **legacy)
        return "torchscript"
    except Exception as exc:  # noqa: BLE001 - any failure of the old path: try the new one
        if "opset" in str(exc).lower():
            raise TrtbenchError(f"cannot export {spec.name} at opset {opset}: {str(exc).splitlines()[0]}",
                                hint="choose another --opset (17 is the default)") from None
        legacy_error = f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        if "dynamo" not in legacy:
            raise TrtbenchError(f"ONNX export of {spec.name} failed: {legacy_error}") from None
    batch = torch.export.Dim(BATCH_AXIS, min=1)
    try:
        chatter = io.StringIO()  # the new exporter reports each of its steps
        with warnings.catch_warnings(), contextlib.redirect_stdout(chatter), \
                contextlib.redirect_stderr(chatter):
            warnings.simplefilter("ignore")
            torch.onnx.export(net, (example,), str(out), dynamo=True,
                              dynamic_shapes={"input": {0: batch}}, **names)
    except Exception as exc:  # noqa: BLE001
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise TrtbenchError(f"ONNX export of {spec.name} failed: {exc.__class__.__name__}: {first} "
                            f"(old exporter: {legacy_error})") from None
    return f"dynamo (the TorchScript exporter failed: {legacy_error})"


def _dims(value_info: Any) -> Tuple[Union[int, str], ...]:
    return tuple(d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim)


def _check_and_annotate(out: Path, spec: NetSpec, trained: bool, norm: Optional[Normalisation]
                        ) -> Dict[str, Any]:
    import onnx

    model = onnx.load(str(out))
    meta = {META_SPEC: json.dumps(spec.to_dict(), sort_keys=True),
            META_TRAINED: "true" if trained else "false", "trtbench.version": __version__}
    if norm is not None:
        meta[META_NORMALISATION] = json.dumps(norm.summary(), sort_keys=True)
    onnx.helper.set_model_props(model, meta)
    model.doc_string = f"trtbench {spec.name} ({'trained' if trained else 'untrained: random weights'})"
    try:
        onnx.checker.check_model(model, full_check=True)
        inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        raise TrtbenchError(f"exported {out} fails the ONNX checker: {str(exc).splitlines()[0]}") from None
    inputs = {i.name: _dims(i) for i in inferred.graph.input}
    outputs = {o.name: _dims(o) for o in inferred.graph.output}
    expected_in = (BATCH_AXIS, spec.input_channels, spec.input_size, spec.input_size)
    expected_out = (BATCH_AXIS, spec.classes)
    if inputs.get(INPUT_NAME) != expected_in or outputs.get(OUTPUT_NAME) != expected_out:
        raise TrtbenchError(f"exported {out} has inputs {inputs} and outputs {outputs}, expected "
                            f"{INPUT_NAME}{list(expected_in)} -> {OUTPUT_NAME}{list(expected_out)}")
    onnx.save(model, str(out))
    ops = [n.op_type for n in model.graph.node]
    return {"checker": "passed", "shape_inference": "passed", "dynamic_batch": True,
            "input": f"{INPUT_NAME} [{','.join(map(str, expected_in))}]",
            "output": f"{OUTPUT_NAME} [{','.join(map(str, expected_out))}]",
            "nodes": len(ops), "softmax": "Softmax" in ops,
            "node_names": [n.name for n in model.graph.node]}


def _tiles(spec: NetSpec, norm: Optional[Normalisation], data_dir: Optional[Path], count: int
           ) -> Tuple[np.ndarray, Optional[np.ndarray], str]:
    """(tiles, labels or None, description): real normalised MNIST test tiles when found."""
    from trtbench.models.mnist import load_mnist, normalise, resolve_dir

    if (spec.input_channels, spec.input_size) == (1, 28):
        try:
            data = load_mnist(data_dir)
        except TrtbenchError:
            data = None
        if data is not None:
            norm = norm or _training_normalisation(data)
            where = resolve_dir(data_dir)
            tiles = normalise(data.test_images[:count], norm)
            return tiles, data.test_labels[:count], f"MNIST test tiles from {where}"
    rng = np.random.default_rng(0)
    shape = (count, spec.input_channels, spec.input_size, spec.input_size)
    return rng.standard_normal(shape).astype(np.float32), None, "random normal tiles (MNIST not found)"


_NORMALISATION: List[Tuple[np.ndarray, Normalisation]] = []  # (the training images it is of, it)


def _training_normalisation(data: MnistData) -> Normalisation:
    """The whole training file's normalisation, for untrained models (computed once per data set)."""
    if not _NORMALISATION or _NORMALISATION[0][0] is not data.train_images:
        _NORMALISATION[:] = [(data.train_images, Normalisation.from_images(data.train_images))]
    return _NORMALISATION[0][1]


def _verify(net: Any, out: Path, spec: NetSpec, norm: Optional[Normalisation], data_dir: Optional[Path],
            trained: bool) -> Dict[str, Any]:
    try:
        import onnxruntime as ort
    except ImportError:
        return {"skipped": "onnxruntime is not installed (pip install 'trtbench[ort]')"}
    import torch

    tiles, labels, described = _tiles(spec, norm, data_dir, max(VERIFY_BATCHES))
    options = ort.SessionOptions()
    options.log_severity_level = 4  # failures are raised as one line below, not logged
    session = ort.InferenceSession(str(out), options, providers=["CPUExecutionProvider"])
    worst = 0.0
    agree = 0
    accuracy: Optional[float] = None
    for batch in VERIFY_BATCHES:
        x = tiles[:batch]
        try:
            got = session.run([OUTPUT_NAME], {INPUT_NAME: x})[0]
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types (allocation failures)
            why = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
            oom = re.search(r"Failed to allocate memory for requested buffer of size (\d+)", why)
            why = f"out of memory (a buffer of {int(oom.group(1)):,} bytes)" if oom else \
                why.split("Status Message: ")[-1][-200:]
            raise TrtbenchError(f"onnxruntime cannot run the export of {spec.name} at batch {batch}: "
                                f"{why}",
                                hint="the network may be too large for this host; use smaller layers") from None
        with torch.inference_mode():
            want = net(torch.from_numpy(x)).numpy()
        if got.shape != want.shape:
            raise TrtbenchError(f"{out}: onnxruntime gives shape {list(got.shape)} for batch {batch}, "
                                f"PyTorch {list(want.shape)}")
        error = float(np.abs(got - want).max() / max(float(np.abs(want).max()), 1e-30))
        worst = max(worst, error)
        if batch == max(VERIFY_BATCHES):
            agree = int((got.argmax(1) == want.argmax(1)).sum())
            if labels is not None and trained:
                accuracy = float((got.argmax(1) == labels[:batch]).mean())
    if worst > TOLERANCE:
        raise TrtbenchError(f"{out}: onnxruntime and PyTorch differ by {worst:.2e} (relative) on "
                            f"{described}, more than the {TOLERANCE:g} allowed", hint="try another --opset")
    result: Dict[str, Any] = {"version": ort.__version__, "tiles": described, "batches": list(VERIFY_BATCHES),
                              "relative_error": worst, "tolerance": TOLERANCE,
                              "argmax_agreement": agree / max(VERIFY_BATCHES)}
    if accuracy is not None:
        result["accuracy_on_tiles"] = accuracy
    return result


def read_metadata(path: Path) -> Dict[str, str]:
    """The ``trtbench.*`` metadata of an ONNX file written by `export_onnx`."""
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # noqa: BLE001 - protobuf raises several types for a bad file
        raise TrtbenchError(f"{path} is not a readable ONNX file ({exc.__class__.__name__})") from None
    return {p.key: p.value for p in model.metadata_props if p.key.startswith("trtbench.")}
