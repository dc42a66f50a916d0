"""``--exportTimes``: per-iteration timestamps; 7.x ``inMs/outMs`` keys, 8.x+ ``h2dMs/d2hMs``."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List

from trtbench.backends.trtexec.parsers.common import (
    NUMBER,
    Source,
    binary_note,
    load_json,
    number,
    read_text,
    tolerant_float,
)
from trtbench.errors import TrtbenchError


@dataclass
class Times:
    """Per-query intervals in ms, in run order."""

    compute_ms: List[float]
    latency_ms: List[float]
    h2d_ms: List[float] = field(default_factory=list)
    d2h_ms: List[float] = field(default_factory=list)
    end_to_end_ms: List[float] = field(default_factory=list)  # 7.x–8.2 only
    source: str = ""


def parse_times(source: Source) -> Times:
    """Read an ``--exportTimes`` file."""
    text = read_text(source, "times")
    try:
        data = load_json(text)
    except ValueError:
        data = [_loose_record(line) for line in text.split("\n") if '"computeMs"' in line]
    if not isinstance(data, list) or not data or not all(isinstance(d, dict) and "computeMs" in d for d in data):
        raise TrtbenchError(f"{source} has no records with computeMs{binary_note(text)}; "
                            "is it a trtexec --exportTimes file?")

    def column(*keys: str) -> List[float]:
        for key in keys:
            if key in data[0]:
                return [number(d.get(key), f'{source}: "{key}" of record {i + 1}') for i, d in enumerate(data)]
        return []

    return Times(column("computeMs"), column("latencyMs"), column("h2dMs", "inMs"), column("d2hMs", "outMs"),
                 column("endToEndMs"), str(source))


def _loose_record(line: str) -> Dict[str, float]:
    return {k: tolerant_float(v) for k, v in re.findall(r'"(\w+)"\s*:\s*(' + NUMBER + ")", line)}
