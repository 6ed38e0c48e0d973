#!/usr/bin/env bash
# Installs everything Kiln needs on a fresh Debian 12 machine. Idempotent: safe to run again.
#   apt: compiler toolchain, protobuf + ONNX protos, zlib, GoogleTest/Benchmark, LLVM 19, OpenCL (PoCL)
#   venv (build/venv): onnx==1.22.0 (conformance data), onnxruntime (reference), numpy -- tests only
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libprotobuf-dev protobuf-compiler libonnx-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  llvm-19-dev liblld-19-dev
  ocl-icd-opencl-dev opencl-headers pocl-opencl-icd
  python3 python3-venv
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "${KILN_SKIP_VENV:-0}" != "1" ]; then
  VENV=build/venv
  if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
  fi
  if ! "$VENV/bin/python" -c "import onnx, onnxruntime, numpy; assert onnx.__version__ == '1.22.0'" 2>/dev/null; then
    "$VENV/bin/pip" install -q --disable-pip-version-check -r scripts/requirements-test.txt
  fi
fi
echo "setup: ok"
