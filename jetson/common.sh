# Shared by the setup scripts (sourced, not run).
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$HOME/.venvs/trtbench}"
say() { echo "setup: $*" >&2; }
die() { say "$*"; exit 2; }

l4t_major() {  # 32, 35, 36, 38, 39 from /etc/nv_tegra_release (empty when not a Jetson)
  sed -n 's/^# R\([0-9]*\) (release).*/\1/p' /etc/nv_tegra_release 2>/dev/null | head -n 1
}

expect_l4t() {  # expect_l4t "32" "JetPack 4.6" -> stop unless FORCE=1
  local got; got="$(l4t_major)"
  case " $1 " in
    *" $got "*) say "L4T R$got: $2" ;;
    *) [ "${FORCE:-0}" = 1 ] || die "this is L4T R${got:-?}, not $2 (FORCE=1 to go on)" ;;
  esac
}

find_trtexec() {
  command -v trtexec 2>/dev/null || { [ -x /usr/src/tensorrt/bin/trtexec ] && echo /usr/src/tensorrt/bin/trtexec; } || true
}

install_trtbench() {  # $1: the python of the venv
  "$1" -m pip install --upgrade pip
  "$1" -m pip install -e "$REPO"
}

report() {
  local py="$VENV/bin/python"
  say "venv: $VENV (activate: source $VENV/bin/activate)"
  "$py" -c 'import tensorrt; print("setup: TensorRT Python", tensorrt.__version__)' 2>/dev/null \
    || say "TensorRT Python bindings: not in this venv (use --driver trtexec / --backend trtexec)"
  local t; t="$(find_trtexec)"
  if [ -n "$t" ]; then say "trtexec: $t"; else say "trtexec: not found (sudo apt install tensorrt)"; fi
  "$py" -m trtbench targets host || true
}
