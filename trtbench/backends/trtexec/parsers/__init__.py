"""Tolerant parsers for what trtexec writes, TensorRT 7.x to 11.x.

- ``--exportProfile`` (`parse_profile`): not always strict JSON (layer names written unescaped,
  ``nan``/``inf`` numbers), 4 keys per record before 8.4, 5 (with ``medianMs``) from 8.4.
- ``--exportLayerInfo`` (`parse_layer_info`): names only (the default verbosity) or detailed dicts.
- ``--exportTimes`` (`parse_times`): 7.x ``inMs/outMs`` keys, 8.x+ ``h2dMs/d2hMs``.
- console logs (`parse_log`): banner and version line, option blocks, device block, the timing
  summary of every version (TRT 7 ``min: X ms`` blocks, 8.0–11 ``Latency: min = …``), the
  ``--dumpProfile`` table (name first up to 8.5, numbers first from 8.6), the ``--dumpLayerInfo``
  block, ``[GpuLayer]`` lists. TREx's ``*.profile.metadata.json`` (a log already parsed) is
  accepted in place of a log.

Every parser returns dataclasses and raises `TrtbenchError` naming the file when it is not what
it should be. Formats: docs/trtexec.md.
"""
from __future__ import annotations

from trtbench.backends.tensorrt.layer_info import LayerInfo, layer_info_from_json
from trtbench.backends.trtexec.parsers.layer_info import parse_layer_info
from trtbench.backends.trtexec.parsers.log import DeviceInfo, Stat, Summary, TrtexecLog, parse_log
from trtbench.backends.trtexec.parsers.profile import Profile, ProfileRow, parse_profile
from trtbench.backends.trtexec.parsers.times import Times, parse_times

__all__ = ["DeviceInfo", "LayerInfo", "Profile", "ProfileRow", "Stat", "Summary", "Times", "TrtexecLog",
           "layer_info_from_json", "parse_layer_info", "parse_log", "parse_profile", "parse_times"]
