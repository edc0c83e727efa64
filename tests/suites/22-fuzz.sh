#!/usr/bin/env bash
# libFuzzer on the module's argument parsing, its decision and its parsing of
# key descriptions (tests/fuzz): built with clang++ and
# -fsanitize=fuzzer,address,undefined in build-fuzz, replayed on the
# committed seed corpus, then run for a bounded time (PAM_KEYINIT_FUZZ_SECONDS,
# 60 by default). Any crash, sanitizer report or broken invariant fails the
# suite; the input that found it is kept and printed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib/common.sh

ensure_packages clang libclang-rt-14-dev "${BASE_PACKAGES[@]}" || exit 1

started=$SECONDS
build="build-fuzz"
seconds=${PAM_KEYINIT_FUZZ_SECONDS:-60}

if ! CXX=clang++ configure_build "$build" -Dfuzzing=true -Dbenchmarks=disabled -Dman=disabled ||
   ! meson compile -C "$build" options-decision-fuzzer; then
  echo "22-fuzz: FAIL: cannot build the fuzzer"
  exit 1
fi
fuzzer=$PWD/$build/tests/fuzz/options-decision-fuzzer

work=$(mktemp -d -t pam-keyinit-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus" "$work/artifacts"

echo "22-fuzz: replaying the seed corpus"
if ! "$fuzzer" -runs=0 tests/fuzz/corpus >"$work/replay.log" 2>&1; then
  cat "$work/replay.log"
  echo "22-fuzz: FAIL: a seed input fails"
  exit 1
fi

echo "22-fuzz: fuzzing for $seconds s"
"$fuzzer" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$work/artifacts/" "$work/corpus" tests/fuzz/corpus >"$work/fuzz.log" 2>&1
status=$?
grep -E '^stat::' "$work/fuzz.log"
executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log")
if [ "$status" -ne 0 ] || [ -n "$(ls -A "$work/artifacts")" ]; then
  tail -n 60 "$work/fuzz.log"
  mkdir -p "$build/findings"
  cp "$work"/artifacts/* "$build/findings/" 2>/dev/null
  echo "22-fuzz: FAIL: libFuzzer found a problem (exit $status); inputs kept in $build/findings/"
  exit 1
fi
if [ -z "$executions" ] || [ "$executions" -lt 1000 ]; then
  tail -n 20 "$work/fuzz.log"
  echo "22-fuzz: FAIL: the fuzzer hardly ran (${executions:-no} executions)"
  exit 1
fi
echo "22-fuzz: $executions executions in $seconds s, $(find "$work/corpus" -type f | wc -l) new corpus entries, no finding; took $((SECONDS - started)) s"
