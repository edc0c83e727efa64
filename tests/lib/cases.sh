# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# Sourced by the suites that count their own cases: pass, fail and skip
# print one line each ("ok: …", "FAIL: …", "skipped: …", the form
# scripts/test collects) and count it, for the suite's closing line
# "NAME: N passed, M failed, K skipped".
passed=0
failed=0
skipped=0
pass() {
  echo "ok: $*"
  passed=$((passed + 1))
}
fail() {
  echo "FAIL: $*"
  failed=$((failed + 1))
}
skip() {
  echo "skipped: $*"
  skipped=$((skipped + 1))
}
