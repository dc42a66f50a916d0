"""The docs cannot drift from the tool: CI runs the README's commands, and every runnable example
in README.md and docs/*.md (```console blocks, lines starting with `$ `) is run here.

Each file's examples run in order in one fresh directory (so a later line can use an earlier
line's output), with `../shared` and `models/` available as in a checkout.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest
from conftest import CHECKED_CLI, REPO, SHARED

FENCE = re.compile(r"^```(\w*)\s*$")


def fenced_blocks(text: str, info: str) -> List[List[str]]:
    blocks, current, inside = [], None, False
    for line in text.splitlines():
        m = FENCE.match(line.strip())
        if m and not inside:
            inside, current = True, ([] if m.group(1) == info else None)
        elif line.strip() == "```" and inside:
            if current is not None:
                blocks.append(current)
            inside, current = False, None
        elif inside and current is not None:
            current.append(line)
    return blocks


def runnable_commands(path: Path) -> List[str]:
    lines = [l for block in fenced_blocks(path.read_text(), "console") for l in block]
    return [l[2:].strip() for l in lines if l.startswith("$ ")]


def readme_bash_lines() -> List[str]:
    return [l.strip() for block in fenced_blocks((REPO / "README.md").read_text(), "bash") for l in block
            if l.strip() and not l.startswith("#")]


def test_ci_runs_the_readme_setup_and_test_commands():
    bash = readme_bash_lines()
    setup = next(l for l in bash if "pip install" in l)
    test = next(l for l in bash if "pytest" in l)
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert setup in ci, f"README setup command {setup!r} is not what .ci/run runs"
    assert test in ci, f"README test command {test!r} is not what .ci/run runs"
    assert "lint-imports" in bash and "lint-imports" in ci, "the layer rules are checked in the README and CI"


DOC_FILES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


@pytest.mark.slow
@pytest.mark.parametrize("doc", [d for d in DOC_FILES if runnable_commands(d)], ids=lambda p: p.name)
def test_documented_commands_run(doc: Path, tmp_path: Path):
    if not SHARED.is_dir():
        pytest.skip("../shared not present")
    os.symlink(SHARED, tmp_path / "shared")
    work = tmp_path / "work"
    work.mkdir()
    os.symlink(REPO / "models", work / "models")
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "160"}
    for command in runnable_commands(doc):
        words = shlex.split(command)
        assert words[0] == "trtbench", f"{doc.name}: runnable examples must start with trtbench: {command}"
        result = subprocess.run([*CHECKED_CLI, *words[1:]], cwd=str(work), env=env,
                                capture_output=True, text=True, timeout=300)
        # `trtbench drift` exits 1 when it finds drift: that is a result, not a failure
        ok = result.returncode == 0 or (words[1] == "drift" and result.returncode == 1)
        assert ok, f"{doc.name}: `{command}` exited {result.returncode}:\n{result.stderr[-2000:]}"


def test_every_command_is_documented_with_its_example():
    """docs/commands.md lists every subcommand with the example its --help shows; the README's
    table names every subcommand."""
    from trtbench.cli.app import _load_commands

    page = (REPO / "docs" / "commands.md").read_text()
    readme = (REPO / "README.md").read_text()
    for module in _load_commands():
        assert f"| `{module.NAME}` |" in page, f"docs/commands.md does not list {module.NAME}"
        first_example = module.EXAMPLE.split("   |   ")[0].strip()
        assert f"`{first_example}`" in page, f"docs/commands.md lacks {module.NAME}'s example {first_example!r}"
        assert f"`trtbench {module.NAME}" in readme or f"`{module.NAME}`" in readme, \
            f"README's command table does not name {module.NAME}"


@pytest.mark.slow
def test_api_examples_run(tmp_path: Path):
    """docs/api.md's ```python blocks, in order, as one script in an empty folder beside models/
    (every record they write is checked against the schema)."""
    blocks = fenced_blocks((REPO / "docs" / "api.md").read_text(), "python")
    assert len(blocks) >= 8, "docs/api.md shows each entry point with an example"
    script = tmp_path / "api_examples.py"
    script.write_text("import schema_check\nschema_check.install()\n" + "\n".join("\n".join(b) for b in blocks) + "\n")
    os.symlink(REPO / "models", tmp_path / "models")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])}
    result = subprocess.run([sys.executable, str(script)], cwd=str(tmp_path), env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("profile", "load_runs", "compare", "sweep", "fit", "predict", "drift", "plot"):
        assert f"trtbench.{name}(" in script.read_text(), f"docs/api.md has no example of trtbench.{name}"
