"""The PyTorch model of a NetSpec, and checkpoints.

The model is an ``nn.Sequential`` whose top-level children are the layers of `NetSpec.layers()`,
by the same names, so a profiler (module hooks, or the scopes in exported ONNX node names such
as ``/conv1/conv/Conv``) attributes time to ``conv1``, ``pool``, ``fc1``, ``out``:

=========  ==========================================  ==============================
child      holds                                       ONNX nodes (legacy exporter)
=========  ==========================================  ==============================
convI      ``conv`` (Conv2d) + ``relu``                /convI/conv/Conv, /convI/relu/Relu
pool[I]    MaxPool2d                                   /pool/MaxPool
flatten    Flatten (a reshape, not a spec layer)       /flatten/Flatten
fcJ        ``linear`` + ``relu`` + ``drop`` (Dropout)  /fcJ/linear/Gemm, /fcJ/relu/Relu
out        Linear to the classes (logits)              /out/Gemm
softmax    only in `with_softmax` (inference, export)  /softmax/Softmax
           which also leaves out the dropout
=========  ==========================================  ==============================

Dropout is active only in training mode. torch is imported inside the functions, so importing
this module is cheap; callers that need torch get a one-line error naming the extra if it is
missing.
"""
from __future__ import annotations

import inspect
import json
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional

from trtbench.errors import TrtbenchError, missing_package
from trtbench.models.mnist import Normalisation
from trtbench.models.netspec import NetSpec

CHECKPOINT_FORMAT = "trtbench-checkpoint"
CHECKPOINT_VERSION = 1
DEFAULT_SEED = 0  # weights of untrained models (exports for timing-only work) are reproducible


def import_torch() -> Any:
    """torch, or a TrtbenchError naming the extra that installs it."""
    try:
        import torch
    except ImportError:
        raise missing_package("torch", "train", "building the PyTorch model") from None
    return torch


def build_model(spec: NetSpec, seed: Optional[int] = None) -> Any:
    """The torch module for `spec` (training mode, returns logits); weights seeded if `seed`."""
    torch = import_torch()
    nn = torch.nn
    if seed is None:
        return _build(spec, nn)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _build(spec, nn)


def _build(spec: NetSpec, nn: Any) -> Any:
    geometry = spec.layers()  # also raises for impossible specs
    children: "OrderedDict[str, Any]" = OrderedDict()
    conv_index = 0
    fc_index = 0
    for layer in geometry:
        if layer.kind == "conv":
            conv = spec.conv[conv_index]
            conv_index += 1
            children[layer.name] = nn.Sequential(OrderedDict([
                ("conv", nn.Conv2d(layer.in_shape[0], conv.out_channels, conv.kernel, conv.stride,
                                   conv.padding)),
                ("relu", nn.ReLU()),
            ]))
        elif layer.kind == "pool":
            window = spec.conv[conv_index - 1].pool
            children[layer.name] = nn.MaxPool2d(window, window)
        elif layer.name == "out":
            if "flatten" not in children:
                children["flatten"] = nn.Flatten()
            children["out"] = nn.Linear(layer.in_shape[0], layer.out_shape[0])
        else:
            if "flatten" not in children:
                children["flatten"] = nn.Flatten()
            fc_index += 1
            children[layer.name] = nn.Sequential(OrderedDict([
                ("linear", nn.Linear(layer.in_shape[0], layer.out_shape[0])),
                ("relu", nn.ReLU()),
                ("drop", nn.Dropout(spec.dropout)),
            ]))
    return nn.Sequential(children)


def with_softmax(model: Any) -> Any:
    """The inference network: the same layers (shared, not copied) without dropout, then ``softmax``.

    The study's network ends in softmax, so exports and inference use this form. Dropout does
    nothing outside training; leaving it out keeps it from showing up as a layer in profiles.
    The weights keep their names (``fc1.linear.weight``), so state dicts fit both forms.
    """
    torch = import_torch()
    nn = torch.nn
    children = []
    for name, child in model.named_children():
        if name == "softmax":
            continue
        if isinstance(child, nn.Sequential) and any(isinstance(m, nn.Dropout) for m in child.children()):
            child = nn.Sequential(OrderedDict(
                (n, m) for n, m in child.named_children() if not isinstance(m, nn.Dropout)))
        children.append((name, child))
    out = nn.Sequential(OrderedDict(children + [("softmax", nn.Softmax(dim=1))]))
    out.train(model.training)
    return out


# ---- checkpoints --------------------------------------------------------------------------------

@dataclass
class Checkpoint:
    spec: NetSpec
    model: Any  # torch.nn.Module in eval mode, returning logits
    normalisation: Optional[Normalisation]
    trained: bool
    record: Optional[Dict[str, Any]]
    path: Optional[Path] = None


def save_checkpoint(path: Path, spec: NetSpec, model: Any, normalisation: Optional[Normalisation],
                    trained: bool, record: Optional[Dict[str, Any]]) -> None:
    """Write the model's weights and what is needed to rebuild it.

    Only tensors and plain types are stored, so `load_checkpoint` can use ``weights_only=True``.
    """
    torch = import_torch()
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "spec": spec.to_dict(),
        "dropout": spec.dropout,
        "description": spec.description,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "normalisation": None if normalisation is None else {
            "mean": torch.from_numpy(normalisation.mean.copy()),
            "std": torch.from_numpy(normalisation.std.copy()),
        },
        "trained": bool(trained),
        "record_json": None if record is None else json.dumps(record),  # plain text: safe to load
    }
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True)
    tmp = path.with_name(path.name + ".partial")
    torch.save(payload, str(tmp))
    tmp.replace(path)


def load_checkpoint(path: Path) -> Checkpoint:
    """Read a checkpoint written by `save_checkpoint`; one-line TrtbenchError if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise TrtbenchError(f"checkpoint {path} does not exist",
                            hint="create one with: trtbench train SPEC --data-dir DIR --out FILE")
    if not zipfile.is_zipfile(str(path)):
        raise TrtbenchError(f"{path} is not a trtbench checkpoint (not a torch zip archive: truncated, "
                            "or another kind of file)",
                            hint="re-create it with: trtbench train SPEC --data-dir DIR --out FILE")
    torch = import_torch()
    try:
        # weights_only (torch >= 1.13) refuses anything but tensors and plain types: a checkpoint
        # cannot run code. Older torch (an old Jetson's) loads without it.
        safe = {"weights_only": True} if "weights_only" in inspect.signature(torch.load).parameters else {}
        payload = torch.load(str(path), map_location="cpu", **safe)
    except Exception as exc:  # torch raises many types (pickle, zip, runtime) for a bad file
        text = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        raise TrtbenchError(f"{path} is not a readable trtbench checkpoint "
                            f"({exc.__class__.__name__}{': ' + text if text else ''})",
                            hint="re-create it with: trtbench train SPEC --data-dir DIR --out FILE") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise TrtbenchError(f"{path} is a torch file but not a trtbench checkpoint",
                            hint="re-create it with: trtbench train SPEC --data-dir DIR --out FILE")
    if payload.get("version", 0) > CHECKPOINT_VERSION:
        raise TrtbenchError(f"{path} was written by a newer trtbench (checkpoint version "
                            f"{payload.get('version')})", hint="upgrade trtbench")
    spec = spec_from_record(payload["spec"], payload.get("dropout"), payload.get("description"))
    model = build_model(spec)
    try:
        model.load_state_dict(payload["state_dict"])
    except (RuntimeError, KeyError, TypeError) as exc:
        raise TrtbenchError(f"{path}: the weights do not fit spec {spec.name} "
                            f"({str(exc).splitlines()[0][:160]})") from None
    model.eval()
    norm = payload.get("normalisation")
    normalisation = None if norm is None else Normalisation(norm["mean"].numpy(), norm["std"].numpy())
    record = payload.get("record_json")
    return Checkpoint(spec, model, normalisation, bool(payload.get("trained")),
                      None if record is None else json.loads(record), path)


def spec_from_record(data: Dict[str, Any], dropout: Optional[float] = None,
                     description: Optional[str] = None) -> NetSpec:
    """The NetSpec of a `NetSpec.to_dict()` (family specs rebuilt exactly, with their name)."""
    import dataclasses

    family = data.get("family")
    if family:
        spec = NetSpec.study(int(family["conv_layers"]), int(family["depth"]),
                             int(family["fc_layers"]), int(family["neurons"]))
        if data.get("name") and data["name"] != spec.name:
            spec = dataclasses.replace(spec, name=str(data["name"]))
    else:
        spec = NetSpec.from_dict(data)
    if dropout is not None:
        spec = dataclasses.replace(spec, dropout=float(dropout))
    if description is not None:
        spec = dataclasses.replace(spec, description=str(description))
    return spec
