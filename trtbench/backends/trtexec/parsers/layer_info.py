"""``--exportLayerInfo`` files (names only or detailed), read with TensorRT's layer-info reader."""
from __future__ import annotations

import json

from trtbench.backends.tensorrt.layer_info import LayerInfo, layer_info_from_json
from trtbench.backends.trtexec.parsers.common import Source, read_text
from trtbench.errors import TrtbenchError


def parse_layer_info(source: Source) -> LayerInfo:
    """Read an ``--exportLayerInfo`` file (names only or detailed)."""
    text = read_text(source, "layer info")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise TrtbenchError(f"{source} is not JSON ({exc}); is it a trtexec --exportLayerInfo file?") from None
    return layer_info_from_json(data, str(source))
