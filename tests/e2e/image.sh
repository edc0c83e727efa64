# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# Sourced by tests/e2e/e2e.sh: the Debian system the login programs run in
# (E2E_SUITE: bookworm, Debian 12, or trixie, Debian 13), made by
# mmdebstrap and cached as a tarball. Needs tests/lib/roots.sh.

E2E_SUITE=${E2E_SUITE:-bookworm}
E2E_PACKAGES=systemd,systemd-sysv,dbus,dbus-user-session,libpam-systemd,openssh-server,openssh-client,login,util-linux,sudo,cron,keyutils,expect,procps,lightdm,lightdm-autologin-greeter,xvfb
E2E_RECIPE="$E2E_SUITE minbase $E2E_PACKAGES"

# e2e_tarball CACHE-DIR WORK-DIR: prints the path of the tarball, made
# again when missing, older than a day or made from another recipe.
e2e_tarball() {
  local cache=$1 work=$2 tarball
  tarball=$cache/e2e-$E2E_SUITE-systemd.tar
  mkdir -p "$cache"
  if [ -f "$tarball" ] && [ "$(cat "$tarball.recipe" 2>/dev/null)" = "$E2E_RECIPE" ] &&
    [ -n "$(find "$tarball" -mmin -1440)" ]; then
    echo "reusing $tarball ($(( ($(date +%s) - $(stat -c %Y "$tarball")) / 60 )) minutes old)" >&2
  else
    # The archive this machine's apt uses, with the release's suite name.
    roots_sources "$E2E_SUITE" >"$work/sources.list" || return 1
    echo "making $tarball with mmdebstrap" >&2
    mmdebstrap --quiet --variant=minbase --format=tar --include="$E2E_PACKAGES" \
      "$E2E_SUITE" "$tarball.new" "$work/sources.list" >&2 || return 1
    mv "$tarball.new" "$tarball"
    echo "$E2E_RECIPE" >"$tarball.recipe"
  fi
  echo "$tarball"
}
