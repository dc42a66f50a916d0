"""Names are data: a device script never runs a model's file name or a target profile's title.

The names below are legal file names and TOML strings. The emitted scripts are run here with bash:
they must stop at the device check (this machine is not the target) without running anything a
name carries, and every trtexec line must keep the names as single arguments.
"""
from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import pytest
from test_trt_build import make_onnx

HOSTILE = [
    'm$(touch PWNED-subst).onnx',
    'm`touch PWNED-tick`.onnx',
    'm"; touch PWNED-quote; ".onnx',
    "m'; touch PWNED-single; '.onnx",
    "m\ntouch PWNED-newline\n.onnx",
    "m $HOME ${IFS} \\ *.onnx",
]


def _profile(folder: Path, title: str) -> None:
    """A copy of the tx1 profile under another name, with a hostile title."""
    src = Path(__file__).resolve().parent.parent / "profiles" / "tx1.toml"
    text = src.read_text().replace('name = "tx1"', 'name = "evil"', 1)
    lines = [f"title = {json.dumps(title)}" if line.startswith("title =") else line
             for line in text.splitlines()]
    lines = [line for line in lines if not line.startswith("aliases")]
    folder.mkdir(exist_ok=True)
    (folder / "evil.toml").write_text("\n".join(lines) + "\n")


def _stand_in_trtexec(folder: Path) -> Path:
    """A trtexec that says it is 8.2.1 and writes each call's arguments, NUL-separated."""
    binary = folder / "bin" / "trtexec"
    binary.parent.mkdir()
    binary.write_text("#!/usr/bin/env bash\n"
                      "if [ \"$1\" = --help ]; then echo '&&&& RUNNING TensorRT.trtexec [TensorRT v8201]'; exit 0; fi\n"
                      f"printf '%s\\0' \"$@\" >> {shlex.quote(str(folder / 'calls'))}; printf '\\n' >> "
                      f"{shlex.quote(str(folder / 'calls'))}\n")
    binary.chmod(0o755)
    return binary


@pytest.mark.parametrize("name", HOSTILE, ids=range(len(HOSTILE)))
def test_a_hostile_model_name_runs_nothing(cli, tmp_path, name):
    model = make_onnx(tmp_path / name)
    res = cli("build", model.name, "--target", "tx1", "--emit-script", "s.sh")
    assert res.returncode == 0, res.stderr
    script = tmp_path / "s.sh"
    run = subprocess.run(["bash", str(script)], cwd=str(tmp_path), capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "not the NVIDIA Jetson TX1" in run.stderr  # stopped at the device check
    assert not list(tmp_path.glob("PWNED*"))
    # past the checks (TRTBENCH_FORCE=1), with a stand-in trtexec: the name reaches it as one argument
    trtexec = _stand_in_trtexec(tmp_path)
    run = subprocess.run(["bash", str(script)], cwd=str(tmp_path), capture_output=True, text=True, timeout=60,
                         env={"PATH": "/usr/bin:/bin", "TRTBENCH_FORCE": "1", "TRTEXEC": str(trtexec)})
    assert run.returncode == 0, run.stderr
    assert not list(tmp_path.glob("PWNED*"))
    calls = [c.split("\0")[:-1] for c in (tmp_path / "calls").read_text().split("\0\n") if c]
    assert len(calls) == 2  # the build and one profile run
    assert f"--onnx={name}" in calls[0]
    assert any(a.startswith("--loadEngine=") and a.endswith(".tx1.fp16.plan") for a in calls[1])
    text = script.read_text()
    comments = [line for line in text.split("\n") if line.startswith("#")]
    assert all(line.isprintable() for line in comments)
    # the printed import lines are quoted: pasted into a shell they run trtbench and nothing else
    printed = [line.strip() for line in run.stdout.split("\n") if line.strip().startswith("trtbench import-trtexec")]
    assert printed and all(shlex.split(line)[:2] == ["trtbench", "import-trtexec"] for line in printed)


def test_a_hostile_profile_title_runs_nothing(cli, tmp_path):
    _profile(tmp_path / "profiles", 'Evil $(touch PWNED-title) `touch PWNED-t2` " ; touch PWNED-t3 ; "')
    make_onnx(tmp_path / "m.onnx")
    res = cli("build", "m.onnx", "--target", "evil", "--profiles", "profiles", "--emit-script", "s.sh")
    assert res.returncode == 0, res.stderr
    run = subprocess.run(["bash", str(tmp_path / "s.sh")], cwd=str(tmp_path), capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 2 and "$(touch PWNED-title)" in run.stderr  # shown as text, not run
    assert not list(tmp_path.glob("PWNED*"))
