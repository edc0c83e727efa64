#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# scripts/test: runs beside other suites (containers and virtual machines of its own)
# The package on every Debian release it is for: bookworm, trixie and sid.
# For each release:
#   - builds it, source and binary, with dpkg-buildpackage in a clean root
#     file system of that release holding only build-essential and the
#     Build-Depends (the build runs the unit and symbols tests), as an
#     unprivileged user; no build line may warn, and the module needs
#     libpam, libkeyutils and libc and nothing else;
#   - runs that release's lintian on it: no errors, no warnings (the
#     informational tags are printed);
#   - installs it into a fresh system of that release and checks the
#     diversions, dpkg --verify, real sessions with pamtester (the autopkgtest
#     debian/tests/session-keyring), the pam-auth-update profile, a newer
#     build over an older one, and that purge puts the stock module back byte
#     for byte.
# Then a bookworm system with the package installed is upgraded to trixie
# with apt-get dist-upgrade, and checked again.
#
# Root file systems are made by mmdebstrap in unshare mode and cached as
# tarballs (tests/lib/roots.sh). The steps run in a chroot inside new
# mount and PID namespaces (unshare), as root of this machine: no seccomp
# filter there, so keyctl() and real kernel keyrings work as on the host.
#
# PAM_KEYINIT_RELEASES="bookworm trixie" picks releases; PAM_KEYINIT_UPGRADE=no
# leaves the upgrade out.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
top=$PWD
name=46-releases
. scripts/lib/common.sh
. tests/lib/roots.sh

skip_suite() {
  echo "$name: skipped: $*"
  exit 77
}
[ "$(id -u)" -eq 0 ] || skip_suite "needs root (chroot, dpkg inside root file systems)"
skip_in_container "$name" "it cannot make root file systems with mmdebstrap or run them"
# Nested inside a container that forbids them (systemd-nspawn, an
# unprivileged one), namespaces and mounts fail: found by trying.
if ! unshare --mount --pid --fork --propagation private -- sh -c 'mount -t tmpfs none /mnt' 2>/dev/null; then
  skip_suite "runs nested: cannot make mount and PID namespaces and mount in them here"
fi
if ! unshare --user --map-root-user true 2>/dev/null; then
  skip_suite "runs nested: cannot make user namespaces here (mmdebstrap's unshare mode)"
fi
if [ -z "$(roots_archive main 2>/dev/null)" ]; then
  skip_suite "this machine's apt configuration names no Debian archive"
fi
ensure_packages mmdebstrap uidmap dpkg-dev binutils >/dev/null || exit 1

read -r -a releases <<<"${PAM_KEYINIT_RELEASES:-bookworm trixie sid}"
upgrade=${PAM_KEYINIT_UPGRADE:-yes}
. tests/lib/cases.sh
started=$SECONDS
work=$(mktemp -d -t pam-keyinit-releases.XXXXXX)
jobs_started=()

cleanup() {
  local pid
  for pid in "${jobs_started[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

say() { echo "[$((SECONDS - started)) s] $*"; }

# run_counted LABEL LOG COMMAND...: runs COMMAND, shows its output (saved in
# LOG), and counts its "ok:" and "FAIL:" lines as this suite's cases; a
# failure that printed no FAIL line counts as one.
run_counted() {
  local label=$1 log=$2 status ok bad
  shift 2
  run_logged "$label" "$log" "$@"
  status=$?
  sed 's/^/    /' "$log"
  ok=$(grep -c '^ok: ' "$log")
  bad=$(grep -c '^FAIL: ' "$log")
  passed=$((passed + ok))
  failed=$((failed + bad))
  if [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then
    fail "$label: exited with status $status"
  fi
  say "$label: $ok passed, $bad failed"
}

# --- the source -------------------------------------------------------------
mkdir "$work/src"
tar -C "$top" --exclude=./.git --exclude='./build*' --exclude='./obj-*' \
  --exclude=./debian/.debhelper --exclude=./debian/libpam-keyinit --exclude=./debian/tmp \
  --exclude=./debian/files --exclude='./debian/*.substvars' --exclude='./debian/*debhelper*' \
  -cf "$work/src.tar" .

# --- root file systems, made in the background ----------------------------------
# For each release: "build" (buildd variant and the Build-Depends), "lint"
# (minbase and lintian) and "system" (minbase, pamtester, keyutils).
make_roots() {  # make_roots RELEASE: writes $work/roots-RELEASE-KIND
  local release=$1 tarball
  tarball=$(roots_build_tarball "$release" "$work/control") &&
    echo "$tarball" >"$work/roots-$release-build" || return 1
  tarball=$(roots_tarball "releases-$release-system" "$release" minbase pamtester,keyutils) &&
    echo "$tarball" >"$work/roots-$release-system" || return 1
  tarball=$(roots_tarball "releases-$release-lint" "$release" minbase lintian) &&
    echo "$tarball" >"$work/roots-$release-lint" || return 1
}
# The build root gets build-essential and the Build-Depends
# (roots_build_tarball), read from a copy any user can read.
cp debian/control "$work/control"
chmod 755 "$work"
declare -A roots_job
for release in "${releases[@]}"; do
  make_roots "$release" >"$work/roots-$release.log" 2>&1 &
  roots_job[$release]=$!
  jobs_started+=($!)
done
say "making or reusing the root file systems of ${releases[*]} in the background (cache: $ROOTS_CACHE)"

# root_for RELEASE KIND: the tarball, waiting for it to be made.
root_for() {
  local file=$work/roots-$1-$2 pid=${roots_job[$1]} waited=0
  while [ ! -s "$file" ] && kill -0 "$pid" 2>/dev/null; do
    sleep 1
    waited=$((waited + 1))
    [ $((waited % 30)) -eq 0 ] && say "still making the $2 root of $1 with mmdebstrap: $(tail -n 1 "$work/roots-$1.log" | cut -c1-80)" >&2
  done
  if [ ! -s "$file" ]; then
    echo "the $2 root of $1 could not be made:" >&2
    tail -n 30 "$work/roots-$1.log" >&2
    return 1
  fi
  cat "$file"
}

# --- each release -------------------------------------------------------------
# build_release RELEASE: builds the package in a clean root of RELEASE and
# checks what it built.
build_release() {
  local release=$1 dir=$work/$1 tarball build_started build_time warnings deb module needed depends
  mkdir -p "$dir/out"

  # The build.
  if ! tarball=$(root_for "$release" build); then
    fail "$release: no build root"
    return 1
  fi
  say "$release: build in a clean root (buildd and Build-Depends only)"
  extract "$tarball" "$dir/root"
  mkdir -p "$dir/root/build/src"
  tar -C "$dir/root/build/src" -xf "$work/src.tar"
  in_root "$dir/root" useradd --home-dir /build --no-create-home builder
  in_root "$dir/root" chown -R builder: /build
  build_started=$SECONDS
  # shellcheck disable=SC2016 # expanded in the root
  if run_logged "$release build" "$dir/build.log" in_root "$dir/root" runuser -u builder -- env HOME=/build \
    sh -c 'cd /build/src && dpkg-buildpackage -us -uc'; then
    build_time=$((SECONDS - build_started))
    pass "$release: dpkg-buildpackage, source and binary (${build_time} s, unit and symbols tests included)"
    echo "$release build: $build_time s" >>"$work/numbers"
  else
    tail -n 60 "$dir/build.log" | sed 's/^/    /'
    fail "$release: dpkg-buildpackage failed"
    return 1
  fi
  grep -E '^ *[0-9]+/[0-9]+ .*(OK|FAIL|SKIP)' "$dir/build.log" | sed 's/^/    /'
  # meson test's result line: "2/2 pam-keyinit:symbols / symbols OK" (meson
  # 1.0) or "2/2 symbols - pam-keyinit:symbols OK" (later).
  if grep -q -E '^ *[0-9]+/[0-9]+ .*pam-keyinit:symbols.* OK ' "$dir/build.log"; then
    pass "$release: the symbols test ran in the package build and passed"
  else
    fail "$release: the symbols test did not run in the package build"
  fi
  # Compiler, linker, meson, debhelper and dpkg all say "warning"; the
  # compiler's command lines, which ninja echoes, are not warnings.
  warnings=$(grep -i -E 'warning' "$dir/build.log" | grep -v -E '^\[[0-9]+/[0-9]+\] (c\+\+|cc|/usr/bin/scdoc) ' || true)
  if [ -z "$warnings" ]; then
    pass "$release: the build log has no warning"
  else
    fail "$release: the build warns:"
    head -n 40 <<<"$warnings" | sed 's/^/    /'
  fi
  cp "$dir"/root/build/*.deb "$dir"/root/build/*.changes "$dir"/root/build/*.buildinfo \
    "$dir"/root/build/*.dsc "$dir"/root/build/*.tar.* "$dir/out/"
  deb=$(ls "$dir"/out/libpam-keyinit_*.deb)
  dpkg-deb -x "$deb" "$dir/deb"
  module=$(find "$dir/deb" -name pam_keyinit.so -type f)
  needed=$(readelf -d "$module" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
  if [ "$needed" = "libc.so.6 libkeyutils.so.1 libpam.so.0 " ]; then
    pass "$release: the module needs exactly: $needed"
  else
    fail "$release: the module needs: $needed"
  fi
  depends=$(dpkg-deb -f "$deb" Depends)
  if grep -q -E 'libstdc|libgcc' <<<"$depends"; then
    fail "$release: the package depends on the C++ runtime: $depends"
  else
    pass "$release: Depends: $depends"
  fi
  echo "$release module: $(stat -c %s "$module") bytes (deb $(stat -c %s "$deb") bytes)" >>"$work/numbers"
  rm -rf --one-file-system "$dir/root"

}

# lint_release RELEASE: that release's lintian on what was built.
lint_release() {
  local release=$1 dir=$work/$1 tarball status tags
  # lintian of that release.
  if tarball=$(root_for "$release" lint); then
    extract "$tarball" "$dir/lint"
    mkdir "$dir/lint/lint"
    cp "$dir"/out/* "$dir/lint/lint/"
    chmod -R a+rX "$dir/lint/lint"
    # shellcheck disable=SC2016 # expanded in the root
    run_logged "$release lintian" "$dir/lintian.log" in_root "$dir/lint" runuser -u nobody -- env HOME=/tmp sh -c \
      'lintian --version; lintian --fail-on none --display-info --show-overrides /lint/*.changes'
    status=$?
    sed 's/^/    /' "$dir/lintian.log"
    tags=$(grep -c -E '^[EWIPXO]: ' "$dir/lintian.log")
    echo "$release lintian: $(head -n 1 "$dir/lintian.log"), exit $status, $tags tags: $(grep -E '^[EWIPXO]: ' "$dir/lintian.log" | sed -E 's/^([A-Z]): [^ ]+( source)?: ([^ ]+).*/\1:\3/' | sort -u | tr '\n' ' ')" >>"$work/numbers"
    # Judged by the tags it prints: an overridden warning (O:) is shown, and
    # counts with --fail-on in Debian 12's lintian; an E: or W: line fails.
    if [ "$status" -eq 0 ] && ! grep -q -E '^[EW]: ' "$dir/lintian.log"; then
      pass "$release: lintian: no errors, no warnings ($tags informational tags shown above)"
    else
      fail "$release: lintian reports errors or warnings (exit $status)"
    fi
    rm -rf --one-file-system "$dir/lint"
  else
    fail "$release: no lintian root"
  fi

}

# system_release RELEASE: install, sessions, profile, purge, newer build.
system_release() {
  local release=$1 dir=$work/$1 tarball deb version
  deb=$(ls "$dir"/out/libpam-keyinit_*.deb 2>/dev/null) || { fail "$release: nothing built to install"; return 1; }
  # A fresh system of that release.
  if ! tarball=$(root_for "$release" system); then
    fail "$release: no system root"
    return 1
  fi
  say "$release: install, sessions, profile, purge in a fresh system"
  extract "$tarball" "$dir/sys"
  cp -r "$top/debian/tests" "$dir/sys/root/dt"
  cp "$top/tests/releases/in-root.sh" "$dir/sys/root/in-root.sh"
  cp "$deb" "$dir/sys/root/ours.deb"
  run_counted "$release install" "$dir/install.log" in_root "$dir/sys" bash /root/in-root.sh install /root/ours.deb
  run_counted "$release sessions" "$dir/sessions.log" in_root "$dir/sys" bash /root/in-root.sh sessions
  run_counted "$release profile" "$dir/profile.log" in_root "$dir/sys" bash /root/in-root.sh profile
  run_counted "$release purge" "$dir/purge.log" in_root "$dir/sys" bash /root/in-root.sh purge
  # A newer build: the same files under a higher version.
  rm -rf "$dir/newer"
  dpkg-deb -R "$deb" "$dir/newer"
  version=$(dpkg-deb -f "$deb" Version)
  sed -i "s/^Version: .*/Version: $version+rebuild1/" "$dir/newer/DEBIAN/control"
  dpkg-deb --root-owner-group -b "$dir/newer" "$dir/sys/root/newer.deb" >/dev/null
  run_counted "$release newer build" "$dir/newer.log" in_root "$dir/sys" bash /root/in-root.sh newer /root/ours.deb /root/newer.deb
  run_counted "$release purge after it" "$dir/purge2.log" in_root "$dir/sys" bash /root/in-root.sh purge
  rm -rf --one-file-system "$dir/sys"
}

# Builds first, one release after another (they take the processors), while
# the other roots are still being made; then lintian; then the systems.
for release in "${releases[@]}"; do build_release "$release"; done
for release in "${releases[@]}"; do
  if [ -d "$work/$release/out" ] && ls "$work/$release"/out/*.changes >/dev/null 2>&1; then lint_release "$release"; fi
done
for release in "${releases[@]}"; do
  if ls "$work/$release"/out/*.deb >/dev/null 2>&1; then system_release "$release"; fi
done

# --- bookworm upgraded to trixie ---------------------------------------------------
if [ "$upgrade" != yes ]; then
  skip "upgrade bookworm to trixie: PAM_KEYINIT_UPGRADE=$upgrade"
elif ! bookworm_deb=$(ls "$work"/bookworm/out/libpam-keyinit_*.deb 2>/dev/null) ||
  ! tarball=$(root_for bookworm system); then
  fail "upgrade: no bookworm package or system to upgrade"
else
  say "upgrade: bookworm with the package installed, apt-get dist-upgrade to trixie"
  dir=$work/upgrade
  extract "$tarball" "$dir"
  cp -r "$top/debian/tests" "$dir/root/dt"
  cp "$top/tests/releases/in-root.sh" "$dir/root/in-root.sh"
  cp "$bookworm_deb" "$dir/root/ours.deb"
  roots_sources trixie >"$dir/root/trixie.list"
  # The downloaded packages are kept for the next run.
  mkdir -p "$ROOTS_CACHE/releases-upgrade-archives"
  up_started=$SECONDS
  run_counted "upgrade: install on bookworm" "$work/up-install.log" in_root "$dir" bash /root/in-root.sh install /root/ours.deb
  IN_ROOT_ARCHIVES=$ROOTS_CACHE/releases-upgrade-archives \
    run_counted "upgrade: dist-upgrade" "$work/up-upgrade.log" in_root "$dir" bash /root/in-root.sh upgrade /root/trixie.list
  echo "upgrade: $((SECONDS - up_started)) s to install and dist-upgrade" >>"$work/numbers"
  run_counted "upgrade: sessions on trixie" "$work/up-sessions.log" in_root "$dir" bash /root/in-root.sh sessions
  run_counted "upgrade: remove" "$work/up-remove.log" in_root "$dir" bash /root/in-root.sh remove
  run_counted "upgrade: reinstall" "$work/up-reinstall.log" in_root "$dir" bash /root/in-root.sh reinstall /root/ours.deb
  run_counted "upgrade: purge" "$work/up-purge.log" in_root "$dir" bash /root/in-root.sh purge
  rm -rf --one-file-system "$dir"
fi

say "numbers:"
sed 's/^/    /' "$work/numbers" 2>/dev/null
echo "$name: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
