"""The torch backend: available when torch imports; rebuilds the network into a `TorchSession`."""
from __future__ import annotations

import importlib.util

from trtbench.backends.base import LoadOptions
from trtbench.backends.torch.session import TorchSession
from trtbench.errors import missing_package
from trtbench.models.source import ModelSource


class TorchBackend:
    name = "torch"

    def available(self) -> bool:
        return importlib.util.find_spec("torch") is not None

    def install_hint(self) -> str:
        return "install it with: pip install 'trtbench[train]' (or the torch build for your machine)"

    def load(self, model: ModelSource, options: LoadOptions) -> TorchSession:
        if not self.available():
            raise missing_package("torch", "train", "the torch backend")
        return TorchSession(model, options)



BACKEND = TorchBackend()
