#!/usr/bin/env bash
# JetPack 6.x (L4T R36, Ubuntu 22.04, Python 3.10, TensorRT 8.6/10.3) and JetPack 7.x (L4T R38/R39,
# Ubuntu 24.04, Python 3.12, TensorRT 10.13/10.16): Orin and Thor. Uses JetPack's system TensorRT
# bindings (python3-libnvinfer) from a venv made with --system-site-packages, and cuda-python whose
# major version matches the installed CUDA (12.x on JetPack 6, 13.x on JetPack 7).
#       Usage: bash jetson/setup-jetpack6-7.sh  [VENV=dir]
set -euo pipefail
. "$(dirname "$0")/common.sh"
expect_l4t "36 38 39" "JetPack 6.x or 7.x"
sudo apt-get update
sudo apt-get install -y python3-venv python3-pip python3-dev python3-libnvinfer
python3 -m venv --system-site-packages "$VENV"
install_trtbench "$VENV/bin/python"
cuda="$(python3 -c 'import json; print(json.load(open("/usr/local/cuda/version.json"))["cuda"]["version"].split(".")[0])' 2>/dev/null || true)"
[ -n "$cuda" ] || cuda="$(/usr/local/cuda/bin/nvcc --version 2>/dev/null | sed -n 's/.*release \([0-9]*\)\..*/\1/p')"
case "$cuda" in
  12) "$VENV/bin/python" -m pip install "cuda-python>=12.6,<13" ;;
  13) "$VENV/bin/python" -m pip install "cuda-python>=13,<14" ;;
  *) say "CUDA major version unknown (${cuda:-none}); install cuda-python matching it by hand" ;;
esac
report
