#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Whole logins, one process each, through the built module:
#  - 2,000 pamtester runs in a row (PAM_KEYINIT_PAMTESTER_RUNS to change it),
#    each opening and closing a session with force and revoke: every one must
#    succeed, and the user's charged keys (/proc/key-users) must stay under
#    kernel.keys.maxkeys;
#  - valgrind --error-exitcode=1 on pamtester sessions through the module
#    (with and without debug and persistent): no memory error, no leak.
# The in-process stress test (8 threads, 2,000 sessions) is the meson suite
# "stress", run by scripts/test and, under ASan and TSan, by 20-sanitizers.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib/common.sh

skip_unless_root 24-stress "it writes /etc/pam.d and opens sessions for a real user"
ensure_packages pamtester valgrind "${BASE_PACKAGES[@]}" || exit 1

started=$SECONDS
build=${PAM_KEYINIT_BUILD_DIR:-$PWD/build-test}
if [ ! -f "$build/module/pam_keyinit.so" ]; then
  configure_build "$build" && meson compile -C "$build" || exit 1
fi
module=$(readlink -f "$build/module/pam_keyinit.so")

user=pkt-stress-0
id "$user" >/dev/null 2>&1 ||
  useradd --no-create-home --shell /usr/sbin/nologin --comment 'pam-keyinit tests' "$user" || exit 1
uid=$(id -u "$user")

service=pam-keyinit-stress-$$
service_debug=pam-keyinit-stress-debug-$$
# shellcheck disable=SC2317  # run by the trap
cleanup() { rm -f "/etc/pam.d/$service" "/etc/pam.d/$service_debug"; }
trap cleanup EXIT
printf 'session required %s force revoke\n' "$module" >"/etc/pam.d/$service"
printf 'session required %s debug force revoke persistent\n' "$module" >"/etc/pam.d/$service_debug"

keys_charged() {  # qnkeys of $uid in /proc/key-users
  awk -v owner="$uid:" '$1 == owner { split($4, q, "/"); print q[1]; found = 1 } END { if (!found) print 0 }' /proc/key-users
}
max_keys=$(cat /proc/sys/kernel/keys/maxkeys)

runs=${PAM_KEYINIT_PAMTESTER_RUNS:-2000}
failures=0
peak=0
echo "24-stress: $runs pamtester sessions in a row for $user (uid $uid; kernel.keys.maxkeys $max_keys)"
loop_started=$SECONDS
for ((i = 1; i <= runs; i++)); do
  if ! output=$(pamtester "$service" "$user" open_session close_session 2>&1); then
    failures=$((failures + 1))
    [ "$failures" -le 5 ] && echo "run $i failed: $output"
  fi
  if ((i % 50 == 0)); then
    charged=$(keys_charged)
    ((charged > peak)) && peak=$charged
  fi
done
loop_seconds=$((SECONDS - loop_started))
echo "24-stress: $((runs - failures))/$runs pamtester sessions succeeded in $loop_seconds s; at most $peak of $max_keys keys charged to $user"
failed=0
if [ "$failures" -ne 0 ]; then
  echo "24-stress: FAIL: $failures pamtester runs failed"
  failed=1
fi
if ((peak >= max_keys)); then
  echo "24-stress: FAIL: $user's key quota was full"
  failed=1
fi

for name in "$service" "$service_debug"; do
  log=$(mktemp -t pam-keyinit-valgrind.XXXXXX)
  if valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
       --track-origins=yes pamtester "$name" "$user" open_session close_session >"$log" 2>&1; then
    echo "24-stress: valgrind on pamtester with $name: $(grep -o 'ERROR SUMMARY: [0-9]* errors' "$log")"
  else
    cat "$log"
    echo "24-stress: FAIL: valgrind reports errors on pamtester with $name"
    failed=1
  fi
  rm -f "$log"
done

echo "24-stress: took $((SECONDS - started)) s"
exit "$failed"
