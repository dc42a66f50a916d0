"""Hostile files: mutations of the real trtexec, Jetson, TOML, MNIST and run files.

The contract (docs/architecture.md): a parser given any bytes returns a result or raises one
`TrtbenchError`, whose text is one line naming the file. Anything else escaping (TypeError,
RecursionError, UnicodeDecodeError, zlib.error, ...) is a bug; so is a hang.

Every case starts from a real file (``../shared/fixtures``, the bundled TOML files, the real MNIST,
run records as trtbench writes them) and mutates it: byte flips, truncation, a slice deleted or
duplicated, non-UTF-8 bytes, a binary chunk, numbers replaced by hostile tokens, lines dropped or
repeated, a JSON/TOML value replaced by one of another type (parse, mutate, dump), a key dropped,
deep nesting. The mutators are plain functions of (bytes, random.Random), so a failure is
reproduced from the file, the mutator and the random seed hypothesis prints.
"""
from __future__ import annotations

import json
import math
import random
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import pytest
from conftest import JETSON_FIXTURES, MNIST_DIR, REPO, TRTEXEC_FIXTURES
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from test_trtexec_import import _role

from trtbench.errors import TrtbenchError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

Mutator = Callable[[bytes, random.Random], bytes]

# ---- byte mutations -----------------------------------------------------------------------------

BAD_BYTES = (b"\xff", b"\xfe\xff", b"\x80", b"\xc3(", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x00",
             b"\xe2\x82", b"\x1f\x8b\x08\x00", b"\xc0\xaf")


def _span(raw: bytes, rng: random.Random) -> Tuple[int, int]:
    i = rng.randrange(len(raw) + 1)
    j = min(len(raw), i + rng.choice((1, 8, 64, 1024, len(raw))))
    return i, j


def flip(raw: bytes, rng: random.Random) -> bytes:
    """1 to 16 bytes set to random values."""
    data = bytearray(raw)
    for _ in range(rng.randint(1, 16)):
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def truncate(raw: bytes, rng: random.Random) -> bytes:
    return raw[:rng.randrange(len(raw) + 1)]


def delete_slice(raw: bytes, rng: random.Random) -> bytes:
    i, j = _span(raw, rng)
    return raw[:i] + raw[j:]


def duplicate_slice(raw: bytes, rng: random.Random) -> bytes:
    i, j = _span(raw, rng)
    k = rng.randrange(len(raw) + 1)
    return raw[:k] + raw[i:j] * rng.choice((1, 2, 50)) + raw[k:]


def non_utf8(raw: bytes, rng: random.Random) -> bytes:
    """Bytes no UTF-8 decoder accepts (and a NUL, and a gzip header), at 1 to 4 places."""
    data = raw
    for _ in range(rng.randint(1, 4)):
        k = rng.randrange(len(data) + 1)
        data = data[:k] + rng.choice(BAD_BYTES) + data[k:]
    return data


def binary_chunk(raw: bytes, rng: random.Random) -> bytes:
    """A chunk of random bytes in place of a slice, or of the whole file."""
    chunk = bytes(rng.randrange(256) for _ in range(rng.choice((16, 512, 4096))))
    if rng.random() < 0.3:
        return chunk
    i, j = _span(raw, rng)
    return raw[:i] + chunk + raw[j:]


BYTE_MUTATORS: Tuple[Mutator, ...] = (flip, truncate, delete_slice, duplicate_slice, non_utf8, binary_chunk)

# ---- text mutations -----------------------------------------------------------------------------

HOSTILE_TOKENS = ("", "nan", "-nan", "inf", "-inf", "1e999", "-1", "0", "0.0", "-0", "abc", "1" * 5000,
                  "18446744073709551616", "1.5.5", "%", "@", "x", "\ufffd", "\u0663\u0660", "[", "]", "{",
                  "}", '"', ",", ":", "1e-320", "99999999999999999999999999.5")
_NUMBER = re.compile(rb"\d+(?:\.\d+)?")


def retoken(raw: bytes, rng: random.Random) -> bytes:
    """1 to 8 numbers replaced by hostile tokens (nan, a 5000-digit number, a bracket, nothing...)."""
    found = list(_NUMBER.finditer(raw))
    if not found:
        return flip(raw, rng)
    picked = sorted(rng.sample(found, min(len(found), rng.randint(1, 8))), key=lambda m: m.start(), reverse=True)
    data = raw
    for m in picked:
        data = data[:m.start()] + rng.choice(HOSTILE_TOKENS).encode() + data[m.end():]
    return data


def shuffle_lines(raw: bytes, rng: random.Random) -> bytes:
    """A line deleted, repeated (up to 500 times), blanked, or two lines swapped."""
    lines = raw.split(b"\n")
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    op = rng.choice(("delete", "repeat", "blank", "swap"))
    if op == "delete":
        del lines[i]
    elif op == "repeat":
        lines[i:i] = [lines[i]] * rng.choice((1, 20, 500))
    elif op == "blank":
        lines[i] = b""
    else:
        lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


TEXT_MUTATORS: Tuple[Mutator, ...] = BYTE_MUTATORS + (retoken, shuffle_lines)

# ---- JSON mutations -----------------------------------------------------------------------------

# JSON text that replaces a value: every type, numbers JSON allows but Python dislikes, deep nests
JSON_VALUES = ("null", "true", "false", "0", "-1", "0.0", "-0.0", "1e-320", "1e999", "-1e999", "NaN",
               "Infinity", "18446744073709551616", "1" + "0" * 5000, '""', '"abc"', '"1.5"', '"nan"',
               '"\\ud800"', '"\\u0000\\n"', "[]", '[1, "a", null]', "[[]]", "{}", '{"name": 1}',
               '{"": null}', "[" * 3000 + "]" * 3000, '{"a":' * 3000 + "1" + "}" * 3000)
_SENTINEL = "\u0000trtbench-hostile\u0000"
_SENTINEL_JSON = re.compile(re.escape(json.dumps(_SENTINEL)))


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _nodes(doc: Any, path: Tuple[Any, ...] = ()) -> List[Tuple[Any, ...]]:
    out = [path]
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for key, value in items:
        out += _nodes(value, path + (key,))
    return out


def _replace(doc: Any, path: Tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return doc


def json_retype(raw: bytes, rng: random.Random) -> bytes:
    """1 to 3 values (anywhere, the root too) replaced by a value of another type."""
    doc = _json(raw)
    if doc is None:
        return flip(raw, rng)
    for _ in range(rng.randint(1, 3)):
        nodes = _nodes(doc)
        doc = _replace(doc, rng.choice(nodes), _SENTINEL)
    text = _SENTINEL_JSON.sub(lambda _: rng.choice(JSON_VALUES), json.dumps(doc))
    return text.encode()


def json_drop_key(raw: bytes, rng: random.Random) -> bytes:
    doc = _json(raw)
    objects = [p for p in _nodes(doc) if isinstance(_get(doc, p), dict) and _get(doc, p)] if doc is not None else []
    if not objects:
        return truncate(raw, rng)
    target = _get(doc, rng.choice(objects))
    del target[rng.choice(sorted(target))]
    return json.dumps(doc).encode()


def _get(doc: Any, path: Tuple[Any, ...]) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def deep_nesting(raw: bytes, rng: random.Random) -> bytes:
    """Arrays or objects nested 100 to 100,000 deep: the whole file, or spliced in."""
    depth = rng.choice((100, 1000, 3000, 100000))
    nest = ("[" * depth + "]" * depth) if rng.random() < 0.5 else ('{"a":' * depth + "1" + "}" * depth)
    if rng.random() < 0.3:
        return nest.encode()
    k = rng.randrange(len(raw) + 1)
    return raw[:k] + nest.encode() + raw[k:]


JSON_MUTATORS: Tuple[Mutator, ...] = BYTE_MUTATORS + (retoken, json_retype, json_retype, json_drop_key, deep_nesting)

# ---- TOML mutations -----------------------------------------------------------------------------

TOML_VALUES: Tuple[Any, ...] = ("", "abc", "1.5", "\u00e9", 0, -1, 2 ** 63, 10 ** 40, 1.5, 1e308, math.nan,
                                math.inf, -math.inf, True, [], [1, "a"], [[]], {}, {"a": 1}, {"name": [1]})


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(str(value))  # a TOML basic string (\uXXXX escapes)


def toml_retype(raw: bytes, rng: random.Random) -> bytes:
    """1 to 3 values replaced by a value of another type (or a nest 3000 deep), written back as TOML."""
    try:
        doc = tomllib.loads(raw.decode())
    except (ValueError, UnicodeDecodeError):
        return flip(raw, rng)
    deep = rng.random() < 0.1
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(_nodes(doc)[1:] or [("x",)])
        _replace(doc, path, "[" * 3000 + "]" * 3000 if deep else rng.choice(TOML_VALUES))
    text = "\n".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in doc.items())
    return text.replace(json.dumps("[" * 3000 + "]" * 3000), "[" * 3000 + "]" * 3000).encode()


TOML_MUTATORS: Tuple[Mutator, ...] = BYTE_MUTATORS + (retoken, shuffle_lines, toml_retype, toml_retype)

# ---- the parsers and their seed files -----------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    """A real file to mutate: its name (kept: some readers check it) and how to get its bytes."""

    name: str
    load: Callable[[], bytes]


@dataclass(frozen=True)
class Target:
    name: str
    call: Callable[[Path], Any]  # parses the file at the path (and uses the result as its callers do)
    seeds: Sequence[Seed]
    mutators: Sequence[Mutator]
    names_file: bool = True  # its error messages name the file


def _files(folder: Path, pattern: str, keep: Callable[[Path], bool] = lambda p: True) -> List[Seed]:
    return [Seed(p.name, p.read_bytes) for p in sorted(folder.glob(pattern)) if keep(p)] if folder.is_dir() else []


F = TRTEXEC_FIXTURES
A100 = "NVIDIA__TensorRT__trex-A100-fp32-resnet.onnx.engine"
MOBILENET = "NVIDIA__TensorRT__trex-tests-mobilenet.qat.onnx.engine"
PROFILES = _files(F, "*profile.json")
LAYER_INFOS = _files(F, "*.json", lambda p: "graph" in p.name or "exportLayerInfo" in p.name
                     or "layer_names_only" in p.name)
TIMES = _files(F, "*timing.json")
LOGS = _files(F, "*.log")
TREX_METADATA = _files(F, "*profile.metadata.json")
TEGRASTATS = _files(JETSON_FIXTURES / "tegrastats", "*.txt")
JETSON_CAPTURES = TEGRASTATS + _files(JETSON_FIXTURES / "jetson_clocks", "*.txt") + \
    _files(JETSON_FIXTURES / "nvpmodel", "*.txt")
SWEEPS = _files(REPO / "models", "*.toml", lambda p: b'kind = "sweep"' in p.read_bytes())
SPECS = _files(REPO / "models", "*.toml", lambda p: b'kind = "sweep"' not in p.read_bytes())
TARGETS_TOML = _files(REPO / "profiles", "*.toml")
MNIST = _files(MNIST_DIR, "t10k-labels-idx1-ubyte.gz")
# Which real files go with a mutated one when the importer reads it (its partners, as the CLI takes them)
PARTNERS: Dict[str, Dict[str, str]] = {
    f"{A100}.profile.json": {"layers": f"{A100}.graph.json", "log": f"{A100}.profile.metadata.json"},
    f"{A100}.graph.json": {"profile": f"{A100}.profile.json"},
    f"{A100}.profile.metadata.json": {"profile": f"{A100}.profile.json"},
    f"{MOBILENET}.graph.json": {"profile": f"{MOBILENET}.profile.json"},
    "NVIDIA__TensorRT__trex-RTX3090-fp32-resnet.onnx.engine.timing.json": {"profile": f"{A100}.profile.json"},
}


def _import(path: Path) -> Any:
    """The importer with the mutated file in its role and its real partners; the record as it is stored."""
    from trtbench.backends.trtexec.importer import import_outputs

    partners = PARTNERS.get(path.name, {"profile": f"{A100}.profile.json"} if _role(path.name) == "layers" else {})
    files: Dict[str, Optional[Path]] = {role: F / name for role, name in partners.items()}
    files[_role(path.name)] = path
    record = import_outputs(files.get("profile"), files.get("layers"), files.get("times"), files.get("log"))
    return record.to_dict()


@lru_cache(maxsize=None)
def _run_files() -> Dict[str, bytes]:
    """Run files as trtbench writes them: a profile run, and a run imported from trtexec files."""
    sys.path.insert(0, str(Path(__file__).parent))
    from fake_runs import make_record

    from trtbench import jsonio
    from trtbench.backends.trtexec.importer import import_outputs
    from trtbench.results.record import dumps, to_trtexec_profile

    out = {"profile-run.json": dumps([make_record()]).encode(),
           "two-runs.json": dumps([make_record(batch=16), make_record(batch=64, seed=2)]).encode(),
           "exported.profile.json": jsonio.dumps(to_trtexec_profile(make_record())).encode()}
    if (F / f"{A100}.profile.json").is_file():
        imported = import_outputs(F / f"{A100}.profile.json", F / f"{A100}.graph.json", None,
                                  F / f"{A100}.profile.metadata.json")
        out["imported-run.json"] = dumps([imported]).encode()
    return out


RUN_FILES = [Seed(name, lambda name=name: _run_files()[name])
             for name in ("profile-run.json", "two-runs.json", "imported-run.json")]
# trtbench's own --export-profile: trtexec's shape plus a "trtbench" object the importer reads back
EXPORTED = [Seed("exported.profile.json", lambda: _run_files()["exported.profile.json"])]


def _parse_profile(path: Path) -> Any:
    from trtbench.backends.trtexec.parsers import parse_profile

    profile = parse_profile(path)
    return profile.total_ms, profile.average_total_ms, profile.count


def _parse_layer_info(path: Path) -> Any:
    from trtbench.backends.trtexec.parsers import parse_layer_info

    info = parse_layer_info(path)
    return info.names, info.by_name(), info.batch()


def _parse_times(path: Path) -> Any:
    from trtbench.backends.trtexec.parsers import parse_times

    return parse_times(path)


def _parse_log(path: Path) -> Any:
    from trtbench.backends.trtexec.parsers import parse_log

    log = parse_log(path)
    return log.batch, str(log.version)


def _tegrastats(path: Path) -> Any:
    from trtbench.device import tegrastats
    from trtbench.measure.telemetry import checks, summarise

    samples = tegrastats.parse_file(path)
    return [s.to_dict() for s in samples], summarise(samples), checks(samples, source="tegrastats")


def _telemetry(path: Path) -> Any:
    from trtbench.api.telemetry import read_telemetry

    return read_telemetry(path)


def _sweep(path: Path) -> Any:
    from trtbench.sweeps.file import load_sweep

    return load_sweep(path)


def _spec(path: Path) -> Any:
    from trtbench.models.netspec import load_spec_file

    return load_spec_file(path)


def _target(path: Path) -> Any:
    from trtbench.device.targets import load_target_file

    return load_target_file(path)


def _run_file(path: Path) -> Any:
    from trtbench.results.record import read_records

    return read_records(path)


def _mnist(path: Path) -> Any:
    from trtbench.models.mnist import read_idx

    return read_idx(path)


TARGETS = [
    Target("parse_profile", _parse_profile, PROFILES + EXPORTED, JSON_MUTATORS),
    Target("parse_layer_info", _parse_layer_info, LAYER_INFOS, JSON_MUTATORS),
    Target("parse_times", _parse_times, TIMES, JSON_MUTATORS),
    Target("parse_log", _parse_log, LOGS, TEXT_MUTATORS),
    Target("trex_metadata", _parse_log, TREX_METADATA, JSON_MUTATORS),
    Target("import_trtexec", _import, PROFILES + EXPORTED + EXPORTED + LAYER_INFOS + TIMES + TREX_METADATA + LOGS,
           JSON_MUTATORS + (shuffle_lines,), names_file=False),  # its errors may be about the files together
    Target("tegrastats", _tegrastats, TEGRASTATS, TEXT_MUTATORS),
    Target("telemetry_parse", _telemetry, JETSON_CAPTURES, TEXT_MUTATORS),
    # errors about the content name the spec or target rather than the file
    Target("sweep_toml", _sweep, SWEEPS, TOML_MUTATORS, names_file=False),
    Target("spec_toml", _spec, SPECS, TOML_MUTATORS, names_file=False),
    Target("target_toml", _target, TARGETS_TOML, TOML_MUTATORS, names_file=False),
    Target("run_file", _run_file, RUN_FILES, JSON_MUTATORS),
    Target("mnist_idx", _mnist, MNIST, BYTE_MUTATORS),
]


def check_contract(target: Target, path: Path) -> Optional[TrtbenchError]:
    """Run the target on the file: a result, or a one-line TrtbenchError naming the file (returned)."""
    try:
        target.call(path)
    except TrtbenchError as exc:
        text = str(exc)
        assert "\n" not in text and "\r" not in text, f"a TrtbenchError of several lines: {text!r}"
        if target.names_file:
            assert path.name in text, f"the error does not name the file: {text!r}"
        return exc
    return None


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


# Fixes outside the readers of files (see the reasons); each mark goes when its fix lands.
PENDING: Dict[str, str] = {}  # every reader keeps the contract now
PENDING_FIFO: Dict[str, str] = {}


def _param(target: Target, pending: Dict[str, str]) -> Any:
    marks = [pytest.mark.skipif(not target.seeds, reason=f"no real files for {target.name}")]
    if target.name in pending:
        marks.append(pytest.mark.xfail(reason=pending[target.name], strict=False, run=pending is not PENDING_FIFO))
    return pytest.param(target, id=target.name, marks=marks)


@pytest.mark.parametrize("target", [_param(t, PENDING) for t in TARGETS])
@settings(max_examples=100, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_a_mutated_file_gives_a_result_or_one_trtbench_error(target: Target, data: Any, scratch: Path) -> None:
    seed = data.draw(st.sampled_from(list(target.seeds)), label="seed")
    mutator = data.draw(st.sampled_from(list(target.mutators)), label="mutator")
    rng = random.Random(data.draw(st.integers(0, 2 ** 32 - 1), label="random seed"))
    mutated = mutator(seed.load(), rng)
    note(f"{mutator.__name__}({seed.name}): {len(mutated)} bytes, starting {mutated[:120]!r}")
    path = scratch / seed.name
    path.write_bytes(mutated)
    check_contract(target, path)


# ---- files that are not regular files, and ones too large ---------------------------------------

NOT_FILES = [t for t in TARGETS if t.name not in ("import_trtexec",)]


@pytest.mark.parametrize("target", [_param(t, PENDING_FIFO) for t in NOT_FILES])
def test_a_fifo_or_a_directory_is_refused_without_hanging(target: Target, tmp_path: Path) -> None:
    import os
    import threading

    name = target.seeds[0].name
    folder = tmp_path / "dir"
    (folder / name).mkdir(parents=True)
    assert check_contract(target, folder / name) is not None
    if not hasattr(os, "mkfifo"):
        return
    fifo_dir = tmp_path / "fifo"
    fifo_dir.mkdir()
    os.mkfifo(fifo_dir / name)
    outcome: List[Any] = []
    worker = threading.Thread(target=lambda: outcome.append(check_contract(target, fifo_dir / name)), daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():  # let the reader finish so the thread ends, then fail
        with open(fifo_dir / name, "wb"):
            pass
        pytest.fail(f"{target.name} hangs on a FIFO")
    assert outcome and isinstance(outcome[0], TrtbenchError)
    assert "not a regular file" in str(outcome[0]) or "FIFO" in str(outcome[0])


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    from trtbench import jsonio

    path = tmp_path / "big.log"
    with open(path, "wb") as handle:
        handle.truncate(jsonio.MAX_FILE_BYTES + 1)  # sparse: no disk used
    with pytest.raises(TrtbenchError, match="big.log.*MiB"):
        jsonio.read_file_bytes(path, "log")


# ---- lines that made the regular expressions backtrack ------------------------------------------

LONG_LINES = {
    "digits": '{ "name" : "x", "timeMs" : ' + "1" * 100000,  # took 190 s (two ways to split digits)
    "names": '{ "name" : "x", "timeMs" : 1 , ' * 5000,  # took 6 s (a match tried at every "name")
    "quotes": '{ "name" : "' + '", "a", ' * 20000 + '"timeMs" : 1, "averageMs" : 1, "percentage" : 1 }',
    "stats": "[I] Latency: " + "min = 1 ms, " * 20000,
    "shapes": "[I] Input inference shapes: " + "x=1x" * 30000,
}


@pytest.mark.parametrize("kind", sorted(LONG_LINES))
def test_a_long_corrupt_line_is_read_in_linear_time(kind: str, tmp_path: Path) -> None:
    import time

    path = tmp_path / "long.log"
    path.write_text("[I] === Performance summary ===\n" + LONG_LINES[kind] + "\n")
    for target in TARGETS[:5]:  # the trtexec parsers
        started = time.perf_counter()
        check_contract(target, path)
        assert time.perf_counter() - started < 2.0, f"{target.name} backtracks on {kind}"
