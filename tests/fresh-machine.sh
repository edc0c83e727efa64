#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The README's Quick start on a really fresh Debian machine: a root
# filesystem with nothing but Debian's "apt" variant plus git and
# ca-certificates, booted into no more than a shell under systemd-nspawn
# (with keyctl() allowed, as on a real machine), a clone of this
# repository's HEAD, and then exactly the README's two commands:
#
#   scripts/demo
#   scripts/test
#
# Both must exit 0. What the machine this runs on has installed does not
# matter: the fresh system installs everything itself. Run as root:
#
#   tests/fresh-machine.sh [RELEASE]     bookworm (Debian 12) or trixie (13)
#
# The fresh root is cached as a tarball in $PAM_KEYINIT_TEST_CACHE
# (/var/cache/pam-keyinit-tests/fresh-RELEASE.tar, about 90 MB) and made
# again when older than a day; everything else is removed on exit.
# FRESH_UID_MIN (default 1000) is written into the fresh system's
# login.defs: two fresh machines at once share the host kernel's key
# quotas and user keyrings, which are per UID, so each gets its own range.
# Committed work only: the clone is of HEAD, so commit before you run it.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
. scripts/lib/common.sh
. tests/lib/roots.sh

skip_unless_root 90-fresh-machine "mmdebstrap and systemd-nspawn"
skip_in_container 90-fresh-machine "it cannot start systemd-nspawn"

SUITE=${1:-bookworm}
case $SUITE in
  bookworm | trixie) ;;
  *) echo "fresh-machine: unknown release $SUITE (bookworm or trixie)" >&2; exit 2 ;;
esac
uid_min=${FRESH_UID_MIN:-1000}
ensure_packages mmdebstrap systemd-container git

started=$SECONDS
step() { echo "== fresh machine ($SUITE): $* (at $((SECONDS - started)) s)"; }

work=$(mktemp -d -t pam-keyinit-fresh.XXXXXX)
cleanup() { rm -rf --one-file-system "$work"; }
trap cleanup EXIT

step "the fresh $SUITE root filesystem (apt variant, git, ca-certificates)"
apt_update_once
# The archive this machine's apt uses, with the release's suite name.
roots_sources "$SUITE" >"$work/sources.list" || exit 1
make_fresh_root() {  # make_fresh_root TARBALL
  mmdebstrap --variant=apt --include=git,ca-certificates --format=tar \
    "$SUITE" "$1" "$work/sources.list"
}
tarball=$(cached_root_tarball "fresh-$SUITE" "$SUITE apt git,ca-certificates" make_fresh_root)
mkdir "$work/root"
tar -C "$work/root" -xf "$tarball"
# shellcheck disable=SC2016 # a dpkg-query format
echo "   $(tar -tf "$tarball" | wc -l) files; packages: $(chroot "$work/root" dpkg-query -W -f='${Package}\n' | wc -l)"

step "clone of $(git -C "$top" rev-parse --short HEAD) into the fresh system"
git clone --quiet --no-hardlinks "$top" "$work/root/root/pam-keyinit"
git -C "$work/root/root/pam-keyinit" log --oneline -1

# What a person does on that machine, in its own shell: the two commands,
# each timed, with the disk the system uses before and after.
cat >"$work/root/root/quick-start.sh" <<QUICK
#!/bin/bash
set -u
cd /root/pam-keyinit
# The range useradd picks UIDs from, once /etc/login.defs is there (Debian
# 13's apt variant has none until scripts/demo installs passwd).
uid_range() {
  [ -f /etc/login.defs ] && sed -i -e 's/^UID_MIN.*/UID_MIN $uid_min/' -e 's/^GID_MIN.*/GID_MIN $uid_min/' /etc/login.defs
}
used() { du -sk /usr /var /etc /opt /root 2>/dev/null | awk '{ kib += \$1 } END { print kib }'; }
packages() { dpkg-query -W -f='\${Package}\n' | wc -l; }
for command in scripts/demo scripts/test; do
  uid_range
  echo "=== fresh machine: \$command"
  before_disk=\$(used) before_packages=\$(packages) start=\$SECONDS
  \$command
  status=\$?
  echo "=== fresh machine: \$command exited \$status after \$((SECONDS - start)) s;" \
    "packages \$before_packages -> \$(packages); disk used +\$(( (\$(used) - before_disk) / 1024 )) MiB"
  [ "\$status" -eq 0 ] || exit "\$status"
done
QUICK
chmod 755 "$work/root/root/quick-start.sh"

step "the README's two commands, as root in the fresh system"
# No systemd as PID 1: nspawn's stub init runs the script. keyctl() is
# allowed as on a real machine; the host's network reaches Debian's archive.
set +e
# A Debian 13 payload needs the unified cgroup hierarchy, which Debian 12's
# nspawn does not pick for it by itself.
SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 systemd-nspawn --quiet --register=no --keep-unit --pipe --as-pid2 \
  --timezone=off --directory="$work/root" --system-call-filter='keyctl add_key request_key' \
  --setenv=CI="${CI:-}" -- /root/quick-start.sh 2>&1 |
  sed -u 's/^/  | /' | tee "$work/output.log"
status=${PIPESTATUS[0]}
set -e

step "done"
grep '^  | === fresh machine: .* exited' "$work/output.log" | sed 's/^  | //'
closing=$(grep -E '^  \| tests: [0-9]+ passed, [0-9]+ failed' "$work/output.log" | tail -n 1 | sed 's/^  | //')
echo "inside: ${closing:-no closing line}"
grep -E '^  \| (skipped|SKIP)' "$work/output.log" | sed 's/^  | /inside: /' || true
if [ "$status" -ne 0 ]; then
  echo "fresh-machine: FAIL: the Quick start failed on a fresh $SUITE system (exit $status)"
  exit 1
fi
echo "fresh-machine: the Quick start passed on a fresh $SUITE system in $((SECONDS - started)) s"
