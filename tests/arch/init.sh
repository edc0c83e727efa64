#!/bin/busybox sh
# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=dash
# /init of the initramfs that tests/suites/45-arch.sh boots in qemu: runs the
# module's tests on that kernel and real pamtester sessions for users whose
# IDs do not fit in 16 bits, printing one line per case on the console:
#
#   ARCH-RESULT pass|fail|skip CASE[: DETAIL]
#
# and ARCH-DONE at the end. /arch/config names the build folder (BUILD) and
# the stock module (STOCK).
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin:/usr/sbin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /tmp /run/lock /var/log
mount -t tmpfs tmp /tmp
exec </dev/console >/dev/console 2>&1
# shellcheck disable=SC1091 # made by the suite
. /arch/config
hostname arch-test
echo 1 >/proc/sys/kernel/printk

result() {  # result pass|fail|skip CASE [DETAIL]
  echo "ARCH-RESULT $1 $2${3:+: $3}"
}
problems=""
problem() {  # problem TEXT: one more thing wrong in the current case
  problems="$problems; $*"
}

echo "ARCH-KERNEL $(uname -r) $(uname -m)"

syslogd -n -S -O /tmp/syslog &
for _ in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done

# gtest_program CASE PROGRAM [ARG...]
gtest_program() {
  name=$1
  shift
  "$@" --gtest_brief=1 >/tmp/gtest.log 2>&1
  status=$?
  summary=$(grep -E '^\[ *(PASSED|FAILED|SKIPPED) *\]' /tmp/gtest.log | tr -s ' ' | tr '\n' ' ')
  if [ "$status" -eq 0 ]; then
    result pass "$name" "$summary"
  else
    cat /tmp/gtest.log
    result fail "$name" "exit status $status; $summary"
  fi
}

gtest_program "unit tests" "$BUILD/tests/unit-tests"
gtest_program "symbols test" "$BUILD/tests/symbols-test" "$BUILD/module/pam_keyinit.so"
if [ -x "$BUILD/tests/stack-tests" ]; then
  gtest_program "stack tests" "$BUILD/tests/stack-tests"
fi
# A user who filled the key quota, logged in from a root-owned keyring: the
# fallback keyring owned by root, on this kernel.
if [ -x "$BUILD/tests/fault/fault-tests" ]; then
  gtest_program "key quota" "$BUILD/tests/fault/fault-tests" --gtest_filter='KeyQuota.*'
fi

# The keyrings a session sees, read by /arch/probe that pam_exec runs after
# the module, at open (probe.open_session) and at close (probe.close_session).
log_lines=0
syslog_since_case() {
  mark="arch-case-$$-$log_lines-$(date +%s%N)"
  logger -t arch-init "$mark"
  for _ in $(seq 100); do grep -q "$mark" /tmp/syslog && break; sleep 0.05; done
  tail -n +"$((log_lines + 1))" /tmp/syslog
}

# ours_debug_lines: the module's debug lines against what the kernel says:
# the keyring joined, its owner and the name of the user keyring linked are
# those the probe saw (not merely those the module meant to make). The line
# names the user keyring without its serial: finding that would take a
# system call made only when debugging.
ours_debug_lines() {
  joined=$(echo "$log" | grep -o "joined new session keyring $serial (\"_ses\", owned by uid [0-9]*) and linked the user keyring (\"_uid\.[0-9]*\") into it")
  if [ -z "$joined" ]; then
    problem "no debug line about joining session keyring $serial; the module logged: $(echo "$log" | grep -o 'pam_keyinit.*' | tr '\n' ' ')"
  else
    logged_uid=$(echo "$joined" | sed 's/.*owned by uid \([0-9]*\)).*/\1/')
    logged_name=$(echo "$joined" | sed 's/.*("\(_uid\.[0-9]*\)").*/\1/')
    # The kernel prints the owner as a signed number.
    logged_signed=$(awk -v u="$logged_uid" 'BEGIN { printf "%d", (u > 2147483647 ? u - 4294967296 : u) }')
    kernel_owner=$(echo "$session" | cut -d';' -f2)
    kernel_name=${link##*;}
    [ "$logged_signed" = "$kernel_owner" ] ||
      problem "the debug line says session keyring $serial is owned by uid $logged_uid; the kernel says $kernel_owner"
    [ "$logged_name" = "$kernel_name" ] ||
      problem "the debug line says user keyring $logged_name was linked; the session keyring links $link_serial ($kernel_name)"
  fi
  echo "$log" | grep -qF "revoked session keyring $serial" || problem "no debug line for revoking $serial"
}

# described UID: the module read the description of the keyring the session
# started with (the user's user-session keyring, which the kernel describes
# with the UID as a signed number).
described() {
  found=$(echo "$log" | grep -o 'open_session: session keyring [0-9]* \(cannot be described\|is ".*", owned by uid [0-9]*\)' | head -n 1)
  case $found in
    *"owned by uid $1") result pass "ours describes the keyring found, uid $1" "$found" ;;
    *) result fail "ours describes the keyring found, uid $1" "the module logged \"${found:-nothing about it}\"" ;;
  esac
}

# session MODULE USER UID GID KERNEL-UID KERNEL-GID: KERNEL-UID and -GID are
# UID and GID as the kernel prints them in a key's description: signed.
session() {
  module=$1 user=$2 uid=$3 gid=$4 kuid=$5 kgid=$6
  name="session $module uid $uid gid $gid"
  problems=""
  rm -f /tmp/probe.*
  log_lines=$(wc -l </tmp/syslog)
  before=$(keyctl id @s 2>/dev/null)
  pamtester -v "arch-$module" "$user" open_session close_session >/tmp/pamtester.log 2>&1
  status=$?
  log=$(syslog_since_case)
  [ "$status" -eq 0 ] || problem "pamtester exit status $status: $(tr '\n' ' ' </tmp/pamtester.log)"

  open=/tmp/probe.open_session
  close=/tmp/probe.close_session
  if [ ! -f "$open" ]; then
    problem "the probe did not run at open"
  else
    ids=$(sed -n 's/^ids //p' "$open")
    [ "$ids" = "0 0 0 0 0 0" ] || problem "caller's real, effective, saved UIDs and GIDs after open: $ids"
    serial=$(sed -n 's/^serial //p' "$open")
    session=$(sed -n 's/^session //p' "$open")
    links=$(grep -c '^link ' "$open")
    link=$(sed -n 's/^link //p' "$open" | head -n 1)
    link_serial=$(sed -n 's/^link-serial //p' "$open" | head -n 1)
    case $session in
      "keyring;$kuid;$kgid;"*";_ses") ;;
      *) problem "session keyring $serial is \"$session\", not a _ses keyring of uid $uid gid $gid" ;;
    esac
    if [ -z "$serial" ] || [ "$serial" = "$before" ]; then
      problem "no new session keyring (before: $before, after: $serial)"
    fi
    [ "$links" = 1 ] || problem "the session keyring links $links keys, not 1: $(sed -n 's/^link //p' "$open" | tr '\n' ' ')"
    case $link in
      "keyring;$kuid;"*";_uid.$uid") ;;
      *) problem "the session keyring links \"$link\", not _uid.$uid owned by uid $uid" ;;
    esac
    if [ "$module" = ours ]; then
      ours_debug_lines
    fi
  fi
  if [ ! -f "$close" ]; then
    problem "the probe did not run at close"
  else
    ids=$(sed -n 's/^ids //p' "$close")
    [ "$ids" = "0 0 0 0 0 0" ] || problem "caller's real, effective, saved UIDs and GIDs after close: $ids"
    grep -q '^session-error .*revoked' "$close" || problem "the session keyring is not revoked at close: $(tr '\n' ' ' <"$close")"
  fi
  if [ -z "$problems" ]; then
    result pass "$name" "keyring $serial \"$session\" linking \"$link\""
  else
    result fail "$name" "${problems#; }"
  fi
  [ "$module" = ours ] && described "$uid"
  return 0
}

while read -r user uid gid kuid kgid; do
  for module in ours stock; do
    session "$module" "$user" "$uid" "$gid" "$kuid" "$kgid"
  done
done </arch/users

echo ARCH-DONE
sync
reboot -f
