"""The onnxruntime backend: available when onnxruntime imports; loads an ONNX model into an `OrtSession`."""
from __future__ import annotations

import importlib.util

from trtbench.backends.base import LoadOptions
from trtbench.backends.onnxruntime.session import OrtSession
from trtbench.errors import missing_package
from trtbench.models.source import ModelSource


class OrtBackend:
    name = "onnxruntime"

    def available(self) -> bool:
        return importlib.util.find_spec("onnxruntime") is not None

    def install_hint(self) -> str:
        return "install it with: pip install 'trtbench[ort]'"

    def load(self, model: ModelSource, options: LoadOptions) -> OrtSession:
        if not self.available():
            raise missing_package("onnxruntime", "ort", "the onnxruntime backend")
        return OrtSession(model, options)


BACKEND = OrtBackend()
