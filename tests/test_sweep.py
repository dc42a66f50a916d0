from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

from trtbench.errors import TrtbenchError
from trtbench.sweeps import plan as sweep_plan
from trtbench.sweeps import run as sweep_run
from trtbench.sweeps.file import load_sweep, parse_sweep

REPO = Path(__file__).resolve().parent.parent
STUDY = REPO / "models" / "study.toml"


def test_plan_expands_every_point_of_the_selected_groups():
    sweep = load_sweep(STUDY)
    plan = sweep_plan.plan_sweep(sweep)
    assert len(plan.points) == 140 and len({p.key for p in plan.points}) == 140
    only = sweep_plan.plan_sweep(sweep, groups=["fc-neurons", "conv-depth"])
    assert Counter(p.group for p in only.points) == {"fc-neurons": 25, "conv-depth": 25}
    with pytest.raises(TrtbenchError) as err:
        sweep_plan.plan_sweep(sweep, groups=["nope"])
    assert "fc-batch" in str(err.value)


def test_interleave_spreads_every_group_evenly():
    points = load_sweep(STUDY).points
    ordered = sweep_plan.order_points(points, "interleave")
    assert sorted(p.key for p in ordered) == sorted(p.key for p in points)
    n = len(ordered)
    sizes = Counter(p.group for p in points)
    # every quarter of the run holds about a quarter of every group
    for q in range(4):
        chunk = Counter(p.group for p in ordered[q * n // 4:(q + 1) * n // 4])
        for group, size in sizes.items():
            assert abs(chunk[group] - size / 4) <= 1.5, (q, group, chunk)
    # within a group the file order is kept (one network's batches stay together)
    for group in sizes:
        assert [p.key for p in ordered if p.group == group] == [p.key for p in points if p.group == group]
    # the file order, by contrast, runs group after group
    assert [p.group for p in sweep_plan.order_points(points, "file")][:45] == ["fc-batch"] * 45


def test_random_order_is_a_reproducible_permutation():
    points = load_sweep(STUDY).points
    a = sweep_plan.order_points(points, "random", seed=3)
    assert [p.key for p in a] == [p.key for p in sweep_plan.order_points(points, "random", seed=3)]
    assert [p.key for p in a] != [p.key for p in points]
    assert sorted(p.key for p in a) == sorted(p.key for p in points)
    with pytest.raises(TrtbenchError):
        sweep_plan.order_points(points, "sideways")


def test_work_is_bounded_for_heavy_points_and_generous_for_light_ones():
    sweep = load_sweep(STUDY)
    by_key = {p.key: p for p in sweep.points}
    light = sweep_plan.work_for(by_key["fc-batch/c1d20-f1n1024@16"])
    heavy = sweep_plan.work_for(by_key["conv-depth/c5d80-f1n1024@1024"])
    assert light.iterations == sweep_plan.MAX_ITERATIONS and light.loops == sweep_plan.LOOPS == 6
    assert heavy.iterations == sweep_plan.MIN_ITERATIONS and heavy.loops == sweep_plan.MIN_LOOPS and heavy.warmup == 1
    for p in sweep.points:
        w = sweep_plan.work_for(p)
        timed_gflop = p.spec.flops * p.batch * w.iterations * w.loops / 1e9
        assert timed_gflop <= sweep_plan.GFLOP_PER_POINT or w.iterations == sweep_plan.MIN_ITERATIONS
        assert w.iterations * p.batch <= max(sweep_plan.TILES_PER_LOOP, sweep_plan.MIN_ITERATIONS * p.batch)
    assert sweep_plan.work_for(by_key["conv-depth/c5d80-f1n1024@1024"], iterations=7, loops=1) .iterations == 7


class FakeSession:
    def __init__(self, name, log):
        self.name, self.log = name, log

    def close(self):
        self.log.append(("close", self.name))


def test_session_cache_reuses_and_evicts_least_recently_used():
    log = []
    cache = sweep_run.SessionCache(lambda spec: FakeSession(spec.name, log), size=2)
    specs = {p.spec.name: p.spec for p in load_sweep(STUDY).points}
    a, b, c = (specs[n] for n in ("c1d20-f1n1024", "c2d20-f1n1024", "c3d20-f1n1024"))
    assert cache.get(a) is cache.get(a)
    cache.get(b)
    cache.get(a)  # a is now the most recent
    cache.get(c)  # evicts b
    assert log == [("close", "c2d20-f1n1024")] and cache.loads == 3
    cache.close()
    assert {n for _, n in log} == {"c1d20-f1n1024", "c2d20-f1n1024", "c3d20-f1n1024"}


def test_run_points_skips_done_points_and_reports_progress():
    plan = sweep_plan.plan_sweep(load_sweep(STUDY), groups=["conv-depth"], order="file")
    done = {p.key for p in plan.points[:10]}
    saved, seen = [], []
    outcome = sweep_run.run_points(plan, "r1", done, lambda p, w: [p.key], lambda p, recs: saved.append(recs[0]),
                                lambda i, n, p, s: seen.append((i, n)))
    assert saved == [p.key for p in plan.points[10:]]
    assert sorted(outcome.skipped) == sorted(done)
    assert seen[0] == (11, 25) and seen[-1] == (25, 25)


def test_train_rows_train_each_network_once_and_survive_a_restart(tmp_path):
    calls = []

    def fake_train(spec):
        calls.append(spec.name)
        return {"spec": {"name": spec.name}, "times_to_accuracy": {"90": 1.0}}

    path = tmp_path / "train.json"
    points = load_sweep(STUDY).points
    rows = sweep_run.TrainRows(path, sweep_run="r1", train=fake_train)
    for p in points[:20]:
        rows.ensure(p.spec)
    assert calls == list(dict.fromkeys(p.spec.name for p in points[:20]))
    again = sweep_run.TrainRows(path, sweep_run="r1", train=fake_train)
    for p in points[:20]:
        again.ensure(p.spec)
    assert len(calls) == len(set(calls))  # nothing trained twice
    assert json.loads(path.read_text())["kind"] == "trtbench-sweep-training"


# ---- kill -9 and resume, with the real store and a scripted measurement ---------------------

SCRIPT = textwrap.dedent('''
    import sys, time
    from pathlib import Path
    from trtbench.sweeps import plan as sweep_plan
    from trtbench.sweeps import run as sweep_run
    from trtbench.results.record import RunRecord
    from trtbench.results.store import Store
    from trtbench.sweeps.file import parse_sweep

    table = {"kind": "sweep", "name": "tiny", "group": [
        {"name": "a", "fc_layers": [1, 2, 3], "batch": [16, 32]},
        {"name": "b", "conv_layers": [1, 2], "batch": [16, 32]}]}
    plan = sweep_plan.plan_sweep(parse_sweep(table, "tiny.toml"))
    config = sweep_plan.config_tag("fake", "cpu", "fp32")

    def measure(point, work):
        time.sleep(0.12)
        ms = 0.01 * point.batch
        return [RunRecord(backend="fake", device="cpu", batch=point.batch, precision="fp32",
                          model={"name": point.spec.name, "spec": point.spec.to_dict()}, iterations=1, loops=1,
                          loop_ms=[ms], iteration_ms=[[ms]], end_to_end_ms=ms, tiles_per_ms=point.batch / ms)]

    with Store(Path(sys.argv[1])) as store:
        keys = [p.key for p in plan.points]
        run_id = sweep_run.latest_unfinished_run(store, "tiny", config, keys) or sweep_run.new_run_id()
        print("run", run_id, flush=True)
        done = sweep_run.done_points(store, "tiny", run_id)
        save = sweep_run.store_saver(store, {"sweep": "tiny", "sweep_run": run_id, "sweep_config": config})
        sweep_run.run_points(plan, run_id, done, measure, save,
                          lambda i, n, p, s: print("saved", p.key, flush=True))
''')


def _start(script: Path, db: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, str(script), str(db)], stdout=subprocess.PIPE, text=True, env=env)


def test_a_sweep_killed_with_sigkill_resumes_with_every_point_exactly_once(tmp_path):
    from trtbench.results.store import Store

    script = tmp_path / "tiny_sweep.py"
    script.write_text(SCRIPT)
    db = tmp_path / "runs.db"
    first = _start(script, db)
    run_line = first.stdout.readline().split()
    saved = 0
    while saved < 4:  # let some points finish, then kill it in the middle of the next one
        assert first.stdout.readline().startswith("saved")
        saved += 1
    time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    with Store(db) as store:
        partial = store.find(tags={"sweep": "tiny"})
    assert 4 <= len(partial) < 10

    second = _start(script, db)
    out, _ = second.communicate(timeout=60)
    assert second.returncode == 0
    assert out.split()[1] == run_line[1]  # the same sweep run was resumed
    with Store(db) as store:
        records = store.find(tags={"sweep": "tiny"})
        keys = Counter(store.tags(r.run_id)["point"] for r in records)
        assert store.tag_values("sweep_run", sweep="tiny") == {run_line[1]}
    plan = sweep_plan.plan_sweep(parse_sweep({"kind": "sweep", "name": "tiny", "group": [
        {"name": "a", "fc_layers": [1, 2, 3], "batch": [16, 32]},
        {"name": "b", "conv_layers": [1, 2], "batch": [16, 32]}]}, "tiny.toml"))
    assert keys == Counter({p.key: 1 for p in plan.points})
    assert out.count("saved") == 10 - len(partial)

    third = _start(script, db)  # a finished run is not resumed: a new one starts
    out3, _ = third.communicate(timeout=60)
    assert out3.split()[1] != run_line[1]


def test_warmup_given_sets_every_points_warm_up_and_is_bounded():
    from trtbench.errors import TrtbenchError

    sweep = parse_sweep({"kind": "sweep", "name": "tiny", "group": [
        {"name": "a", "fc_layers": [1, 2], "batch": [16, 4096]}]}, "tiny.toml")
    assert {w.warmup for w in sweep_plan.plan_sweep(sweep, warmup=3).work.values()} == {3}
    assert None in {w.warmup for w in sweep_plan.plan_sweep(sweep).work.values()}  # the measurement's rule
    with pytest.raises(TrtbenchError, match="--warmup"):
        sweep_plan.plan_sweep(sweep, warmup=-1)
