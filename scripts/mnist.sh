#!/usr/bin/env bash
# Kiln's main job on data that ships with the project checkout (../shared/data/mnist):
#   set up -> build -> train the MNIST reference model with kiln-train -> export ONNX ->
#   load the ONNX back through Kiln's frontend and run it on the 10,000 test images ->
#   compile it to native code with kilnc -> run the compiled model on the test set (same
#   accuracy) and time it with kiln-run.
# Defaults to the CNN for one epoch (about 70 s of training on 2 cores); override:
# KILN_MODEL=mlp KILN_EPOCHS=3 bash scripts/mnist.sh. KILN_MNIST_DIR picks the data.
set -euo pipefail
cd "$(dirname "$0")/.."
KILN_SKIP_VENV=1 bash scripts/setup.sh

DATA=${KILN_MNIST_DIR:-../shared/data/mnist}
MODEL=${KILN_MODEL:-cnn}
EPOCHS=${KILN_EPOCHS:-1}
OUT=build/mnist
[ -d "$DATA" ] || { echo "mnist.sh: MNIST folder '$DATA' not found (set KILN_MNIST_DIR)" >&2; exit 1; }

cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_BUILD_TESTS=OFF >/dev/null
cmake --build build/release -j "$(nproc)" --target kiln-train kilnc kiln-run
mkdir -p "$OUT"

build/release/tools/kiln-train --data "$DATA" --model "$MODEL" --epochs "$EPOCHS" \
  --checkpoint-dir "$OUT/checkpoints" --export "$OUT/mnist.onnx" --no-progress
build/release/tools/kilnc inspect "$OUT/mnist.onnx"
build/release/tools/kiln-train --data "$DATA" --evaluate "$OUT/mnist.onnx"
build/release/tools/kilnc compile "$OUT/mnist.onnx" -o "$OUT/mnist.kiln" --input-shape input=100x1x28x28
build/release/tools/kiln-train --data "$DATA" --evaluate "$OUT/mnist.kiln"
build/release/tools/kiln-run "$OUT/mnist.kiln" --random-inputs --bench 100 --warmup 10
