"""The sweep, fit, predict and plot commands, run as the real CLI in a subprocess."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from trtbench.analysis import costmodel
from trtbench.analysis import sweep as sweep_analysis
from trtbench.results.record import RunRecord
from trtbench.results.store import Store
from trtbench.sweeps import plan as sweep_plan
from trtbench.sweeps import run as sweep_run
from trtbench.sweeps.file import load_sweep

REPO = Path(__file__).resolve().parent.parent
STUDY = REPO / "models" / "study.toml"
COEF = {"fc_n2": 2e-10, "fc": 3e-5, "fc_n": 4e-7, "conv_out": 3e-7, "conv_in": 1e-7, "conv_out_d2": 4e-8,
        "overhead": 2e-3}


def fake_record(point, device_name: str, speed: float, rng) -> RunRecord:
    f = costmodel.study_features(point.spec)
    per_tile = sum(COEF[k] * f[k] for k in COEF) / speed * (1 + 0.03 * rng.standard_normal())
    per_tile *= 1 + 64 / point.batch  # small batches cost more per tile
    ms = per_tile * point.batch
    cats = {"conv": 0.6 * ms, "fc": 0.25 * ms, "elementwise": 0.15 * ms}
    return RunRecord(backend="onnxruntime", device="cpu", batch=point.batch, precision="fp32",
                     model={"name": point.spec.name, "spec": point.spec.to_dict()}, iterations=3, loops=3,
                     loop_ms=[3 * ms] * 3, iteration_ms=[[ms] * 3] * 3, end_to_end_ms=ms,
                     tiles_per_ms=point.batch / ms, categories=cats, device_name=device_name)


def fill(db: Path, device_name: str, speed: float, run_id: str, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    sweep = load_sweep(STUDY)
    config = sweep_plan.config_tag("onnxruntime", "cpu", "fp32")
    with Store(db) as store:
        save = sweep_run.store_saver(store, {"sweep": sweep.name, "sweep_run": run_id, "sweep_config": config})
        for p in sweep.points:
            save(p, [fake_record(p, device_name, speed, rng)])


@pytest.fixture(scope="module")
def template_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("template") / "runs.db"
    fill(db, "cpu-a", 1.0, "20261122T000000-aaaaaa")
    return db


@pytest.fixture
def study_db(template_db: Path, tmp_path: Path) -> Path:
    """A database holding one synthetic run of the whole study sweep (a copy per test)."""
    db = tmp_path / "runs.db"
    shutil.copyfile(template_db, db)
    return db


def test_dry_run_prints_the_plan_without_running(cli, tmp_path):
    out = cli("sweep", STUDY, "--dry-run", "--groups", "conv-depth", "--db", tmp_path / "x.db")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("conv-depth/") == 25 and "fc-batch/" not in out.stdout
    assert "0 of 25 points done" in out.stderr
    assert not (tmp_path / "x.db").exists()  # a dry run creates nothing


def test_dry_run_of_a_finished_sweep_and_bad_options(cli, study_db):
    out = cli("sweep", STUDY, "--dry-run", "--db", study_db)
    assert "0 of 140" in out.stderr  # the finished run is not resumed: a new one would start
    bad = cli("sweep", STUDY, "--groups", "nope", "--db", study_db)
    assert bad.returncode == 2 and bad.stderr.startswith("trtbench: error:") and "Traceback" not in bad.stderr
    missing = cli("sweep", "no-such.toml", "--dry-run")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_fit_reports_coefficients_r2_and_kfold_mape(cli, study_db, tmp_path):
    out = cli("fit", "--sweep", "study-2016", "--db", study_db, "--json", "-")
    assert out.returncode == 0, out.stderr
    fits = json.loads(out.stdout)
    assert len(fits) == 1 and fits[0]["model"] == "study" and fits[0]["batch"] == 1024
    total = fits[0]["total"]
    # the groups share networks (c1d20-f1n1024 is in all four): distinct networks at batch 1024
    assert total["points"] == len({p.spec.name for p in load_sweep(STUDY).points if p.batch == 1024}) < 60
    assert total["r2"] > 0.95 and 0 < total["mape"] < 20
    assert set(fits[0]["categories"]) == {"conv", "fc", "elementwise"}
    table = cli("fit", "--sweep", str(STUDY), "--model", "general", "--db", study_db)
    assert table.returncode == 0, table.stderr
    assert "MAPE k-fold" in table.stdout and "fc_gflop" in table.stdout


def test_fit_is_per_device_and_predict_scales_to_an_unmeasured_target(cli, study_db, tmp_path):
    fill(study_db, "cpu-b", 2.0, "20261122T010000-bbbbbb", seed=1)
    out = cli("fit", "--sweep", "study-2016", "--db", study_db, "--save", tmp_path / "fit.json", "--json", "-")
    fits = {f["device_name"]: f for f in json.loads(out.stdout)}
    assert set(fits) == {"cpu-a", "cpu-b"}
    assert fits["cpu-b"]["total"]["coefficients"]["overhead"] < fits["cpu-a"]["total"]["coefficients"]["overhead"]
    a = json.loads(cli("predict", "c3d20-f3n1024", "--target", "cpu-a", "--fit", tmp_path / "fit.json", "--json", "-").stdout)
    b = json.loads(cli("predict", "c3d20-f3n1024", "--target", "cpu-b", "--fit", tmp_path / "fit.json", "--json", "-").stdout)
    assert a["ms_per_tile"] == pytest.approx(2 * b["ms_per_tile"], rel=0.15)
    assert a["tiles_per_ms"] == pytest.approx(1 / a["ms_per_tile"]) and a["scale"] == 1.0
    scaled = cli("predict", "c3d20-f3n1024", "--target", "gtx960", "--fit", tmp_path / "fit.json",
                 "--measured-roofs", "0.1,20")
    assert scaled.returncode == 0, scaled.stderr
    assert "no measurements" in scaled.stderr and "roofline" in scaled.stderr
    nothing = cli("predict", "c3d20-f3n1024", "--target", "gtx960", "--fit", tmp_path / "fit.json")
    assert nothing.returncode == 2 and "--measured-roofs" in nothing.stderr


def test_plot_writes_the_studys_figures(cli, study_db, tmp_path):
    pytest.importorskip("matplotlib")
    out = cli("plot", "all", "--sweep", "study-2016", "--db", study_db, "--out", tmp_path / "figs", "--json", "-")
    assert out.returncode == 0, out.stderr
    files = [Path(p) for p in json.loads(out.stdout)]
    names = {p.name for p in files}
    assert {"study-2016-fc-batch.png", "study-2016-conv-batch.png", "study-2016-fc-neurons.png",
            "study-2016-conv-depth.png"} <= names
    assert any("categories" in n for n in names) and any("fit" in n for n in names)
    assert all((tmp_path / p if not p.is_absolute() else p).read_bytes()[:4] == b"\x89PNG" for p in files)


def test_plot_speedup_between_two_sweep_runs_and_a_drift_series(cli, study_db, tmp_path):
    pytest.importorskip("matplotlib")
    fill(study_db, "cpu-b", 4.0, "20261122T010000-bbbbbb", seed=1)
    out = cli("plot", "speedup", "--sweep", "study-2016", "--sweep-run", "20261122T000000-aaaaaa",
              "20261122T010000-bbbbbb", "--db", study_db, "--out", tmp_path, "--json", "-")
    assert out.returncode == 0, out.stderr
    assert Path(json.loads(out.stdout)[0]).name.startswith("speedup-")
    a = [r for r in Store(study_db).__enter__().find(tags={"sweep_run": "20261122T000000-aaaaaa"})]
    b = [r for r in Store(study_db).__enter__().find(tags={"sweep_run": "20261122T010000-bbbbbb"})]
    per_cat, total, matched = sweep_analysis.speedups(a, b)
    assert matched == len({(p.spec.name, p.batch) for p in load_sweep(STUDY).points}) and total == pytest.approx(4.0, rel=0.05)
    assert per_cat["conv"] == pytest.approx(total, rel=1e-9)  # same category shares on both sides
    series = tmp_path / "series.json"
    series.write_text(json.dumps([1.0 + 0.002 * i for i in range(200)]))
    drift = cli("plot", "drift", "--series", series, "--out", tmp_path)
    assert drift.returncode == 0 and (tmp_path / "drift-series.png").is_file()
    none = cli("plot", "sweep", "--sweep", "study-2016", "--db", tmp_path / "absent.db")
    assert none.returncode == 2 and "does not exist" in none.stderr


@pytest.mark.slow
def test_a_real_two_point_sweep_on_onnxruntime_and_its_resume(cli, tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("torch")
    pytest.importorskip("trtbench.models.export")
    tiny = tmp_path / "tiny.toml"
    tiny.write_text('kind = "sweep"\nname = "tiny"\n[[group]]\nname = "g"\nfc_layers = [1]\nneurons = [64]\n'
                    'depth = [5]\nbatch = [16, 32]\n')
    args = ["sweep", tiny, "--iterations", "2", "--loops", "2", "--db", tmp_path / "t.db", "--json", "-"]
    first = cli(*args, "--groups", "g")
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["ran"] == 2 and summary["points"] == 2
    assert summary["sessions_loaded"] == 1  # both batches of the one network share a session
    again = cli(*args, "--new")
    assert json.loads(again.stdout)["ran"] == 2
    other = cli(*args, "--resume", summary["run"], "--threads", "1")
    assert other.returncode == 2 and "not onnxruntime/cpu/fp32/threads1" in other.stderr
    with Store(tmp_path / "t.db") as store:
        records = store.find(tags={"sweep": "tiny", "sweep_run": summary["run"]})
        assert sorted(r.batch for r in records) == [16, 32]
        assert all(r.categories for r in records)


@pytest.mark.slow
def test_sweep_train_records_time_to_accuracy_rows(cli, tmp_path, mnist_dir):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("torch")
    tiny = tmp_path / "tiny.toml"
    tiny.write_text('kind = "sweep"\nname = "tiny"\n[[group]]\nname = "g"\nneurons = [32]\ndepth = [2]\nbatch = [16]\n')
    out = cli("sweep", tiny, "--iterations", "1", "--loops", "1", "--db", tmp_path / "t.db", "--train",
              "--data-dir", mnist_dir, "--epochs", "1", "--train-limit", "2000", "--json", "-")
    assert out.returncode == 0, out.stderr
    rows = json.loads(Path(json.loads(out.stdout)["train_json"]).read_text())
    assert rows["kind"] == "trtbench-sweep-training" and list(rows["rows"]) == ["c1d2-f1n32"]
    row = rows["rows"]["c1d2-f1n32"]
    assert set(row["times_to_accuracy"]) == {"90", "95", "97"} and 0 < row["test_accuracy"] <= 1


def test_an_exported_sweep_imported_elsewhere_fits_and_plots_as_the_original(cli, study_db, tmp_path):
    """The record is the whole truth: its sweep tags travel in the JSON, so a fresh database (or
    the file itself) serves fit and plot as the original does."""
    pytest.importorskip("matplotlib")
    export = cli("runs", "export", "--tag", "sweep=study-2016", "--out", "sweep.json", "--db", study_db)
    assert export.returncode == 0, export.stderr
    exported = json.loads((tmp_path / "sweep.json").read_text())
    assert len(exported) == 140 and all(r["tags"]["sweep"] == "study-2016" for r in exported)
    assert cli("runs", "import", "sweep.json", "--db", "fresh.db").returncode == 0
    fits = {}
    for where in (["--db", str(study_db)], ["--db", "fresh.db"], ["--runs", "sweep.json", "--db", "none.db"]):
        out = cli("fit", "--sweep", "study-2016", "--sweep-run", "latest", *where, "--json", "-")
        assert out.returncode == 0, out.stderr
        fits[where[1]] = json.loads(out.stdout)[0]["total"]["coefficients"]
    first = list(fits.values())[0]
    assert all(f == pytest.approx(first) for f in fits.values())
    for where, folder in ((["--db", str(study_db)], "a"), (["--db", "fresh.db"], "b")):
        out = cli("plot", "sweep", "--sweep", str(STUDY), *where, "--out", folder)
        assert out.returncode == 0, out.stderr
    assert sorted(p.name for p in (tmp_path / "a").glob("*.png")) == \
        sorted(p.name for p in (tmp_path / "b").glob("*.png")) != []


def test_a_sweep_ends_with_what_it_measured_by_group(tmp_path, monkeypatch, capsys):
    from trtbench.cli.app import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.toml").write_text('kind = "sweep"\nname = "tiny"\n[[group]]\nname = "fc"\nfc_layers = [1, 2]\n'
                                        'batch = [4]\n[[group]]\nname = "conv"\nconv_layers = [1]\nbatch = [4, 8]\n')
    assert main(["sweep", "tiny.toml", "--iterations", "2", "--loops", "6", "--db", "runs.db"]) == 0
    out = capsys.readouterr().out
    table = out[out.index("Measured, by group"):]
    rows = {line.split("|")[0].strip(): line for line in table.splitlines() if "|" in line}
    assert rows["fc"].split("|")[1].strip() == "2" and rows["conv"].split("|")[2].strip() == "4, 8"
    assert "%" in rows["conv"].split("|")[4]  # the widest interval of the group's points
