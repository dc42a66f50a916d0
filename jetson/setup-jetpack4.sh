#!/usr/bin/env bash
# JetPack 4.6.x (L4T R32.6/R32.7: TX1, Nano, TX2, Xavier on JetPack 4): Ubuntu 18.04 with Python 3.6.
# trtbench needs Python 3.8, so this installs python3.8 from apt into a venv. JetPack's TensorRT
# Python bindings exist for the system Python 3.6 only, so on these boards trtbench builds and
# profiles through /usr/src/tensorrt/bin/trtexec (--driver trtexec, --backend trtexec, or a script
# from `trtbench build --emit-script`).      Usage: bash jetson/setup-jetpack4.sh  [VENV=dir]
set -euo pipefail
. "$(dirname "$0")/common.sh"
expect_l4t "32" "JetPack 4.x"
sudo apt-get update
sudo apt-get install -y python3.8 python3.8-venv python3.8-dev python3-pip build-essential
python3.8 -m venv "$VENV"
install_trtbench "$VENV/bin/python"
[ -n "$(find_trtexec)" ] || say "trtexec missing: sudo apt-get install -y tensorrt (or nvidia-jetpack)"
report
say "TensorRT here is 8.0.1 (JetPack 4.6) or 8.2.1 (4.6.1+); pin clocks with: sudo jetson/pin-clocks.sh -- CMD"
