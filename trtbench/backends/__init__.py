"""The backend registry: a backend by name, and the choice ``auto`` makes.

Each backend is a module ``trtbench.backends.<module>`` exposing ``BACKEND``. Modules are
imported only when a backend is asked for, and a backend whose package is missing turns into a
`TrtbenchError` naming the install command, so ``--help`` and every other backend keep working.
"""
from __future__ import annotations

import importlib
from typing import Dict, List, Optional, Tuple

from trtbench.backends.base import Backend
from trtbench.errors import TrtbenchError
from trtbench.models.source import ModelSource

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


def _ort_has_cuda() -> bool:
    import onnxruntime

    return "CUDAExecutionProvider" in onnxruntime.get_available_providers()


def _torch_has_cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def choose(name: str, model: ModelSource, device: Optional[str] = None) -> Tuple[Backend, str]:
    """The backend to use and one line saying what was picked and why.

    ``auto`` picks TensorRT when it imports and the model is ONNX or an engine plan. Otherwise, on
    the CPU: the torch backend for a torch checkpoint, else onnxruntime. With ``device="cuda"``:
    onnxruntime when it has the CUDA provider, else torch when it sees a GPU and the model has a
    spec. An engine plan can only run on TensorRT.
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
    rebuildable = model.kind == "checkpoint" or bool(model.spec)
    if device == "cuda":
        if is_available("onnxruntime") and _ort_has_cuda():
            return get("onnxruntime"), "backend onnxruntime with CUDA (auto: tensorrt is not installed)"
        if rebuildable and is_available("torch") and _torch_has_cuda():
            return get("torch"), "backend torch on CUDA (auto: neither tensorrt nor onnxruntime-gpu is installed)"
        raise TrtbenchError("--device cuda: no installed backend can run this model on a GPU here",
                            hint="install tensorrt or onnxruntime-gpu, or use --device cpu")
    if model.kind == "checkpoint" and is_available("torch"):
        return get("torch"), "backend torch (auto: tensorrt is not installed; the model is a torch checkpoint)"
    if is_available("onnxruntime"):
        return get("onnxruntime"), "backend onnxruntime on the CPU (auto: tensorrt is not installed)"
    if rebuildable and is_available("torch"):
        return get("torch"), "backend torch on the CPU (auto: neither tensorrt nor onnxruntime is installed)"
    raise TrtbenchError(
        "no backend is installed that can run this model: trtbench needs tensorrt, onnxruntime or torch",
        hint="install one with: pip install 'trtbench[ort]'",
    )
