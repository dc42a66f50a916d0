"""`trtbench build --emit-script`: a shell script that builds and profiles the engine on the device.

Engines only run on the GPU and TensorRT release that built them, so a TX1's engine must be built
on a TX1. The script carries the trtexec command lines for the target's TensorRT release (from
`trtbench.backends.trtexec.flags`); on the device it checks the device-tree model (Jetson) or nvidia-smi's
GPU name (desktop) and trtexec's version, builds, profiles at the chosen batches with
--exportProfile/--exportLayerInfo/--exportTimes, records the clocks, and prints the
``trtbench import-trtexec`` line to run on the desktop. It needs only the ONNX file beside it.
"""
from __future__ import annotations

import shlex
from datetime import datetime, timezone
from pathlib import Path
from typing import List, Optional, Sequence

from trtbench import __version__
from trtbench.backends.trtexec.flags import ProfileShapes, build_args, format_command, profile_args, version_notes
from trtbench.device.targets import Target
from trtbench.device.tensorrt_install import TrtVersion
from trtbench.errors import TrtbenchError
from trtbench.filenames import safe_name

TRTEXEC_VAR = '"$TRTEXEC"'


def _trtexec_line(args: Sequence[str]) -> str:
    """A formatted command whose binary is the script's $TRTEXEC."""
    return TRTEXEC_VAR + " " + format_command(list(args)[1:])


def _comment(text: object) -> str:
    """Text safe inside a ``#`` comment: one line, printable characters only (a newline in a
    file name or a profile's title would end the comment and run the rest)."""
    return "".join(c if c.isprintable() else "?" for c in str(text))


def _ere(patterns: Sequence[str]) -> str:
    """The profile's detection regexes as one grep -E alternation."""
    return "|".join(f"({p})" for p in patterns)


def script_name(target: Target, onnx: Path) -> str:
    return f"trtbench-{safe_name(target.name)}-{safe_name(onnx.stem)}.sh"


def emit_script(target: Target, version: TrtVersion, onnx: Path, *, shapes: ProfileShapes, precision: str,
                batch_range: Sequence[int], workspace_mib: Optional[int], dla_core: Optional[int] = None,
                profile_batches: Sequence[int] = (), script_file: str = "") -> str:
    """The script's text. `onnx` is referred to by its file name only (it sits beside the script).
    `shapes`: min/opt/max of each dynamic input (`engine.profile_shapes`); none for a static model,
    which is built and profiled at its own batch without shape flags."""
    model = onnx.name
    stem, name = safe_name(onnx.stem), safe_name(target.name)  # they become file names on the device
    engine = f"{stem}.{name}.{precision}.plan"
    out = f"trtbench-{name}-{stem}"
    lo, opt, hi = (int(b) for b in batch_range)
    build = build_args(version, model, engine, shapes=shapes, precision=precision, workspace_mib=workspace_mib,
                       dla_core=dla_core, timing_cache=f"{out}/timing.cache", layer_info=f"{out}/layers.json",
                       trtexec="trtexec")
    batches = list(profile_batches) or [opt]
    for batch in batches:
        if not lo <= int(batch) <= hi:
            raise TrtbenchError(f"profile batch {batch} is outside the engine's batch range {lo}:{opt}:{hi}",
                                hint="choose batches inside --batch-range")
    lines: List[str] = [
        "#!/usr/bin/env bash",
        f"# Written by trtbench {__version__} on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.",
        f"# Builds and profiles {_comment(model)} for {_comment(target.title)} ({_comment(target.sm)}) "
        f"with TensorRT {version}.",
        "# TensorRT engines only run on the GPU and TensorRT release that built them, so this runs",
        "# on the device. Copy this script and the ONNX file into one folder there, then:",
        f"#     bash {_comment(shlex.quote(script_file or script_name(target, onnx)))}",
        "# Set TRTEXEC=/path/to/trtexec to choose the binary; TRTBENCH_FORCE=1 skips the checks.",
        *[f"# Note: {n}" for n in version_notes(version)],
        "set -euo pipefail",
        'cd "$(dirname "$0")"',
        f"MODEL={shlex.quote(model)}",
        f"ENGINE={shlex.quote(engine)}",
        f"OUT={shlex.quote(out)}",
        f"TITLE={shlex.quote(target.title)}",
        'FORCE="${TRTBENCH_FORCE:-0}"',
        "",
        "fail() { echo \"trtbench script: $*\" >&2; exit 2; }",
        "check() { if [ \"$FORCE\" = 1 ]; then echo \"trtbench script: warning: $*\" >&2; else fail \"$* "
        "(TRTBENCH_FORCE=1 to go on)\"; fi; }",
        "",
        '[ -f "$MODEL" ] || fail "$MODEL is not beside this script"',
    ]
    lines += _device_check(target)
    lines += [
        "",
        "# trtexec: $TRTEXEC, then PATH, then JetPack's location",
        'TRTEXEC="${TRTEXEC:-$(command -v trtexec || echo /usr/src/tensorrt/bin/trtexec)}"',
        '[ -x "$TRTEXEC" ] || fail "trtexec not found (set TRTEXEC=/path/to/trtexec)"',
        "code=$(\"$TRTEXEC\" --help 2>&1 | grep -o 'TensorRT v[0-9]*' | head -n 1 | tr -dc '0-9' || true)",
        'if [ -n "$code" ]; then',
        '  if [ "$code" -ge 10000 ]; then major=$((code / 10000)); minor=$((code / 100 % 100));',
        '  else major=$((code / 1000)); minor=$((code / 100 % 10)); fi',
        f'  if [ "$major.$minor" != "{version.major}.{version.minor}" ]; then',
        f'    check "trtexec is TensorRT $major.$minor, this script was written for {version.major}.{version.minor} '
        f'(flags differ between releases): rerun trtbench build ... --emit-script FILE --trt-version $major.$minor"',
        "  fi",
        "else",
        '  echo "trtbench script: warning: cannot read the TensorRT version from $TRTEXEC --help" >&2',
        "fi",
        "",
        'mkdir -p "$OUT"',
        "{ date -u; uname -a; cat /etc/nv_tegra_release 2>/dev/null || true; nvpmodel -q 2>/dev/null || true;",
        "  sudo -n jetson_clocks --show 2>/dev/null || true; nvidia-smi 2>/dev/null || true; } > \"$OUT/device.txt\" 2>&1",
        "",
        'echo "building $ENGINE (log: $OUT/build.log)"',
        _trtexec_line(build) + ' 2>&1 | tee "$OUT/build.log"',
    ]
    imports = []
    for batch in batches:
        run_dir = f"{out}/b{int(batch)}"
        at_batch = {name: (int(batch),) + tuple(dims[1][1:]) for name, dims in shapes.items()}
        args = profile_args(version, engine, run_dir, shapes=at_batch, dla_core=dla_core, trtexec="trtexec")
        lines += ["", f'echo "profiling batch {int(batch)} (log: $OUT/b{int(batch)}/run.log)"',
                  f"mkdir -p {shlex.quote(run_dir)}",
                  _trtexec_line(args) + f" 2>&1 | tee {shlex.quote(run_dir + '/run.log')}"]
        layers = ["--layers", f"{run_dir}/layers.json"] if version.at_least(8, 2) else []
        imports.append(format_command(["trtbench", "import-trtexec", "--profile", f"{run_dir}/profile.json", *layers,
                                       "--times", f"{run_dir}/times.json", "--log", f"{run_dir}/run.log",
                                       "--batch", str(int(batch)), "--target", target.name]))
    lines += [
        "",
        'echo',
        'echo "done. Copy the folder $OUT back to the desktop (e.g. scp -r $(hostname):$PWD/$OUT .) and run:"',
        *[f"echo {shlex.quote('  ' + line)}" for line in imports],
    ]
    return "\n".join(lines) + "\n"


def _device_check(target: Target) -> List[str]:
    """Lines that stop the script on the wrong device."""
    detect = target.detect
    if target.kind == "jetson":
        return [
            "",
            f"# the right device? ({_comment(target.title)}: /proc/device-tree/model)",
            "model=$(tr -d '\\0' < /proc/device-tree/model 2>/dev/null || true)",
            f"if ! printf '%s' \"$model\" | grep -Eqi {shlex.quote(_ere(detect.get('model', [])))}; then",
            "  check \"this is not the $TITLE (device-tree model: ${model:-none}); engines are specific to the GPU\"",
            "fi",
        ]
    return [
        "",
        f"# the right device? ({_comment(target.title)}: nvidia-smi's GPU name)",
        "gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1 || true)",
        f"if ! printf '%s' \"$gpu\" | grep -Eqi {shlex.quote(_ere(detect.get('gpu_name', [])))}; then",
        "  check \"this GPU is not the $TITLE (nvidia-smi: ${gpu:-none}); engines are specific to the GPU\"",
        "fi",
    ]
