#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# libFuzzer (tests/fuzz), built with clang++ and
# -fsanitize=fuzzer,address,undefined in build-fuzz:
#  - options-decision-fuzzer: the module's argument parsing, its decision and
#    its parsing of key descriptions (seed corpus tests/fuzz/corpus);
#  - session-flow-fuzzer: whole flows of open_session, close_session, setcred
#    and authenticate on several handles through the real session code
#    against the fake system, with fuzzed keyrings and failures, checked
#    against doc/design.md after every call (seed corpus
#    tests/fuzz/flow-corpus).
# Each is replayed on its seed corpus, then run for a bounded time
# (PAM_KEYINIT_FUZZ_SECONDS, 60 by default). Any crash, sanitizer report,
# leak or broken invariant fails the suite; the input that found it is kept
# and printed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib/common.sh

ensure_packages clang libclang-rt-dev "${BASE_PACKAGES[@]}" || exit 1

started=$SECONDS
build="build-fuzz"
seconds=${PAM_KEYINIT_FUZZ_SECONDS:-60}
passed=0
failed=0

if ! CXX=clang++ configure_build "$build" -Dfuzzing=true -Dbenchmarks=disabled -Dman=disabled ||
   ! meson compile -C "$build" options-decision-fuzzer session-flow-fuzzer; then
  echo "22-fuzz: FAIL: cannot build the fuzzers"
  echo "22-fuzz: 0 passed, 2 failed, 0 skipped"
  exit 1
fi

work=$(mktemp -d -t pam-keyinit-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT

# fuzz NAME SEED-CORPUS: replays, then fuzzes for $seconds s.
fuzz() {
  local name=$1 seeds=$2 fuzzer=$PWD/$build/tests/fuzz/$1 status executions
  mkdir "$work/$name" "$work/$name/corpus" "$work/$name/artifacts"
  echo "22-fuzz: $name: replaying the seed corpus ($(find "$seeds" -type f | wc -l) inputs)"
  if ! "$fuzzer" -runs=0 "$seeds" >"$work/$name/replay.log" 2>&1; then
    tail -n 60 "$work/$name/replay.log"
    echo "22-fuzz: FAIL: $name: a seed input fails"
    return 1
  fi
  echo "22-fuzz: $name: fuzzing for $seconds s (at $((SECONDS - started)) s)"
  # libFuzzer's own progress lines go to the log; every 20 s the last one
  # ("#EXECUTIONS ... cov: ... exec/s: ...") is shown.
  "$fuzzer" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$work/$name/artifacts/" "$work/$name/corpus" "$seeds" \
    >"$work/$name/fuzz.log" 2>&1 &
  local pid=$! waited=0
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    waited=$((waited + 1))
    if [ $((waited % 20)) -eq 0 ]; then
      echo "   $name at $waited s: $(grep -E '^#[0-9]+' "$work/$name/fuzz.log" | tail -n 1 | cut -c1-100)"
    fi
  done
  wait "$pid"
  status=$?
  grep -E '^stat::' "$work/$name/fuzz.log"
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name/fuzz.log")
  if [ "$status" -ne 0 ] || [ -n "$(ls -A "$work/$name/artifacts")" ]; then
    tail -n 60 "$work/$name/fuzz.log"
    mkdir -p "$build/findings"
    cp "$work/$name"/artifacts/* "$build/findings/" 2>/dev/null
    echo "22-fuzz: FAIL: $name: libFuzzer found a problem (exit $status); inputs kept in $build/findings/"
    return 1
  fi
  if [ -z "$executions" ] || [ "$executions" -lt 1000 ]; then
    tail -n 20 "$work/$name/fuzz.log"
    echo "22-fuzz: FAIL: $name: the fuzzer hardly ran (${executions:-no} executions)"
    return 1
  fi
  echo "22-fuzz: $name: $executions executions in $seconds s, $(find "$work/$name/corpus" -type f | wc -l) new corpus entries, no finding"
}

for pair in options-decision-fuzzer:tests/fuzz/corpus session-flow-fuzzer:tests/fuzz/flow-corpus; do
  if fuzz "${pair%%:*}" "${pair#*:}"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
done
echo "22-fuzz: $passed passed, $failed failed, 0 skipped"
echo "22-fuzz: took $((SECONDS - started)) s"
[ "$failed" -eq 0 ]
