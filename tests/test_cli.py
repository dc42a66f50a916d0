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
