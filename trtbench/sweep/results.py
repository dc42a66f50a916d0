"""A sweep's saved points read back from the store, with their sweep tags."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from trtbench.errors import TrtbenchError


@dataclass
class Result:
    """A saved record with its sweep tags (empty for runs outside sweeps)."""

    record: Any
    tags: Dict[str, str]

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


def sweep_results(store: Any, sweep_name: str, run_id: Optional[str] = None, config: Optional[str] = None,
                  backend: Optional[str] = None, device_name: Optional[str] = None) -> List[Result]:
    """The saved points of a sweep (one run of it, or every run when `run_id` is None)."""
    tags = {"sweep": sweep_name}
    if run_id:
        tags["sweep_run"] = run_id
    if config:
        tags["sweep_config"] = config
    records = store.find(backend=backend, device_name=device_name, tags=tags)
    if not records:
        known = sorted(store.tag_values("sweep"))
        where = f" run {run_id}" if run_id else ""
        raise TrtbenchError(f"no saved points of sweep {sweep_name}{where} in {store.path}",
                            hint=f"sweeps in this database: {', '.join(known) or 'none'}; "
                                 f"run one with: trtbench sweep models/study.toml")
    return [Result(r, store.tags(r.run_id)) for r in records]


def latest_run(results: Sequence[Result]) -> Optional[str]:
    """The most recent sweep run among results."""
    runs = sorted({r.tags.get("sweep_run", "") for r in results} - {""})
    return runs[-1] if runs else None
