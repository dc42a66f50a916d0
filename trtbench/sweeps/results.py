"""A sweep's saved points read back, from the store or from any list of records (an exported
file): each record carries its sweep tags (``sweep``, ``sweep_run``, ``point``, ``group``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from trtbench.errors import TrtbenchError
from trtbench.results.record import RunRecord


@dataclass
class Result:
    """A saved record of a sweep point."""

    record: RunRecord

    @property
    def tags(self) -> Dict[str, str]:
        return self.record.tags

    @property
    def variables(self) -> Dict[str, int]:
        """The study-family parameters of the record's network, and its batch."""
        spec = self.record.model.get("spec") or {}
        family = dict(spec.get("family") or {})
        if not family:
            from trtbench.models.netspec import parse_name

            parsed = parse_name(self.record.model_name)
            family = dict(parsed.family or {}) if parsed else {}
        family["batch"] = int(self.record.batch)
        return family


def select(records: Sequence[RunRecord], sweep_name: str, run_id: Optional[str] = None) -> List[Result]:
    """The records of `sweep_name` (of one run of it, or of every run when `run_id` is None;
    ``latest`` for the newest run)."""
    mine = [r for r in records if r.tags.get("sweep") == sweep_name]
    if run_id == "latest":
        run_id = latest_run([Result(r) for r in mine])
    if run_id:
        mine = [r for r in mine if r.tags.get("sweep_run") == run_id]
    return [Result(r) for r in mine]


def sweep_results(store: Any, sweep_name: str, run_id: Optional[str] = None, config: Optional[str] = None,
                  backend: Optional[str] = None, device_name: Optional[str] = None) -> List[Result]:
    """The saved points of a sweep in the store (one run of it, ``latest``, or every run when
    `run_id` is None)."""
    tags = {"sweep": sweep_name}
    if config:
        tags["sweep_config"] = config
    if run_id == "latest":
        run_id = latest_run(sweep_results(store, sweep_name, None, config, backend, device_name))
    if run_id:
        tags["sweep_run"] = run_id
    records = store.find(backend=backend, device_name=device_name, tags=tags)
    if not records:
        known = sorted(store.tag_values("sweep"))
        where = f" run {run_id}" if run_id else ""
        raise TrtbenchError(f"no saved points of sweep {sweep_name}{where} in {store.path}",
                            hint=f"sweeps in this database: {', '.join(known) or 'none'}; "
                                 f"run one with: trtbench sweep models/study.toml")
    return [Result(r) for r in records]


def latest_run(results: Sequence[Result]) -> Optional[str]:
    """The most recent sweep run among results (run ids sort by their start time)."""
    runs = sorted({r.tags.get("sweep_run", "") for r in results} - {""})
    return runs[-1] if runs else None
