#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The standard meson options a packager reaches for must build the module,
# the unit tests and the benchmarks (when Google Benchmark is installed)
# with warnings as errors, and pass the unit tests: -Db_sanitize=address,
# undefined, -Dbuildtype=release, -Dbuildtype=plain and -Db_lto=true. The
# programs of the other meson suites are left to the suites that run them,
# to keep within the time budget. Each build lives in build-options/<name>
# and is reused on the next run.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib/common.sh

ensure_packages libasan8 libubsan1 "${BASE_PACKAGES[@]}" || exit 1

started=$SECONDS
passed=0
failed=0
work=$(mktemp -d -t pam-keyinit-build-options.XXXXXX)
trap 'rm -rf "$work"' EXIT

# build_one DIR MESON-OPTION...: the module, the unit tests and whatever
# the build has of the benchmarks.
build_one() {
  local dir=$1 targets=(pam_keyinit unit-tests) target
  configure_build "$@" || return
  for target in pam_bench_floor session-bench; do
    if meson introspect "$dir" --targets | grep -q "\"name\": \"$target\""; then
      targets+=("$target")
    fi
  done
  echo "targets: ${targets[*]}"
  meson compile -C "$dir" "${targets[@]}"
}

# check NAME MESON-OPTION...
check() {
  local name=$1 dir=build-options/$1
  shift
  echo "26-build-options: $name ($*): building at $((SECONDS - started)) s"
  if run_logged "$name" "$work/$name-build.log" \
       build_one "$dir" -Dwerror=true -Dman=disabled "$@"; then
    echo "26-build-options: $name: builds"
    passed=$((passed + 1))
  else
    tail -n 40 "$work/$name-build.log"
    echo "26-build-options: FAIL: $name: does not build"
    failed=$((failed + 1))
    echo "26-build-options: FAIL: $name: unit tests not run"
    failed=$((failed + 1))
    return
  fi
  if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
       run_logged "$name" "$work/$name-test.log" \
       meson test -C "$dir" --no-rebuild --print-errorlogs --suite unit; then
    echo "26-build-options: $name: unit tests pass"
    passed=$((passed + 1))
  else
    tail -n 40 "$work/$name-test.log"
    echo "26-build-options: FAIL: $name: unit tests fail"
    failed=$((failed + 1))
  fi
}

check sanitize -Db_sanitize=address,undefined
check release -Dbuildtype=release
check plain -Dbuildtype=plain
check lto -Db_lto=true

echo "26-build-options: $passed passed, $failed failed, 0 skipped"
echo "26-build-options: took $((SECONDS - started)) s"
[ "$failed" -eq 0 ]
