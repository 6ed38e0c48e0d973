#!/usr/bin/env bash
# Runs the ONNX node-suite cases exported for CUDA on a machine that has the GPU but not Kiln's
# compiler (LLVM, protobuf): only kiln-run is needed there.
#   here:  build/release/tests/kiln_conformance --data $DATA --backend cuda --cuda-arch sm_90 \
#            --export-dir cuda_cases
#   there: bash scripts/cuda_conformance.sh build/release/tools/kiln-run cuda_cases \
#            tests/conformance/expected_pass_ref.txt
# Each case's data sets run with `kiln-run model.kiln --device cuda <args.txt> --rtol 1e-3
# --atol 1e-7` (ONNX's tolerances). Prints failures, `conformance: N passed, M failed`, and the
# expected-list cases that did not pass; exits 1 if any did.
set -u
KILN_RUN=$(realpath "$1")
DIR=$2
EXPECTED=${3:-}
pass=0
failed=0
passed_list=$(mktemp)
for case in "$DIR"/test_*/; do
  name=$(basename "$case")
  ok=1
  msg=""
  for set in "$case"test_data_set_*/; do
    args=$(cat "$set/args.txt")
    # shellcheck disable=SC2086  # args.txt is a list of plain relative paths and name=path
    if ! out=$(cd "$case" && "$KILN_RUN" model.kiln --device cuda $args --rtol 1e-3 --atol 1e-7 2>&1); then
      ok=0
      msg=$(printf '%s\n' "$out" | tail -n 1)
      break
    fi
  done
  if [ $ok = 1 ]; then
    pass=$((pass + 1))
    echo "$name" >> "$passed_list"
  else
    failed=$((failed + 1))
    echo "FAIL $name: $msg"
  fi
done
echo "conformance: $pass passed, $failed failed"
rc=0
if [ -n "$EXPECTED" ]; then
  exported=$(for c in "$DIR"/test_*/; do basename "$c"; done | sort)
  wanted=$(grep -v '^#' "$EXPECTED" | grep -v '^$' | sort)
  not_exported=$(comm -23 <(printf '%s\n' "$wanted") <(printf '%s\n' "$exported") | grep -c .)
  [ "$not_exported" -gt 0 ] && echo "$not_exported expected cases were not exported (filtered, or failed to compile: see the export run)"
  missing=$(comm -12 <(printf '%s\n' "$wanted") <(printf '%s\n' "$exported") | comm -23 - <(sort "$passed_list"))
  if [ -n "$missing" ]; then
    echo "expected to pass but did not ($(printf '%s\n' "$missing" | wc -l)):"
    printf '  %s\n' $missing
    rc=1
  fi
fi
rm -f "$passed_list"
exit $rc
