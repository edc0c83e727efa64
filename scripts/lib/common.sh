# SPDX-License-Identifier: BSD-3-Clause
# Shared by scripts/ and tests/suites/: sourced, not run.

# What building the module and running its meson tests needs on Debian 12.
BASE_PACKAGES=(
  g++ meson ninja-build pkg-config
  libpam0g-dev libkeyutils-dev libgtest-dev libseccomp-dev
  keyutils pamtester
  clang-format-14 python3
)

# A folder that lives as long as one top-level run, shared with the suites.
if [ -z "${PAM_KEYINIT_RUN_DIR:-}" ]; then
  PAM_KEYINIT_RUN_DIR=$(mktemp -d -t pam-keyinit-run.XXXXXX)
  export PAM_KEYINIT_RUN_DIR
fi

# ensure_packages PACKAGE...: installs those that are missing, running
# apt-get update at most once per top-level run.
ensure_packages() {
  local missing=() package
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
  if [ ! -e "$PAM_KEYINIT_RUN_DIR/apt-updated" ]; then
    apt-get update -q
    touch "$PAM_KEYINIT_RUN_DIR/apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
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
