#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The README's Quick start on a fresh Debian 12 and a fresh Debian 13 system
# (tests/fresh-machine.sh), both at once: proves on every run that nothing
# passes because this machine happens to have a package installed, on each
# release the README names. Each fresh system makes its users from a UID
# range of its own (20000 and 30000): both share this machine's kernel, whose
# key quotas and user keyrings are per UID. Skipped, with its reason, inside
# a container. FRESH_RELEASES="bookworm" picks releases.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib/common.sh

skip_unless_root 90-fresh-machine "mmdebstrap and systemd-nspawn"
skip_in_container 90-fresh-machine "it cannot start systemd-nspawn"

# What both need, installed once before they start side by side.
ensure_packages mmdebstrap systemd-container git || exit 1
apt_update_once || exit 1
read -r -a releases <<<"${FRESH_RELEASES:-bookworm trixie}"
logs=$(mktemp -d -t pam-keyinit-fresh-logs.XXXXXX)
trap 'rm -rf "$logs"' EXIT

pids=()
uid_min=20000
for release in "${releases[@]}"; do
  FRESH_UID_MIN=$uid_min bash tests/fresh-machine.sh "$release" >"$logs/$release.log" 2>&1 &
  pids+=($!)
  uid_min=$((uid_min + 10000))
done
# What each has reached, every minute, while they run.
while [ -n "$(jobs -r)" ]; do
  sleep 60
  for release in "${releases[@]}"; do
    echo "   $release at $(date +%T): $(grep -a '^== fresh machine\|^  | == \|^  | [0-9a-z-]*: [0-9]* passed' "$logs/$release.log" | tail -n 1 | cut -c1-150)"
  done
done

passed=0 failed=0 results=()
for i in "${!releases[@]}"; do
  release=${releases[$i]}
  wait "${pids[$i]}"
  status=$?
  echo "== 90-fresh-machine: $release (output follows)"
  cat "$logs/$release.log"
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    results+=("ok: the Quick start on a fresh $release system")
  else
    failed=$((failed + 1))
    results+=("FAIL: the Quick start on a fresh $release system (exit $status)")
  fi
done
printf '%s\n' "${results[@]}"
echo "90-fresh-machine: $passed passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]
