"""What a finding says: the verdicts it can reach, the `Finding` it is reported as, and the findings
about how a GPU is fed (3, 4, 7), which are "not applicable on this device" for CPU runs."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Iterable, Optional

from trtbench.results.record import RunRecord
from trtbench.study2016.effects import Effect

HOLDS = "holds"
PARTLY = "partly holds"
DOES_NOT_HOLD = "does not hold"
NOT_APPLICABLE = "not applicable on this device"  # the reason is in Finding.reason (and `measured`)
UNTESTED = "not tested"  # the data cannot decide it; `measured` says what it needs
VERDICTS = (HOLDS, PARTLY, DOES_NOT_HOLD, NOT_APPLICABLE, UNTESTED)

# Why findings 3, 4 and 7 cannot be judged on a CPU.
GPU_ONLY = {
    3: "a GPU effect: batch size decides how well a GPU's many cores are fed; a CPU core is busy at "
       "any batch, so its throughput barely depends on batch size",
    4: "a GPU effect: 128-aligned matrices fit the GPU's matrix-multiply tiles; a CPU's GEMM blocks "
       "for its caches and vector width instead",
    7: "a GPU effect: the study's slowdown came from the GPU memory allocator (Theano's GpuAlloc); "
       "a CPU run allocates host memory through the C library",
}


@dataclass
class Finding:
    """One finding as judged: its claim, the verdict (one of `VERDICTS`), what was measured and
    the effect the verdict rests on."""

    number: int
    claim: str
    verdict: str  # one of VERDICTS
    measured: str  # one or two sentences with the numbers (and the reason, for "not applicable")
    figures: Dict[str, Any] = field(default_factory=dict)
    effect: Dict[str, Any] = field(default_factory=dict)  # Effect.to_dict() of what the verdict rests on
    reason: str = ""  # why the finding is not applicable (or not tested) here

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


def on_cpu(records: Iterable[RunRecord]) -> bool:
    """Whether the runs ran on a CPU (every one of them)."""
    devices = {r.device for r in records}
    return devices == {"cpu"}


def not_applicable(number: int, claim: str, measured: str, figures: Dict[str, Any],
                   effect: Optional[Effect]) -> Finding:
    """The finding judged on a CPU: not applicable, with why (`GPU_ONLY`) and what was measured."""
    reason = GPU_ONLY[number]
    return Finding(number, claim, NOT_APPLICABLE, f"{reason[0].upper()}{reason[1:]}. Measured here: {measured}",
                   figures, effect.to_dict() if effect else {}, reason)
