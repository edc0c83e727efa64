#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The module as a user meets it: packaged, installed into a clean Debian 12
# system, driven with pamtester inside containers. As root, on Debian 12:
#
#   tests/container-tests.sh
#
# 1. builds libpam-keyinit with dpkg-buildpackage from the working tree;
# 2. checks the result with lintian (no errors, no warnings);
# 3. runs debian/tests with autopkgtest's unshare backend in a bookworm
#    testbed made by mmdebstrap;
# 4. installs the package into the same bookworm system under
#    systemd-nspawn and drives sessions there: with nspawn's seccomp filter,
#    which blocks keyctl() as Docker's does, and with keyctl() allowed, where
#    the container hands its processes a root-owned session keyring.
#
# The bookworm tarball is cached in $PAM_KEYINIT_TEST_CACHE
# (/var/cache/pam-keyinit-tests) and made again when older than a day.
# Nothing is installed on this machine but the package's Build-Depends
# (apt-get build-dep) and the tools the tests need. Inside a container,
# steps 3 to 5 cannot run (no user namespaces or nspawn of their own there)
# and are skipped with that reason.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
own_run_dir=${PAM_KEYINIT_RUN_DIR:-yes}
. scripts/lib/common.sh
[ "$own_run_dir" = yes ] && own_run_dir=$PAM_KEYINIT_RUN_DIR || own_run_dir=

TOOLS=(dpkg-dev lintian)
CONTAINER_TOOLS=(autopkgtest mmdebstrap uidmap systemd-container)
SUITE=bookworm
# In the image: what autopkgtest needs to make its local archive, what the
# tests run, and busybox for a syslog daemon inside the nspawn container.
IMAGE_PACKAGES=apt-utils,pamtester,keyutils,busybox

work=$(mktemp -d -t pam-keyinit-containers.XXXXXX)
root=$work/nspawn-root
failures=()

# Lines this run added to /etc/subuid and /etc/subgid ("FILE:LINE"), taken
# out again at the end: nothing else in those files is touched.
added_subids=()
remove_added_subids() {
  local entry file line
  for entry in "${added_subids[@]}"; do
    file=${entry%%:*}
    line=${entry#*:}
    if grep -qxF "$line" "$file"; then
      # Rewritten in place, so that the file keeps its owner and mode.
      grep -vxF "$line" "$file" >"$work/subids.tmp" || true
      cat "$work/subids.tmp" >"$file"
      echo "removed $line from $file again"
    fi
  done
}
cleanup() {
  remove_added_subids
  # Never across a mount point, should a container have left one behind.
  rm -rf --one-file-system "$work" ${own_run_dir:+"$own_run_dir"}
}
trap cleanup EXIT

started=$SECONDS
step_started=$SECONDS
step() {
  echo "== $* (at $((SECONDS - started)) s)"
  step_started=$SECONDS
}
step_done() {
  echo "   took $((SECONDS - step_started)) s"
}
passed=0
skipped=0
fail() {
  echo "FAIL: $*" >&2
  failures+=("$*")
}
pass() {
  echo "ok: $*"
  passed=$((passed + 1))
}
skip() {
  echo "skipped: $*"
  skipped=$((skipped + 1))
}
finish() {
  echo "== container tests took $((SECONDS - started)) s"
  echo "40-package: $passed passed, ${#failures[@]} failed, $skipped skipped"
  if [ "${#failures[@]}" -ne 0 ]; then
    printf 'failed: %s\n' "${failures[@]}" >&2
    exit 1
  fi
  exit 0
}

skip_unless_root 40-package "autopkgtest, nspawn, dpkg-divert"
nested=0
running_in_container && nested=1
ensure_packages "${TOOLS[@]}"
ensure_build_deps "$top"
[ "$nested" -eq 1 ] || ensure_packages "${CONTAINER_TOOLS[@]}"

# --- 1. the package ---------------------------------------------------------
step "build the package"
# From a copy of the working tree, so that the build leaves nothing behind
# in it and sees uncommitted changes.
# autopkgtest gets a clean copy of its own.
mkdir "$work/src" "$work/tree"
tar -C "$top" --exclude=./.git --exclude='./build*' --exclude='./obj-*' \
  --exclude=./debian/.debhelper --exclude=./debian/libpam-keyinit --exclude=./debian/tmp \
  -cf "$work/tree.tar" .
tar -C "$work/src" -xf "$work/tree.tar"
tar -C "$work/tree" -xf "$work/tree.tar"
# Progress: debhelper's steps as they start.
if ! (cd "$work/src" && dpkg-buildpackage -us -uc -b) 2>&1 | tee "$work/build.log" |
  grep --line-buffered -E '^[[:space:]]+dh_[a-z_]+' | sed -u 's/^[[:space:]]*/   /'; then
  tail -n 60 "$work/build.log" >&2
  fail "dpkg-buildpackage"
  finish
fi
pass "dpkg-buildpackage -b"
deb=$(ls "$work"/libpam-keyinit_*.deb)
changes=$(ls "$work"/pam-keyinit_*.changes)
dpkg-deb --contents "$deb"
step_done

# --- 2. lintian ---------------------------------------------------------------
step "lintian"
if lintian --fail-on error,warning --info --display-info "$changes"; then
  pass "lintian: no errors, no warnings"
else
  fail "lintian reports errors or warnings"
fi
step_done

# --- 3. the bookworm system ---------------------------------------------------
if [ "$nested" -eq 1 ]; then
  reason="this runs inside a container, which cannot start another (no user namespaces for autopkgtest's unshare backend, no nspawn)"
  skip "autopkgtest in a $SUITE testbed: $reason"
  skip "the package under systemd-nspawn, keyctl blocked and allowed: $reason"
  finish
fi
# autopkgtest-virt-unshare maps uids 1-65535 of the testbed to a subordinate
# range of root's, which /etc/subuid and /etc/subgid must give. A range this
# run adds is taken out again when it ends.
ensure_root_subids() {  # ensure_root_subids FILE
  local file=$1 first
  touch "$file"
  if ! grep -q '^root:' "$file"; then
    first=$(awk -F: 'BEGIN { end = 100000 }
      NF >= 3 && $2 + $3 > end { end = $2 + $3 }
      END { print end }' "$file")
    echo "root:$first:65536" >>"$file"
    added_subids+=("$file:root:$first:65536")
    echo "added root:$first:65536 to $file (removed again at the end)"
  fi
  # util-linux 2.38's "unshare --map-auto" takes the first line whose name
  # reads as uid 0, and any non-numeric name does; so autopkgtest runs where
  # root's line comes first: in a mount namespace of its own, with an
  # overlay on /etc (the real file is left as it is, for useradd to go on
  # editing; a bind mount on the file itself would vanish at its next
  # rewrite).
  { grep '^root:' "$file" | head -n 1; grep -v '^root:' "$file"; } >"$work/$(basename "$file")"
}
ensure_root_subids /etc/subuid
ensure_root_subids /etc/subgid

step "the $SUITE system for autopkgtest and nspawn"
apt_update_once
debian_sources "$SUITE" >"$work/sources.list"
if ! grep -q " $SUITE " "$work/sources.list"; then
  echo "this machine's apt sources have no $SUITE archive to make the testbed from" >&2
  exit 1
fi
make_testbed() {  # make_testbed TARBALL
  mmdebstrap --quiet --variant=minbase --format=tar --include="$IMAGE_PACKAGES" \
    "$SUITE" "$1" "$work/sources.list"
}
tarball=$(cached_root_tarball "$SUITE-minbase" "$SUITE minbase $IMAGE_PACKAGES" make_testbed)
step_done

# --- 4. autopkgtest -----------------------------------------------------------
step "autopkgtest (unshare backend)"
set +e
mkdir "$work/etc-upper" "$work/etc-work"
# shellcheck disable=SC2016 # expanded by the inner shell
unshare --mount --propagation private -- sh -c '
  mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1/etc-upper,workdir=$1/etc-work" /etc &&
  cp "$1/subuid" /etc/subuid && cp "$1/subgid" /etc/subgid && shift && exec "$@"' - "$work" \
  autopkgtest --output-dir "$work/autopkgtest" --setup-commands 'apt-get update -q' \
  "$deb" "$work/tree" -- unshare --tarball "$tarball" 2>&1 |
  grep -v -E '^(Get|Hit|Ign):|^(Selecting|Preparing|Unpacking|Setting up|Processing) '
status=${PIPESTATUS[0]}
set -e
echo "autopkgtest summary:"
cat "$work/autopkgtest/summary" 2>/dev/null || true
# 0: all passed; 2: some skipped, none failed.
case $status in
  0 | 2) pass "autopkgtest (exit $status)" ;;
  *) fail "autopkgtest (exit $status)" ;;
esac
step_done

# --- 5. systemd-nspawn --------------------------------------------------------
step "systemd-nspawn: the package installed in $SUITE"
mkdir "$root"
tar -C "$root" -xf "$tarball"
cp "$deb" "$root/root/libpam-keyinit.deb"
cp "$top/debian/tests/lib.sh" "$root/root/lib.sh"

# No systemd runs as PID 1 here: nothing to register with, no unit to make;
# the command runs in the container without booting it.
in_container() {  # in_container [NSPAWN OPTION...] -- COMMAND...
  local options=()
  while [ "$1" != -- ]; do options+=("$1"); shift; done
  shift
  systemd-nspawn --quiet --register=no --keep-unit --pipe --as-pid2 \
    --directory="$root" "${options[@]}" -- "$@" 2> >(grep -v '^Attempted to remove disk file system' >&2)
}

in_container -- dpkg -i /root/libpam-keyinit.deb
diversions=$(in_container -- dpkg-divert --list '*pam_keyinit*')
echo "$diversions"
if grep -q 'pam_keyinit.so to .*/pam_keyinit.so.distrib by libpam-keyinit$' <<<"$diversions" &&
  grep -q 'pam_keyinit.so to .*/pam_keyinit.so.usr-distrib by libpam-keyinit$' <<<"$diversions"; then
  pass "nspawn: the package is installed and diverts both names of pam_keyinit.so"
else
  fail "nspawn: the package's diversions are missing"
fi

# The session runner inside the container: a syslog daemon on /dev/log,
# a user, a PAM service, pamtester; prints what it saw.
cat >"$root/root/session.sh" <<'SESSION'
#!/bin/bash
# session.sh NAME MODULE-LINE: opens and closes a session of keyinit-dave
# through a service with that line; logs go to /root/NAME.syslog.
set -u
export AUTOPKGTEST_TMP=/root/work
mkdir -p "$AUTOPKGTEST_TMP"
. /root/lib.sh
set +e
ensure_user keyinit-dave
write_probe
write_service "$1" "$2"
rm -f "/root/$1.syslog"
busybox syslogd -n -S -O "/root/$1.syslog" &
syslogd=$!
for _ in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done
pamtester -v "$1" keyinit-dave open_session close_session 2>&1
echo "pamtester exit status: $?"
sleep 0.3
kill "$syslogd"
wait "$syslogd" 2>/dev/null
echo "--- syslog"
cat "/root/$1.syslog"
echo "--- keyring probe"
cat "$AUTOPKGTEST_TMP/$1.log" 2>/dev/null
true
SESSION
chmod 755 "$root/root/session.sh"
step_done

step "nspawn case 1: default seccomp filter, keyctl() blocked"
blocked=$(in_container -- keyctl show @s 2>&1 || true)
echo "keyctl show @s in the container: $blocked"
if grep -q 'Operation not permitted' <<<"$blocked"; then
  pass "nspawn's seccomp filter blocks keyctl() with EPERM"
else
  fail "keyctl() is not blocked with EPERM under nspawn's default filter"
fi

ours=$(in_container -- /root/session.sh keyinit-blocked \
  'session    required   pam_keyinit.so force revoke')
echo "$ours"
if grep -q '^pamtester exit status: 0$' <<<"$ours" && grep -q 'successfully opened a session' <<<"$ours" &&
  grep -q 'session has successfully been closed' <<<"$ours"; then
  pass "keyctl blocked: pamtester opens and closes a session through pam_keyinit.so force revoke"
else
  fail "keyctl blocked: the session through pam_keyinit.so force revoke failed"
fi
unavailable=$(grep -c 'pam_keyinit(keyinit-blocked:session): kernel keyrings are unavailable (Operation not permitted)' <<<"$ours" || true)
if [ "$unavailable" = 1 ]; then
  pass "keyctl blocked: the module logs one line: $(grep -o 'kernel keyrings are unavailable.*' <<<"$ours")"
else
  fail "keyctl blocked: expected one \"kernel keyrings are unavailable\" line, saw $unavailable"
fi
if [ "$(grep -c 'pam_keyinit(' <<<"$ours" || true)" = 1 ]; then
  pass "keyctl blocked: and nothing else"
else
  fail "keyctl blocked: the module logged more than that one line"
fi

stock=$(in_container -- /root/session.sh keyinit-blocked-stock \
  'session    required   /usr/lib/'"$(dpkg-architecture -qDEB_HOST_MULTIARCH)"'/security/pam_keyinit.so.distrib force revoke')
echo "$stock"
if grep -q '^pamtester exit status: 0$' <<<"$stock"; then
  fail "keyctl blocked: Linux-PAM's module was expected to fail the session, and it did not"
else
  pass "keyctl blocked: Linux-PAM's module, for comparison, fails the session: $(grep -v -e 'invoking' -e 'performing' <<<"$stock" | grep -m1 '^pamtester: ' || true)"
fi
step_done

step "nspawn case 2: keyctl() allowed, root-owned session keyring"
allow=(--system-call-filter='keyctl add_key request_key')
outer=$(in_container "${allow[@]}" -- keyctl rdescribe @s 2>&1 || true)
echo "the container's session keyring: $outer"
if [ "$(cut -d';' -f1,2,5 <<<"$outer")" = 'keyring;0;_ses' ]; then
  pass "keyctl allowed: the container hands its processes a root-owned \"_ses\" keyring"
else
  fail "keyctl allowed: expected a root-owned \"_ses\" session keyring, saw: $outer"
fi

check_session_owner() {  # check_session_owner OUTPUT WHO EXPECTED-OWNER
  local describe owner name
  describe=$(sed -n '/^--- keyring probe/,$p' <<<"$1" | sed -n '/^== open_session/,/^== /s/^describe: //p' | head -n 1)
  owner=$(cut -d';' -f2 <<<"$describe")
  name=$(cut -d';' -f5 <<<"$describe")
  echo "$2: the session's keyring: $describe"
  [ "$name" = _ses ] && [ "$owner" = "$3" ]
}

ours=$(in_container "${allow[@]}" -- /root/session.sh keyinit-allowed \
  'session    required   pam_keyinit.so revoke')
echo "$ours"
dave_uid=$(in_container -- id -u keyinit-dave)
if grep -q '^pamtester exit status: 0$' <<<"$ours" &&
  check_session_owner "$ours" "ours" "$dave_uid" &&
  grep -q "^show: .*keyring: _uid\\.$dave_uid\$" <<<"$ours"; then
  pass "keyctl allowed: without force the user gets a \"_ses\" of its own (uid $dave_uid) linking _uid.$dave_uid"
else
  fail "keyctl allowed: the user did not get a session keyring of its own"
fi
at_close=$(sed -n '/^== close_session/,$p' <<<"$ours")
if grep -q '^describe: .*Key has been revoked' <<<"$at_close"; then
  pass "keyctl allowed: it is revoked at close"
else
  fail "keyctl allowed: the session keyring is not revoked at close"
fi

stock=$(in_container "${allow[@]}" -- /root/session.sh keyinit-allowed-stock \
  'session    required   /usr/lib/'"$(dpkg-architecture -qDEB_HOST_MULTIARCH)"'/security/pam_keyinit.so.distrib revoke')
echo "$stock"
if check_session_owner "$stock" "Linux-PAM" 0; then
  pass "keyctl allowed: Linux-PAM's module, for comparison, keeps root's keyring for the user"
else
  fail "keyctl allowed: Linux-PAM's module was expected to keep root's keyring"
fi
step_done

finish
