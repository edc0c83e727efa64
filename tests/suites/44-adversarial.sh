#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Attacks on the session set-up, on the real kernel with real libpam, this
# module and Linux-PAM's side by side through the lines distributions ship
# ("session optional MODULE ARGS", then "session required pam_permit.so"):
# a caller that makes its own session keyring unreadable or invalidates it,
# a target that fills its key quota before a root service opens its
# session, filesystem IDs of the host's own, passwd entries with uid or gid
# 4294967295, control characters in names that reach the log, PAM_USER
# changed between setcred and open_session, a passwd lookup that fails with
# an error, a close on another thread and two handles on one thread, and
# root as the target from a user's keyring. Each case prints what both
# modules did; only ours is counted (tests/adversarial/run.sh).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. scripts/lib/common.sh

skip_unless_root 44-adversarial "it switches user IDs, makes users and mount namespaces, and fills a user's key quota"
ensure_packages "${BASE_PACKAGES[@]}" || exit 1
if ! error=$(keyctl rdescribe @u 2>&1 >/dev/null); then
  echo "44-adversarial: skipped: kernel keyrings are unavailable here (keyctl: $error)"
  exit 77
fi
if ! error=$(unshare --mount --net true 2>&1); then
  echo "44-adversarial: skipped: cannot make the mount and network namespaces that catch syslog ($error)"
  exit 77
fi

build=${PAM_KEYINIT_BUILD_DIR:-$PWD/build-test}
if [ ! -f "$build/build.ninja" ]; then
  configure_build "$build" || exit 1
fi
meson compile -C "$build" pam_keyinit adversarial >/dev/null || {
  echo "44-adversarial: FAIL: cannot build the module and the harness in $build"
  exit 1
}
exec tests/adversarial/run.sh "$build" 44-adversarial
