"""TensorRT's layer information JSON: the engine inspector's output, and trtexec's ``--exportLayerInfo``.

Names only at the default profiling verbosity, detailed records (``LayerType``, inputs, outputs,
tactics) at ``detailed``; TensorRT 11 lists ``I/O Tensors`` where earlier releases list ``Bindings``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from trtbench.errors import TrtbenchError


@dataclass
class LayerInfo:
    layers: List[Dict[str, Any]]  # detailed records, or {"Name": name} when names only
    bindings: List[str] = field(default_factory=list)
    detailed: bool = False
    source: str = ""

    @property
    def names(self) -> List[str]:
        return [str(layer.get("Name", "")) for layer in self.layers]

    def by_name(self) -> Dict[str, Dict[str, Any]]:
        return {str(layer.get("Name", "")): layer for layer in self.layers}

    def batch(self) -> Optional[int]:
        """The first dimension of the first input binding, when the layer info shows it."""
        wanted = set(self.bindings)
        for layer in self.layers:
            for tensor in layer.get("Inputs") or []:
                dims = tensor.get("Dimensions") if isinstance(tensor, dict) else None
                if dims and (not wanted or tensor.get("Name") in wanted) and int(dims[0]) > 0:
                    return int(dims[0])
        return None


def layer_info_from_json(data: Any, source: str = "<layer info>") -> LayerInfo:
    """Layer info from parsed JSON (the file, or the engine inspector's string loaded)."""
    if isinstance(data, list):
        data = {"Layers": data}
    if not isinstance(data, dict) or not isinstance(data.get("Layers"), list):
        raise TrtbenchError(f"{source} has no \"Layers\" list; is it a trtexec --exportLayerInfo file?")
    layers: List[Dict[str, Any]] = []
    detailed = False
    for item in data["Layers"]:
        if isinstance(item, dict):
            detailed = detailed or "LayerType" in item
            layers.append(dict(item))
        else:
            layers.append({"Name": str(item)})
    bindings = data.get("Bindings")
    if bindings is None and isinstance(data.get("I/O Tensors"), list):  # TRT 11
        bindings = [t.get("Name", "") if isinstance(t, dict) else str(t) for t in data["I/O Tensors"]]
    return LayerInfo(layers, [str(b) for b in bindings or []], detailed, source)
