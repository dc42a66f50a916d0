"""The trtexec build driver: the `BuildRequest` as a trtexec command line for the version it reports.

The command comes from `trtbench.backends.trtexec.flags.build_args`; the log is kept beside the
engine, and the ``--exportLayerInfo`` file gives the layer records for the metadata.
"""
from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

from trtbench.backends.tensorrt.engine import BuildRequest, profile_shapes
from trtbench.backends.tensorrt.versions import build_choice, features_for
from trtbench.errors import TrtbenchError
from trtbench.models.inputs import read_model_inputs


def build_with_trtexec(req: BuildRequest, trtexec: str = "trtexec") -> Tuple[str, float, List[Dict[str, Any]], bool, List[str], Path]:
    """Build with trtexec; return (version, seconds, layer records, detailed?, notes, log path)."""
    from trtbench.backends.trtexec.flags import build_args, version_notes
    from trtbench.backends.trtexec.parsers import parse_layer_info, parse_log
    from trtbench.device.tensorrt_install import detect_version, find_trtexec, missing_trtexec_hint

    binary = find_trtexec(trtexec)
    if binary is None:
        raise TrtbenchError("trtexec not found", hint=missing_trtexec_hint())
    version = detect_version(binary)
    choice = build_choice(features_for(version.parts), req.precision,
                          given=req.precision_given, dla_core=req.dla_core)
    req.precision = choice.precision
    inputs = req.inputs or read_model_inputs(req.onnx)
    shapes = profile_shapes(inputs, req.batch_range, req.onnx)
    layer_file = req.engine.with_name(req.engine.name + ".layers.json")
    log_path = req.engine.with_name(req.engine.name + ".build.log")
    args = build_args(version, str(req.onnx), str(req.engine), shapes=shapes, precision=req.precision,
                      workspace_mib=req.workspace_mib, dla_core=req.dla_core,
                      timing_cache=str(req.timing_cache) if req.timing_cache else None,
                      layer_info=str(layer_file), trtexec=binary)
    start = time.perf_counter()
    with open(log_path, "w") as handle:
        proc = subprocess.run(args, stdout=handle, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tail = [line for line in log_path.read_text(errors="replace").splitlines() if "[E]" in line or "rror" in line]
        raise TrtbenchError(f"trtexec failed (exit {proc.returncode}): {(tail[-1] if tail else 'see the log')[:300]}",
                            hint=f"full log: {log_path}")
    notes = list(choice.notes) + version_notes(version)
    try:
        parsed = parse_log(log_path)
        seconds = parsed.build_seconds or seconds
    except TrtbenchError:
        pass
    layers: List[Dict[str, Any]] = []
    detailed = False
    if layer_file.is_file():
        info = parse_layer_info(layer_file)
        layers, detailed = info.layers, info.detailed
    return str(version), seconds, layers, detailed, notes, log_path
