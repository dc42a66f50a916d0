"""``--exportProfile``: not always strict JSON (unescaped names, nan/inf), 4 or 5 keys per record."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from trtbench.backends.trtexec.parsers.common import (
    NUMBER,
    Source,
    binary_note,
    load_json,
    number,
    read_text,
    text,
    tolerant_float,
    tolerant_int,
    whole,
)
from trtbench.errors import TrtbenchError


@dataclass
class ProfileRow:
    """One engine layer of a profile: totals over `count` iterations and the per-iteration mean."""

    name: str
    time_ms: float
    average_ms: float
    median_ms: Optional[float] = None
    percentage: float = 0.0
    trtbench: Optional[Dict[str, Any]] = None  # what trtbench's --export-profile adds to a row


@dataclass
class Profile:
    count: int
    rows: List[ProfileRow]
    source: str = ""
    has_median: bool = False  # TRT 8.4+
    strict_json: bool = True  # False when the file needed the line parser
    table_total_ms: Optional[float] = None  # the "Total" row of a console table
    trtbench: Optional[Dict[str, Any]] = None  # the run trtbench's --export-profile describes

    @property
    def total_ms(self) -> float:
        """Sum of the layers' totals over all iterations (what percentages refer to)."""
        return sum(r.time_ms for r in self.rows if not math.isnan(r.time_ms))

    @property
    def average_total_ms(self) -> float:
        """Sum of the layers' per-iteration means: the profiled time of one inference."""
        return sum(r.average_ms for r in self.rows if not math.isnan(r.average_ms))


_PROFILE_LINE = re.compile(
    r'"name"\s*:\s*"(?P<name>.*)"\s*,\s*"timeMs"\s*:\s*(?P<time>' + NUMBER + r')\s*,\s*'
    r'"averageMs"\s*:\s*(?P<avg>' + NUMBER + r')\s*,\s*'
    r'(?:"medianMs"\s*:\s*(?P<median>' + NUMBER + r')\s*,\s*)?'
    r'"percentage"\s*:\s*(?P<pct>' + NUMBER + r')\s*\}')


_COUNT_LINE = re.compile(r'"count"\s*:\s*(\d+)')
MAX_COUNT = 10 ** 12  # iterations; a larger count is a corrupted number


def parse_profile(source: Source) -> Profile:
    """Read a ``--exportProfile`` file."""
    content = read_text(source, "profile")
    name = str(source)
    why = ""
    try:
        profile = _profile_from_json(load_json(content), name)
    except ValueError as exc:  # not JSON (unescaped names, nan), or JSON of another shape
        why = f" ({exc})" if "nest too deep" in str(exc) else binary_note(content)
        profile = _profile_from_lines(content, name)
    if not profile.rows:
        raise TrtbenchError(f"{name} has no layer records{why}; is it a trtexec --exportProfile file?")
    return profile


def _profile_from_json(data: Any, name: str) -> Profile:
    """Records of the right shape with a value of the wrong type are a `TrtbenchError` naming
    the file and the field; JSON of another shape is a ValueError (the line parser tries it)."""
    if not isinstance(data, list):
        raise ValueError("not a list")
    count = 0
    rows: List[ProfileRow] = []
    run: Optional[Dict[str, Any]] = None
    for item in data:
        if not isinstance(item, dict):
            raise ValueError("not a record")
        if "count" in item and "name" not in item:
            count = whole(item["count"], f'{name}: "count"', MAX_COUNT)
            run = item["trtbench"] if isinstance(item.get("trtbench"), dict) else None
            continue
        if "name" not in item or "averageMs" not in item:
            raise ValueError("not a profile record")
        layer = text(item["name"], f'{name}: the "name" of layer {len(rows) + 1}')
        where = f"{name}: layer {len(rows) + 1} ({layer[:60]!r}),"
        extra = item.get("trtbench")
        median = item.get("medianMs")
        rows.append(ProfileRow(layer, number(item.get("timeMs"), f'{where} "timeMs"'),
                               number(item["averageMs"], f'{where} "averageMs"'),
                               None if median is None else number(median, f'{where} "medianMs"'),
                               number(item.get("percentage", 0.0), f'{where} "percentage"'),
                               extra if isinstance(extra, dict) else None))
    return Profile(_infer_count(count, rows), rows, name, any(r.median_ms is not None for r in rows), True,
                   trtbench=run)


def _profile_from_lines(text: str, name: str) -> Profile:
    """trtexec writes one record per line; names are unescaped, so split on the known keys."""
    count = 0
    rows: List[ProfileRow] = []
    for line in text.split("\n"):
        # match at the first "name" key only: searching from every later one made a long corrupt
        # line (a name repeated thousands of times) cost seconds per line
        start = line.find('"name"')
        m = _PROFILE_LINE.match(line, start) if start >= 0 and '"averageMs"' in line else None
        if m:
            median = m.group("median")
            rows.append(ProfileRow(m.group("name"), tolerant_float(m.group("time")), tolerant_float(m.group("avg")),
                                   None if median is None else tolerant_float(median), tolerant_float(m.group("pct"))))
            continue
        c = _COUNT_LINE.search(line)
        if c and not rows:
            found = tolerant_int(c.group(1))
            count = found if found is not None and found <= MAX_COUNT else 0
    return Profile(_infer_count(count, rows), rows, name, any(r.median_ms is not None for r in rows), False)


def _infer_count(count: int, rows: List[ProfileRow]) -> int:
    if count > 0:
        return count
    for r in rows:  # no {"count"} record: timeMs = averageMs × count
        ratio = r.time_ms / r.average_ms if r.average_ms > 0 and math.isfinite(r.time_ms) else math.nan
        if math.isfinite(ratio) and ratio <= MAX_COUNT:
            return max(1, int(round(ratio)))
    return 1
