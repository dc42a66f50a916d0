from __future__ import annotations

import json

from trtbench.cli.app import COMMAND_MODULES, build_parser


def test_every_subcommand_has_help_and_example(cli):
    parser = build_parser()
    assert parser is not None
    for name in COMMAND_MODULES:
        import importlib
        module = importlib.import_module(f"trtbench.cli.commands.{name}")
        assert module.EXAMPLE.startswith("trtbench "), name
        result = cli(module.NAME, "--help")
        assert result.returncode == 0, result.stderr
        assert "example:" in result.stdout


def test_models_lists_the_study_grid_and_lenet(cli):
    result = cli("models", "--json", "-")
    assert result.returncode == 0, result.stderr
    names = {m["name"] for m in json.loads(result.stdout)}
    assert {"c5d20-f1n1024", "c1d20-f5n1024", "c3d20-f3n1024", "lenet5"} <= names
    assert len(names) > 50


def test_no_command_prints_usage_and_exits_2(cli):
    result = cli()
    assert result.returncode == 2
    assert "usage" in result.stdout.lower()


def test_help_needs_no_heavy_packages():
    # `--help` must work on a Jetson without torch or onnxruntime: importing every command
    # module must not import them.
    import subprocess
    import sys
    code = ("import sys, trtbench.cli.app as c; c.build_parser(); "
            "bad=[m for m in ('torch','onnxruntime','tensorrt','matplotlib','scipy') if m in sys.modules]; "
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def _many_layers_run(path):
    from fake_runs import make_record

    from trtbench.results.record import write_records

    layers = [(f"/block{i}/Conv", "conv" if i % 2 else "elementwise", 0.1 + i, "Conv") for i in range(20)]
    write_records([make_record(layers=layers, batch=64), make_record(layers=layers, batch=1024)], path)


def test_quiet_and_verbose_options_everywhere(cli, tmp_path):
    _many_layers_run(tmp_path / "run.json")
    plain = cli("show", "run.json")
    assert plain.returncode == 0 and "Slowest 15 of 20 layers" in plain.stdout
    verbose = cli("show", "run.json", "-v")
    assert "Layers (20, execution order)" in verbose.stdout and "Slowest" not in verbose.stdout
    assert cli("-v", "show", "run.json").stdout == verbose.stdout  # before or after the command
    noisy = cli("runs", "--db", "none.db")
    assert "no runs in none.db" in noisy.stderr
    quiet = cli("runs", "--db", "none.db", "-q")
    assert quiet.returncode == 0 and quiet.stderr == ""
    both = cli("-q", "show", "run.json", "-v")
    assert both.returncode == 2 and "exclude each other" in both.stderr


def test_tables_export_as_csv_and_markdown(cli, tmp_path):
    import csv

    _many_layers_run(tmp_path / "run.json")
    out = cli("show", "run.json", "--csv", "t.csv", "--markdown", "t.md")
    assert out.returncode == 0, out.stderr
    markdown = (tmp_path / "t.md").read_text()
    assert "### Time per category (profiling pass)" in markdown and "| conv |" in markdown
    assert markdown.count("### ") == len(list(tmp_path.glob("t-*.csv"))) >= 6  # two runs, three tables each + batches
    categories = sorted(tmp_path.glob("t-*-time-per-category.csv"))[0]
    rows = list(csv.reader(categories.open()))
    assert rows[0] == ["category", "ms per batch", "%", "µs per tile"] and rows[-1][0] == "total"
    single = cli("runs", "--db", "none.db", "--csv", "empty.csv")
    assert single.returncode == 0 and "no table was printed" in single.stderr
    assert not (tmp_path / "empty.csv").exists()


def test_no_color_is_honoured_on_a_terminal(monkeypatch):
    import sys

    from trtbench.render import console

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    for value, expected in (("1", True), (None, False)):
        if value is None:
            monkeypatch.delenv("NO_COLOR", raising=False)
        else:
            monkeypatch.setenv("NO_COLOR", value)
        monkeypatch.setattr(console, "_stdout", None)
        assert console.stdout().no_color is expected
    monkeypatch.setattr(console, "_stdout", None)


def test_show_of_a_file_without_runs_says_so(cli, tmp_path):
    """An empty run file is not an empty success: one line, exit 2."""
    (tmp_path / "empty.json").write_text("[]")
    result = cli("show", "empty.json")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("trtbench: error:") == 1 and "holds no runs" in result.stderr
