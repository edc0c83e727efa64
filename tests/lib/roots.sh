# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# Root file systems of Debian releases for the tests, made by mmdebstrap in
# its unshare mode (user namespaces: no step of it runs as the real root)
# and kept as tarballs in a cache. Sourced, not run.
#
#   roots_sources SUITE        the sources.list lines for SUITE
#   in_root DIR COMMAND...     runs COMMAND in the root file system DIR
#   extract TARBALL DIR        a fresh root file system from a tarball
#   roots_build_tarball SUITE CONTROL
#                              prints the path of the cached build root of
#                              SUITE: the buildd variant, build-essential
#                              and the Build-Depends of CONTROL (a copy of
#                              debian/control that any user can read)
#   roots_tarball NAME SUITE VARIANT PACKAGES [HOOK...]
#                              prints the path of a cached tarball of SUITE
#                              made with that variant, those packages (comma
#                              separated) and those mmdebstrap customize
#                              hooks; makes it when missing, older than
#                              ROOTS_MAX_AGE minutes (default a day), or made
#                              from another recipe
#
# The archive is the one this machine's apt uses: its URI is read from apt's
# own configuration, and another release is the same archive with another
# suite name. Debian's security archive likewise, for releases that have one.

ROOTS_CACHE=${ROOTS_CACHE:-${PAM_KEYINIT_TEST_CACHE:-/var/cache/pam-keyinit-tests}}
ROOTS_MAX_AGE=${ROOTS_MAX_AGE:-1440}

# roots_archive KIND: the base URI of the main archive (KIND=main) or the
# security archive (KIND=security) in this machine's apt configuration: the
# ones that serve this machine's own release (other repositories this
# machine may list are not Debian's archive).
roots_archive() {
  local codename
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  # shellcheck disable=SC2016 # apt's own format fields
  apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Created-By: Packages' |
    awk -v kind="$1" -v codename="$codename" '
      kind == "security" && $2 == codename "-security" { print $1; exit }
      kind == "main" && $2 == codename { print $1; exit }'
}

roots_sources() {  # roots_sources SUITE
  local suite=$1 main security
  main=$(roots_archive main)
  security=$(roots_archive security)
  if [ -z "$main" ]; then
    echo "roots: this machine's apt configuration names no Debian archive" >&2
    return 1
  fi
  echo "deb $main $suite main"
  case $suite in
    sid | unstable | experimental) ;;
    *)
      echo "deb $main $suite-updates main"
      [ -n "$security" ] && echo "deb $security $suite-security main"
      ;;
  esac
}

# roots_recipe SUITE VARIANT PACKAGES [HOOK...]: what a tarball is made from.
roots_recipe() {
  local suite=$1 variant=$2 packages=$3
  shift 3
  printf '%s\n' "mmdebstrap unshare $suite $variant $packages unsafe-io" "$(roots_sources "$suite")" "$@"
}

roots_tarball() {  # roots_tarball NAME SUITE VARIANT PACKAGES [HOOK...]
  # One maker at a time per tarball: suites that run side by side may ask
  # for the same one (46-releases and 48-e2e, Debian 13's build root).
  mkdir -p "$ROOTS_CACHE"
  (
    flock 9
    roots_tarball_unlocked "$@"
  ) 9>"$ROOTS_CACHE/$1.lock"
}

roots_tarball_unlocked() {
  local name=$1 suite=$2 variant=$3 packages=$4
  shift 4
  local tarball=$ROOTS_CACHE/$name.tar recipe hook hooks=() sources
  sources=$(roots_sources "$suite") || return 1
  recipe=$(roots_recipe "$suite" "$variant" "$packages" "$@") || return 1
  if [ -f "$tarball" ] && [ "$(cat "$tarball.recipe" 2>/dev/null)" = "$recipe" ] &&
    [ -n "$(find "$tarball" -mmin "-$ROOTS_MAX_AGE")" ]; then
    echo "$tarball"
    return 0
  fi
  for hook in "$@"; do hooks+=(--customize-hook="$hook"); done
  mkdir -p "$ROOTS_CACHE"
  rm -f "$tarball" "$tarball.recipe"
  # An unstable archive's Release file can be past its Valid-Until for a
  # while after an update stalls; the packages are still what we test.
  # dpkg need not sync every file of a throwaway root to disk.
  if ! mmdebstrap --mode=unshare --quiet --variant="$variant" --format=tar \
    --aptopt='Acquire::Check-Valid-Until "false"' \
    --aptopt='Acquire::Retries "3"' --dpkgopt=force-unsafe-io \
    ${packages:+--include="$packages"} "${hooks[@]}" \
    "$suite" "$tarball.new" - <<<"$sources" >&2; then
    rm -f "$tarball.new"
    echo "roots: mmdebstrap of $name ($suite) failed" >&2
    return 1
  fi
  mv "$tarball.new" "$tarball"
  echo "$recipe" >"$tarball.recipe"
  echo "$tarball"
}

roots_build_tarball() {  # roots_build_tarball SUITE CONTROL
  local suite=$1 deps
  # Only Build-Depends decide what the build root holds; apt-get build-dep
  # reads them from the copy, in mmdebstrap's user namespace.
  deps=$(sed -n '/^Build-Depends:/,/^[^ ]/{/^Build-Depends:/p;/^ /p}' "$2")
  export RELEASES_CONTROL=$2
  # shellcheck disable=SC2016 # expanded when mmdebstrap runs the hook
  roots_tarball "releases-$suite-build" "$suite" buildd "" \
    'mkdir -p "$1/tmp/bd/debian" && cp "$RELEASES_CONTROL" "$1/tmp/bd/debian/control" && chroot "$1" apt-get -y -q --no-install-recommends build-dep /tmp/bd && rm -rf "$1/tmp/bd"'" # Build-Depends $(sha256sum <<<"$deps" | cut -c1-16)"
}

# in_root DIR COMMAND...: runs COMMAND in the root file system DIR, as root,
# in mount and PID namespaces of its own with /proc mounted (and the folder
# IN_ROOT_ARCHIVES, if set, as apt's package cache); the mounts go with the
# namespace.
in_root() {
  local dir=$1
  shift
  # shellcheck disable=SC2016 # expanded by the inner shell
  unshare --mount --pid --fork --propagation private -- sh -c '
    dir=$1 archives=$2; shift 2
    mount -t proc proc "$dir/proc" && mount --bind /dev/pts "$dir/dev/pts" &&
      { [ -z "$archives" ] || mount --bind "$archives" "$dir/var/cache/apt/archives"; } &&
      exec chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LC_ALL=C.UTF-8 TERM=dumb "$@"' - "$dir" "${IN_ROOT_ARCHIVES:-}" "$@"
}

# extract TARBALL DIR: a fresh root file system from a cached tarball.
extract() {
  rm -rf --one-file-system "$2"
  mkdir -p "$2"
  tar --numeric-owner -C "$2" -xf "$1"
  cp /etc/resolv.conf "$2/etc/resolv.conf" 2>/dev/null || true
}
