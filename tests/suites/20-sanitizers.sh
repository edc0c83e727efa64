#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The tests again under sanitizers (g++ and its runtimes):
#  - AddressSanitizer + UndefinedBehaviorSanitizer (build-asan): the unit,
#    real-stack, fault-injection, stress and symbols suites. The module
#    itself is instrumented there, so its NEEDED names libasan and libubsan:
#    the symbols suite knows a sanitizer build and allows exactly those.
#  - ThreadSanitizer (build-tsan): the thread tests of the real-stack suite
#    and the stress test (8 threads, 2,000 sessions).
# Any sanitizer report fails the suite. Both builds are complete builds, so
# that everything the tests use (generated service files too) is there.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
top=$PWD
. scripts/lib/common.sh

ensure_packages libasan8 libubsan1 libtsan2 "${BASE_PACKAGES[@]}" || exit 1

started=$SECONDS
failed=0
common_options=(-Dbenchmarks=disabled -Dman=disabled -Dwerror=false)

echo "20-sanitizers: ASan+UBSan build"
if configure_build build-asan -Db_sanitize=address,undefined "${common_options[@]}" &&
   meson compile -C build-asan; then
  ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C build-asan --no-rebuild --print-errorlogs --num-processes 2 \
      --suite unit --suite stack --suite fault --suite stress --suite symbols || failed=1
else
  echo "20-sanitizers: FAIL: cannot build with -Db_sanitize=address,undefined"
  failed=1
fi
echo "20-sanitizers: ASan+UBSan done at $((SECONDS - started)) s"

echo "20-sanitizers: TSan build"
tsan_options="halt_on_error=1 second_deadlock_stack=1 suppressions=$top/tests/stress/tsan.supp"
if configure_build build-tsan -Db_sanitize=thread "${common_options[@]}" &&
   meson compile -C build-tsan; then
  TSAN_OPTIONS=$tsan_options build-tsan/tests/stack-tests --gtest_filter='Threads.*' || failed=1
  TSAN_OPTIONS=$tsan_options build-tsan/tests/stress/stress-tests || failed=1
else
  echo "20-sanitizers: FAIL: cannot build with -Db_sanitize=thread"
  failed=1
fi

echo "20-sanitizers: took $((SECONDS - started)) s"
exit "$failed"
