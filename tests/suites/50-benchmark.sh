#!/usr/bin/env bash
# Runs tests/benchmark.sh once, briefly, so that it cannot rot. Wall times and
# sessions per second vary with the machine and its load and are only
# printed; what is asserted is repeatable: the instruction count of one
# pamtester login with our module against the stock one (callgrind), and the
# footprint rules (no C++ runtime, libgcc_s or libm in NEEDED).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib/common.sh

skip_unless_root 50-benchmark "it switches users and writes /etc/pam.d"

results=$(mktemp -t pam-keyinit-bench-results.XXXXXX)
trap 'rm -f "$results"' EXIT

started=$SECONDS
tests/benchmark.sh --brief --results "$results"
status=$?
[ "$status" -eq 0 ] || exit "$status"
echo "50-benchmark: took $((SECONDS - started)) s"

result() {  # result NAME: a value from the results file
  sed -n "s/^$1='\{0,1\}\([^']*\)'\{0,1\}\$/\1/p" "$results"
}
instruction_ratio=$(result instruction_ratio)
needed_ours=$(result needed_ours)
forbidden_needed_ours=$(result forbidden_needed_ours)
failed=0
if [ -z "$instruction_ratio" ] || [ -z "$needed_ours" ]; then
  echo "FAIL: the benchmark wrote no results"
  exit 1
fi
if ! awk -v r="$instruction_ratio" 'BEGIN { exit !(r <= 1.05) }'; then
  echo "FAIL: one login costs $instruction_ratio times the stock module's instructions (limit 1.05)"
  failed=1
fi
if [ -n "$forbidden_needed_ours" ]; then
  echo "FAIL: the module needs $forbidden_needed_ours"
  failed=1
fi
for library in $needed_ours; do
  case $library in
    libpam.so.0|libkeyutils.so.1|libc.so.6) ;;
    *) echo "FAIL: unexpected NEEDED entry $library"; failed=1 ;;
  esac
done
[ "$failed" -eq 0 ] && echo "50-benchmark: instructions ours/stock $instruction_ratio (limit 1.05); NEEDED: $needed_ours"
exit "$failed"
