#!/usr/bin/env bash
# Installs what ptvm needs from Debian, only where something is missing. Idempotent.
set -euo pipefail
pkgs=(build-essential cmake ninja-build ccache g++ clang libgtest-dev libgmock-dev libbenchmark-dev
      nlohmann-json3-dev libcli11-dev libssl-dev libboost-fiber-dev libboost-context-dev python3 libclang-rt-14-dev
      python3-matplotlib libncurses-dev tmux)
# tvm export-onnx (the onnx protobuf classes) and its checks (onnx.checker; ONNX Runtime runs under
# Node.js, from npm, when a node is present or installable).
pkgs+=(libonnx-dev libprotobuf-dev protobuf-compiler python3-onnx)
# The MPI communicator and `mpirun -n K tvm prove-batch` (OpenMPI; CI runs its tests with 2 ranks).
pkgs+=(libopenmpi-dev openmpi-bin)
command -v node >/dev/null 2>&1 || pkgs+=(nodejs npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
