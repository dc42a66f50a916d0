"""The layer rules in pyproject.toml hold (the same check CI runs as `lint-imports`)."""
from __future__ import annotations

import shutil
import subprocess

import pytest
from conftest import REPO


def test_import_contracts_are_kept():
    if shutil.which("lint-imports") is None:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    result = subprocess.run(["lint-imports"], cwd=str(REPO), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "BROKEN" not in result.stdout and "6 kept, 0 broken" in result.stdout
