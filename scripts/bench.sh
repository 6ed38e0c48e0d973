#!/usr/bin/env bash
# Kiln vs ONNX Runtime on the benchmark model set (ResNet-18/50, MobileNetV2, BERT-base encoder,
# MNIST cnn at batch 1 and 64), 1 and 2 threads, plus single-thread SGEMM against the measured
# FMA peak. Sets up (scripts/setup.sh), builds Release in build/release, then runs
# scripts/bench_models.py; arguments go to it, e.g. `bash scripts/bench.sh --quick` or
# `bash scripts/bench.sh --models resnet18,bert-base --threads 1 --runs 50`.
# KILN_JOBS=N sets build parallelism; KILN_BUILD_DIR another build folder (default build/release).
# Models, inputs and outputs go to BUILD/bench.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

JOBS=${KILN_JOBS:-$(nproc)}
BUILD=${KILN_BUILD_DIR:-build/release}
DATA=$(build/venv/bin/python -c "import onnx, os; print(os.path.join(os.path.dirname(onnx.__file__), 'backend/test/data/node'))")
# Tests on: kiln_bench_kernels lives under tests/bench.
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKILN_BUILD_TESTS=ON \
  -DKILN_ONNX_NODE_DATA="$DATA" >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target kilnc kiln-run kiln-models kiln_bench_kernels
build/venv/bin/python scripts/bench_models.py --build "$BUILD" "$@"
