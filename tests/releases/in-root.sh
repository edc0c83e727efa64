#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Runs as root inside a root file system of a Debian release (a chroot in
# namespaces of its own, see tests/suites/46-releases.sh), with
# debian/tests/ copied to /root/dt. One step per call:
#
#   in-root.sh install DEB        install the package, check what it diverts
#   in-root.sh sessions           real sessions through pamtester
#   in-root.sh profile            the pam-auth-update profile
#   in-root.sh purge              purge it, check the stock module is back
#   in-root.sh newer OLD NEW      a newer build over an older one
#   in-root.sh upgrade SOURCES    apt-get dist-upgrade to the release in SOURCES
#
# Prints "ok: ..." and "FAIL: ..." lines; exits non-zero if any check failed.
set -u
export AUTOPKGTEST_TMP=/root/work DEBIAN_FRONTEND=noninteractive
mkdir -p "$AUTOPKGTEST_TMP"
# shellcheck source=debian/tests/lib.sh
. /root/dt/lib.sh
set +e

state=/root/state
mkdir -p "$state"
stock_name=$security_dir/pam_keyinit.so
manual=/usr/share/man/man8/pam_keyinit.8.gz

# The diversions this package must hold, each exactly once.
expected_diversions() {
    printf '%s\n' \
        "diversion of /lib/$multiarch/security/pam_keyinit.so to /lib/$multiarch/security/pam_keyinit.so.distrib by libpam-keyinit" \
        "diversion of /usr/lib/$multiarch/security/pam_keyinit.so to /usr/lib/$multiarch/security/pam_keyinit.so.usr-distrib by libpam-keyinit" \
        "diversion of $manual to /usr/share/man/man8/pam_keyinit.distrib.8.gz by libpam-keyinit" | sort
}

check_diversions() {  # check_diversions LABEL
    local seen
    seen=$(dpkg-divert --list '*pam_keyinit*' | sort)
    if [ "$seen" = "$(expected_diversions)" ]; then
        pass "$1: both names of the module and the manual page are diverted, each once"
    else
        fail "$1: the diversions are not the expected three: $seen"
    fi
}

check_verify() {  # check_verify LABEL PACKAGE
    local out
    if out=$(dpkg --verify "$2" 2>&1) && [ -z "$out" ]; then
        pass "$1: dpkg --verify $2 finds nothing"
    else
        fail "$1: dpkg --verify $2: $out"
    fi
}

# Records the stock module and manual page as they are now.
record_stock() {
    cp "$(readlink -f "$stock_name")" "$state/stock.so"
    if [ -e "$manual" ]; then cp "$manual" "$state/stock.8.gz"; else rm -f "$state/stock.8.gz"; fi
}

check_module_is() {  # check_module_is LABEL FILE
    if cmp -s "$stock_name" "$2"; then
        pass "$1: $stock_name is $(basename "$2") ($(sha256sum <"$2" | cut -c1-16))"
    else
        fail "$1: $stock_name is not $(basename "$2")"
    fi
}

check_stock_diverted() {  # check_stock_diverted LABEL
    if cmp -s "$stock_module" "$state/stock.so"; then
        pass "$1: the stock module sits at $stock_module, byte for byte"
    else
        fail "$1: $stock_module is not the stock module"
    fi
}

package_module() {  # package_module DEB DIR: the module file in DEB
    rm -rf "$2"
    dpkg-deb -x "$1" "$2"
    find "$2" -name pam_keyinit.so -type f | head -n 1
}

install_package() {  # install_package LABEL DEB
    local module
    module=$(package_module "$2" "$state/deb")
    cp "$module" "$state/ours.so"
    if dpkg -i "$2"; then
        pass "$1: dpkg -i $(basename "$2")"
    else
        fail "$1: dpkg -i $(basename "$2") failed"
    fi
    check_diversions "$1"
    check_module_is "$1" "$state/ours.so"
    check_stock_diverted "$1"
    if [ -e "$state/stock.8.gz" ]; then
        if cmp -s /usr/share/man/man8/pam_keyinit.distrib.8.gz "$state/stock.8.gz" &&
            ! cmp -s "$manual" "$state/stock.8.gz"; then
            pass "$1: the stock manual page is diverted, this package's is in its place"
        else
            fail "$1: the manual pages are not where they belong"
        fi
    fi
    check_verify "$1" libpam-modules
    check_verify "$1" libpam-keyinit
}

check_purged() {  # check_purged LABEL
    local left
    if [ -z "$(dpkg-divert --list '*pam_keyinit*')" ]; then
        pass "$1: no diversion is left"
    else
        fail "$1: diversions left: $(dpkg-divert --list '*pam_keyinit*')"
    fi
    check_module_is "$1: the stock module is back" "$state/stock.so"
    left=$(find "$security_dir" /lib/"$multiarch"/security -maxdepth 1 -name 'pam_keyinit*' -printf '%f\n' 2>/dev/null | sort -u | tr '\n' ' ')
    if [ "$left" = "pam_keyinit.so " ]; then
        pass "$1: nothing but pam_keyinit.so is left in the module folder"
    else
        fail "$1: the module folder holds: $left"
    fi
    if [ -e "$state/stock.8.gz" ]; then
        if cmp -s "$manual" "$state/stock.8.gz" && [ ! -e /usr/share/man/man8/pam_keyinit.distrib.8.gz ]; then
            pass "$1: the stock manual page is back"
        else
            fail "$1: the stock manual page is not back"
        fi
    fi
    check_verify "$1" libpam-modules
}

case $1 in
install)
    record_stock
    sha256sum /etc/pam.d/common-session* >"$state/common.sum"
    install_package install "$2"
    if sha256sum --quiet -c "$state/common.sum"; then
        pass "install: /etc/pam.d/common-session* are untouched (the profile is off by default)"
    else
        fail "install: installing changed /etc/pam.d/common-session*"
    fi
    ;;
sessions)
    bash /root/dt/session-keyring
    ;;
profile)
    ensure_user keyinit-carol
    write_probe
    sha256sum /etc/pam.d/common-session /etc/pam.d/common-session-noninteractive >"$state/common.sum"
    pam-auth-update --enable keyinit
    for file in common-session common-session-noninteractive; do
        # First of the "Additional" block, before every other module a
        # package adds (pam_unix's session part is one of them).
        first=$(sed -n '/^# and here are more per-package modules/,/^# end of pam-auth-update config/p' "/etc/pam.d/$file" |
            grep -v '^#' | head -n 1)
        if [ "$(tr -s ' \t' '  ' <<<"$first")" = "session optional pam_keyinit.so force" ]; then
            pass "profile: $file: the first per-package line is: $first"
        else
            fail "profile: $file: the first per-package line is \"$first\""
            cat "/etc/pam.d/$file" >&2
        fi
    done
    for file in common-session common-session-noninteractive; do
        cat >"/etc/pam.d/keyinit-$file" <<SERVICE
auth     required pam_permit.so
account  required pam_permit.so
@include $file
session  optional pam_exec.so $probe $work/keyinit-$file.log
SERVICE
        rm -f "$work/keyinit-$file.log"
        keyctl session - pamtester -v "keyinit-$file" keyinit-carol open_session close_session
        expect_own_keyring "$work/keyinit-$file.log" open_session keyinit-carol "profile: a service that only includes $file"
        # The profile's line revokes nothing by itself (debian/README.Debian).
        expect_alive_at_close "$work/keyinit-$file.log" "profile: $file"
    done
    # A service that names the module itself, as Debian's login does, and
    # includes common-session: listed twice, one keyring, revoked by the
    # last close on the handle (the profile's line, which closes last).
    cat >/etc/pam.d/keyinit-twice <<SERVICE
auth     required pam_permit.so
account  required pam_permit.so
session  optional pam_keyinit.so force revoke
session  optional pam_exec.so $probe $work/keyinit-twice-own.log
@include common-session
session  optional pam_exec.so $probe $work/keyinit-twice-common.log
SERVICE
    rm -f "$work"/keyinit-twice-*.log
    keyctl session - pamtester -v keyinit-twice keyinit-carol open_session close_session
    expect_own_keyring "$work/keyinit-twice-own.log" open_session keyinit-carol "profile, listed twice"
    own=$(session_id "$work/keyinit-twice-own.log" open_session)
    common=$(session_id "$work/keyinit-twice-common.log" open_session)
    if [ -n "$own" ] && [ "$own" = "$common" ]; then
        pass "profile, listed twice: one keyring ($own) after both lines"
    else
        fail "profile, listed twice: the service's line made $own, common-session's made $common"
    fi
    if probe_record "$work/keyinit-twice-own.log" close_session | grep -q '^describe: keyring;'; then
        pass "profile, listed twice: still valid after the first close"
    else
        fail "profile, listed twice: not valid after the first close"
        probe_record "$work/keyinit-twice-own.log" close_session >&2
    fi
    expect_revoked_at_close "$work/keyinit-twice-common.log" "profile, listed twice, at the last close"
    pam-auth-update --disable keyinit
    if sha256sum --quiet -c "$state/common.sum"; then
        pass "profile: disabled again, common-session and common-session-noninteractive are as they were"
    else
        fail "profile: disabled again, the files differ"
        diff -u <(cat "$state/common.sum") <(sha256sum /etc/pam.d/common-session /etc/pam.d/common-session-noninteractive) >&2
    fi
    rm -f /etc/pam.d/keyinit-common-session /etc/pam.d/keyinit-common-session-noninteractive /etc/pam.d/keyinit-twice
    ;;
purge)
    # With the profile enabled: removing the package takes its lines out.
    sha256sum /etc/pam.d/common-session /etc/pam.d/common-session-noninteractive >"$state/common.sum"
    pam-auth-update --enable keyinit
    if dpkg --purge libpam-keyinit; then pass "purge: dpkg --purge libpam-keyinit"; else fail "purge: dpkg --purge failed"; fi
    if sha256sum --quiet -c "$state/common.sum" && ! grep -q pam_keyinit /etc/pam.d/common-session; then
        pass "purge: the enabled profile's lines are gone from common-session*"
    else
        fail "purge: common-session* still differ after the profile was enabled and the package purged"
    fi
    check_purged purge
    ;;
remove)
    if dpkg --remove libpam-keyinit; then pass "remove: dpkg --remove libpam-keyinit"; else fail "remove: dpkg --remove failed"; fi
    check_purged remove
    dpkg --purge libpam-keyinit >/dev/null
    ;;
reinstall)
    install_package reinstall "$2"
    ;;
newer)
    install_package "older build" "$2"
    install_package "newer build over it" "$3"
    ;;
upgrade)
    cp "$2" /etc/apt/sources.list
    rm -f /etc/apt/sources.list.d/*
    apt-get -q update >/dev/null
    before=$(dpkg-query -W -f '${Version}' libpam-modules)
    apt-get -q -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        -o Dpkg::Use-Pty=0 dist-upgrade >"$state/upgrade.log" 2>&1 &
    upgrading=$!
    while kill -0 "$upgrading" 2>/dev/null; do
        sleep 15
        echo "dist-upgrade: $(tail -n 1 "$state/upgrade.log" | cut -c1-80)"
    done
    if wait "$upgrading"; then
        pass "upgrade: apt-get dist-upgrade (libpam-modules $before -> $(dpkg-query -W -f '${Version}' libpam-modules))"
    else
        fail "upgrade: apt-get dist-upgrade failed"
        tail -n 40 "$state/upgrade.log" >&2
    fi
    check_diversions upgrade
    check_module_is "upgrade: still this package's module" "$state/ours.so"
    # The new release's stock module and manual page, from its packages
    # (Debian 13 moved the manual pages from libpam-modules to
    # libpam-runtime).
    rm -rf "$state/new-stock"
    for package in libpam-modules libpam-runtime; do
        (cd "$state" && apt-get -q download "$package=$(dpkg-query -W -f '${Version}' "$package")" >/dev/null 2>&1)
        dpkg-deb -x "$(ls "$state/${package}"_*.deb)" "$state/new-stock"
    done
    cp "$(find "$state/new-stock" -name pam_keyinit.so -type f | head -n 1)" "$state/stock.so"
    new_manual=$(find "$state/new-stock" -name pam_keyinit.8.gz | head -n 1)
    if [ -n "$new_manual" ]; then
        cp "$new_manual" "$state/stock.8.gz"
        if cmp -s /usr/share/man/man8/pam_keyinit.distrib.8.gz "$new_manual" &&
            ! cmp -s "$manual" "$new_manual"; then
            pass "upgrade: the new release's stock manual page sits at its diverted name, this package's in its place"
        else
            fail "upgrade: the diverted manual page is not the new release's"
        fi
    else
        fail "upgrade: the new release ships no pam_keyinit(8) in libpam-modules or libpam-runtime"
    fi
    # lib.sh chose the stock name from the old libpam-modules: again.
    # shellcheck source=debian/tests/lib.sh
    . /root/dt/lib.sh
    set +e
    check_stock_diverted "upgrade: the new release's stock module"
    check_verify upgrade libpam-modules
    check_verify upgrade libpam-keyinit
    ;;
*)
    echo "in-root.sh: unknown step $1" >&2
    exit 2
    ;;
esac
finish
