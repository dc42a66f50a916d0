#!/usr/bin/env bash
# JetPack 5.x (L4T R35: Xavier NX, AGX Xavier, Orin): Ubuntu 20.04, Python 3.8, TensorRT 8.4/8.5.
# Uses JetPack's system TensorRT bindings (python3-libnvinfer) from a venv made with
# --system-site-packages, and pycuda (built against /usr/local/cuda) for device buffers.
# CUDA_LAYER=cuda-python tries cuda-python 11.x instead (its Tegra support is unverified).
#       Usage: bash jetson/setup-jetpack5.sh  [VENV=dir] [CUDA_LAYER=pycuda|cuda-python]
set -euo pipefail
. "$(dirname "$0")/common.sh"
expect_l4t "35" "JetPack 5.x"
sudo apt-get update
sudo apt-get install -y python3-venv python3-pip python3-dev python3-libnvinfer build-essential
python3 -m venv --system-site-packages "$VENV"
install_trtbench "$VENV/bin/python"
export PATH="/usr/local/cuda/bin:$PATH"
if [ "${CUDA_LAYER:-pycuda}" = cuda-python ]; then
  "$VENV/bin/python" -m pip install "cuda-python>=11.5,<12"
else
  "$VENV/bin/python" -m pip install pycuda
fi
report
