"""The trtexec backend: available when a trtexec binary is found; runs engine plans through it."""
from __future__ import annotations

from pathlib import Path

from trtbench.backends.base import LoadOptions
from trtbench.backends.trtexec.session import TrtexecSession
from trtbench.device.tensorrt_install import detect_version, find_trtexec, missing_trtexec_hint
from trtbench.errors import TrtbenchError
from trtbench.models.source import ModelSource


class TrtexecBackend:
    name = "trtexec"

    def available(self) -> bool:
        return find_trtexec() is not None

    def install_hint(self) -> str:
        return missing_trtexec_hint()

    def load(self, model: ModelSource, options: LoadOptions) -> TrtexecSession:
        if model.kind != "plan":
            raise TrtbenchError(f"the trtexec backend runs TensorRT engine plans, and {model.path} is {model.kind}",
                                hint="build one with 'trtbench build MODEL.onnx --driver trtexec'")
        if not Path(model.path).is_file():
            raise TrtbenchError(f"engine plan {model.path} does not exist")
        binary = find_trtexec()
        if binary is None:
            raise TrtbenchError("trtexec not found", hint=missing_trtexec_hint())
        return TrtexecSession(model, options, binary, detect_version(binary))



BACKEND = TrtexecBackend()
