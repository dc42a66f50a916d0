"""What the user named as MODEL, turned into a `ModelSource` a backend can load.

MODEL may be:

- an ``.onnx`` file (from trtbench or elsewhere): hashed; its ``trtbench.spec`` metadata, when
  trtbench exported it, gives the spec;
- a ``.pt`` torch checkpoint written by ``trtbench train``: kind ``checkpoint``; it is also
  exported to ONNX in the cache folder (``metadata["onnx"]``) for the ONNX-based backends;
- a spec (a canonical name like ``c3d20-f3n1024``, a bundled spec name or a ``.toml`` file):
  exported to ONNX on the fly into the cache folder, keyed by spec name, and reused;
- a TensorRT engine ``.plan``/``.engine``: kind ``plan``.

Backends convert as they need: onnxruntime runs the ONNX file (`onnx_file`), torch rebuilds the
network from the spec or checkpoint (`spec_of`).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

from trtbench.errors import TrtbenchError
from trtbench.filenames import safe_name
from trtbench.models.inputs import (IMAGE, TILE, ModelInput, fixed_batch, graph_inputs, item_kind, load_graph,
                                    metadata_json)

SPEC_METADATA_KEY = "trtbench.spec"
PLAN_SUFFIXES = (".plan", ".engine", ".trt")
DEFAULT_CACHE = Path(".trtbench") / "onnx"  # where specs and checkpoints are exported to ONNX
STUDY_BATCH = 1024  # the 2016 study's batch: the default for its networks


@dataclass
class ModelSource:
    """What to load: an ONNX file, a torch checkpoint, or an engine plan, plus what is known of it."""

    path: Path
    kind: str  # "onnx", "checkpoint", "plan"
    name: str
    sha256: str = ""
    spec: Optional[Dict[str, Any]] = None  # NetSpec.to_dict() when the model came from a spec
    source: str = ""  # how it was given: a spec name, a file
    metadata: Dict[str, Any] = field(default_factory=dict)  # e.g. "onnx" (a checkpoint's export), "prepared"
    inputs: List[ModelInput] = field(default_factory=list)  # as the ONNX graph declares them (empty for a plan)
    cost: Optional[Dict[str, Any]] = None  # FLOPs and bytes per item by category (`graph_cost.GraphCost.to_dict`)

    @property
    def item(self) -> str:
        """What one item of the batch is: ``tile`` (the study's), ``image`` or ``sample``."""
        if self.spec and not self.inputs:
            return TILE
        return item_kind(self.inputs) if self.inputs else IMAGE

    @property
    def fixed_batch(self) -> Optional[int]:
        """The batch the export fixed, or None when the batch axis is dynamic (or unknown)."""
        return fixed_batch(self.inputs) if self.inputs else None

    def default_batch(self) -> int:
        """The batch a user of this model expects by default: the export's fixed batch; 1024 for
        the study's networks; else 1, as trtexec sets an unspecified dynamic batch."""
        if self.fixed_batch is not None:
            return self.fixed_batch
        return STUDY_BATCH if self.spec else 1

    def to_dict(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {"name": self.name, "path": str(self.path), "kind": self.kind, "sha256": self.sha256,
                "spec": self.spec, "source": self.source, **({"metadata": self.metadata} if self.metadata else {})}
        if self.inputs:
            data["inputs"] = [i.to_dict() for i in self.inputs]
            data["item"] = self.item
        if self.cost:
            data["cost"] = self.cost
        return data


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve_model(text: str, cache_dir: Path) -> ModelSource:
    """The `ModelSource` for MODEL as given on the command line.

    Raises `TrtbenchError` for a missing or unreadable file and for a name that is no spec.
    """
    path = Path(text)
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        return _onnx_source(path, source=text)
    if suffix in (".pt", ".pth"):
        return _checkpoint_source(path, cache_dir)
    if suffix in PLAN_SUFFIXES:
        _require_file(path, "engine plan")
        return ModelSource(path=path, kind="plan", name=path.stem, sha256=sha256_of(path), source=text)
    return _spec_source(text, cache_dir)


def _require_file(path: Path, what: str) -> None:
    from trtbench.jsonio import require_regular_file

    require_regular_file(path, what)  # a FIFO or a folder is named as such, not "does not exist"


def read_onnx_spec(path: Path) -> Optional[Dict[str, Any]]:
    """The ``trtbench.spec`` metadata of an ONNX file (a NetSpec dict), or None.

    Raises `TrtbenchError` when the file is not a readable ONNX model.
    """
    return _spec_of_graph(load_graph(path), path)


def _spec_of_graph(model: Any, path: Path) -> Optional[Dict[str, Any]]:
    if not model.graph.node:
        raise TrtbenchError(f"{path} is not a readable ONNX model (it has no graph nodes)",
                            hint="re-export it, e.g. with 'trtbench export'")
    spec = metadata_json(model, SPEC_METADATA_KEY)
    return spec if isinstance(spec, dict) else None


def _onnx_source(path: Path, source: str, name: Optional[str] = None) -> ModelSource:
    _require_file(path, "ONNX file")
    graph = load_graph(path)
    spec = _spec_of_graph(graph, path)
    label = name or (str(spec["name"]) if spec and spec.get("name") else path.stem)
    return ModelSource(path=path, kind="onnx", name=label, sha256=sha256_of(path), spec=spec, source=source,
                       inputs=graph_inputs(graph))


def _export(source: Any, out: Path) -> Any:
    try:
        from trtbench.models.export import export_onnx
    except ImportError:
        raise TrtbenchError("exporting a model to ONNX needs trtbench.models.export, which is missing here",
                            hint="give an .onnx file instead") from None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise TrtbenchError(f"the model cache {out.parent} is not a folder (a file is in the way)",
                            hint="give a folder with --cache-dir") from None
    return export_onnx(source, out)


def _spec_source(text: str, cache_dir: Path) -> ModelSource:
    from trtbench.models.netspec import resolve_spec

    spec = resolve_spec(text)
    out = cache_dir / f"{safe_name(spec.name)}.onnx"  # a spec name from a TOML file stays in the cache
    if not _cache_matches(out, spec.to_dict()):
        from trtbench.models.memory import check_weights_fit

        check_weights_fit(f"spec {spec.name}", 4.0 * spec.params)
        _export(spec, out)
    model = _onnx_source(out, source=text, name=spec.name)
    model.spec = spec.to_dict()
    model.metadata["exported"] = "on the fly from the spec (untrained weights)"
    return model


def _cache_matches(path: Path, spec: Dict[str, Any]) -> bool:
    """Whether a cached export exists and carries the same spec (else re-export)."""
    if not path.is_file():
        return False
    try:
        cached = read_onnx_spec(path)
    except TrtbenchError:
        return False
    if cached is None:
        return False
    keys = ("input", "conv", "fc", "classes")
    return all(cached.get(k) == spec.get(k) for k in keys)


def _checkpoint_source(path: Path, cache_dir: Path) -> ModelSource:
    _require_file(path, "checkpoint")
    digest = sha256_of(path)
    out = cache_dir / f"{safe_name(path.stem)}-{digest[:12]}.onnx"
    if out.is_file():
        spec = read_onnx_spec(out)
        trained = None
    else:
        result = _export(path, out)
        spec = result.spec.to_dict() if hasattr(result.spec, "to_dict") else result.spec
        trained = getattr(result, "trained", None)
        if spec is None:
            spec = read_onnx_spec(out)
    name = str(spec["name"]) if spec and spec.get("name") else path.stem
    metadata: Dict[str, Any] = {"onnx": str(out)}
    if trained is not None:
        metadata["trained"] = bool(trained)
    return ModelSource(path=path, kind="checkpoint", name=name, sha256=digest, spec=spec,
                       source=str(path), metadata=metadata, inputs=graph_inputs(load_graph(out)))


def add_cost(model: ModelSource) -> Optional[str]:
    """Count the FLOPs and bytes of `model`'s ONNX graph into ``model.cost``; a note when they
    cannot be counted (the run goes on without them)."""
    if model.cost is not None or model.kind == "plan":
        return None
    from trtbench.models.graph_cost import graph_cost

    try:
        model.cost = graph_cost(onnx_file(model), batch=None).to_dict()
    except TrtbenchError as exc:
        return f"FLOPs and bytes not counted: {exc}"
    except Exception as exc:  # noqa: BLE001 - counting is an extra; a graph it trips on is still profiled
        return f"FLOPs and bytes not counted ({exc.__class__.__name__}: {str(exc)[:120]})"
    return None


def onnx_file(model: ModelSource) -> Path:
    """The ONNX file to run for `model`: the prepared copy (`trtbench.models.onnx_prepare`) when
    there is one, its own, or a checkpoint's export; error for a plan."""
    prepared = model.metadata.get("prepared")
    if isinstance(prepared, dict) and prepared.get("path"):
        return Path(prepared["path"])
    if model.kind == "onnx":
        return model.path
    if model.kind == "checkpoint" and model.metadata.get("onnx"):
        return Path(model.metadata["onnx"])
    raise TrtbenchError(f"{model.path} is a {model.kind}, not an ONNX model",
                        hint="give an .onnx file, a checkpoint or a spec name")
