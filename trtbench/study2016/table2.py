"""The study's Table 2 (GTX 960, Theano 0.8): throughput and seconds to 90/95/97 % test accuracy of
three networks, and rows in its shape for a training record measured here."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

# The study's Table 2 (GTX 960, Theano): tiles/ms and seconds to 90/95/97 % accuracy.
STUDY_TABLE2: Dict[str, Dict[str, Any]] = {
    "c5d20-f1n1024": {"tiles_per_ms": 33.6, "seconds": {90: 48.9, 95: 119.9, 97: 256.3}},
    "c1d20-f5n1024": {"tiles_per_ms": 148.6, "seconds": {90: 63.8, 95: 139.6, 97: 260.4}},
    "c3d20-f3n1024": {"tiles_per_ms": 42.0, "seconds": {90: 35.1, 95: 96.7, 97: 183.5}},
}


@dataclass(frozen=True)
class Table2Row:
    """One row in the shape of the study's Table 2."""

    network: str
    seconds: Dict[str, Optional[float]] = field(default_factory=dict)  # "90" -> s (None: not reached)
    test_accuracy: Optional[float] = None
    source: str = "trtbench"


def table2_rows(record: Dict[str, Any]) -> List[Table2Row]:
    """The measured row for a training record, and the study's row when the network is in Table 2.

    The study did not state its neuron count; 1024 is assumed (see models/study.toml).
    """
    name = record["spec"]["name"]
    rows = [Table2Row(name, dict(record["times_to_accuracy"]), record.get("test_accuracy"))]
    if name in STUDY_TABLE2:
        seconds = {f"{target:g}": s for target, s in STUDY_TABLE2[name]["seconds"].items()}
        rows.append(Table2Row(name, seconds, None, "study (GTX 960, Theano)"))
    return rows


TABLE2_NETWORKS = tuple(STUDY_TABLE2)  # c5d20-f1n1024, c1d20-f5n1024, c3d20-f3n1024
