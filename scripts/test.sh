#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (scripts/setup.sh) and runs Kiln's tests:
#   1. release build: unit tests + the ONNX conformance suite (reference backend, expected-pass list)
#   2. AddressSanitizer/UBSan build: the same unit tests (bad-input tests included) + conformance
# Options: KILN_SKIP_ASAN=1 skips step 2; KILN_JOBS=N sets build parallelism.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

JOBS=${KILN_JOBS:-$(nproc)}
DATA=$(build/venv/bin/python -c "import onnx, os; print(os.path.join(os.path.dirname(onnx.__file__), 'backend/test/data/node'))")

# Line tables only (-g1): backtraces and sanitizer reports keep file:line, and the two builds
# take 2.5 GB of disk instead of 6.3 (full -g filled a CI machine's disk at the last link).
DEBUG_FLAGS="-O2 -g1 -DNDEBUG"
run_suite() {  # $1 = build folder, rest = extra cmake flags
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_BUILD_TESTS=ON \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$DEBUG_FLAGS" -DCMAKE_C_FLAGS_RELWITHDEBINFO="$DEBUG_FLAGS" \
    -DKILN_ONNX_NODE_DATA="$DATA" "$@" >/dev/null
  cmake --build "$dir" -j "$JOBS"
  (cd "$dir" && ctest --output-on-failure --timeout 1500)
}

echo "== disk before building: $(df -h . | awk 'NR==2 {print $4 " free of " $2}')"
echo "== release build: unit + conformance"
run_suite build/release
if [ "${KILN_SKIP_ASAN:-0}" != "1" ]; then
  echo "== AddressSanitizer + UBSan build: unit + conformance"
  ASAN_OPTIONS=detect_leaks=1 run_suite build/asan -DKILN_SANITIZE=ON
fi
echo "test.sh: all suites passed"
