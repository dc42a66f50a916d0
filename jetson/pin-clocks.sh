#!/usr/bin/env bash
# Run one command with a Jetson's clocks pinned, then put the clocks back as they were.
#
#   sudo env "PATH=$PATH" jetson/pin-clocks.sh [--mode NAME|ID] [--conf FILE] -- COMMAND [ARGS...]
#   jetson/pin-clocks.sh --print-max-mode [--conf FILE]
#
# Pinning: store the current state (jetson_clocks --store, nvpmodel -q), switch to the fastest
# power mode in /etc/nvpmodel.conf (MAXN_SUPER, else MAXN, else the most watts and cores; or
# --mode), then run jetson_clocks (CPU, GPU and EMC locked at the mode's maximum). The command
# runs as the user who called sudo. On exit, also after a failure or Ctrl-C, the old power mode
# and the stored clocks come back (nvpmodel -m OLD, jetson_clocks --restore). TX1 has no
# nvpmodel: only jetson_clocks is used there. The state before and after goes to stderr.
#
# sudo resets PATH (secure_path), so a bare `sudo jetson/pin-clocks.sh -- trtbench` does not
# find the trtbench of your virtual environment. `env "PATH=$PATH"` hands your PATH over: the
# command is looked up on it before anything changes, and runs with it. A command not found
# stops the script at once; a path (~/.venvs/trtbench/bin/trtbench) also works without env.
set -euo pipefail

CONF=/etc/nvpmodel.conf
MODE=""
PRINT_MAX=0
ARGS=("$@")  # as given, for the command line an error suggests
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --mode) MODE="$2"; shift 2 ;;
    --conf) CONF="$2"; shift 2 ;;
    --print-max-mode) PRINT_MAX=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    *) break ;;
  esac
done

say() { echo "pin-clocks: $*" >&2; }

# "ID NAME" of the fastest mode listed in an nvpmodel.conf ("< POWER_MODEL ID=2 NAME=MAXN_SUPER >").
max_mode() {
  awk '
    /<[ \t]*POWER_MODEL/ {
      id = ""; name = ""; score = 0
      if (match($0, /ID=[0-9]+/)) id = substr($0, RSTART + 3, RLENGTH - 3)
      if (match($0, /NAME=[^ \t>]+/)) name = substr($0, RSTART + 5, RLENGTH - 5)
      if (name ~ /MAXN_SUPER/) score = 1000000
      else if (name ~ /MAXN/) score = 900000
      else {
        if (match(name, /[0-9]+W/)) score = 100 * substr(name, RSTART, RLENGTH - 1)
        if (match(name, /[0-9]+CORE/)) score += substr(name, RSTART, RLENGTH - 4)
      }
      if (id != "" && (best == "" || score > best)) { best = score; line = id " " name }
    }
    END { if (line != "") print line }' "$1"
}

if [ "$PRINT_MAX" = 1 ]; then
  [ -r "$CONF" ] || { say "cannot read $CONF"; exit 2; }
  max_mode "$CONF"
  exit 0
fi
[ $# -gt 0 ] || { usage; exit 2; }
if [ "$(id -u)" != 0 ] && [ -z "${PIN_CLOCKS_NO_ROOT:-}" ]; then
  say "needs root to change clocks: sudo env \"PATH=\$PATH\" $0 -- $1 ..."; exit 2
fi

# Find the command on this PATH now, before any clock changes (type -P: files only, never a
# builtin, alias or function). It runs as that file, so sudo's own lookup cannot pick another.
CMD="$(type -P -- "$1" || true)"
if [ -z "$CMD" ]; then
  say "$1 not found on PATH=$PATH (sudo resets PATH): run sudo env \"PATH=\$PATH\" $0$(printf ' %q' "${ARGS[@]}")"
  exit 127
fi
RUN_AS=""
HINT=""
if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
  RUN_AS="$SUDO_USER"
  # a bare name found on a PATH of system folders only (sudo's secure_path): maybe not theirs
  SYSTEM_ONLY=1
  IFS=: read -r -a DIRS <<< "$PATH"
  for d in "${DIRS[@]}"; do
    case "$d" in /usr/*|/bin|/sbin|/snap/bin) ;; *) SYSTEM_ONLY=0 ;; esac
  done
  if [ "$SYSTEM_ONLY" = 1 ] && [[ "$1" != */* ]]; then
    HINT=", found on sudo's PATH (yours? sudo env \"PATH=\$PATH\" $0 ...)"
  fi
fi
shift

JC="$(command -v jetson_clocks || true)"
[ -n "$JC" ] || { [ -x "$HOME/jetson_clocks.sh" ] && JC="$HOME/jetson_clocks.sh"; } || true  # L4T 28
[ -n "$JC" ] || { say "jetson_clocks not found: is this a Jetson?"; exit 2; }
NVP="$(command -v nvpmodel || true)"

STATE="$(mktemp /tmp/pin-clocks.XXXXXX)"
"$JC" --store "$STATE" >/dev/null
OLD_MODE=""
if [ -n "$NVP" ]; then
  OLD_MODE="$("$NVP" -q 2>/dev/null | grep -E '^[0-9]+$' | tail -n 1 || true)"
fi

restore() {
  status=$?
  trap - EXIT INT TERM
  if [ -n "$NVP" ] && [ -n "$OLD_MODE" ]; then
    echo NO | "$NVP" -m "$OLD_MODE" >/dev/null 2>&1 || say "could not switch back to power mode $OLD_MODE"
  fi
  "$JC" --restore "$STATE" >/dev/null 2>&1 || say "jetson_clocks --restore $STATE failed"
  rm -f "$STATE"
  say "restored power mode ${OLD_MODE:-(none)} and the stored clocks"
  exit "$status"
}
trap restore EXIT
trap 'exit 130' INT TERM

if [ -n "$NVP" ]; then
  if [ -z "$MODE" ]; then
    [ -r "$CONF" ] || { say "cannot read $CONF (give --mode ID)"; exit 2; }
    MODE="$(max_mode "$CONF" | cut -d' ' -f1)"
  elif ! printf '%s' "$MODE" | grep -Eq '^[0-9]+$'; then
    MODE="$(grep -E "POWER_MODEL.*NAME=$MODE( |>)" "$CONF" | grep -Eo 'ID=[0-9]+' | head -n 1 | cut -d= -f2)"
    [ -n "$MODE" ] || { say "no power mode named as asked in $CONF"; exit 2; }
  fi
  if [ "$MODE" != "$OLD_MODE" ]; then
    # nvpmodel asks before rebooting for some mode changes: answer no and check what happened.
    echo NO | "$NVP" -m "$MODE" >/dev/null 2>&1 || true
    NOW="$("$NVP" -q 2>/dev/null | grep -E '^[0-9]+$' | tail -n 1 || true)"
    [ "$NOW" = "$MODE" ] || say "power mode $MODE needs a reboot here; staying in ${NOW:-?}"
  fi
fi
"$JC" >/dev/null
sleep "${PIN_CLOCKS_SETTLE:-1}"
{ [ -n "$NVP" ] && "$NVP" -q 2>/dev/null; "$JC" --show 2>/dev/null; } >&2 || true

say "running $CMD${RUN_AS:+ as $RUN_AS}$HINT"
if [ -n "$RUN_AS" ]; then
  # env sets PATH again: sudo would put its secure_path back for the command and what it starts
  sudo -u "$RUN_AS" -E -- env "PATH=$PATH" "$CMD" "$@"
else
  "$CMD" "$@"
fi
