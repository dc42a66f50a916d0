"""Per-loop (or per-run) series from saved files and records, for the drift tests and figures.

One reader for every file a series comes in: a JSON list of per-loop ms, an object of parts, a
``trtbench drift --json`` output, a drift run record, a run record (its loops) or an array of run
records (their end-to-end times in order), and CSV files (with or without a header).
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from trtbench.errors import TrtbenchError

Parts = Dict[str, List[float]]


def _numbers(values: Any) -> Optional[List[float]]:
    if not isinstance(values, list) or not values:
        return None
    out: List[float] = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return None
        out.append(float(v))
    return out


def parts_from_json(data: Any, source: str, column: Optional[str] = None) -> Parts:
    """Parts from parsed JSON: a list of numbers (the total), an object of lists (parts), a drift
    --json output or drift run (their series), a run record (its ``loop_ms``) or an array of run
    records (their ``end_to_end_ms`` in order)."""
    if isinstance(data, dict) and data.get("kind") == "drift" and isinstance(data.get("drift"), dict):
        data = data["drift"].get("series")
    elif isinstance(data, dict) and isinstance(data.get("series"), dict):
        data = data["series"]
    elif isinstance(data, dict) and "schema_version" in data and "loop_ms" in data:
        data = {"total": data["loop_ms"]}
    elif isinstance(data, list) and data and all(isinstance(d, dict) and "end_to_end_ms" in d for d in data):
        data = {"total": [d["end_to_end_ms"] for d in data]}
    if isinstance(data, list):
        numbers = _numbers(data)
        if numbers is None:
            raise TrtbenchError(f"{source}: a JSON list must hold numbers only (per-loop ms)")
        if column is not None:
            raise TrtbenchError(f"{source} is a plain list; --column applies to objects and CSV files")
        return {"total": numbers}
    if not isinstance(data, dict):
        raise TrtbenchError(f"{source}: expected a JSON list of numbers or an object of lists")
    parts = {str(k): v for k, v in ((k, _numbers(v)) for k, v in data.items()) if v is not None}
    if column is not None:
        if column not in parts:
            raise TrtbenchError(
                f"{source} has no numeric series '{column}'",
                hint=f"choose one of: {', '.join(parts) or '(none)'}",
            )
        return {column: parts[column]}
    if not parts:
        raise TrtbenchError(f"{source}: no key holds a list of numbers")
    return parts


def parts_from_csv(text: str, source: str, column: Optional[str] = None) -> Parts:
    """Numeric columns of a CSV (or one number per line). A first row that is not numeric is the
    header; without one, columns are named ``total`` (one column) or ``col1``, ``col2``, ..."""
    rows = [row for row in csv.reader(io.StringIO(text)) if row and any(cell.strip() for cell in row)]
    if not rows:
        raise TrtbenchError(f"{source} is empty")

    def numeric(cell: str) -> bool:
        try:
            float(cell)
            return True
        except ValueError:
            return False

    header = None if all(numeric(c) for c in rows[0] if c.strip()) else [c.strip() for c in rows[0]]
    body = rows[1:] if header else rows
    width = max(len(r) for r in rows)
    names = header or (["total"] if width == 1 else [f"col{i + 1}" for i in range(width)])
    parts: Parts = {}
    for index, name in enumerate(names):
        cells = [r[index].strip() for r in body if index < len(r) and r[index].strip()]
        if cells and all(numeric(c) for c in cells):
            parts[name] = [float(c) for c in cells]
    if column is not None:
        if column in parts:
            return {column: parts[column]}
        if column.isdigit() and 1 <= int(column) <= len(names) and names[int(column) - 1] in parts:
            return {names[int(column) - 1]: parts[names[int(column) - 1]]}
        raise TrtbenchError(
            f"{source} has no numeric column '{column}'",
            hint=f"choose one of: {', '.join(parts) or '(none)'} (or a column number from 1)",
        )
    if not parts:
        raise TrtbenchError(f"{source} has no numeric column")
    return parts


def _text(path: Path) -> str:
    from trtbench.jsonio import read_file_text

    return read_file_text(path, what="series file")


def read_series(path: Path, column: Optional[str] = None) -> Parts:
    """The parts of a series file (JSON or CSV, see the module docstring)."""
    text = _text(path)
    if text.lstrip().startswith(("[", "{")):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise TrtbenchError(f"{path} is not valid JSON: {exc}") from None
        return parts_from_json(data, str(path), column)
    return parts_from_csv(text, str(path), column)


def step_markers(path: Path) -> Dict[str, int]:
    """Where a drift result found a step, per part (``step_index``), for a figure's markers."""
    try:
        data = json.loads(_text(path))
    except ValueError:
        return {}
    if isinstance(data, dict) and data.get("kind") == "drift" and isinstance(data.get("drift"), dict):
        data = data["drift"].get("report") or {}
    parts = data.get("parts") if isinstance(data, dict) else None
    if not isinstance(parts, dict):
        return {}
    return {str(name): int(r["step_index"]) for name, r in parts.items()
            if isinstance(r, dict) and isinstance(r.get("step_index"), int) and not isinstance(r["step_index"], bool)}


def history_parts(records: Sequence[Any], metric: str = "end_to_end_ms") -> Tuple[Parts, Dict[str, Any]]:
    """A model's runs over time (oldest first) as parts: the metric, and each category present in
    every run. Runs at several batches follow the most common one; the info says what was chosen."""
    info: Dict[str, Any] = {"notes": []}
    batches = sorted({r.batch for r in records})
    if len(batches) > 1:
        common = max(batches, key=lambda b: sum(1 for r in records if r.batch == b))
        records = [r for r in records if r.batch == common]
        info["notes"].append(f"runs at batches {batches}; following batch {common} (choose with --batch)")
    devices = sorted({r.device_name or r.device for r in records})
    if len(devices) > 1:
        info["notes"].append(f"runs from several devices {devices}; narrow with --device-name")
    parts: Parts = {"total": [float(getattr(r, metric)) for r in records]}
    for category in sorted({c for r in records for c in r.categories}):
        if all(category in r.categories for r in records):
            parts[category] = [float(r.categories[category]) for r in records]
    if metric == "tiles_per_ms":
        info["higher_is_better"] = ["total"]
    info.update(run_ids=[r.run_id for r in records], created=[r.created for r in records],
                batch=records[0].batch if records else None, metric=metric)
    return parts, info


def directions(parts: Mapping[str, Sequence[float]], wanted: str,
               higher_is_better: Sequence[str] = ()) -> Dict[str, str]:
    """Per part: "up", "down" or "both". Parts are times (slower = up) except those named in
    `higher_is_better` (tiles/ms: slower = down)."""
    if wanted == "both":
        return {name: "both" for name in parts}
    want_up = wanted == "slower"
    return {name: "up" if (name not in higher_is_better) == want_up else "down" for name in parts}
