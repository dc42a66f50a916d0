"""`trtbench.compare`: the speedup of one run over another, per category, per layer and in total."""
from __future__ import annotations

from typing import List, Optional, Sequence, Union

from trtbench.analysis.compare import Comparison, pair_runs
from trtbench.analysis.compare import compare as compare_records
from trtbench.api.runs import load_runs
from trtbench.errors import TrtbenchError
from trtbench.results.record import RunRecord
from trtbench.results.runref import Ref

Side = Union[RunRecord, Ref, Sequence[Union[RunRecord, Ref]]]


def compare(a: Union[RunRecord, Ref], b: Union[RunRecord, Ref], db: Optional[Ref] = None) -> Comparison:
    """B against A: time per tile per category on each side, speedup of B over A, what the two
    devices' target profiles predict, and the layers aligned. `a` and `b` are records or
    references to one run each (a run id, or a JSON file holding one record)."""
    one_a, one_b = load_runs(a, db), load_runs(b, db)
    for side, records in (("A", one_a), ("B", one_b)):
        if len(records) != 1:
            raise TrtbenchError(f"side {side} holds {len(records)} runs; compare takes one run a side",
                                hint="use compare_all(a, b) to pair several runs by batch")
    return compare_records(one_a[0], one_b[0])


def compare_all(a: Side, *others: Side, db: Optional[Ref] = None) -> List[Comparison]:
    """Each of `others` against `a`, runs paired by batch size when a side holds several."""
    if not others:
        raise TrtbenchError("compare needs at least two runs (A and B)", hint="e.g. trtbench compare RUN_A RUN_B")
    side_a = load_runs(a, db)
    return [compare_records(x, y) for other in others for x, y in pair_runs(side_a, load_runs(other, db))]
