#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Real login programs, end to end: a Debian 12 or Debian 13 system booted
# with systemd under systemd-nspawn, where a normal user logs in with ssh,
# login, su -l, runuser, sudo -i, lightdm (autologin on Xvfb), the systemd
# user manager, cron and, on Debian 13, run0 (tests/e2e/inside.sh drives
# them in the container and reports what each session got). Three boots of
# the same system, at the same time:
#   stock    keyctl() allowed, Linux-PAM's pam_keyinit (libpam-modules);
#   ours     keyctl() allowed, this module installed from a package built
#            from the tree for that release (on this machine for its own
#            release, else in a build root of that release, which
#            46-releases shares); its preinst diverts the stock module;
#   blocked  this module, nspawn's default seccomp filter (keyctl() fails
#            with EPERM), every pam_keyinit line made "required".
# Where the stock module behaves differently, both sides are asserted.
# As root: tests/e2e/e2e.sh [bookworm|trixie]. The root tarballs are cached
# in $PAM_KEYINIT_TEST_CACHE (/var/cache/pam-keyinit-tests).
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
. scripts/lib/common.sh
. tests/lib/roots.sh
E2E_SUITE=${1:-bookworm}
case $E2E_SUITE in
  bookworm) release="Debian 12" ;;
  trixie) release="Debian 13" ;;
  *) echo "e2e: unknown release $E2E_SUITE (bookworm or trixie)" >&2; exit 2 ;;
esac
. tests/e2e/image.sh

name="e2e $E2E_SUITE"
skip_unless_root "$name" "systemd-nspawn, mmdebstrap"
# Nested in a container manager's container, nspawn cannot boot another
# (the probe after the root tarball checks that too, for containers that
# leave no mark).
skip_in_container "$name" "systemd-nspawn cannot boot a system of its own"

ensure_packages mmdebstrap systemd-container dpkg-dev debhelper scdoc \
  meson pkg-config libpam0g-dev libkeyutils-dev g++ ninja-build >/dev/null

cache=${PAM_KEYINIT_TEST_CACHE:-/var/cache/pam-keyinit-tests}
work=$(mktemp -d -t pam-keyinit-e2e.XXXXXX)
build_pid=
declare -A nspawn_pids=() tail_pids=()
cleanup() {
  local pid mode
  if [ -n "$build_pid" ] && kill -0 "$build_pid" 2>/dev/null; then
    kill "$build_pid" 2>/dev/null || true
    wait "$build_pid" 2>/dev/null || true
  fi
  for pid in "${nspawn_pids[@]}" "${tail_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  for mode in "${!nspawn_pids[@]}"; do remove_cgroups "e2e-$$-$mode"; done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

started=$SECONDS
passed=0
failed=0
skipped=0
say() { echo "$name: [$((SECONDS - started)) s] $*"; }
pass() { passed=$((passed + 1)); echo "ok: $E2E_SUITE: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $E2E_SUITE: $*"; }
skip() { skipped=$((skipped + 1)); echo "skipped: $E2E_SUITE: $*"; }

# --- the package and the system -------------------------------------------------
# The package is built from a copy of the tree while the stock boot runs.
say "building the package for $release from a copy of the tree (in the background)"
mkdir "$work/src"
tar -C "$top" --exclude=./.git --exclude='./build*' --exclude='./obj-*' \
  --exclude=./debian/.debhelper --exclude=./debian/libpam-keyinit --exclude=./debian/tmp \
  -cf - . | tar -C "$work/src" -xf -
build_package() {  # the package for $E2E_SUITE, into $work
  local tarball root=$work/build-root
  if [ "$E2E_SUITE" = "$DEBIAN_CODENAME" ]; then
    (cd "$work/src" && DEB_BUILD_OPTIONS=nocheck exec dpkg-buildpackage -us -uc -b)
    return
  fi
  # Another release: in its build root (buildd and the Build-Depends).
  cp debian/control "$work/control"
  chmod 755 "$work"
  chmod 644 "$work/control"
  tarball=$(roots_build_tarball "$E2E_SUITE" "$work/control") || return 1
  extract "$tarball" "$root"
  mkdir -p "$root/build"
  cp -a "$work/src" "$root/build/src"
  # shellcheck disable=SC2016 # expanded in the root
  in_root "$root" sh -c 'cd /build/src && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b' || return 1
  cp "$root"/build/libpam-keyinit_*.deb "$work/"
  rm -rf --one-file-system "$root"
}
build_package >"$work/build.log" 2>&1 &
build_pid=$!
deb=
wait_for_package() {
  [ -n "$deb" ] && return 0
  local status=0
  say "waiting for the package build"
  wait "$build_pid" || status=$?
  build_pid=
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$work/build.log"
    echo "$name: FAIL: dpkg-buildpackage failed (exit $status)"
    exit 1
  fi
  deb=$(ls "$work"/libpam-keyinit_*.deb)
  say "built $(basename "$deb")"
}

say "the $release system (mmdebstrap, cached)"
tarball=$(e2e_tarball "$cache" "$work") || { echo "$name: FAIL: cannot make the root tarball"; exit 1; }

declare -A seen=()

# Every container in a cgroup of its own. Where systemd runs this machine,
# nspawn asks it for a scope; elsewhere (no systemd as PID 1) nspawn stays in
# the cgroup it is started in and puts the container's under it, so each
# boot is started from a cgroup made here, and two boots never share one.
own_cgroup() {  # own_cgroup NAME: moves this (sub)shell into cgroup NAME
  local hierarchy
  [ -d /run/systemd/system ] && return 0
  for hierarchy in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified /sys/fs/cgroup; do
    [ -e "$hierarchy/cgroup.procs" ] || continue
    [ "$hierarchy" = /sys/fs/cgroup ] && [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] && continue
    mkdir -p "$hierarchy/$1"
    echo "$BASHPID" >"$hierarchy/$1/cgroup.procs"
  done
}
remove_cgroups() {  # remove_cgroups NAME: once its processes are gone
  local hierarchy
  for hierarchy in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified /sys/fs/cgroup; do
    [ -d "$hierarchy/$1" ] || continue
    find "$hierarchy/$1" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}
nspawn_unit=(--keep-unit)
[ -d /run/systemd/system ] && nspawn_unit=()
# Debian 13's systemd (257) boots only on the unified cgroup hierarchy,
# which Debian 12's nspawn gives a container only when asked, on a host
# with the legacy one.
[ "$E2E_SUITE" = bookworm ] || export SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1

prepare() {  # prepare MODE: a fresh root for one boot
  local mode=$1 root=$work/root-$1 probe
  rm -rf --one-file-system "$root"
  mkdir "$root"
  tar -C "$root" -xf "$tarball"
  # Where nspawn cannot start a container (nested in one that leaves no mark,
  # or without the privileges), the suite cannot run.
  if ! probe=$(own_cgroup "e2e-$$-probe" && systemd-nspawn --quiet --register=no "${nspawn_unit[@]}" --pipe \
    --directory="$root" -- /bin/true 2>&1); then
    echo "$name: skipped: systemd-nspawn cannot start a container here: $(head -n 1 <<<"$probe")"
    exit 77
  fi
  remove_cgroups "e2e-$$-probe"
  mkdir -p "$root/root/e2e/conf"
  cp tests/e2e/inside.sh "$root/root/e2e/inside.sh"
  cp conf-examples/sudo conf-examples/cron conf-examples/gdm-password conf-examples/systemd-run0 "$root/root/e2e/conf/"
  # lightdm is started by the cases, once its user and configuration are there.
  rm -f "$root/etc/systemd/system/display-manager.service"
  echo "$mode" >"$root/root/e2e/mode"
  : >"$root/root/e2e/out.log"
  cat >"$root/etc/systemd/system/e2e.service" <<'EOF'
[Unit]
Description=Login programs, end to end
After=multi-user.target ssh.service cron.service systemd-logind.service systemd-user-sessions.service

[Service]
Type=oneshot
ExecStart=/root/e2e/inside.sh
TimeoutStartSec=600
EOF
  ln -s ../e2e.service "$root/etc/systemd/system/multi-user.target.wants/e2e.service"
  if [ "$mode" != stock ]; then
    wait_for_package
    cp "$deb" "$root/root/libpam-keyinit.deb"
    if ! (own_cgroup "e2e-$$-dpkg" && systemd-nspawn --quiet --register=no "${nspawn_unit[@]}" --pipe \
      --directory="$root" -- dpkg -i /root/libpam-keyinit.deb) >"$work/dpkg-$mode.log" 2>&1; then
      cat "$work/dpkg-$mode.log"
      echo "$name: FAIL: $mode: dpkg -i of the package"
      exit 1
    fi
    remove_cgroups "e2e-$$-dpkg"
  fi
}

start() {  # start MODE: boots MODE's root in the background
  local mode=$1 root=$work/root-$1 filter=()
  [ "$mode" = blocked ] || filter=(--system-call-filter='keyctl add_key request_key')
  say "$mode: booting (systemd-nspawn -b${filter:+ ${filter[*]}})"
  (
    own_cgroup "e2e-$$-$mode"
    exec timeout 540 systemd-nspawn --quiet --register=no "${nspawn_unit[@]}" --boot --private-network \
      --console=passive --directory="$root" --machine="e2e-$$-$mode" "${filter[@]}"
  ) >"$work/nspawn-$mode.log" 2>&1 &
  nspawn_pids[$mode]=$!
  # Progress: the container's own report, as it is written.
  tail -n +1 -F --pid="${nspawn_pids[$mode]}" "$root/root/e2e/out.log" 2>/dev/null |
    grep --line-buffered '^e2e: ' | sed -u "s/^e2e: /$mode: /" &
  tail_pids[$mode]=$!
}

finish() {  # finish MODE: waits for MODE's boot; fills seen["MODE CASE KEY"]
  local mode=$1 root=$work/root-$1 line status=0
  wait "${nspawn_pids[$mode]}" || status=$?
  unset "nspawn_pids[$mode]"
  wait "${tail_pids[$mode]}" 2>/dev/null || true
  unset "tail_pids[$mode]"
  remove_cgroups "e2e-$$-$mode"
  if [ ! -e "$root/root/e2e/done" ]; then
    tail -n 30 "$work/nspawn-$mode.log"
    fail "$mode: the boot did not finish its cases (systemd-nspawn exit $status)"
  fi
  while read -r line; do
    read -r _ case key value <<<"$line"
    seen["$mode $case $key"]=$value
  done < <(grep '^obs ' "$root/root/e2e/out.log")
  # PAM_KEYINIT_E2E_KEEP=DIR keeps each boot's report and journal there.
  if [ -n "${PAM_KEYINIT_E2E_KEEP:-}" ]; then
    mkdir -p "$PAM_KEYINIT_E2E_KEEP"
    cp "$root/root/e2e/out.log" "$PAM_KEYINIT_E2E_KEEP/out-$mode.log"
    cp "$work/nspawn-$mode.log" "$PAM_KEYINIT_E2E_KEEP/"
    journalctl -D "$root/var/log/journal" -q -o short-precise >"$PAM_KEYINIT_E2E_KEEP/journal-$mode.log" 2>&1 || true
  fi
  rm -rf --one-file-system "$root"
  say "$mode: finished"
}

# --- assertions -------------------------------------------------------------------
value() { echo "${seen["$1 $2 $3"]-<none>}"; }
# check MODE CASE KEY EXPECTED WHAT
check() {
  local got
  got=$(value "$1" "$2" "$3")
  if [ "$got" = "$4" ]; then
    pass "$1: $2: $5 ($3 = $got)"
  else
    fail "$1: $2: $5 ($3: expected $4, got $got)"
  fi
}
# check_match MODE CASE KEY REGEX WHAT
check_match() {
  local got
  got=$(value "$1" "$2" "$3")
  if [[ $got =~ $4 ]]; then
    pass "$1: $2: $5 ($3 = $got)"
  else
    fail "$1: $2: $5 ($3: expected /$4/, got $got)"
  fi
}

# A session of the user's own: a new "_ses" owned by the user, linking
# _uid.UID; and, with revoke, revoked once the session closed.
own_keyring() {  # own_keyring MODE CASE [revoked]
  local uid
  uid=$(value "$1" system uid)
  check "$1" "$2" owner "$uid" "the session keyring belongs to the user"
  check "$1" "$2" name _ses "it is a session keyring (\"_ses\")"
  check "$1" "$2" uidlinked yes "_uid.$uid is linked into it"
  if [ "${3:-}" = revoked ]; then
    check "$1" "$2" after revoked "after logout a process the session left behind holds a revoked keyring"
  fi
}

RESULTS=()  # "program|mode|what the session got" for the summary
result() { RESULTS+=("$1|$2|$3"); }
describe() {  # what MODE's CASE session got, in words
  local owner name linked after uid
  uid=$(value "$1" system uid)
  owner=$(value "$1" "$2" owner)
  name=$(value "$1" "$2" name)
  linked=$(value "$1" "$2" uidlinked)
  after=$(value "$1" "$2" after)
  case $owner in
    "$uid") echo -n "own $name" ;;
    0) echo -n "the caller's (root's) $name" ;;
    *) echo -n "$(value "$1" "$2" desc)" ;;
  esac
  [ "$linked" = yes ] && echo -n ", _uid linked"
  case $after in
    revoked) echo -n ", revoked at logout" ;;
    valid:*) echo -n ", still valid after logout" ;;
    '<none>') ;;
    *) echo -n ", after logout: $after" ;;
  esac
  echo
}

allowed_cases() {  # allowed_cases MODE: what both allowed boots must show
  local mode=$1 uid kind via
  uid=$(value "$mode" system uid)
  check_match "$mode" system keyctl 'keyring' "keyctl() works in the container"
  check "$mode" ssh status 0 "ssh key login succeeds"
  own_keyring "$mode" ssh revoked
  check "$mode" ssh2 status 0/0 "two ssh logins at once succeed"
  check "$mode" ssh2 distinct yes "they get two different keyrings"
  own_keyring "$mode" sshA
  own_keyring "$mode" sshB
  for via in login-f login-pw; do
    check "$mode" "$via" status 0 "$via on a pty succeeds"
    own_keyring "$mode" "$via" revoked
  done
  for kind in su-l runuser-l runuser sudo-i; do
    for via in unit ssh; do
      check "$mode" "$kind.$via" status 0 "$kind from a root $via process succeeds"
      check "$mode" "$kind.$via.caller" owner 0 "the caller's session keyring belongs to root"
    done
  done
  check "$mode" usermanager active active "user@$uid.service is started by logind"
  check "$mode" stack-close status 0 "ssh login with the module listed twice succeeds"
}

# --- the boots --------------------------------------------------------------------
# The stock boot starts at once; the two with the package as soon as it is
# built. The three run at the same time, each in its own cgroup.
prepare stock
start stock
prepare ours
start ours
prepare blocked
start blocked
for mode in stock ours blocked; do
  finish "$mode"
done

say "assertions"
if [ "$(value stock system diverted)" = no ] && [ "$(value ours system diverted)" = yes ]; then
  pass "the stock boot runs Linux-PAM's module; the package diverts it in the other boots"
else
  fail "diversions: stock $(value stock system diverted), ours $(value ours system diverted)"
fi

allowed_cases ours
allowed_cases stock

# Ours, keyctl() allowed: every login gets a keyring of its own.
for kind in su-l runuser-l runuser sudo-i; do
  for via in unit ssh; do
    own_keyring ours "$kind.$via" revoked
  done
done
own_keyring ours usermanager
own_keyring ours cron
check ours system modulelines 0 "the module logs nothing when all goes well"
check stock system modulelines 0 "Linux-PAM's module logs nothing either"

# The stock module, observed: the services whose line has "force" behave
# the same; without "force" (runuser, sudo) it keeps root's keyring.
own_keyring stock ssh revoked
own_keyring stock login-f revoked
own_keyring stock login-pw revoked
for via in unit ssh; do
  own_keyring stock "su-l.$via" revoked
  own_keyring stock "runuser-l.$via" revoked
  check stock "runuser.$via" owner 0 "Linux-PAM's module keeps root's keyring for runuser -u (no force)"
  check stock "sudo-i.$via" owner 0 "Linux-PAM's module keeps root's keyring for sudo -i (no force)"
done
own_keyring stock usermanager
own_keyring stock cron

# The module listed twice: one keyring, revoked by the last close, after
# pam_exec read it at close.
uid=$(value ours system uid)
own_keyring ours stack-close revoked
check_match ours stack-close atclose "^keyring;$uid;[0-9]+;[0-9a-f]+;_ses\$" \
  "a later module still reads the keyring at close_session"
# Linux-PAM's module, observed: the same within one PAM handle.
own_keyring stock stack-close revoked
check_match stock stack-close atclose "^keyring;$uid;[0-9]+;[0-9a-f]+;_ses\$" \
  "Linux-PAM's module too leaves the keyring to the last close"

# The order login makes its PAM calls in. Debian 12's (shadow's) calls
# pam_open_session before pam_setcred, with -f and with a password, and
# never pam_setcred(PAM_DELETE_CRED). Debian 13's (util-linux's)
# establishes credentials first, reinitializes them after the open, and
# deletes them before the close: the module's keyring comes from setcred.
if [ "$E2E_SUITE" = bookworm ]; then
  order_f=open_session,setcred,close_session
  order_pw=authenticate,open_session,setcred,close_session
else
  order_f=setcred,open_session,setcred,setcred,close_session
  order_pw=authenticate,$order_f
fi
for mode in ours stock; do
  check "$mode" login-f order "$order_f" "login -f: PAM calls, in order"
  check "$mode" login-pw order "$order_pw" "login: PAM calls, in order"
done

# The user manager's PAM session when user@UID.service stops: reported, not
# asserted (systemd kills its PAM helper process when the manager has gone).
for mode in ours stock; do
  echo "note: $mode: systemctl stop user@$uid.service: PAM calls of systemd-user seen: $(value "$mode" usermanager-stop calls | sed 's/^$/none/')"
done

# Blocked: every login succeeds with "required" lines, each logging one line.
check_match blocked system keyctl 'Operation not permitted' "keyctl() fails with EPERM in the container"
check blocked ssh status 0 "ssh login succeeds"
check blocked ssh log.sshd 1 "one module line for the ssh session"
check blocked ssh unavailable.sshd 1 "and it says kernel keyrings are unavailable"
check blocked ssh2 status 0/0 "two ssh logins at once succeed"
check blocked ssh2 unavailable.sshd 2 "one line each"
for via in login-f login-pw; do
  check blocked "$via" status 0 "$via on a pty succeeds"
  check blocked "$via" log.login 1 "one module line"
  check blocked "$via" unavailable.login 1 "kernel keyrings are unavailable"
done
for kind in su-l runuser-l runuser sudo-i; do
  check blocked "$kind.unit" status 0 "$kind from a systemd unit succeeds"
  check blocked "$kind.unit" "log.$kind" 1 "one module line"
  check blocked "$kind.unit" "unavailable.$kind" 1 "kernel keyrings are unavailable"
  check blocked "$kind.ssh" status 0 "$kind from a root ssh login succeeds"
  check blocked "$kind.ssh" "unavailable.$kind" 1 "one line for $kind"
  check blocked "$kind.ssh" "unavailable.sshd" 1 "one line for the root ssh login"
done
check blocked usermanager active active "user@$uid.service starts"
check blocked usermanager unavailable.systemd-user 1 "one line for the user manager's session"
check blocked stack-close status 0 "ssh login with the module listed twice succeeds"
check blocked stack-close log.sshd 1 "one line for the two module lines"
if [ "$(value blocked cron runs)" -ge 1 ] 2>/dev/null &&
  [ "$(value blocked cron runs)" = "$(value blocked cron unavailable)" ]; then
  pass "blocked: cron: each of the $(value blocked cron runs) jobs logged one \"kernel keyrings are unavailable\" line"
else
  fail "blocked: cron: $(value blocked cron runs) job runs, $(value blocked cron unavailable) lines"
fi

# --- run0 (Debian 13) -------------------------------------------------------------
# Debian ships no systemd-run0 PAM file: PAM reads "other", which names no
# pam_keyinit, and the command keeps the keyring systemd makes for every
# service (the user's own, without the user keyring linked). With
# conf-examples/systemd-run0 both modules give it a keyring of the session.
if [ "$(value ours run0 pamfile)" != "not installed" ]; then
  for mode in ours stock; do
    uid=$(value "$mode" system uid)
    check "$mode" run0 pamfile no "Debian ships no systemd-run0 PAM file"
    check "$mode" run0.other status 0 "run0 --user from a systemd unit succeeds, as Debian ships it"
    check "$mode" run0.other owner "$uid" "systemd's keyring for the command belongs to the user"
    check "$mode" run0.other log.systemd-run0 0 "no pam_keyinit line runs for it"
    check "$mode" run0.pam status 0 "run0 --user succeeds with conf-examples/systemd-run0"
    own_keyring "$mode" run0.pam
  done
  check blocked run0.other status 0 "run0 --user succeeds, as Debian ships it"
  check blocked run0.pam status 0 "run0 --user succeeds with a required line"
  check blocked run0.pam log.systemd-run0 1 "one module line"
  check blocked run0.pam unavailable.systemd-run0 1 "kernel keyrings are unavailable"
fi

# --- display manager ------------------------------------------------------------
# lightdm, autologin on Xvfb: Debian's lightdm-autologin names no
# pam_keyinit, so it gets the lines of conf-examples/gdm-password.
for mode in ours stock; do
  check "$mode" dm status 0 "lightdm autologin on Xvfb starts an X session"
  own_keyring "$mode" dm revoked
done
check blocked dm status 0 "lightdm autologin on Xvfb starts an X session"
check blocked dm log.lightdm-autologin 1 "one module line for the two lightdm-autologin lines"
check blocked dm unavailable.lightdm-autologin 1 "kernel keyrings are unavailable"

# --- summary ----------------------------------------------------------------------
for mode in ours stock; do
  result "ssh" "$mode" "$(describe "$mode" ssh)"
  result "login -f" "$mode" "$(describe "$mode" login-f)"
  result "login (password)" "$mode" "$(describe "$mode" login-pw)"
  for kind in su-l runuser-l runuser sudo-i; do
    for via in unit ssh; do
      result "$kind from root $via" "$mode" "$(describe "$mode" "$kind.$via")"
    done
  done
  if [ "$(value ours run0 pamfile)" != "not installed" ]; then
    result "run0 --user from root, no PAM file (other)" "$mode" "$(describe "$mode" run0.other)"
    result "run0 --user from root, conf-examples/systemd-run0" "$mode" "$(describe "$mode" run0.pam)"
  fi
  result "lightdm autologin" "$mode" "$(describe "$mode" dm)"
  result "user manager" "$mode" "$(describe "$mode" usermanager)"
  result "cron" "$mode" "$(describe "$mode" cron)"
done
echo "what each session got:"
printf '  %s\n' "${RESULTS[@]}"
say "took $((SECONDS - started)) s"
echo "$name: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
