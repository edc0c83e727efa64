#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# scripts/test: runs beside other suites (containers and virtual machines of its own)
# Real login programs (ssh, login, su -l, runuser, sudo -i, lightdm, the
# systemd user manager, cron; run0 on Debian 13) in a Debian 12 and then a
# Debian 13 system booted under systemd-nspawn, with this module and with
# the stock one: tests/e2e/e2e.sh RELEASE, which a developer runs the same
# way. E2E_RELEASES="trixie" picks releases.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

read -r -a releases <<<"${E2E_RELEASES:-bookworm trixie}"
passed=0 failed=0 skipped=0 worst=0
for release in "${releases[@]}"; do
  log=$(mktemp -t pam-keyinit-e2e-log.XXXXXX)
  bash tests/e2e/e2e.sh "$release" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  closing=$(grep -E "^e2e $release: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped\$" "$log" | tail -n 1)
  reason=$(grep -E "^e2e $release: skipped: " "$log" | tail -n 1)
  rm -f "$log"
  if [ "$status" -eq 77 ]; then
    # The same reason for every release: the suite is skipped.
    echo "48-e2e: skipped: ${reason#"e2e $release: skipped: "}"
    exit 77
  fi
  if [ -n "$closing" ]; then
    read -r p f s < <(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$/\1 \2 \3/' <<<"$closing")
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
  fi
  if [ "$status" -ne 0 ]; then
    worst=1
    [ -n "$closing" ] && [ "${f:-0}" -gt 0 ] || failed=$((failed + 1))
  fi
done
echo "48-e2e: $passed passed, $failed failed, $skipped skipped"
exit "$worst"
