"""trtexec's ``--exportProfile``/``--exportLayerInfo`` files of one run → per-layer times."""
from __future__ import annotations

from pathlib import Path
from typing import List

from trtbench.backends.base import ProfileResult
from trtbench.backends.trtexec.importer import layer_times
from trtbench.backends.trtexec.parsers import parse_layer_info, parse_profile


def profile_result(out_dir: Path, on_dla: bool = False) -> ProfileResult:
    """The ProfileResult of one trtexec output folder (profile.json, layers.json when 8.2+);
    `on_dla`: the engine was built for a DLA core."""
    prof = parse_profile(out_dir / "profile.json")
    layers_path = out_dir / "layers.json"
    info = parse_layer_info(layers_path) if layers_path.is_file() else None
    notes: List[str] = []
    layers, _ = layer_times(prof, info, notes, on_dla=on_dla)
    unknown = [layer.name for layer in layers if layer.category == "other"]
    return ProfileResult(layers=layers, iterations=prof.count, unknown=unknown, notes=notes)
