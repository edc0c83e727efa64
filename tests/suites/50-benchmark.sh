#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Runs tests/benchmark.sh once, briefly, so that it cannot rot. Whole-login
# instruction counts, wall times and sessions per second move with the
# machine, its libraries and its load, and are only printed. What is
# asserted is what the module controls and what does not move:
#  - the instructions executed inside the module's own object and
#    libkeyutils during one pamtester login, against those inside the stock
#    module's object (callgrind, self cost per object): at most
#    MAX_EXTRA_INSTRUCTIONS more;
#  - NEEDED, which decides what loading the module costs: libpam, libkeyutils
#    and libc, never the C++ runtime, libgcc_s or libm.
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
MAX_EXTRA_INSTRUCTIONS=2000
code_stock=$(result module_code_instructions_stock)
code_ours=$(result module_code_instructions_ours)
needed_ours=$(result needed_ours)
forbidden_needed_ours=$(result forbidden_needed_ours)
failed=0
if [ -z "$code_stock" ] || [ -z "$code_ours" ] || [ -z "$needed_ours" ]; then
  echo "FAIL: the benchmark wrote no results"
  exit 1
fi
extra=$((code_ours - code_stock))
if [ "$code_ours" -le 0 ] || [ "$code_stock" -le 0 ]; then
  echo "FAIL: callgrind saw no instructions in a module's object (stock $code_stock, ours $code_ours)"
  failed=1
elif [ "$extra" -gt "$MAX_EXTRA_INSTRUCTIONS" ]; then
  echo "FAIL: one login runs $extra more instructions in our module and libkeyutils than in the stock module (limit $MAX_EXTRA_INSTRUCTIONS)"
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
[ "$failed" -eq 0 ] && echo "50-benchmark: instructions in the module's code per login: ours $code_ours, stock $code_stock ($extra more, limit $MAX_EXTRA_INSTRUCTIONS); NEEDED: $needed_ours"
exit "$failed"
