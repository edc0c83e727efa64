# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash disable=SC2034
# Shared by scripts/ and tests/suites/: sourced, not run.

# The Debian release this runs on (bookworm, trixie, ...).
DEBIAN_CODENAME=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")

# What building the module and running its meson tests needs.
BASE_PACKAGES=(
  g++ meson ninja-build pkg-config
  libpam0g-dev libkeyutils-dev libgtest-dev libseccomp-dev
  keyutils pamtester python3 passwd
)
# The format check pins clang-format 14, Debian 12's; where the release has
# no clang-format-14 it skips, saying so (tests/lint/check_format.sh).
if [ "$DEBIAN_CODENAME" = bookworm ]; then
  BASE_PACKAGES+=(clang-format-14)
fi

# A folder that lives as long as one top-level run, shared with the suites.
if [ -z "${PAM_KEYINIT_RUN_DIR:-}" ]; then
  PAM_KEYINIT_RUN_DIR=$(mktemp -d -t pam-keyinit-run.XXXXXX)
  export PAM_KEYINIT_RUN_DIR
fi

# ensure_packages PACKAGE...: installs those that are missing, with one line
# for what it installs instead of apt's own listing (shown only on failure).
ensure_packages() {
  local missing=() package log
  for package in "$@"; do
    if ! dpkg-query -W -f='${Status}\n' "$package" 2>/dev/null | grep -q '^install ok installed$'; then
      missing+=("$package")
    fi
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]} (run as root to install them)" >&2
    return 1
  fi
  apt_update_once || return 1
  echo "installing Debian packages: ${missing[*]}"
  log=$PAM_KEYINIT_RUN_DIR/apt-install.log
  if ! DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
    --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "apt-get install failed" >&2
    return 1
  fi
  echo "  done: $(grep -c '^Setting up ' "$log") packages set up, dependencies included"
}

# configure_build DIR [MESON OPTION...]: sets DIR up, or reconfigures it.
configure_build() {
  local dir=$1
  shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@"
  fi
}

# skip_unless_root WHO WHY: ends a suite or test script as skipped (77)
# when not run as root, saying who needs it and why.
skip_unless_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "$1: skipped: needs root ($2)" >&2
    exit 77
  fi
}

# running_in_container: true inside a container manager's container
# (systemd-nspawn, podman, LXC: each writes one of these files), where the
# suites that start containers, virtual machines or user namespaces of their
# own cannot run. Docker's /.dockerenv is not taken as proof: some virtual
# machines carry that file on a kernel of their own with every privilege.
running_in_container() {
  [ -e /run/host/container-manager ] || [ -e /run/systemd/container ] || [ -e /run/.containerenv ]
}

# skip_in_container WHO WHY: ends a suite as skipped (77) inside a container.
skip_in_container() {
  if running_in_container; then
    echo "$1: skipped: runs inside a container, where $2"
    exit 77
  fi
}

# apt_update_once: apt-get update at most once per top-level run.
apt_update_once() {
  if [ ! -e "$PAM_KEYINIT_RUN_DIR/apt-updated" ]; then
    echo "apt-get update"
    apt-get -o DPkg::Lock::Timeout=600 update -qq || return 1
    touch "$PAM_KEYINIT_RUN_DIR/apt-updated"
  fi
}

# debian_sources SUITE: sources.list lines for SUITE (with its -updates and
# -security parts where this machine has them) on the archive this machine
# uses, read from its own apt configuration; nothing else is reached.
debian_sources() {
  # shellcheck disable=SC2016 # apt's own format fields
  apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' 'Created-By: Packages' |
    awk -v suite="$1" '$2 == suite || $2 == suite "-updates" || $2 == suite "-security" {
        key = $1 " " $2
        if (!(key in components)) { order[++n] = key; components[key] = $3 }
        else if (index(" " components[key] " ", " " $3 " ") == 0) components[key] = components[key] " " $3
      }
      END { for (i = 1; i <= n; i++) print "deb " order[i] " " components[order[i]] }'
}

# cached_root_tarball NAME RECIPE COMMAND...: prints the path of the cached
# tarball NAME in $PAM_KEYINIT_TEST_CACHE, made by COMMAND (which gets the
# path to write as its last argument) when it is missing, was made from
# another RECIPE, or is older than a day.
cached_root_tarball() {
  local name=$1 recipe=$2 tarball
  shift 2
  mkdir -p "$PAM_KEYINIT_TEST_CACHE"
  tarball=$PAM_KEYINIT_TEST_CACHE/$name.tar
  if [ -f "$tarball" ] && [ "$(cat "$tarball.recipe" 2>/dev/null)" = "$recipe" ] &&
    [ -n "$(find "$tarball" -mmin -1440)" ]; then
    echo "reusing $tarball ($(( ($(date +%s) - $(stat -c %Y "$tarball")) / 60 )) minutes old)" >&2
  else
    rm -f "$tarball" "$tarball.recipe"
    "$@" "$tarball.new" >&2 || { rm -f "$tarball.new"; return 1; }
    mv "$tarball.new" "$tarball"
    echo "$recipe" >"$tarball.recipe"
  fi
  echo "$tarball"
}
PAM_KEYINIT_TEST_CACHE=${PAM_KEYINIT_TEST_CACHE:-/var/cache/pam-keyinit-tests}

# ensure_build_deps SOURCE-DIR: installs the Build-Depends of the Debian
# source in SOURCE-DIR (build-essential among them), as a maintainer would.
ensure_build_deps() {
  local log=$PAM_KEYINIT_RUN_DIR/build-dep.log
  ensure_packages dpkg-dev || return 1
  (cd "$1" && dpkg-checkbuilddeps) >/dev/null 2>&1 && return 0
  apt_update_once || return 1
  echo "installing the Build-Depends of debian/control"
  if ! DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 build-dep -y -q \
    --no-install-recommends "$1" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "apt-get build-dep failed" >&2
    return 1
  fi
  echo "  done: $(grep -c '^Setting up ' "$log") packages set up"
}

# run_logged LABEL LOG COMMAND...: runs COMMAND with its output in LOG,
# saying every 30 s that it still runs and what it printed last; its status
# is COMMAND's. For the long quiet steps of the suites (builds, roots).
run_logged() {
  local label=$1 log=$2 pid waited=0
  shift 2
  "$@" >"$log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    waited=$((waited + 1))
    if [ $((waited % 30)) -eq 0 ]; then
      echo "   $label: still running ($waited s): $(tail -n 1 "$log" | cut -c1-90)"
    fi
  done
  wait "$pid"
}
