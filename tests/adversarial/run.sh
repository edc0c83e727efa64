#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Runs the adversarial harness (tests/adversarial/adversarial.cc) built in
# BUILD against the module built there and Linux-PAM's module, as root:
#
#   tests/adversarial/run.sh BUILD [LABEL [CASE-PREFIX...]]
#
# It makes the users the attacks need (pkt-adv-caller, pkt-adv-alice,
# pkt-adv-bob, pkt-adv-quota, and pkt-adv-fresh with a uid that has no keys
# in the kernel yet) and a folder for the service files, and
# removes both when it ends, however it ends. The harness prints one line
# per case with what each module did, then "ok: CASE", "FAIL: CASE: WHY"
# or "skipped: CASE: WHY" for ours; the last line is
# "LABEL: N passed, M failed, K skipped" (LABEL: adversarial by default).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
build=${1:?usage: tests/adversarial/run.sh BUILD [LABEL [CASE-PREFIX...]]}
label=${2:-adversarial}
shift $(($# < 2 ? $# : 2))
harness=$build/tests/adversarial/adversarial
if [ ! -x "$harness" ]; then
  echo "$label: FAIL: no harness at $harness (meson compile -C $build adversarial)"
  exit 1
fi

users=(pkt-adv-caller pkt-adv-alice pkt-adv-bob pkt-adv-quota pkt-adv-fresh)
workdir=
# shellcheck disable=SC2317  # run by the trap
cleanup() {
  local user
  for user in "${users[@]}"; do
    if id "$user" >/dev/null 2>&1; then
      userdel "$user" 2>/dev/null || echo "$label: cannot remove user $user"
    fi
  done
  [ -n "$workdir" ] && rm -rf --one-file-system "$workdir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# A uid that neither passwd nor the kernel's key accounting knows: the
# kernel keeps a uid's user keyrings after the user is gone.
unused_uid() {
  local uid
  for ((uid = 3900000 + RANDOM * 3; ; uid++)); do
    getent passwd "$uid" >/dev/null && continue
    grep -q "^ *$uid:" /proc/key-users && continue
    echo "$uid"
    return
  done
}
for user in "${users[@]}"; do
  id "$user" >/dev/null 2>&1 && [ "$user" != pkt-adv-fresh ] && continue
  [ "$user" = pkt-adv-fresh ] && { userdel "$user" 2>/dev/null; uid_option=(--uid "$(unused_uid)"); } || uid_option=()
  useradd "${uid_option[@]}" --no-create-home --shell /usr/sbin/nologin \
    --comment 'pam-keyinit tests' "$user" 2>/dev/null ||
    { echo "$label: FAIL: cannot create user $user"; exit 1; }
done
workdir=$(mktemp -d -t pam-keyinit-adversarial.XXXXXX) || exit 1
chmod 755 "$workdir"

log=$workdir/output
started=$SECONDS
"$harness" --workdir "$workdir" --caller pkt-adv-caller --alice pkt-adv-alice \
  --bob pkt-adv-bob --quota pkt-adv-quota --fresh pkt-adv-fresh "$@" 2>&1 | tee "$log" |
  grep -v -E '^adversarial: [0-9]+ passed'
status=${PIPESTATUS[0]}
passed=$(grep -c '^ok: ' "$log")
failed=$(grep -c '^FAIL: ' "$log")
skipped=$(grep -c '^skipped: ' "$log")
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "FAIL: the harness ended with status $status"
  failed=1
fi
echo "$label: took $((SECONDS - started)) s"
echo "$label: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
