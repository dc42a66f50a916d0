"""The backend registry: a backend by name, and the choice ``auto`` makes.

Each backend is a module ``trtbench.backends.<module>`` exposing ``BACKEND``. Modules are
imported only when a backend is asked for, and a backend whose package is missing turns into a
`TrtbenchError` naming the install command, so ``--help`` and every other backend keep working.
"""
from __future__ import annotations

import importlib
from typing import Dict, List, Tuple

from trtbench.backends.base import Backend, ModelSource
from trtbench.errors import TrtbenchError

# name -> (module, pip extra that installs its package)
REGISTRY: Dict[str, Tuple[str, str]] = {
    "onnxruntime": ("trtbench.backends.onnxruntime", "ort"),
    "torch": ("trtbench.backends.torch", "train"),
    "tensorrt": ("trtbench.backends.tensorrt", "tensorrt"),
    "trtexec": ("trtbench.backends.trtexec", "tensorrt"),
}

AUTO = "auto"


def names() -> List[str]:
    """Every backend name, in the order shown in ``--backend`` choices."""
    return list(REGISTRY)


def _module_backend(name: str) -> Backend:
    if name not in REGISTRY:
        raise TrtbenchError(f"unknown backend '{name}'", hint=f"choose one of: {AUTO}, {', '.join(REGISTRY)}")
    module_name, extra = REGISTRY[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise TrtbenchError(
            f"backend '{name}' is not part of this trtbench installation ({module_name} is missing)",
            hint=f"reinstall trtbench with: pip install 'trtbench[{extra}]'",
        ) from None
    return module.BACKEND  # type: ignore[no-any-return]


def is_available(name: str) -> bool:
    """Whether `name` is a backend whose packages import here (never raises)."""
    try:
        return bool(_module_backend(name).available())
    except TrtbenchError:
        return False


def get(name: str) -> Backend:
    """The backend called `name`, ready to load models.

    Raises `TrtbenchError` for an unknown name, and for a backend whose package is not installed
    (the message gives the install command).
    """
    backend = _module_backend(name)
    if not backend.available():
        raise TrtbenchError(f"backend '{name}' is not installed here", hint=backend.install_hint())
    return backend


def choose(name: str, model: ModelSource) -> Tuple[Backend, str]:
    """The backend to use and one line saying what was picked and why.

    ``auto`` picks TensorRT when it imports and the model is ONNX or an engine plan, the torch
    backend for a torch checkpoint when torch imports, and onnxruntime on the CPU otherwise. An
    engine plan can only run on TensorRT.
    """
    if name != AUTO:
        backend = get(name)
        if model.kind == "plan" and name not in ("tensorrt", "trtexec"):
            raise TrtbenchError(f"{model.path} is a TensorRT engine plan; backend '{name}' cannot run it",
                                hint="use --backend tensorrt or --backend trtexec")
        return backend, f"backend {name} (as asked)"
    if model.kind == "plan":
        return get("tensorrt"), "backend tensorrt (auto: the model is a TensorRT engine plan)"
    if is_available("tensorrt"):
        return get("tensorrt"), "backend tensorrt (auto: tensorrt imports here)"
    if model.kind == "checkpoint" and is_available("torch"):
        return get("torch"), "backend torch (auto: tensorrt is not installed; the model is a torch checkpoint)"
    if is_available("onnxruntime"):
        return get("onnxruntime"), "backend onnxruntime on the CPU (auto: tensorrt is not installed)"
    if is_available("torch"):
        return get("torch"), "backend torch on the CPU (auto: neither tensorrt nor onnxruntime is installed)"
    raise TrtbenchError(
        "no backend is installed: trtbench needs tensorrt, onnxruntime or torch to run a model",
        hint="install one with: pip install 'trtbench[ort]'",
    )
