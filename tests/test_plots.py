from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

from trtbench.analysis.series import read_series, step_markers
from trtbench.errors import TrtbenchError
from trtbench.render import plots

REPO = Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n"


def is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == PNG and path.stat().st_size > 2000


def test_throughput_lines_writes_a_png(tmp_path):
    points = [(fc, b, 100.0 / fc * b / (b + 64)) for fc in (1, 2, 3) for b in (16, 64, 256, 1024, 4096)]
    out = plots.throughput_lines(points, "batch", "fc_layers", "Group 1", tmp_path / "sub" / "g1.png", "onnxruntime")
    assert is_png(out)


def test_category_speedup_drift_and_fit_figures_write_pngs(tmp_path):
    rows = [("c1d20-f1n1024", {"conv": 3.0, "fc": 1.0, "elementwise": 0.5}),
            ("c2d20-f1n1024", {"conv": 9.0, "fc": 1.0, "pool": 0.2})]
    assert is_png(plots.category_bars(rows, "categories", tmp_path / "c.png"))
    assert is_png(plots.speedup_bars({"conv": 6.0, "fc": 105.0, "alloc": 2.0}, "speedup", tmp_path / "s.png", 6.5))
    assert is_png(plots.drift_series({"alloc": [1.0 + 0.01 * i for i in range(200)], "compute": [2.0] * 200},
                                     "drift", tmp_path / "d.png", {"alloc": 120}))
    assert is_png(plots.predicted_vs_measured([0.01, 0.1, 1.0], [0.012, 0.09, 1.1], ["a", "b", "c"], "fit", tmp_path / "f.png"))


def test_empty_data_is_a_user_error(tmp_path):
    with pytest.raises(TrtbenchError):
        plots.throughput_lines([], "batch", "fc_layers", "empty", tmp_path / "x.png")
    with pytest.raises(TrtbenchError):
        plots.drift_series({"a": []}, "empty", tmp_path / "y.png")


def test_read_series_accepts_a_list_a_mapping_and_a_drift_result(tmp_path):
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps([1.0, 2.0, 3.0]))
    assert read_series(plain) == {"total": [1.0, 2.0, 3.0]} and step_markers(plain) == {}
    parts = tmp_path / "parts.json"
    parts.write_text(json.dumps({"drift": True, "series": {"alloc": [1, 2], "compute": [3, 4]},
                                 "parts": {"alloc": {"step_index": 1}, "compute": {"step_index": None}}}))
    assert read_series(parts) == {"alloc": [1.0, 2.0], "compute": [3.0, 4.0]}
    assert step_markers(parts) == {"alloc": 1}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"drift": False}))
    with pytest.raises(TrtbenchError):
        read_series(bad)


def test_missing_matplotlib_gives_one_line_with_the_install_command():
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "from trtbench.render import plots\n"
            "from trtbench.errors import TrtbenchError\n"
            "try:\n    plots.pyplot()\nexcept TrtbenchError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(REPO), check=True)
    assert "pip install 'trtbench[plot]'" in out.stdout


def test_a_long_title_is_wrapped_to_the_figure_not_clipped():
    class Fig:
        def get_figwidth(self):
            return 6.0

    class Axes:
        def set_title(self, text, fontsize):
            self.text = text

    ax = Axes()
    title = ("per-category time of every network in group conv-depth, onnxruntime 1.32.0 on AMD EPYC 7B13 "
             "64-Core Processor, batch 1024\nsecond line")
    plots._set_title(Fig(), ax, title)
    lines = ax.text.splitlines()
    assert len(lines) >= 3 and all(len(line) <= 72 for line in lines) and lines[-1] == "second line"
    assert " ".join(lines).replace("  ", " ").split() == title.split()


def test_a_fit_title_never_reads_mape_nan():
    from trtbench.analysis.costmodel import Fit
    from trtbench.api.plot import _mape_text

    assert _mape_text(Fit("study", "total", {}, 0.9, 12.3, 5, 40)) == "k-fold MAPE 12.3 %"
    few = _mape_text(Fit("study", "total", {}, 0.9, float("nan"), 1, 3, in_sample_mape=4.0))
    assert few == "in-sample MAPE 4 % (3 points: too few for k-fold)" and "nan" not in few
