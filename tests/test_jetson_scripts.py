"""jetson/ scripts: syntax, the fastest-mode choice per module, and pin-clocks.sh restoring the power
mode and clocks (with stand-ins for nvpmodel and jetson_clocks that only log their arguments)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import JETSON_FIXTURES, REPO

from trtbench.device.targets import load_targets

SCRIPTS = sorted((REPO / "jetson").glob("*.sh"))
PIN = REPO / "jetson" / "pin-clocks.sh"


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_scripts_parse(script: Path):
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0


def _conf(tmp_path: Path, modes) -> Path:
    path = tmp_path / "nvpmodel.conf"
    path.write_text("".join(f"< POWER_MODEL ID={i} NAME={n} >\nGPU MAX_FREQ 1\n" for i, n in modes))
    return path


def _max_mode(conf: Path) -> str:
    res = subprocess.run(["bash", str(PIN), "--print-max-mode", "--conf", str(conf)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


def test_fastest_mode_of_the_real_orin_nano_super_config():
    conf = JETSON_FIXTURES / "nvpmodel" / "unknown-repo__jetson-env-report__JP7.2.1-OrinNanoSuper-nvpmodel-conf-POWER_MODEL-lines.txt"
    if not conf.is_file():
        pytest.skip("Jetson fixtures not found")
    assert _max_mode(conf) == "2 MAXN_SUPER"


@pytest.mark.parametrize("name, expected", [("nano", "MAXN"), ("tx2", "MAXN"), ("xavier-nx", "MODE_20W_6CORE"),
                                            ("agx-xavier", "MAXN"), ("orin-nano-8gb", "15W"),
                                            ("agx-orin-64", "MAXN"), ("thor", "MAXN")])
def test_fastest_mode_of_each_profile(tmp_path, name, expected):
    modes = [(m.id, m.name) for m in load_targets()[name].power_modes]
    chosen = _max_mode(_conf(tmp_path, modes))
    assert chosen.split() == [str(dict((n, i) for i, n in modes)[expected]), expected]


def _stubs(tmp_path: Path, current_mode: int) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    state = tmp_path / "mode"
    state.write_text(str(current_mode))
    (bin_dir / "nvpmodel").write_text(
        f"#!/usr/bin/env bash\necho \"nvpmodel $*\" >> {log}\n"
        f"if [ \"$1\" = -q ]; then echo \"NV Power Mode: X\"; cat {state}; fi\n"
        f"if [ \"$1\" = -m ]; then echo \"$2\" > {state}; fi\n")
    (bin_dir / "jetson_clocks").write_text(f"#!/usr/bin/env bash\necho \"jetson_clocks $*\" >> {log}\n")
    for stub in bin_dir.iterdir():
        stub.chmod(0o755)
    return bin_dir


@pytest.mark.parametrize("command, status", [("true", 0), ("exit 3", 3)])
def test_pin_clocks_pins_then_restores(tmp_path, command, status):
    bin_dir = _stubs(tmp_path, current_mode=1)
    conf = _conf(tmp_path, [(0, "15W"), (1, "25W"), (2, "MAXN_SUPER")])
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PIN_CLOCKS_NO_ROOT": "1",
           "PIN_CLOCKS_SETTLE": "0", "SUDO_USER": ""}
    res = subprocess.run(["bash", str(PIN), "--conf", str(conf), "--", "bash", "-c", command],
                         capture_output=True, text=True, env=env, timeout=60)
    assert res.returncode == status, res.stderr
    calls = [line.split()[:2] for line in (tmp_path / "calls.log").read_text().splitlines()
             if line != "nvpmodel -q"]
    assert calls == [["jetson_clocks", "--store"], ["nvpmodel", "-m"], ["jetson_clocks"],
                     ["jetson_clocks", "--show"], ["nvpmodel", "-m"], ["jetson_clocks", "--restore"]]
    sets = [line for line in (tmp_path / "calls.log").read_text().splitlines() if line.startswith("nvpmodel -m")]
    assert sets == ["nvpmodel -m 2", "nvpmodel -m 1"]  # to MAXN_SUPER, then back to 25W
    assert (tmp_path / "mode").read_text().strip() == "1"


def _sudo_stub(bin_dir: Path, log: Path) -> None:
    """`sudo -u USER -E -- CMD...`: logs its arguments, then runs CMD as it is (no user switch)."""
    (bin_dir / "sudo").write_text(f"#!/usr/bin/env bash\necho \"sudo $*\" >> {log}\n"
                                  "while [ \"$1\" != -- ]; do shift; done; shift\nexec \"$@\"\n")
    (bin_dir / "sudo").chmod(0o755)


def test_pin_clocks_stops_before_pinning_when_the_command_is_not_on_path(tmp_path):
    """Under sudo, PATH is sudo's secure_path: the virtual environment's trtbench is not on it."""
    bin_dir = _stubs(tmp_path, current_mode=1)
    conf = _conf(tmp_path, [(0, "15W"), (2, "MAXN")])
    env = {"HOME": str(tmp_path), "PATH": f"{bin_dir}:/usr/sbin:/usr/bin:/sbin:/bin", "PIN_CLOCKS_NO_ROOT": "1",
           "PIN_CLOCKS_SETTLE": "0", "SUDO_USER": "nobody"}
    res = subprocess.run(["bash", str(PIN), "--conf", str(conf), "--", "trtbench-not-on-path", "profile", "a b"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert res.returncode == 127
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("pin-clocks: trtbench-not-on-path not found")
    assert f'run sudo env "PATH=$PATH" {PIN} --conf {conf} -- trtbench-not-on-path profile a\\ b' in res.stderr
    assert not (tmp_path / "calls.log").exists()  # nothing stored, switched or pinned


def test_pin_clocks_runs_the_command_found_on_the_users_path_with_that_path(tmp_path):
    """`sudo env "PATH=$PATH" pin-clocks.sh -- trtbench ...`: the venv's trtbench, by its full path,
    with the user's PATH again (the inner sudo would put secure_path back)."""
    bin_dir = _stubs(tmp_path, current_mode=1)
    log = tmp_path / "calls.log"
    _sudo_stub(bin_dir, log)
    venv = tmp_path / "venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "trtbench").write_text(f"#!/usr/bin/env bash\necho \"trtbench $* PATH=$PATH\" >> {log}\n")
    (venv / "trtbench").chmod(0o755)
    conf = _conf(tmp_path, [(0, "15W"), (2, "MAXN")])
    user_path = f"{bin_dir}:{venv}:/usr/bin:/bin"
    env = {"HOME": str(tmp_path), "PATH": user_path, "PIN_CLOCKS_NO_ROOT": "1", "PIN_CLOCKS_SETTLE": "0",
           "SUDO_USER": "nobody"}
    res = subprocess.run(["bash", str(PIN), "--conf", str(conf), "--", "trtbench", "profile", "a b"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert res.returncode == 0, res.stderr
    calls = log.read_text().splitlines()
    assert f"sudo -u nobody -E -- env PATH={user_path} {venv}/trtbench profile a b" in calls
    assert f"trtbench profile a b PATH={user_path}" in calls
    assert f"pin-clocks: running {venv}/trtbench as nobody\n" in res.stderr  # no hint: PATH is the user's
    assert calls[-1].startswith("jetson_clocks --restore")
