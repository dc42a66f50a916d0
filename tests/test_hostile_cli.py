"""Bad command lines across subcommands: each ends in exit 2 and one ``trtbench: error:`` line.

The real `trtbench` runs in a subprocess (the `cli` fixture) on hostile input: a FIFO or a
directory where a file goes, non-UTF-8 and binary files, a corrupt MNIST .gz, JSON nested too
deep, wrong types in trtexec exports, an age that overflows a date, a run whose batch is 0, a model
with no inputs, values out of range (NaN, 0, 1e400), spec and profile files with impossible
figures, names with shell syntax or ``../``. None may print a traceback or hang (each run has a
timeout). Every subcommand has at least one case (a test checks it against the parser).
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest
from conftest import MNIST_DIR, REPO, TRTEXEC_FIXTURES, has_module, run_cli
from fake_runs import make_record

from trtbench.results.record import write_records

A100 = TRTEXEC_FIXTURES / "NVIDIA__TensorRT__trex-A100-fp32-resnet.onnx.engine.profile.json"
TIMES = TRTEXEC_FIXTURES / "NVIDIA__TensorRT__trex-RTX3090-fp32-resnet.onnx.engine.timing.json"
NOT_UTF8 = b"\xff\xfe\x00\x80 not UTF-8 \xc3\x28\n"


def _fifo(tmp: Path, name: str) -> Path:
    path = tmp / name
    os.mkfifo(path)
    return path


def _dir(tmp: Path, name: str) -> Path:
    path = tmp / name
    path.mkdir()
    return path


def _write(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


def _runs(tmp: Path, name: str, **changes: object) -> Path:
    record = make_record()
    path = tmp / name
    write_records([record], path)
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))
    return path


# (network, time scale): enough study networks at batch 1024 for the study model's four terms
FITTED = [("c1d20-f1n128", 0.2), ("c2d20-f1n128", 0.5), ("c1d20-f2n256", 0.4), ("c3d20-f1n1024", 1.3),
          ("c1d50-f1n512", 0.9), ("c2d30-f3n128", 0.8), ("c1d20-f1n1024", 1.0), ("c4d20-f1n128", 1.1)]


def _fit_runs(tmp: Path) -> Path:
    """A run file `trtbench fit` can fit (so that a bad option after the fit is reached)."""
    path = tmp / "runs.json"
    write_records([make_record(model=m, scale=k, seed=i) for i, (m, k) in enumerate(FITTED)], path)
    return path


def _fit_file(tmp: Path) -> Path:
    """A fit file from `trtbench fit --save`, for predict."""
    from trtbench.api.fit import fit

    path = tmp / "fit.json"
    fit(str(_fit_runs(tmp)), save=path)
    return path


def _corrupt_mnist(tmp: Path) -> Path:
    folder = tmp / "mnist"
    folder.mkdir()
    for source in sorted(MNIST_DIR.glob("*.gz")):
        shutil.copy(source, folder / source.name)
    labels = folder / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(labels.read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = bytes(64)  # a zeroed block inside the deflate stream
    labels.write_bytes(bytes(data))
    return folder


def _trtexec_with(tmp: Path, name: str, change: Callable[[list], object]) -> Path:
    data = json.loads(A100.read_text())
    change(data)
    return _write(tmp, name, json.dumps(data).encode())


def _no_input_model(tmp: Path) -> Path:
    import onnx
    from onnx import TensorProto, helper

    constant = helper.make_node("Constant", [], ["y"],
                                value=helper.make_tensor("v", TensorProto.FLOAT, [1, 2], [1.0, 2.0]))
    graph = helper.make_graph([constant], "g", [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path = tmp / "noinputs.onnx"
    onnx.save(model, str(path))
    return path


def _spec(tmp: Path, folder: str, text: str) -> Path:
    """A spec file `x.toml` in `folder` (a TRTBENCH_MODELS folder, or one to name on the command line)."""
    where = tmp / folder
    where.mkdir(exist_ok=True)
    path = where / "x.toml"
    path.write_text(text)
    return path


def _profile(tmp: Path, field: str, value: str) -> Path:
    """A --profiles folder holding the bundled tx1 profile with one [fields.FIELD] value replaced."""
    folder = tmp / "profiles"
    folder.mkdir()
    text = (REPO / "profiles" / "tx1.toml").read_text()
    head, sep, rest = text.partition(f"[fields.{field}]\nvalue = ")
    assert sep, field
    (folder / "tx1.toml").write_text(head + sep + value + rest[rest.index("\n"):])
    return folder


def _fifo_spec_folder(tmp: Path) -> Path:
    folder = tmp / "specs"
    folder.mkdir()
    os.mkfifo(folder / "x.toml")
    return folder


SMALL_ABLATE = ["ablate", "c1d20-f1n128", "--batch", "2", "--iterations", "1", "--loops", "1"]
EMIT = ["build", "c1d20-f1n128", "--target", "tx1", "--emit-script"]

# case id (starting with its subcommand) → a function of the temporary folder (the working
# folder of the run) giving the command line
CASES: Dict[str, Callable[[Path], List[str]]] = {
    "runs --since that overflows a date": lambda t: ["runs", "--since", "99999999999999d"],
    "profile --input FIFO": lambda t: ["profile", "c1d20-f1n128", "--backend", "onnxruntime", "--no-db",
                                       "--input", f"tiles={_fifo(t, 'x.npy')}"],
    "import-trtexec --log FIFO": lambda t: ["import-trtexec", "--log", str(_fifo(t, "run.log")), "--no-db"],
    "import-trtexec --profile directory": lambda t: ["import-trtexec", "--profile", str(_dir(t, "p.json")), "--no-db"],
    "import-trtexec --log binary": lambda t: ["import-trtexec", "--no-db", "--log",
                                              str(_write(t, "run.log", bytes(range(256)) * 64))],
    "import-trtexec --profile not UTF-8": lambda t: ["import-trtexec", "--no-db", "--profile",
                                                     str(_write(t, "p.json", NOT_UTF8))],
    "import-trtexec --profile nested too deep": lambda t: ["import-trtexec", "--no-db", "--profile",
                                                           str(_write(t, "p.json", b"[" * 100000 + b"]" * 100000))],
    "import-trtexec --profile count null": lambda t: [
        "import-trtexec", "--no-db", "--profile", str(_trtexec_with(t, "p.json", lambda d: d[0].update(count=None)))],
    "import-trtexec --profile averageMs a dict": lambda t: [
        "import-trtexec", "--no-db", "--profile",
        str(_trtexec_with(t, "p.json", lambda d: d[1].update(averageMs={"ms": 1})))],
    "import-trtexec --times computeMs text": lambda t: [
        "import-trtexec", "--no-db", "--times",
        str(_write(t, "t.json", TIMES.read_bytes().replace(b'"computeMs" : ', b'"computeMs" : "abc", "x": ', 1)))],
    "telemetry parse FIFO": lambda t: ["telemetry", "parse", str(_fifo(t, "tegrastats.log"))],
    "telemetry parse directory": lambda t: ["telemetry", "parse", str(_dir(t, "tegrastats.log"))],
    "sweep with a non-UTF-8 TOML": lambda t: ["sweep", "--dry-run",
                                              str(_write(t, "s.toml", b'kind = "sweep"\n' + NOT_UTF8))],
    "train with a non-UTF-8 TOML spec": lambda t: ["train", str(_write(t, "net.toml", b'name = "x"\n' + NOT_UTF8))],
    "compare a run of batch 0": lambda t: ["compare", str(_runs(t, "a.json", batch=0)), str(_runs(t, "b.json"))],
    # A's time per item over B's underflows to 0: the total speedup that the category flags divide by
    "compare runs whose total speedup is 0": lambda t: ["compare", str(_runs(t, "a.json", end_to_end_ms=1e-300)),
                                                        str(_runs(t, "b.json", end_to_end_ms=1e300))],
    "compare a run file nested too deep": lambda t: ["compare", str(_write(t, "a.json", b"[" * 100000 + b"]" * 100000)),
                                                     str(_runs(t, "b.json"))],
    "data check of a corrupt MNIST .gz": lambda t: ["data", "check", str(_corrupt_mnist(t))],
    "profile a model with no inputs": lambda t: ["profile", str(_no_input_model(t)), "--backend", "onnxruntime",
                                                 "--no-db"],
    "ablate --min-share NaN": lambda t: [*SMALL_ABLATE, "--min-share", "nan"],
    # the graph ran at the batch to find its shapes before any memory check: numpy's MemoryError
    "ablate --batch past the memory": lambda t: [*SMALL_ABLATE, "--batch", "1000000000"],
    "ablate a spec file that is not UTF-8": lambda t: [
        "ablate", str(_write(t, "net.toml", b'name = "x"\n' + NOT_UTF8)), "--batch", "2", "--iterations", "1"],
    # opening a FIFO to write the script blocks until a reader comes: it hung
    "build --emit-script FIFO": lambda t: [*EMIT, str(_fifo(t, "build.sh"))],
    "build --trt-version with shell syntax": lambda t: [*EMIT, "s.sh", "--trt-version", "8.2.1;touch PWNED"],
    "build --batch-range past any batch": lambda t: [*EMIT, "s.sh", "--batch-range", "1:2:100000000000"],
    "drift --series FIFO": lambda t: ["drift", "--series", str(_fifo(t, "series.json"))],
    "drift --min-slope NaN": lambda t: ["drift", "--series", str(_write(t, "s.json", b"[1, 2, 3, 8, 9, 9]")),
                                        "--min-slope=nan"],
    "profile --cache-dir a file": lambda t: ["profile", "c1d20-f1n128", "--backend", "onnxruntime", "--no-db",
                                             "--cache-dir", str(_write(t, "cache", b"a file"))],
    "models --json a FIFO": lambda t: ["models", "--json", str(_fifo(t, "models.json"))],
    "drift --history in a database that is not SQLite": lambda t: [
        "drift", "--history", "--model", "$(touch PWNED)", "--db", str(_write(t, "runs.db", bytes(range(256)) * 16))],
    "drift --threshold NaN": lambda t: ["drift", "--series", str(_write(t, "s.json", b"[1, 2, 3, 8, 9, 9]")),
                                        "--threshold", "nan"],
    "export a spec file that is a FIFO": lambda t: ["export", str(_fifo(t, "net.toml")), "--no-verify"],
    "export --dynamic-batch of a FIFO": lambda t: ["export", str(_fifo(t, "m.onnx")), "--dynamic-batch"],
    "export a checkpoint that is a directory": lambda t: ["export", str(_dir(t, "m.pt"))],
    "export --data-dir a binary file": lambda t: ["export", "c1d20-f1n128", "--data-dir",
                                                  str(_write(t, "mnist", bytes(range(256))))],
    # an empty --save was a ValueError from pathlib after the fit
    "fit --save empty": lambda t: ["fit", "--runs", str(_fit_runs(t)), "--save", ""],
    "fit --batch 0": lambda t: ["fit", "--runs", str(_runs(t, "a.json")), "--batch", "0"],
    "fit --runs not UTF-8": lambda t: ["fit", "--runs", str(_write(t, "a.json", NOT_UTF8))],
    # a conv stride of 0 was a ZeroDivisionError while listing
    "models with a spec of stride 0": lambda t: ["models"],
    "models with a spec file that is a FIFO": lambda t: ["models", "--json", "-"],
    # values near 1e308 overflowed matplotlib's tick code (a ValueError from numpy)
    "plot drift of a series of 1e308": lambda t: [
        "plot", "drift", "--series", str(_write(t, "s.json", b"[1e308, 1e308, -1e308, 5]")), "--out", "p"],
    "plot --out a file": lambda t: ["plot", "drift", "--series", str(_write(t, "s.json", b"[1, 2, 3]")),
                                    "--out", str(_write(t, "plots", b"x"))],
    "predict --batch past any batch": lambda t: ["predict", "c1d20-f1n128", "--target", "cpu", "--fit",
                                                 str(_fit_file(t)), "--batch", "100000000000000000000"],
    # an unknown precision was scaled as fp32 without a word
    "predict --precision unknown": lambda t: ["predict", "c1d20-f1n128", "--target", "tx1", "--fit",
                                              str(_fit_file(t)), "--measured-roofs", "0.2,20", "--precision", "int3"],
    # 1e400 TFLOP/s reads as infinity: every device came out bandwidth-bound
    "predict --measured-roofs 1e400": lambda t: ["predict", "c1d20-f1n128", "--target", "tx1", "--fit",
                                                 str(_fit_file(t)), "--measured-roofs", "1e400,20"],
    "predict an ONNX file that is a FIFO": lambda t: ["predict", str(_fifo(t, "m.onnx")), "--target", "tx1"],
    "show a run whose time is NaN": lambda t: ["show", str(_runs(t, "a.json", end_to_end_ms=float("nan")))],
    "show a database that is random bytes": lambda t: [
        "show", "abc", "--db", str(_write(t, "runs.db", b"SQLite format 3\x00" + bytes(range(256)) * 8))],
    "show a run id with ../": lambda t: ["show", "../../../../etc/passwd"],
    "study --dry-run --skip an unknown step": lambda t: ["study", "--out", "s", "--dry-run", "--skip", "sweep,bogus"],
    # the dry run printed `drift --batch 0`, which would fail hours into the study
    "study --dry-run --drift-batch 0": lambda t: ["study", "--out", "s", "--dry-run", "--drift-batch", "0"],
    "study --out a file": lambda t: ["study", "--out", str(_write(t, "s", b"x")), "--dry-run"],
    "targets --profiles with a negative peak": lambda t: [
        "targets", "--profiles", str(_profile(t, "peak_fp32_tflops", "-5")), "show", "tx1"],
    "targets --profiles with a trt_default of shell syntax": lambda t: [
        "targets", "--profiles", str(_profile(t, "trt_default", '"8.2.1;touch PWNED"'))],
    "targets --profiles FIFO": lambda t: ["targets", "--profiles", str(_fifo(t, "profiles"))],
}

# environment variables of a case, from the same temporary folder
ENVIRONMENTS: Dict[str, Callable[[Path], Dict[str, str]]] = {
    "models with a spec of stride 0": lambda t: {
        "TRTBENCH_MODELS": str(_spec(t, "specs", 'name = "s0"\n[[conv]]\nout = 6\nstride = 0\n').parent)},
    "models with a spec file that is a FIFO": lambda t: {"TRTBENCH_MODELS": str(_fifo_spec_folder(t))},
}

NEEDS = {
    **{name: hasattr(os, "mkfifo") for name in CASES if "FIFO" in name},
    "import-trtexec --profile count null": A100.is_file(),
    "import-trtexec --profile averageMs a dict": A100.is_file(),
    "import-trtexec --times computeMs text": TIMES.is_file(),
    "data check of a corrupt MNIST .gz": (MNIST_DIR / "t10k-labels-idx1-ubyte.gz").is_file(),
    "profile a model with no inputs": has_module("onnx") and has_module("onnxruntime"),
    "import-trtexec --log FIFO": hasattr(os, "mkfifo"),
    "telemetry parse FIFO": hasattr(os, "mkfifo"),
    "models --json a FIFO": hasattr(os, "mkfifo"),
}


# Hostile but answerable: the command works (exit 0) and prints no traceback.
ANSWERED = {"compare runs whose total speedup is 0"}

# Fixes outside the parsers (see the marks' reasons); each mark goes when its fix lands.
PENDING: Dict[str, Any] = {}  # every case passes now


def _case(name: str) -> object:
    marks = [pytest.mark.skipif(not NEEDS.get(name, True), reason="needs a fixture or package")]
    return pytest.param(name, marks=marks + ([PENDING[name]] if name in PENDING else []))


@pytest.mark.parametrize("case", [_case(name) for name in CASES])
def test_a_bad_command_line_ends_in_one_error_line(case: str, cli, tmp_path: Path) -> None:
    args = CASES[case](tmp_path)
    assert args[0] == case.split()[0], "a case id starts with its subcommand"
    env = ENVIRONMENTS[case](tmp_path) if case in ENVIRONMENTS else None
    result = cli("-q", *args, env=env, timeout=30)  # a FIFO that is opened would block until the timeout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr, result.stderr
    if case in ANSWERED:
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert len(lines) == 1 and lines[0].startswith("trtbench: error: "), result.stderr


def test_every_subcommand_has_a_case():
    """A new subcommand gets its hostile case here too: the list comes from the real parser."""
    import argparse

    from trtbench.cli.app import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    covered = {name.split()[0] for name in CASES}
    assert set(sub.choices) - covered == set(), "subcommands without a case in CASES"
    assert covered - set(sub.choices) == set(), "case ids that start with no subcommand"


def test_a_spec_named_like_a_path_is_exported_into_the_working_folder(tmp_path: Path):
    """The default output is NAME.onnx: a spec named ../../escape was written two folders up."""
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    spec = _spec(work, "specs", 'name = "../../escape"\nfc = [12]\n')
    result = run_cli(["-q", "export", str(spec), "--no-verify"], cwd=work, timeout=60)
    assert result.returncode == 0, result.stderr
    assert [p.relative_to(tmp_path) for p in tmp_path.rglob("*.onnx")] == [Path("a/b/escape.onnx")]


def test_bounds_on_the_work_asked_for_and_names_the_file_system_refuses(cli):
    """--loops 1000000000 would measure for years; a run name longer than a file name can be is
    refused by the file system: each is one line, at once."""
    for argv in (["drift", "c1d20-f1n128", "--loops", "1000000000", "--no-db"],
                 ["profile", "c1d20-f1n128", "--iterations", "100000", "--loops", "1000", "--no-db"],
                 ["show", "x" * 5000]):
        result = cli(*argv, timeout=60)
        assert result.returncode == 2 and result.stderr.count("trtbench: error:") == 1, result.stderr[-300:]
        assert "Traceback" not in result.stderr


def test_a_spec_named_like_a_path_trains_into_the_working_folder():
    from trtbench.api.train import default_checkpoint

    path = default_checkpoint("../../escaped")
    assert path.parent == Path(".") and ".." not in path.name and path.suffix == ".pt"
