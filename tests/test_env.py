"""Where the bundled profiles and models are found: in a checkout, or where a wheel put them."""
from __future__ import annotations

import os
import sys

from trtbench import env


def test_bundled_folders_come_from_the_checkout_when_there():
    assert env.profile_dirs()[0] == env.REPO_ROOT / "profiles"
    assert (env.model_dirs()[0] / "study.toml").is_file()


def test_a_wheel_install_reads_them_under_the_prefix(tmp_path, monkeypatch):
    monkeypatch.setattr(env, "REPO_ROOT", tmp_path / "site-packages")  # no profiles/ beside the package
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    assert env.profile_dirs()[0] == tmp_path / "venv" / "share" / "trtbench" / "profiles"
    assert env.model_dirs()[0] == tmp_path / "venv" / "share" / "trtbench" / "models"


def test_user_folders_follow_the_bundled_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("TRTBENCH_PROFILES", f"{tmp_path / 'a'}{os.pathsep}{tmp_path / 'b'}")
    assert env.profile_dirs()[1:] == [tmp_path / "a", tmp_path / "b"]


def test_the_default_sampling_budget_comes_from_trtbench_budget(monkeypatch):
    from trtbench import env

    monkeypatch.setenv("TRTBENCH_BUDGET", "2.5")
    assert env.budget_s() == 2.5
    for bad in ("nan", "-1", "abc", "1e9"):
        monkeypatch.setenv("TRTBENCH_BUDGET", bad)
        assert env.budget_s() == env.BUDGET_S
    monkeypatch.delenv("TRTBENCH_BUDGET")
    assert env.budget_s() == 8.0
