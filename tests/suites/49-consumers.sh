#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# What users keep in their session keyring, through real PAM sessions on the
# real kernel: MIT Kerberos tickets in a KEYRING:session cache, got from a
# KDC on loopback (krb5kdc with a realm of its own in a temporary folder;
# the host's /etc/krb5.conf is not read), and SMB passwords that cifscreds
# stashes as "logon" keys for the kernel's CIFS client (no server needed:
# the key is what a later mount of that server would use). Each session runs pamtester with
# the line Debian ships for runuser ("session optional pam_keyinit.so
# revoke", no force) and then pam_exec, which runs kinit or klist as the
# user inside the session. This module and Linux-PAM's side by side:
#
#   root service: two users, one after the other, each started from the
#     same root-owned session keyring (a service, a container's process):
#     where the first user's ticket ends up, whether it outlives that
#     session, what the second user's klist shows, whether the second user
#     finds the first one's CIFS password and can stash one of their own;
#   two sessions of one user at once: the second must not see the first's
#     ticket, and the first's ticket is gone once it logs out;
#   a KEYRING:persistent cache (Fedora's and RHEL's default), with the
#     module's "persistent" option on this module's line: the ticket
#     outlives the session, and the next session of the user reaches it
#     through its session keyring, which links the persistent keyring.
#
# Only this module's results are counted; Linux-PAM's are printed beside
# them (they are what this project exists to change).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib/common.sh
NAME=49-consumers

skip_unless_root "$NAME" "it runs a KDC, makes users and opens sessions for them"
if ! error=$(keyctl rdescribe @u 2>&1 >/dev/null); then
  echo "$NAME: skipped: kernel keyrings are unavailable here (keyctl: $error)"
  exit 77
fi
# krb5-kdc and krb5-admin-server start their services when installed; a
# policy-rc.d that refuses keeps them stopped (the suite runs a KDC of its
# own), unless the machine already has one.
policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
  policy=/usr/sbin/policy-rc.d
  printf '#!/bin/sh\n# pam-keyinit tests: no service starts while they install packages\nexit 101\n' >"$policy"
  chmod 755 "$policy"
fi
ensure_packages "${BASE_PACKAGES[@]}" pamtester krb5-kdc krb5-admin-server krb5-user cifs-utils
installed=$?
[ -z "$policy" ] || rm -f "$policy"
[ "$installed" -eq 0 ] || exit 1

build=${PAM_KEYINIT_BUILD_DIR:-$PWD/build-test}
if [ ! -f "$build/module/pam_keyinit.so" ]; then
  configure_build "$build" && meson compile -C "$build" || exit 1
fi
ours=$(readlink -f "$build/module/pam_keyinit.so")
# The stock module as the stack tests name it (tests/meson.build).
stock=$(awk '$1 == "session" { print $3; exit }' "$build/tests/pam.d/stock-revoke")
[ -f "$stock" ] || { echo "$NAME: FAIL: no stock module at ${stock:-?}"; exit 1; }

tag=$$
work=$(mktemp -d -t pam-keyinit-consumers.XXXXXX)
chmod 755 "$work"
services=()
kdc_pid=
# shellcheck disable=SC2317 # run by the trap
cleanup() {
  [ -z "$kdc_pid" ] || kill "$kdc_pid" 2>/dev/null
  local service
  for service in "${services[@]}"; do rm -f "/etc/pam.d/$service"; done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

passed=0 failed=0
check() {  # check WHAT COMMAND...: one counted case of this module's
  if "${@:2}"; then
    passed=$((passed + 1))
    echo "ok: $1"
  else
    failed=$((failed + 1))
    echo "FAIL: $1"
  fi
}

# --- the realm ------------------------------------------------------------------
realm=PKT.TEST
# A port nothing listens on: another run (in a container beside this one,
# sharing its network) may have its own KDC.
for _ in $(seq 20); do
  port=$((20000 + RANDOM % 30000))
  (: </dev/tcp/127.0.0.1/$port) 2>/dev/null || break
done
cat >"$work/krb5.conf" <<EOF
[libdefaults]
  default_realm = $realm
  dns_lookup_kdc = false
  dns_lookup_realm = false
  rdns = false
[realms]
  $realm = {
    kdc = 127.0.0.1:$port
  }
EOF
cat >"$work/kdc.conf" <<EOF
[kdcdefaults]
  kdc_listen = 127.0.0.1:$port
  kdc_tcp_listen = 127.0.0.1:$port
[realms]
  $realm = {
    database_name = $work/kdc/principal
    key_stash_file = $work/kdc/stash
    acl_file = $work/kdc/kadm5.acl
  }
[logging]
  kdc = FILE:$work/kdc/kdc.log
EOF
chmod 644 "$work/krb5.conf"
mkdir -m 700 "$work/kdc"
export KRB5_CONFIG=$work/krb5.conf KRB5_KDC_PROFILE=$work/kdc.conf
users=(pkt-krb-a pkt-krb-b)
for user in "${users[@]}"; do
  id "$user" >/dev/null 2>&1 ||
    useradd --no-create-home --shell /usr/sbin/nologin --comment 'pam-keyinit tests' "$user" || exit 1
done
if ! kdb5_util -r "$realm" create -s -P "master-$$" >"$work/kdc/create.log" 2>&1; then
  cat "$work/kdc/create.log"
  echo "$NAME: FAIL: kdb5_util could not make the realm's database"
  exit 1
fi
for user in "${users[@]}"; do
  kadmin.local -r "$realm" -q "addprinc -pw pw-$user $user" >>"$work/kdc/create.log" 2>&1
done
krb5kdc -r "$realm" -n &
kdc_pid=$!
for _ in $(seq 50); do
  grep -q "commencing operation" "$work/kdc/kdc.log" 2>/dev/null && break
  sleep 0.1
done
if ! kill -0 "$kdc_pid" 2>/dev/null; then
  tail -n 20 "$work/kdc/kdc.log"
  echo "$NAME: FAIL: krb5kdc did not start on 127.0.0.1:$port"
  exit 1
fi
echo "   a KDC for $realm on 127.0.0.1:$port (krb5kdc $(dpkg-query -W -f='${Version}' krb5-kdc))"

# --- the sessions ---------------------------------------------------------------
# The hook pam_exec runs at open_session, as root, inside the session: it
# does what $work/mode says as the user, in the session's keyring, and
# writes what it saw to $work/seen.
cat >"$work/hook" <<'HOOK'
#!/bin/bash
dir=$(dirname "$0")
[ "$PAM_TYPE" = open_session ] || exit 0
export KRB5_CONFIG=$dir/krb5.conf
as_user() { setpriv --reuid="$PAM_USER" --regid="$PAM_USER" --clear-groups "$@"; }
cache=KEYRING:session:pkt
{
  echo "session-keyring $(keyctl id @s 2>/dev/null)"
  case $(cat "$dir/mode") in
    kinit)
      echo "pw-$PAM_USER" | as_user kinit -c "$cache" "$PAM_USER" >/dev/null 2>&1
      echo "kinit $?"
      # --username=: cifs-utils 7.4 (Debian 13) takes "-u NAME" before the
      # host as the host.
      echo "smb-$PAM_USER" | as_user cifscreds add --username="$PAM_USER" 127.0.0.1 >/dev/null 2>&1
      echo "cifscreds $?"
      ;;
    look)
      # The CIFS password the kernel would use for this user's mounts of
      # 127.0.0.1, if any (its owner), and whether this user can stash one.
      key=$(as_user keyctl search @s logon cifs:a:127.0.0.1 2>/dev/null)
      echo "cifs-found $([ -n "$key" ] && as_user keyctl rdescribe "$key" 2>/dev/null | cut -d';' -f2 || echo none)"
      echo "smb-$PAM_USER" | as_user cifscreds add --username="$PAM_USER" 127.0.0.1 >/dev/null 2>&1
      echo "cifscreds $?"
      ;;
    persistent-kinit | persistent-look)
      pcache=KEYRING:persistent:$(id -u "$PAM_USER")
      [ "$(cat "$dir/mode")" = persistent-kinit ] &&
        echo "pw-$PAM_USER" | as_user kinit -c "$pcache" "$PAM_USER" >/dev/null 2>&1
      echo "linked $(keyctl show @s 2>/dev/null | grep -q "keyring: _persistent\.$(id -u "$PAM_USER")\$" && echo yes || echo no)"
      echo "persistent-principal $(as_user klist -c "$pcache" 2>/dev/null | sed -n 's/^Default principal: //p')"
      ;;
    kinit-and-wait)
      echo "pw-$PAM_USER" | as_user kinit -c "$cache" "$PAM_USER" >/dev/null 2>&1
      echo "kinit $?"
      touch "$dir/first-open"
      for _ in $(seq 300); do [ -e "$dir/release" ] && break; sleep 0.1; done
      ;;
  esac
  echo "principal $(as_user klist -c "$cache" 2>/dev/null | sed -n 's/^Default principal: //p')"
} >"$dir/seen.$PAM_USER.$(cat "$dir/mode")"
exit 0
HOOK
chmod 755 "$work/hook"
for side in ours stock; do
  module=$ours
  [ "$side" = stock ] && module=$stock
  service=pam-keyinit-consumers-$side-$tag
  services+=("$service")
  printf 'session optional %s revoke\nsession optional pam_exec.so %s\n' "$module" "$work/hook" \
    >"/etc/pam.d/$service"
done
# The persistent case: this module only (Linux-PAM's has no such option).
services+=("pam-keyinit-consumers-persistent-$tag")
printf 'session optional %s force revoke persistent\nsession optional pam_exec.so %s\n' "$ours" "$work/hook" \
  >"/etc/pam.d/pam-keyinit-consumers-persistent-$tag"

session() {  # session SIDE USER MODE: one pamtester session; prints nothing
  echo "$3" >"$work/mode"
  rm -f "$work/seen.$2.$3"
  pamtester "pam-keyinit-consumers-$1-$tag" "$2" open_session close_session >>"$work/pamtester.log" 2>&1
}
seen() {  # seen USER MODE KEY: what the hook recorded
  sed -n "s/^$3 //p" "$work/seen.$1.$2" 2>/dev/null
}
# holds_ticket KEYRING USER: whether KEYRING (read as root) still holds a
# Kerberos cache with USER's principal.
holds_ticket() {
  keyctl show "$1" 2>/dev/null | grep -q "keyring: _krb_pkt" &&
    keyctl show "$1" 2>/dev/null | grep -q "krbtgt/$realm@$realm"
}
gone() {  # gone KEYRING: revoked or destroyed (not merely unknown)
  [ -n "$1" ] && ! keyctl describe "$1" >/dev/null 2>&1
}

# Root service: a root-owned session keyring, two users one after the other.
root_service() {  # root_service SIDE: runs inside the service's keyring
  local side=$1 service_keyring first_keyring
  service_keyring=$(keyctl id @s)
  session "$side" pkt-krb-a kinit
  first_keyring=$(seen pkt-krb-a kinit session-keyring)
  session "$side" pkt-krb-b look
  {
    echo "service-keyring $service_keyring"
    echo "a-kinit $(seen pkt-krb-a kinit kinit)"
    echo "a-principal $(seen pkt-krb-a kinit principal)"
    echo "a-keyring $first_keyring"
    holds_ticket "$service_keyring" && echo "service-holds-ticket yes" || echo "service-holds-ticket no"
    gone "$first_keyring" && echo "a-keyring-gone yes" || echo "a-keyring-gone no"
    echo "b-principal $(seen pkt-krb-b look principal)"
    echo "a-cifscreds $(seen pkt-krb-a kinit cifscreds)"
    echo "b-cifs-found $(seen pkt-krb-b look cifs-found)"
    echo "b-cifscreds $(seen pkt-krb-b look cifscreds)"
  } >"$work/root_service.$side"
}
export -f root_service session seen holds_ticket gone
export work realm tag

# scenario FUNCTION: runs "FUNCTION SIDE" for each module, each in a
# root-owned session keyring of its own (a service's); FUNCTION writes
# $work/FUNCTION.SIDE, which got reads.
scenario() {
  local side
  for side in ours stock; do
    rm -f "$work/$1.$side"
    keyctl session "pkt-service-$side" bash -c "$1 $side" >/dev/null 2>&1
  done
}
got() { sed -n "s/^$3 //p" "$work/$1.$2"; }  # got FUNCTION SIDE KEY

echo "== root service: pkt-krb-a then pkt-krb-b, from one root-owned session keyring"
scenario root_service
result() { got root_service "$@"; }
for side in ours stock; do
  echo "   $side: pkt-krb-a's kinit $(result "$side" a-kinit), principal \"$(result "$side" a-principal)\";" \
    "the service's keyring holds a ticket after logout: $(result "$side" service-holds-ticket);" \
    "pkt-krb-a's session keyring gone after logout: $(result "$side" a-keyring-gone);" \
    "pkt-krb-b's klist shows \"$(result "$side" b-principal)\""
  echo "   $side: pkt-krb-a's cifscreds add exits $(result "$side" a-cifscreds);" \
    "the CIFS password pkt-krb-b's session finds for 127.0.0.1 is owned by uid $(result "$side" b-cifs-found);" \
    "pkt-krb-b's cifscreds add exits $(result "$side" b-cifscreds)"
done
check "root service: pkt-krb-a gets a ticket in its session" \
  test "$(result ours a-kinit)/$(result ours a-principal)" = "0/pkt-krb-a@$realm"
check "root service: pkt-krb-a's session keyring is not the service's" \
  test -n "$(result ours a-keyring)" -a "$(result ours a-keyring)" != "$(result ours service-keyring)"
check "root service: the service's keyring holds no ticket after logout" \
  test "$(result ours service-holds-ticket)" = no
check "root service: pkt-krb-a's session keyring is gone after logout (revoke)" \
  test "$(result ours a-keyring-gone)" = yes
check "root service: the next user's klist shows no principal" \
  test -z "$(result ours b-principal)"
check "root service: pkt-krb-a stashes a CIFS password" test "$(result ours a-cifscreds)" = 0
check "root service: the next user's session finds no CIFS password" test "$(result ours b-cifs-found)" = none
check "root service: the next user stashes a CIFS password of their own" test "$(result ours b-cifscreds)" = 0

# Two sessions of one user at once, from a root-owned keyring each.
echo "== two sessions of pkt-krb-a at once"
two_sessions() {  # two_sessions SIDE
  local side=$1 first_keyring
  rm -f "$work/first-open" "$work/release"
  session "$side" pkt-krb-a kinit-and-wait &
  local first=$!
  for _ in $(seq 300); do [ -e "$work/first-open" ] && break; sleep 0.1; done
  session "$side" pkt-krb-a look
  touch "$work/release"
  wait "$first"
  first_keyring=$(seen pkt-krb-a kinit-and-wait session-keyring)
  {
    echo "first-principal $(seen pkt-krb-a kinit-and-wait principal)"
    echo "second-principal $(seen pkt-krb-a look principal)"
    gone "$first_keyring" && echo "first-gone yes" || echo "first-gone no"
  } >"$work/two_sessions.$side"
}
export -f two_sessions
scenario two_sessions
two() { got two_sessions "$@"; }
for side in ours stock; do
  echo "   $side: first session's principal \"$(two "$side" first-principal)\";" \
    "the second session's klist shows \"$(two "$side" second-principal)\";" \
    "the first's keyring gone after its logout: $(two "$side" first-gone)"
done
check "two sessions: the first has its ticket" test "$(two ours first-principal)" = "pkt-krb-a@$realm"
check "two sessions: the second does not see the first's ticket" test -z "$(two ours second-principal)"
check "two sessions: the first's ticket is gone after its logout" test "$(two ours first-gone)" = yes

echo "== a KEYRING:persistent cache, \"persistent\" on the line: two sessions of pkt-krb-b, one after the other"
keyctl session pkt-service-persistent bash -c "session persistent pkt-krb-b persistent-kinit; session persistent pkt-krb-b persistent-look" >/dev/null 2>&1
persist() { seen pkt-krb-b "$1" "$2"; }
echo "   ours: first session: session keyring links the persistent keyring: $(persist persistent-kinit linked), principal \"$(persist persistent-kinit persistent-principal)\";" \
  "next session: links it: $(persist persistent-look linked), principal \"$(persist persistent-look persistent-principal)\""
check "persistent: the session keyring links the user's persistent keyring" test "$(persist persistent-kinit linked)" = yes
check "persistent: the ticket is in the persistent cache" test "$(persist persistent-kinit persistent-principal)" = "pkt-krb-b@$realm"
check "persistent: the next session, after logout and revoke, still reaches it" \
  test "$(persist persistent-look linked)/$(persist persistent-look persistent-principal)" = "yes/pkt-krb-b@$realm"
# The persistent keyring outlives the test user otherwise (3 days).
keyctl session - bash -c "setpriv --reuid=pkt-krb-b --regid=pkt-krb-b --clear-groups sh -c 'keyctl clear \$(keyctl get_persistent @s)'" >/dev/null 2>&1

for user in "${users[@]}"; do userdel "$user" 2>/dev/null; done
echo "$NAME: $passed passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]
