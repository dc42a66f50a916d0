"""The tensorrt backend: available when the tensorrt bindings import; loads an engine into a `TensorRTSession`."""
from __future__ import annotations

import importlib.util

from trtbench.backends.base import LoadOptions
from trtbench.backends.tensorrt.session import TensorRTSession
from trtbench.errors import TrtbenchError
from trtbench.models.source import ModelSource


class TensorRTBackend:
    name = "tensorrt"

    def available(self) -> bool:
        return importlib.util.find_spec("tensorrt") is not None

    def install_hint(self) -> str:
        from trtbench.backends.tensorrt.build import tensorrt_missing
        return str(tensorrt_missing(for_profile=True).hint)

    def load(self, model: ModelSource, options: LoadOptions) -> TensorRTSession:
        from trtbench.backends.tensorrt.build import tensorrt_missing
        if not self.available():
            raise tensorrt_missing(for_profile=True)
        if model.kind != "plan":
            raise TrtbenchError(f"{model.path} is not a TensorRT engine plan",
                                hint="build one first: trtbench build MODEL.onnx --target NAME")
        if options.precision not in ("fp32", "fp16", "int8", "tf32"):
            raise TrtbenchError(f"unknown precision {options.precision!r}")
        return TensorRTSession(model, options)



BACKEND = TensorRTBackend()
