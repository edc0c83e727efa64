#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# mmdebstrap customize hook of tests/suites/45-arch.sh: puts the kernels the
# suite boots into /kernels of the new root ($1), taken from Debian's
# linux-image packages through the root's own apt (mmdebstrap has its
# mounts and resolv.conf in place while hooks run).
#
#   kernels-hook.sh ROOT LABEL=METAPACKAGE...
set -euo pipefail
root=$1
shift
mkdir -p "$root/kernels/debs"
chmod 1777 "$root/kernels/debs"  # apt downloads as _apt
for kernel in "$@"; do
  label=${kernel%%=*} meta=${kernel#*=}
  image=$(chroot "$root" apt-cache depends "$meta" | sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n 1)
  [ -n "$image" ] || { echo "kernels-hook.sh: $meta depends on no linux-image package" >&2; exit 1; }
  # apt-cache names a foreign package with its architecture already.
  arch=${meta#*:}
  [ "$arch" = "$meta" ] || image="${image%%:*}:$arch"
  # shellcheck disable=SC2016 # expanded by the inner shell
  chroot "$root" sh -c 'cd /kernels/debs && apt-get download -q "$1"' - "$image"
  deb=$(ls "$root"/kernels/debs/*.deb)
  mkdir "$root/kernels/unpack"
  # The kernel comes early in the package: tar stops there, and dpkg-deb
  # then meets a closed pipe.
  dpkg-deb --fsys-tarfile "$deb" 2>/dev/null |
    tar -x -C "$root/kernels/unpack" --wildcards --occurrence=1 './boot/vmlinuz-*' || true
  [ -f "$(echo "$root"/kernels/unpack/boot/vmlinuz-*)" ] ||
    { echo "kernels-hook.sh: no /boot/vmlinuz-* in $deb" >&2; exit 1; }
  mv "$root"/kernels/unpack/boot/vmlinuz-* "$root/kernels/vmlinuz-$label"
  echo "$label: $(basename "$deb")" >>"$root/kernels/versions"
  rm -rf "$root/kernels/unpack" "$deb"
done
rmdir "$root/kernels/debs"
cat "$root/kernels/versions"
