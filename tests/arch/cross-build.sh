#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Runs inside the cross-building root of tests/suites/45-arch.sh: builds the
# given meson targets of the source tree SRC for Debian architecture ARCH
# into BUILD-DIR, with warnings as errors.
#
#   cross-build.sh ARCH SRC BUILD-DIR TARGET...
set -euo pipefail
arch=$1 src=$2 build=$3
shift 3

triplet=$(dpkg-architecture -a"$arch" -qDEB_HOST_GNU_TYPE 2>/dev/null)
multiarch=$(dpkg-architecture -a"$arch" -qDEB_HOST_MULTIARCH 2>/dev/null)
case $arch in
  i386) family=x86 cpu=i686 endian=little ;;
  amd64) family=x86_64 cpu=x86_64 endian=little ;;
  arm64) family=aarch64 cpu=aarch64 endian=little ;;
  armhf) family=arm cpu=armv7 endian=little ;;
  s390x) family=s390x cpu=s390x endian=big ;;
  ppc64el) family=ppc64 cpu=ppc64le endian=little ;;
  *) echo "cross-build.sh: no meson machine description for $arch" >&2; exit 2 ;;
esac

mkdir -p "$build"
cat >"$build.cross" <<CROSS
[binaries]
c = '$triplet-gcc'
cpp = '$triplet-g++'
ar = '$triplet-ar'
strip = '$triplet-strip'
pkgconfig = 'pkg-config'

[properties]
pkg_config_libdir = ['/usr/lib/$multiarch/pkgconfig', '/usr/share/pkgconfig']

[host_machine]
system = 'linux'
cpu_family = '$family'
cpu = '$cpu'
endian = '$endian'
CROSS

options=(--cross-file "$build.cross" --prefix /usr --libdir "lib/$multiarch"
  -Dwerror=true -Dman=disabled -Dbenchmarks=disabled -Dfuzzing=false)
if [ -f "$build/build.ninja" ]; then
  meson setup --reconfigure "$build" "$src" "${options[@]}" >"$build.setup.log" 2>&1 ||
    { cat "$build.setup.log" >&2; exit 1; }
else
  meson setup "$build" "$src" "${options[@]}" >"$build.setup.log" 2>&1 ||
    { cat "$build.setup.log" >&2; exit 1; }
fi
# Without ninja's progress lines (warnings are errors anyway).
set +e
meson compile -C "$build" "$@" 2>&1 | grep -v '^\[[0-9]*/[0-9]*\] '
status=${PIPESTATUS[0]}
set -e
exit "$status"
