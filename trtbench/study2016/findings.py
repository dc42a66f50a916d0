"""The 2016 study's eight findings, each judged from saved runs: what trtbench measured, the effect
the verdict rests on with its uncertainty, and whether the finding holds.

Pure functions over RunRecords (and the training, drift and fit results): no backend, no GPU.

How a verdict is decided (docs/measurement.md, "What a verdict means"):

- Every effect (a cost ratio, a gap, a rank correlation, a speedup) is bootstrapped from the raw
  data in the records: each point's per-loop times are resampled (the scatter inside a run) and
  its level is scaled by a factor drawn from the run-to-run spread (what a rerun would change:
  the spread of repeated points of the study, never below `RUN_SPREAD_FLOOR`). The fixed seed
  makes a report the same every time it is rendered.
- The report gives the effect with its 95 % interval. The decision uses the central
  `CLEAR_LEVEL` (99.7 %, about three standard errors) of the same draws: an effect is *clear*
  only when that interval excludes the no-effect value (or the threshold the claim names) and,
  where a finding names one, the effect is at least its practical threshold. An effect whose
  interval includes the no-effect value is "no clear effect" and never counts by its sign.
- Findings about how a GPU is fed (3 batch size, 4 128-aligned matrices, 7 allocation drift) are
  "not applicable on this device" for CPU runs, with the reason; their effect is still measured
  and shown.
- A finding the data cannot decide (e.g. the device comparison with one device) is "not tested"
  and says what it needs.

This module is the public entry: the names the rest of trtbench uses are importable from here.
The parts live in `verdicts` (the verdicts, `Finding`, "not applicable" on a CPU), `effects`
(bootstraps, intervals, the run-to-run spread, `CLEAR_LEVEL`), `points` (runs grouped by measured
point), and the judges, each with its findings' thresholds: `judge_layers` (findings 1, 2, 4),
`judge_device` (3, 6, 7) and `judge_prediction` (5, 8).
"""
from __future__ import annotations

from typing import Callable, Dict

from trtbench.study2016.effects import (CLEAR_LEVEL, RESAMPLES, RUN_SPREAD_FLOOR, SEED, Bootstrap, Effect,
                                        effect_from_draws, effect_from_spread, repeat_spread, run_spread)
from trtbench.study2016.judge_device import (BATCH_FLAT_GAIN, BATCH_KNEE, BATCH_RISE, PEAK_EFFICIENCY_SPREAD,
                                             allocation_drift, batch_flattens, device_speedup, expected_band,
                                             sen_slope_interval, speedup_effects)
from trtbench.study2016.judge_layers import (ALIGN_GAP, ALIGN_HOLDS_SHARE, ALIGN_PARTLY_SHARE,
                                             CONV_FC_SEVERAL, conv_vs_fc, neurons_multiple_of_128,
                                             second_conv_costs_most)
from trtbench.study2016.judge_prediction import (MAPE_GOOD, R2_FAIR, R2_GOOD, RANK_STRONG, linear_model,
                                                 rank_chance, spearman, spearman_draws,
                                                 training_vs_throughput)
from trtbench.study2016.points import Key, Point, Runs, index_repeats, index_runs, loop_ms_per_item
from trtbench.study2016.verdicts import (DOES_NOT_HOLD, GPU_ONLY, HOLDS, NOT_APPLICABLE, PARTLY, UNTESTED,
                                         VERDICTS, Finding, on_cpu)

__all__ = [
    # the verdicts
    "HOLDS", "PARTLY", "DOES_NOT_HOLD", "NOT_APPLICABLE", "UNTESTED", "VERDICTS", "GPU_ONLY", "Finding",
    "on_cpu",
    # effects, and the runs they are drawn from
    "RUN_SPREAD_FLOOR", "CLEAR_LEVEL", "RESAMPLES", "SEED", "Effect", "Bootstrap", "effect_from_draws",
    "effect_from_spread", "repeat_spread", "run_spread", "Key", "Runs", "Point", "index_runs",
    "index_repeats", "loop_ms_per_item",
    # the judges, with their thresholds
    "CONV_FC_SEVERAL", "ALIGN_GAP", "ALIGN_HOLDS_SHARE", "ALIGN_PARTLY_SHARE", "conv_vs_fc",
    "second_conv_costs_most", "neurons_multiple_of_128",
    "BATCH_KNEE", "BATCH_RISE", "BATCH_FLAT_GAIN", "PEAK_EFFICIENCY_SPREAD", "batch_flattens",
    "expected_band", "speedup_effects", "device_speedup", "sen_slope_interval", "allocation_drift",
    "RANK_STRONG", "R2_GOOD", "R2_FAIR", "MAPE_GOOD", "spearman", "spearman_draws", "rank_chance",
    "training_vs_throughput", "linear_model",
    "JUDGES",
]

JUDGES: Dict[int, Callable[..., Finding]] = {
    1: conv_vs_fc, 2: second_conv_costs_most, 3: batch_flattens, 4: neurons_multiple_of_128,
    5: training_vs_throughput, 6: device_speedup, 7: allocation_drift, 8: linear_model,
}
