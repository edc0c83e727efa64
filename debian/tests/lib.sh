# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# Shared by the tests in debian/tests/: sourced by bash, not run.
# Each test runs as root in a testbed where libpam-keyinit is installed.

set -eu

# The multiarch triplet, from where libpam-modules put its modules (a
# minimal testbed has no dpkg-architecture).
multiarch=$(dpkg-query -L "libpam-modules:$(dpkg --print-architecture)" |
    sed -n 's|^.*/lib/\([^/]*\)/security/pam_permit\.so$|\1|p' | head -n 1)
security_dir=/usr/lib/$multiarch/security
# Where preinst diverted Linux-PAM's module to: pam_keyinit.so.distrib
# where libpam-modules registers it under /lib (Debian 12),
# pam_keyinit.so.usr-distrib where it registers the /usr/lib name (Debian
# 13 and later). PAM can still load it there by absolute path, which is how
# these tests compare the two.
if dpkg-query -L "libpam-modules:$(dpkg --print-architecture)" |
    grep -qx "$security_dir/pam_keyinit.so"; then
    stock_module=$security_dir/pam_keyinit.so.usr-distrib
else
    # shellcheck disable=SC2034 # for the tests that source this
    stock_module=$security_dir/pam_keyinit.so.distrib
fi

work=${AUTOPKGTEST_TMP:-$(mktemp -d)}
probe=$work/keyring-probe
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

pass() {
    echo "ok: $*"
}

finish() {
    if [ "$failures" -ne 0 ]; then
        echo "$failures check(s) failed" >&2
        exit 1
    fi
    echo "all checks passed"
}

ensure_user() {
    id "$1" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh "$1"
}

# A pam_exec hook: what the session keyring of the PAM application's
# thread looks like, seen by a child of that thread. Appends to $1.
write_probe() {
    cat >"$probe" <<'PROBE'
#!/bin/sh
{
    echo "== $PAM_TYPE $PAM_USER"
    echo "describe: $(keyctl rdescribe @s 2>&1)"
    keyctl show @s 2>&1 | sed 's/^/show: /'
} >>"$1"
PROBE
    chmod 755 "$probe"
}

# write_service NAME KEYINIT-LINE: a PAM service shaped like Debian's
# login: the module as Debian's login names it, then the probe, which runs
# after it on open and on close (PAM closes in stack order). Password and
# account checks are pam_permit.so: these tests are about sessions.
write_service() {
    cat >"/etc/pam.d/$1" <<SERVICE
# Like Debian's /etc/pam.d/login, with authentication swapped for pam_permit.
auth       optional   pam_faildelay.so  delay=3000000
auth       requisite  pam_nologin.so
auth       [success=ok new_authtok_reqd=ok ignore=ignore user_unknown=bad default=die] pam_securetty.so
auth       required   pam_permit.so
account    requisite  pam_nologin.so
account    required   pam_permit.so
session    [success=ok ignore=ignore module_unknown=ignore default=bad] pam_selinux.so close
session    optional   pam_loginuid.so
$2
session    optional   pam_exec.so $probe $work/$1.log
session    required   pam_env.so readenv=1
session    required   pam_env.so readenv=1 envfile=/etc/default/locale
session    optional   pam_mail.so nopen standard
session    required   pam_limits.so
session    required   pam_unix.so
session    [success=ok ignore=ignore module_unknown=ignore default=bad] pam_selinux.so open
password   required   pam_permit.so
SERVICE
    rm -f "$work/$1.log"
}

# write_sshd_service NAME KEYINIT-LINE: the same, shaped like Debian's sshd.
write_sshd_service() {
    cat >"/etc/pam.d/$1" <<SERVICE
# Like Debian's /etc/pam.d/sshd, with authentication swapped for pam_permit.
auth       required   pam_permit.so
account    required   pam_nologin.so
account    required   pam_permit.so
session    [success=ok ignore=ignore module_unknown=ignore default=bad] pam_selinux.so close
session    optional   pam_loginuid.so
$2
session    optional   pam_exec.so $probe $work/$1.log
session    optional   pam_motd.so noupdate
session    optional   pam_mail.so standard noenv
session    required   pam_limits.so
session    required   pam_env.so
session    required   pam_env.so envfile=/etc/default/locale
session    required   pam_unix.so
session    [success=ok ignore=ignore module_unknown=ignore default=bad] pam_selinux.so open
password   required   pam_permit.so
SERVICE
    rm -f "$work/$1.log"
}

# probe_record LOG TYPE: the probe's record for TYPE (open_session or
# close_session) in LOG.
probe_record() {
    sed -n "/^== $2 /,/^== /p" "$1"
}

# describe_field LOG TYPE N: field N (1-based, ';'-separated) of the
# session keyring's description: 1 type, 2 uid, 3 gid, 4 perm, 5 name.
describe_field() {
    probe_record "$1" "$2" | sed -n 's/^describe: //p' | head -n 1 | cut -d';' -f"$3"
}

# session_id LOG TYPE: the session keyring's serial, from "keyctl show".
session_id() {
    probe_record "$1" "$2" | sed -n 's/^show: *\([0-9][0-9]*\) .*/\1/p' | head -n 1
}

# Asserts that the record of TYPE in LOG shows a "_ses" keyring owned by
# USER that links USER's user keyring.
expect_own_keyring() {
    local log=$1 type=$2 user=$3 label=$4 uid name owner
    uid=$(id -u "$user")
    name=$(describe_field "$log" "$type" 5)
    owner=$(describe_field "$log" "$type" 2)
    if [ "$name" = _ses ] && [ "$owner" = "$uid" ]; then
        pass "$label: session keyring is \"_ses\" owned by $user ($uid)"
    else
        fail "$label: expected \"_ses\" owned by uid $uid, saw name \"$name\" owner \"$owner\""
        probe_record "$log" "$type" >&2
    fi
    if probe_record "$log" "$type" | grep -q "^show: .*\\\\_ keyring: _uid\\.$uid\$"; then
        pass "$label: it links the user keyring _uid.$uid"
    else
        fail "$label: _uid.$uid is not linked into the session keyring"
        probe_record "$log" "$type" >&2
    fi
}

expect_revoked_at_close() {
    if probe_record "$1" close_session | grep -q '^describe: .*Key has been revoked'; then
        pass "$2: the session keyring is revoked at close"
    else
        fail "$2: the session keyring is not revoked at close"
        probe_record "$1" close_session >&2
    fi
}

# The opposite: the record of close_session shows the session keyring
# still valid (a "_ses" keyring, not revoked).
expect_alive_at_close() {
    if probe_record "$1" close_session | grep -q '^describe: keyring;.*;_ses$'; then
        pass "$2: the session keyring is still valid at close"
    else
        fail "$2: the session keyring is not valid at close"
        probe_record "$1" close_session >&2
    fi
}
