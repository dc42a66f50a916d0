"""Shared fixtures: the real MNIST and trtexec fixtures beside the checkout, and a CLI runner."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("TRTBENCH_SHARED", REPO.parent / "shared"))
MNIST_DIR = SHARED / "data" / "mnist"
TRTEXEC_FIXTURES = SHARED / "fixtures" / "trtexec"
JETSON_FIXTURES = SHARED / "fixtures" / "jetson"

# Adaptive sampling times each batch for up to 8 s by default; the tests check what a run does,
# not how precise it is, so every run here (in-process and the CLI's subprocesses) gets 1 s.
os.environ.setdefault("TRTBENCH_BUDGET", "1")


@pytest.fixture
def mnist_dir() -> Path:
    """The real MNIST (gzipped IDX); tests that need it skip only when it is absent."""
    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"real MNIST not found at {MNIST_DIR}")
    return MNIST_DIR


CHECKED_CLI = [sys.executable, str(Path(__file__).with_name("schema_check.py"))]


def run_cli(args: List[str], cwd: Path, env_extra: dict = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the real `trtbench` CLI in a subprocess, every record it writes checked against the
    shipped JSON Schema (tests/schema_check.py; `python -m trtbench` otherwise)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200", **(env_extra or {})}
    return subprocess.run([*CHECKED_CLI, *args], cwd=str(cwd), env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(autouse=True, scope="session")
def records_validate_against_the_schema():
    """Every record this test process turns into JSON is checked against the shipped schema."""
    import schema_check

    uninstall = schema_check.install()
    yield
    uninstall()


@pytest.fixture
def cli(tmp_path: Path):
    """`cli("models", "--json", "-")` runs trtbench in a subprocess inside tmp_path."""
    def _run(*args: str, env: dict = None, timeout: float = 600) -> subprocess.CompletedProcess:
        return run_cli([str(a) for a in args], cwd=tmp_path, env_extra=env, timeout=timeout)
    return _run


def has_module(name: str) -> bool:
    import importlib.util
    return importlib.util.find_spec(name) is not None


def cuda_available() -> bool:
    if not has_module("torch"):
        return False
    import torch
    return bool(torch.cuda.is_available())
