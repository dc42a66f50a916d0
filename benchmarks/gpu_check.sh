#!/usr/bin/env bash
# One prepared GPU check: run it from the repository root on a machine with a CUDA GPU,
#
#     OUT=/some/empty/folder bash benchmarks/gpu_check.sh
#
# and read $OUT/summary.md (also printed at the end). It runs, in order of value, while a global
# time budget lasts (each run under `timeout`, so one hang cannot eat the rest):
#
#   table2    trtbench profile --backend torch --device cuda, the study's Table-2 networks at batch
#             1024: fp32, fp16, fp32 --cuda-graph                      -> $OUT/runs/NAME-fp32.json ...
#   fidelity  benchmarks/bare_loop.py (a bare PyTorch loop) on the same configuration as the table2
#             runs, fp32 and fp16, for two networks                   -> $OUT/bare/NAME-fp32.json ...
#   drift     trtbench drift --alloc per-run and --alloc fragment (small loops)
#                                                                    -> $OUT/drift/NAME-per-run.json ...
#   corpus    every ONNX model of the corpus: --backend torch fp32 and fp16, --backend onnxruntime
#             --device cuda where onnxruntime has the CUDA provider   -> $OUT/runs/corpus-STEM-....json
#
# then summarises everything (benchmarks/summarise_gpu_check.py) into $OUT/summary.md, with one line
# for every run that FAILED (its last stderr line), TIMED OUT or was SKIPPED (and why). Without
# torch or without a CUDA GPU every CUDA step is skipped with the reason, and it still exits 0.
# Exit status: 0 when the check ran to the end (whatever the runs did), 2 on a usage error.
#
# Environment (all optional):
#   OUT                     output folder (default: ./out/gpu-check, which git ignores)
#   GPU_CHECK_BUDGET_S      total seconds (default 420); new runs stop when less than
#                           GPU_CHECK_RESERVE_S (default 20) + GPU_CHECK_MIN_RUN_S (default 15) is left
#   GPU_CHECK_RUN_TIMEOUT_S the most one run may take (default 120)
#   GPU_CHECK_STEPS         steps and their order (default "table2 fidelity drift corpus")
#   GPU_CHECK_PYTHON        the interpreter (default python3)
#   GPU_CHECK_PACK          1: at the end, pack runs/ bare/ drift/ logs/ gpu.db into
#                           $OUT/gpu-check.tar.gz and remove the loose copies (the device tool
#                           brings back at most 8 files)
#   GPU_CHECK_DEVICE        cuda (default), or cpu: a rehearsal of the same steps on the CPU (fp32
#                           only, no CUDA graph, no fragmenting allocation) to test this script
#   GPU_CHECK_WHEELS        a folder of wheels to install missing packages from, offline
#                           (default: ./wheels or ./.whl when present)
#   GPU_CHECK_MODELS        a folder of .onnx models (default: ../shared/fixtures/models, else
#                           ./shared/fixtures/models, else ./.device/models)
#   GPU_CHECK_NETWORKS      Table-2 networks (default: trtbench.study2016.table2.TABLE2_NETWORKS)
#   GPU_CHECK_FIDELITY_NETWORKS  networks for the bare loop (default: the first two Table-2 ones)
#   GPU_CHECK_DRIFT_NETWORK network for the drift loops (default: the first Table-2 one)
#   GPU_CHECK_BATCH (1024), GPU_CHECK_ITERATIONS (50), GPU_CHECK_LOOPS (3),
#   GPU_CHECK_PROFILE_ITERATIONS (20), GPU_CHECK_DRIFT_LOOPS (60), GPU_CHECK_DRIFT_ITERATIONS (5)
set -u
set -o pipefail

if [ -z "${BASH_VERSINFO:-}" ] || [ "${BASH_VERSINFO[0]}" -lt 4 ]; then
    echo "gpu_check: needs bash 4 or later" >&2
    exit 2
fi

REPO="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd -- "$REPO" || exit 2

OUT="${OUT:-$REPO/out/gpu-check}"
mkdir -p -- "$OUT" || { echo "gpu_check: cannot create OUT=$OUT" >&2; exit 2; }
OUT="$(cd -- "$OUT" && pwd -P)"

int_env() {  # int_env NAME DEFAULT: the variable's value when it is a whole number, else DEFAULT
    local value="${!1:-$2}"
    if [[ "$value" =~ ^[0-9]+$ ]]; then echo "$value"; else
        echo "gpu_check: $1='$value' is not a whole number; using $2" >&2; echo "$2"; fi
}
BUDGET="$(int_env GPU_CHECK_BUDGET_S 420)"
RESERVE="$(int_env GPU_CHECK_RESERVE_S 20)"
MIN_RUN="$(int_env GPU_CHECK_MIN_RUN_S 15)"
RUN_CAP="$(int_env GPU_CHECK_RUN_TIMEOUT_S 120)"
BATCH="$(int_env GPU_CHECK_BATCH 1024)"
ITER="$(int_env GPU_CHECK_ITERATIONS 50)"
LOOPS="$(int_env GPU_CHECK_LOOPS 3)"
PITER="$(int_env GPU_CHECK_PROFILE_ITERATIONS 20)"
DRIFT_LOOPS="$(int_env GPU_CHECK_DRIFT_LOOPS 60)"
DRIFT_ITER="$(int_env GPU_CHECK_DRIFT_ITERATIONS 5)"
STEPS="${GPU_CHECK_STEPS:-table2 fidelity drift corpus}"
PY="${GPU_CHECK_PYTHON:-python3}"
DEV="${GPU_CHECK_DEVICE:-cuda}"
case "$DEV" in
    cuda|cpu) ;;
    *) echo "gpu_check: GPU_CHECK_DEVICE must be cuda or cpu (a rehearsal), not '$DEV'" >&2; exit 2 ;;
esac
START=$SECONDS

mkdir -p -- "$OUT/runs" "$OUT/bare" "$OUT/drift" "$OUT/logs"
STATUS="$OUT/status.tsv"
: >"$STATUS"
if [ -n "$(find "$OUT/runs" "$OUT/bare" "$OUT/drift" -type f -print -quit 2>/dev/null)" ]; then
    echo "gpu_check: note: $OUT already holds results; files of an earlier check stay and are summarised too" >&2
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")"
trap 'rm -rf -- "$WORK"' EXIT
CACHE="$WORK/onnx"   # ONNX exports of the specs, shared by every run
DB="$OUT/gpu.db"

say() { printf '[gpu_check %4ss] %s\n' "$((SECONDS - START))" "$*"; }
left() { echo $((BUDGET - (SECONDS - START))); }
one_line() { local s; s="$(printf '%s' "$1" | tr '\t\r\n' '   ' | cut -c1-300)"; echo "${s%"${s##*[![:space:]]}"}"; }
slug() { local s="$1"; s="${s//[^A-Za-z0-9._-]/_}"; echo "$s"; }

# status STEP ITEM STATUS SECONDS JSON DETAIL  (one line of $OUT/status.tsv)
status() {
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$(one_line "$2")" "$3" "$4" "$5" "$(one_line "$6")" >>"$STATUS"
}

last_line() {  # last_line BASE: the run's 'trtbench: error' line, else its last stderr line, else stdout's
    local base="$1" line="" file
    line="$(grep -E '^trtbench: error' -- "$base.err" 2>/dev/null | tail -n 1)"
    for file in "$base.err" "$base.log"; do
        [ -n "$line" ] || line="$(grep -v '^[[:space:]]*$' -- "$file" 2>/dev/null | tail -n 1)"
    done
    [ -n "$line" ] || line="(no output)"
    echo "$line"
}

HAVE_TIMEOUT=0
command -v timeout >/dev/null 2>&1 && HAVE_TIMEOUT=1

# run_one STEP ITEM JSON OKCODES -- COMMAND...
#   Runs COMMAND under timeout (the smaller of GPU_CHECK_RUN_TIMEOUT_S and the budget left), its
#   stdout in $OUT/logs/<step>-<item>.log and stderr in .err, and records OK / FAILED / TIMEOUT /
#   SKIPPED. JSON is the record it writes, relative to $OUT ('-' for none); OKCODES the exit codes
#   that count as OK ("0", or "0 1" for drift, whose 1 means drift found). Returns 0 when OK.
run_one() {
    local step="$1" item="$2" json="$3" okcodes="$4"
    shift 5
    local avail=$(( $(left) - RESERVE ))
    if [ "$avail" -lt "$MIN_RUN" ]; then
        status "$step" "$item" SKIPPED 0 - "time budget nearly spent ($(left) s of ${BUDGET} s left)"
        say "SKIPPED $step $item: budget nearly spent"
        return 3
    fi
    local limit="$RUN_CAP"
    [ "$avail" -lt "$limit" ] && limit="$avail"
    local log
    log="$OUT/logs/$(slug "$step-$item")"
    say "$step: $item (limit ${limit} s)"
    local t0=$SECONDS rc
    if [ "$HAVE_TIMEOUT" -eq 1 ]; then
        timeout -k 10 "$limit" "$@" >"$log.log" 2>"$log.err" </dev/null
    else
        "$@" >"$log.log" 2>"$log.err" </dev/null
    fi
    rc=$?
    local spent=$((SECONDS - t0))
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        status "$step" "$item" TIMEOUT "$spent" - "killed after ${limit} s; last line: $(last_line "$log")"
        say "  TIMEOUT after ${spent} s"
        return 1
    fi
    local code
    for code in $okcodes; do
        if [ "$rc" -eq "$code" ]; then
            local detail=""
            [ "$rc" -ne 0 ] && detail="exit $rc"
            if [ "$json" != "-" ] && [ ! -s "$OUT/$json" ]; then
                status "$step" "$item" FAILED "$spent" - "exit $rc but no $json written; last line: $(last_line "$log")"
                say "  FAILED: no $json"
                return 1
            fi
            status "$step" "$item" OK "$spent" "$json" "$detail"
            say "  ok (${spent} s${detail:+, $detail})"
            return 0
        fi
    done
    status "$step" "$item" FAILED "$spent" - "exit $rc: $(last_line "$log")"
    say "  FAILED (exit $rc): $(last_line "$log")"
    return 1
}

skip() {  # skip STEP ITEM REASON
    status "$1" "$2" SKIPPED 0 - "$3"
    say "SKIPPED $1 $2: $3"
}

# ---- 1. setup ------------------------------------------------------------------------------------
PY_OK=1
if ! command -v "$PY" >/dev/null 2>&1; then
    PY_OK=0
fi
# The working tree is what is checked: put it first on the path (an installed trtbench elsewhere
# would otherwise shadow it). No pip install is needed for that.
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
export TRTBENCH_DB="$DB"

py_has() { "$PY" -c "import $1" >/dev/null 2>&1; }

WHEELS="${GPU_CHECK_WHEELS:-}"
if [ -z "$WHEELS" ]; then
    for candidate in "$REPO/wheels" "$REPO/.whl"; do
        if [ -d "$candidate" ]; then WHEELS="$candidate"; break; fi
    done
fi
if [ "$PY_OK" -eq 1 ] && [ -n "$WHEELS" ]; then
    if [ ! -d "$WHEELS" ]; then
        skip setup "wheels" "GPU_CHECK_WHEELS=$WHEELS is not a folder"
    elif ! "$PY" -m pip --version >/dev/null 2>&1; then
        skip setup "wheels" "pip does not run with $PY"
    else
        # pip name : import name; only what does not import is installed
        for pair in numpy:numpy rich:rich onnx:onnx tomli:tomli torch:torch onnxruntime-gpu:onnxruntime \
                    nvidia-ml-py:pynvml; do
            pkg="${pair%%:*}"
            mod="${pair##*:}"
            if [ "$mod" = tomli ] && "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
                continue
            fi
            if [ "$pkg" = onnxruntime-gpu ]; then  # a CPU onnxruntime imports too: ask for the provider
                "$PY" -c 'import onnxruntime, sys; sys.exit("CUDAExecutionProvider" not in onnxruntime.get_available_providers())' \
                    >/dev/null 2>&1 && continue
            elif py_has "$mod"; then
                continue
            fi
            if ! compgen -G "$WHEELS/${pkg//-/_}-*" >/dev/null && ! compgen -G "$WHEELS/$pkg-*" >/dev/null; then
                continue  # no wheel for it: nothing to try
            fi
            run_one setup "pip install $pkg" - "0" -- \
                "$PY" -m pip install --no-index --find-links "$WHEELS" --disable-pip-version-check -q "$pkg"
        done
    fi
fi

TRTBENCH_OK=0
TRTBENCH_WHY="python ($PY) not found"
if [ "$PY_OK" -eq 1 ]; then
    if why="$("$PY" -c 'import trtbench.cli.app' 2>&1)"; then
        TRTBENCH_OK=1
    else
        TRTBENCH_WHY="trtbench does not import: $(tail -n 1 <<<"$why")"
    fi
fi

# env.txt: the machine and its software
{
    echo "date: $(date -u '+%Y-%m-%dT%H:%M:%SZ')"
    echo "host: $(uname -srm 2>/dev/null), $(nproc 2>/dev/null || echo '?') cores"
    echo "repo: $REPO (git $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo 'n/a'))"
    echo "budget: ${BUDGET} s, run limit ${RUN_CAP} s, steps: $STEPS, device: $DEV"
    echo "wheels: ${WHEELS:-none}"
    if command -v nvidia-smi >/dev/null 2>&1; then
        echo "nvidia-smi: $(nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm \
            --format=csv,noheader 2>&1 | head -n 4 | tr '\n' ';')"
    else
        echo "nvidia-smi: not found"
    fi
    if [ "$PY_OK" -eq 1 ]; then
        "$PY" - <<'PYEOF' 2>&1
import platform
print(f"python: {platform.python_version()} ({platform.python_implementation()})")
for name in ("numpy", "rich", "onnx", "pynvml"):
    try:
        mod = __import__(name)
        try:
            from importlib.metadata import version
            found = version({"pynvml": "nvidia-ml-py"}.get(name, name))
        except Exception:  # noqa: BLE001
            found = getattr(mod, "__version__", "?")
        print(f"{name}: {found}")
    except Exception as exc:  # noqa: BLE001 - any import failure is a fact to record
        print(f"{name}: not importable ({exc.__class__.__name__}: {exc})")
try:
    import torch
    print(f"torch: {torch.__version__}")
    print(f"torch.version.cuda: {torch.version.cuda}")
    available = torch.cuda.is_available()
    print(f"torch.cuda.is_available: {available}")
    if available:
        print(f"torch GPU: {torch.cuda.get_device_name()} (capability {torch.cuda.get_device_capability()}), "
              f"cudnn {torch.backends.cudnn.version()}, {torch.cuda.device_count()} device(s)")
except Exception as exc:  # noqa: BLE001
    print(f"torch: not importable ({exc.__class__.__name__}: {exc})")
try:
    import onnxruntime
    print(f"onnxruntime: {onnxruntime.__version__}")
    print(f"onnxruntime providers: {', '.join(onnxruntime.get_available_providers())}")
except Exception as exc:  # noqa: BLE001
    print(f"onnxruntime: not importable ({exc.__class__.__name__}: {exc})")
try:
    import trtbench
    print(f"trtbench: {getattr(trtbench, '__version__', '?')} from {trtbench.__file__}")
except Exception as exc:  # noqa: BLE001
    print(f"trtbench: not importable ({exc.__class__.__name__}: {exc})")
PYEOF
    else
        echo "python: $PY not found"
    fi
} >"$OUT/env.txt" 2>&1
say "environment written to $OUT/env.txt"

# Can the CUDA steps run?
CUDA_OK=0
CUDA_WHY="$TRTBENCH_WHY"
if [ "$TRTBENCH_OK" -eq 1 ]; then
    CUDA_WHY="$("$PY" - <<'PYEOF' 2>&1
try:
    import torch
except Exception as exc:  # noqa: BLE001
    print(f"torch is not installed or does not import ({exc.__class__.__name__}), so no CUDA GPU is usable")
else:
    if torch.cuda.is_available():
        print("ok")
    else:
        built = torch.version.cuda
        print(f"no CUDA GPU is present to torch {torch.__version__} (torch.cuda.is_available() is False; "
              + (f"built for CUDA {built})" if built else "a CPU-only build)"))
PYEOF
)"
    CUDA_WHY="$(tail -n 1 <<<"$CUDA_WHY")"
    [ "$CUDA_WHY" = "ok" ] && CUDA_OK=1
fi
ORT_CUDA=0
if [ "$CUDA_OK" -eq 1 ] && "$PY" -c 'import onnxruntime, sys; sys.exit("CUDAExecutionProvider" not in onnxruntime.get_available_providers())' >/dev/null 2>&1; then
    ORT_CUDA=1
fi

# What the steps run on: the GPU, or (GPU_CHECK_DEVICE=cpu) a rehearsal of the same steps on the
# CPU, fp32 only, to check this script itself on a machine without a GPU.
if [ "$DEV" = cpu ]; then
    RUN_OK="$TRTBENCH_OK"
    RUN_WHY="$TRTBENCH_WHY"
    ORT_OK=0
    ORT_WHY="onnxruntime does not import"
    "$PY" -c 'import onnxruntime' >/dev/null 2>&1 && ORT_OK=1
    PRECISIONS=(fp32)
    TABLE2_CONFIGS=(fp32)
    ALLOCS=(per-run)
    CORPUS_CONFIGS=(torch-fp32 onnxruntime-fp32)
    say "REHEARSAL on the CPU (GPU_CHECK_DEVICE=cpu): fp32 only, no CUDA graphs, no fragmenting allocation"
else
    RUN_OK="$CUDA_OK"
    RUN_WHY="$CUDA_WHY"
    ORT_OK="$ORT_CUDA"
    ORT_WHY="onnxruntime has no CUDA execution provider here"
    PRECISIONS=(fp32 fp16)
    TABLE2_CONFIGS=(fp32 fp16 fp32-graph)
    ALLOCS=(per-run fragment)
    CORPUS_CONFIGS=(torch-fp32 onnxruntime-fp32 torch-fp16)
    if [ "$CUDA_OK" -eq 1 ]; then say "CUDA: usable (onnxruntime CUDA provider: $ORT_CUDA)"; else say "CUDA steps skipped: $CUDA_WHY"; fi
fi

# The Table-2 networks, as the code defines them
NETWORKS=()
if [ -n "${GPU_CHECK_NETWORKS:-}" ]; then
    read -r -a NETWORKS <<<"$GPU_CHECK_NETWORKS"
fi
if [ "${#NETWORKS[@]}" -eq 0 ] && [ "$TRTBENCH_OK" -eq 1 ]; then
    mapfile -t NETWORKS < <("$PY" -c 'from trtbench.study2016.table2 import TABLE2_NETWORKS
print("\n".join(TABLE2_NETWORKS))' 2>/dev/null)
fi
if [ "${#NETWORKS[@]}" -eq 0 ]; then
    NETWORKS=(c5d20-f1n1024 c1d20-f5n1024 c3d20-f3n1024)  # the study's Table 2 (study2016/table2.py)
fi
FID_NETWORKS=()
[ -n "${GPU_CHECK_FIDELITY_NETWORKS:-}" ] && read -r -a FID_NETWORKS <<<"$GPU_CHECK_FIDELITY_NETWORKS"
[ "${#FID_NETWORKS[@]}" -eq 0 ] && FID_NETWORKS=("${NETWORKS[@]:0:2}")
DRIFT_NETWORK="${GPU_CHECK_DRIFT_NETWORK:-${NETWORKS[0]}}"

PROFILE_ARGS=(--iterations "$ITER" --loops "$LOOPS" --profile-iterations "$PITER" --cache-dir "$CACHE" --db "$DB" -q)

# ---- 2. table2 -------------------------------------------------------------------------------------
step_table2() {
    local net prec config json
    if [ "$RUN_OK" -ne 1 ]; then skip table2 "all runs" "$RUN_WHY"; return; fi
    # fp32 of every network first, so a short budget still covers all three
    for config in "${TABLE2_CONFIGS[@]}"; do
        for net in "${NETWORKS[@]}"; do
            json="runs/$(slug "$net")-$config.json"
            prec="${config%%-*}"
            local extra=()
            [ "$config" = fp32-graph ] && extra=(--cuda-graph)
            run_one table2 "$net $config" "$json" "0" -- \
                "$PY" -m trtbench profile "$net" --backend torch --device "$DEV" --batch "$BATCH" \
                --precision "$prec" ${extra[@]+"${extra[@]}"} --json "$OUT/$json" "${PROFILE_ARGS[@]}"
        done
    done
}

# ---- 4. fidelity --------------------------------------------------------------------------------
step_fidelity() {
    local net prec json
    if [ "$RUN_OK" -ne 1 ]; then skip fidelity "all runs" "$RUN_WHY"; return; fi
    for prec in "${PRECISIONS[@]}"; do
        for net in "${FID_NETWORKS[@]}"; do
            json="runs/$(slug "$net")-$prec.json"
            if [ ! -s "$OUT/$json" ]; then  # the table2 run is missing: make the trtbench side here
                run_one fidelity "$net $prec trtbench" "$json" "0" -- \
                    "$PY" -m trtbench profile "$net" --backend torch --device "$DEV" --batch "$BATCH" \
                    --precision "$prec" --no-profile --json "$OUT/$json" "${PROFILE_ARGS[@]}" || continue
            fi
            run_one fidelity "$net $prec bare loop" "bare/$(slug "$net")-$prec.json" "0" -- \
                "$PY" "$REPO/benchmarks/bare_loop.py" "$net" --device "$DEV" --precision "$prec" \
                --batch "$BATCH" --iterations "$ITER" --loops "$LOOPS" \
                --json "$OUT/bare/$(slug "$net")-$prec.json"
        done
    done
}

# ---- 5. drift -------------------------------------------------------------------------------------
step_drift() {
    local alloc json
    if [ "$RUN_OK" -ne 1 ]; then skip drift "all runs" "$RUN_WHY"; return; fi
    for alloc in "${ALLOCS[@]}"; do
        json="drift/$(slug "$DRIFT_NETWORK")-$alloc.json"
        # exit 1 means "drift found": a finding, not a failure
        run_one drift "$DRIFT_NETWORK --alloc $alloc" "$json" "0 1" -- \
            "$PY" -m trtbench drift "$DRIFT_NETWORK" --backend torch --device "$DEV" --alloc "$alloc" \
            --batch "$BATCH" --loops "$DRIFT_LOOPS" --iterations "$DRIFT_ITER" --warmup 3 \
            --cache-dir "$CACHE" --db "$DB" --json "$OUT/$json" -q
    done
}

# ---- 3. corpus ---------------------------------------------------------------------------------
step_corpus() {
    local folder="${GPU_CHECK_MODELS:-}" candidate
    if [ -z "$folder" ]; then
        for candidate in "$REPO/../shared/fixtures/models" "$REPO/shared/fixtures/models" "$REPO/.device/models"; do
            if [ -d "$candidate" ]; then folder="$candidate"; break; fi
        done
    fi
    if [ -z "$folder" ] || [ ! -d "$folder" ]; then
        skip corpus "models" "no corpus folder (GPU_CHECK_MODELS, ../shared/fixtures/models, shared/fixtures/models, .device/models)"
        return
    fi
    local models=() found
    while IFS= read -r -d '' found; do
        models+=("$found")
    done < <(find "$folder" -maxdepth 1 -type f -name '*.onnx' -print0 | sort -z)
    if [ "${#models[@]}" -eq 0 ]; then
        skip corpus "models" "no .onnx files in $folder"
        return
    fi
    if [ "$RUN_OK" -ne 1 ]; then skip corpus "all ${#models[@]} models in $folder" "$RUN_WHY"; return; fi
    say "corpus: ${#models[@]} models in $folder"
    local model stem json config
    for config in "${CORPUS_CONFIGS[@]}"; do
        if [ "${config%%-*}" = onnxruntime ] && [ "$ORT_OK" -ne 1 ]; then
            skip corpus "all models $config" "$ORT_WHY"
            continue
        fi
        for model in "${models[@]}"; do
            stem="$(slug "$(basename -- "$model" .onnx)")"
            json="runs/corpus-$stem-$config.json"
            run_one corpus "$stem $config" "$json" "0" -- \
                "$PY" -m trtbench profile "$model" --backend "${config%%-*}" --device "$DEV" \
                --precision "${config##*-}" --json "$OUT/$json" "${PROFILE_ARGS[@]}"
        done
    done
}

# ---- run the steps in order -------------------------------------------------------------------------
read -r -a STEP_LIST <<<"$STEPS"
for step in ${STEP_LIST[@]+"${STEP_LIST[@]}"}; do
    case "$step" in
        table2|fidelity|drift|corpus) ;;
        *) skip "$step" "step" "unknown step (known: table2 fidelity drift corpus)"; continue ;;
    esac
    if [ $(( $(left) - RESERVE )) -lt "$MIN_RUN" ]; then
        skip "$step" "whole step" "time budget nearly spent ($(left) s of ${BUDGET} s left)"
        continue
    fi
    say "== $step"
    case "$step" in
        table2) step_table2 ;;
        fidelity) step_fidelity ;;
        drift) step_drift ;;
        corpus) step_corpus ;;
    esac
done

# ---- 6. summary ---------------------------------------------------------------------------------------
NOTE="Ran $((SECONDS - START)) s of a ${BUDGET} s budget; steps: $STEPS. Records: runs/, bare-loop results: bare/, drift: drift/, logs: logs/, database: gpu.db."
if [ "$DEV" = cpu ]; then
    NOTE="$NOTE"$'\n\n'"**REHEARSAL on the CPU (GPU_CHECK_DEVICE=cpu): these are not GPU figures.**"
elif [ "$CUDA_OK" -ne 1 ]; then
    NOTE="$NOTE"$'\n\n'"**CUDA steps SKIPPED: $CUDA_WHY**"
fi
echo
if [ "$PY_OK" -eq 1 ] && "$PY" "$REPO/benchmarks/summarise_gpu_check.py" "$OUT" --note "$NOTE"; then
    :
else
    {
        echo "# GPU check summary"
        echo
        echo "$NOTE"
        echo
        echo "(benchmarks/summarise_gpu_check.py did not run; raw status lines follow)"
        echo
        sed 's/^/- /' -- "$STATUS"
    } >"$OUT/summary.md"
    cat -- "$OUT/summary.md"
fi

# GPU_CHECK_PACK=1: one archive instead of many files (the device tool brings back at most 8 files
# from $OUT): $OUT keeps summary.md, env.txt, status.tsv and gpu-check.tar.gz with everything.
if [ "${GPU_CHECK_PACK:-0}" = 1 ]; then
    items=()
    for entry in summary.md env.txt status.tsv gpu.db runs bare drift logs; do
        [ -e "$OUT/$entry" ] && items+=("$entry")
    done
    if tar -czf "$OUT/gpu-check.tar.gz" -C "$OUT" -- "${items[@]}"; then
        rm -rf -- "$OUT/runs" "$OUT/bare" "$OUT/drift" "$OUT/logs" "$OUT/gpu.db"
        echo "gpu_check: packed runs/ bare/ drift/ logs/ gpu.db into $OUT/gpu-check.tar.gz"
    else
        echo "gpu_check: packing failed; the loose files stay in $OUT" >&2
    fi
fi
exit 0
