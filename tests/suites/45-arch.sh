#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# scripts/test: runs beside other suites (containers and virtual machines of its own)
# The module on other architectures than the build machine's, for real:
#
# - i386: the module and its tests, cross-built, run on two real kernels in
#   qemu-system-x86_64 (TCG): Debian 12's amd64 kernel (i386 programs
#   through IA32 emulation) and its 686-pae kernel (a 32-bit kernel). Inside,
#   an initramfs of i386 programs runs the unit, symbols and stack tests
#   and the key-quota case of the fault tests
#   and real pamtester sessions, of this module and of the stock one side by
#   side, for users whose IDs do not fit in 16 bits (tests/arch/init.sh).
# - arm64 and s390x (big-endian): cross-built, the unit tests and the
#   symbols test under qemu-user.
#
# The cross-building root (Debian 12, amd64 with i386, arm64 and s390x
# foreign, the kernels in /kernels) and the build folders are cached in
# $PAM_KEYINIT_TEST_CACHE (/var/cache/pam-keyinit-tests) as arch-*.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
NAME=45-arch

# common.sh makes a run folder when no top-level run gave one: then ours.
own_run_dir=${PAM_KEYINIT_RUN_DIR:-yes}
. scripts/lib/common.sh
[ "$own_run_dir" = yes ] && own_run_dir=$PAM_KEYINIT_RUN_DIR || own_run_dir=

work=
making_root=
qemu_pids=()
# shellcheck disable=SC2317 # run by the trap
cleanup() {
  local pid
  for pid in "${qemu_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  [ -z "$work" ] || rm -rf --one-file-system "$work"
  [ -z "$own_run_dir" ] || rm -rf --one-file-system "$own_run_dir"
  # A root this run left half made is made again next time.
  [ -z "$making_root" ] || rm -rf --one-file-system "$making_root"
}
trap cleanup EXIT

skip_suite() {
  echo "$NAME: skipped: $*"
  exit 77
}
[ "$(id -u)" -eq 0 ] || skip_suite "needs root (a build root made with mmdebstrap, chroot, qemu)"
running_in_container &&
  skip_suite "runs inside a container, which cannot make a build root, chroot or mount"

SUITE=bookworm
CROSS_ARCHES=(i386 arm64 s390x)
# Label=package of the kernels booted with the i386 userland.
KERNELS=(amd64=linux-image-amd64 686-pae=linux-image-686-pae:i386)
# Architectures checked under qemu-user, with their qemu program.
USER_ARCHES=(arm64=aarch64 s390x=s390x)
# Every architecture whose real kernel this suite does not boot yet.
UNBOOTED_ARCHES=(arm64 s390x)

ensure_packages mmdebstrap qemu-system-x86 qemu-user-static cpio

cache=$PAM_KEYINIT_TEST_CACHE
mkdir -p "$cache"
root=$cache/arch-root
builds=$cache/arch-build
work=$(mktemp -d -t pam-keyinit-arch.XXXXXX)


# One run at a time uses the cached root and builds.
exec {lock}>"$cache/arch.lock"
flock "$lock"

started=$SECONDS
step() {
  echo "== $NAME: $* (at $((SECONDS - started)) s)"
}
. tests/lib/cases.sh
finish() {
  echo "$NAME: took $((SECONDS - started)) s"
  echo "$NAME: $passed passed, $failed failed, $skipped skipped"
  exit $((failed > 0))
}

# run_with_progress WHAT COMMAND...: runs it, its output to $work/WHAT.log,
# saying every 30 s that it still runs; the log on failure.
run_with_progress() {
  local what=$1 since=$SECONDS status
  shift
  "$@" >"$work/$what.log" 2>&1 &
  local pid=$!
  while ! wait_for "$pid" 30; do
    echo "   $what: still running ($((SECONDS - since)) s)"
  done
  wait "$pid" && status=0 || status=$?
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$work/$what.log"
    echo "   $what: failed with status $status after $((SECONDS - since)) s"
  else
    echo "   $what: done in $((SECONDS - since)) s"
  fi
  return "$status"
}
wait_for() {  # wait_for PID SECONDS: 0 when PID ended within SECONDS
  local until=$((SECONDS + $2))
  while [ "$SECONDS" -lt "$until" ]; do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 1
  done
  ! kill -0 "$1" 2>/dev/null
}

# --- the cross-building root ------------------------------------------------
# The archive this machine uses, from its own apt configuration, without
# the security archive: it carries neither s390x nor always consistent
# foreign indices, and this root only builds and tests; its packages come
# from one point release, the same on every architecture.
cross_root_sources() {
  debian_sources "$SUITE" | grep -v -- '-security '
}

packages=(meson ninja-build pkgconf dpkg-dev)
for arch in "${CROSS_ARCHES[@]}"; do
  packages+=("crossbuild-essential-$arch")
  for package in libpam0g-dev libkeyutils-dev libgtest-dev libseccomp-dev libstdc++6; do
    packages+=("$package:$arch")
  done
done
# The i386 userland of the initramfs: never run in the root.
packages+=(libpam-modules:i386 pamtester:i386 keyutils:i386 busybox-static:i386)
recipe="$SUITE apt ${CROSS_ARCHES[*]} ${packages[*]} kernels ${KERNELS[*]} hook $(sha256sum tests/arch/kernels-hook.sh | cut -c1-16)"

step "the cross-building root"
if [ -f "$root/kernels/versions" ] && [ "$(cat "$root.recipe" 2>/dev/null)" = "$recipe" ] &&
  [ -n "$(find "$root.recipe" -mtime -7)" ]; then
  echo "reusing $root (made $(( ($(date +%s) - $(stat -c %Y "$root.recipe")) / 3600 )) hours ago)"
else
  rm -rf --one-file-system "$root" "$root.new" "$root.recipe" "$builds"
  apt_update_once
  cross_root_sources >"$work/sources.list"
  grep -q " $SUITE " "$work/sources.list" ||
    { fail "this machine's apt sources have no $SUITE archive to make the root from"; finish; }
  making_root=$root.new
  arch_list=amd64
  for arch in "${CROSS_ARCHES[@]}"; do arch_list+=",$arch"; done
  package_list=$(IFS=,; echo "${packages[*]}")
  # Documentation, man pages and translations are never read there.
  if ! run_with_progress mmdebstrap mmdebstrap --variant=apt --architectures="$arch_list" \
    --include="$package_list" --format=directory --dpkgopt=force-unsafe-io \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook="$top/tests/arch/kernels-hook.sh \"\$1\" ${KERNELS[*]}" \
    "$SUITE" "$root.new" "$work/sources.list"; then
    fail "making the cross-building root with mmdebstrap"
    finish
  fi
  cat "$root.new/kernels/versions"
  mv "$root.new" "$root"
  making_root=
  echo "$recipe" >"$root.recipe"
fi

# in_root COMMAND...: runs it chrooted in the root, with the build folders
# at /w; the mounts go with the private mount namespace.
# shellcheck disable=SC2317 # run through run_with_progress
in_root() {
  mkdir -p "$builds" "$root/w"
  # shellcheck disable=SC2016 # expanded by the inner shell
  unshare --mount --propagation private -- sh -c '
    root=$1 builds=$2; shift 2
    mount --bind "$builds" "$root/w" && mount -t proc proc "$root/proc" &&
      mount --bind /dev "$root/dev" && exec chroot "$root" "$@"' - "$root" "$builds" "$@"
}

# --- the builds -------------------------------------------------------------
# The tree goes to $builds/src file by file: a file whose content did not
# change keeps its time stamp, so ninja rebuilds only what changed.
sync_tree() {
  local from=$1 to=$2 file
  mkdir -p "$to" "$work/tree"
  tar -C "$from" --exclude=./.git --exclude='./build*' --exclude='./obj-*' \
    --exclude=./debian/.debhelper --exclude=./debian/tmp -cf - . | tar -C "$work/tree" -xf -
  (cd "$to" && find . -type f -o -type l) | while read -r file; do
    [ -e "$work/tree/$file" ] || [ -L "$work/tree/$file" ] || rm -f "$to/$file"
  done
  (cd "$work/tree" && find . -type f) | while read -r file; do
    if ! cmp -s "$work/tree/$file" "$to/$file"; then
      mkdir -p "$(dirname "$to/$file")"
      cp "$work/tree/$file" "$to/$file"
      chmod --reference="$work/tree/$file" "$to/$file"
    fi
  done
  rm -rf "$work/tree"
}

step "cross-builds (${CROSS_ARCHES[*]}) with warnings as errors"
sync_tree "$top" "$builds/src"
built=()
for arch in "${CROSS_ARCHES[@]}"; do
  targets=(pam_keyinit unit-tests symbols-test)
  # The stack tests' PAM configuration folder needs its copied "other".
  # The key-quota case of the fault tests (tests/fault/key_quota_test.cc)
  # runs there too: the fallback keyring on Debian 12's own kernel.
  [ "$arch" = i386 ] && targets+=(stack-tests fault-tests tests/pam.d/other)
  if run_with_progress "build-$arch" in_root /w/src/tests/arch/cross-build.sh "$arch" /w/src "/w/build-$arch" \
    "${targets[@]}"; then
    pass "$arch: module and tests build with -Dwerror=true"
    built+=("$arch")
  else
    fail "$arch: the cross-build failed"
  fi
done
is_built() { [[ " ${built[*]} " == *" $1 "* ]]; }

# --- i386 on real kernels -----------------------------------------------------
boot_i386() {
  local staging=$work/initramfs lib=usr/lib/i386-linux-gnu
  mkdir -p "$staging"/{bin,usr/bin,usr/lib,etc/pam.d,arch,proc,sys,dev,tmp,run,w}
  ln -s usr/lib "$staging/lib"
  ln -s bin "$staging/sbin"
  cp "$root/usr/bin/busybox" "$staging/bin/busybox"
  cp "$root/usr/bin/pamtester" "$root/usr/bin/keyctl" "$staging/usr/bin/"
  # The shared libraries of the i386 packages, the stock modules among them.
  (cd "$root" && find usr/lib/ld-linux.so.2 "$lib" \( -name '*.so' -o -name '*.so.*' \) ! -path '*/gconv/*' -print0 |
    cpio --quiet -0 -pdm "$staging")
  mkdir -p "$staging/w/build-i386/module" "$staging/w/build-i386/tests"
  cp "$builds/build-i386/module/pam_keyinit.so" "$staging/w/build-i386/module/"
  cp "$builds/build-i386/tests/"{unit-tests,symbols-test,stack-tests} "$staging/w/build-i386/tests/"
  mkdir -p "$staging/w/build-i386/tests/fault"
  cp "$builds/build-i386/tests/fault/fault-tests" "$staging/w/build-i386/tests/fault/"
  cp -r "$builds/build-i386/tests/pam.d" "$staging/w/build-i386/tests/"
  cp tests/arch/init.sh "$staging/init"
  cp tests/arch/probe.sh "$staging/arch/probe"
  printf 'BUILD=/w/build-i386\nSTOCK=/%s/security/pam_keyinit.so\n' "$lib" >"$staging/arch/config"
  # name uid gid: below 65536; exactly 65536; 100000 (34464 in 16 bits);
  # 70000 (4464) with a group below 65536; a group above 65535; 4000000000.
  # Then both as the kernel prints them in key descriptions: signed.
  awk '{ print $0, ($2 > 2147483647 ? $2 - 4294967296 : $2), ($3 > 2147483647 ? $3 - 4294967296 : $3) }' \
    >"$staging/arch/users" <<'USERS'
arch-low 1000 1000
arch-65536 65536 65536
arch-100000 100000 100000
arch-70000 70000 1000
arch-group 2000 80000
arch-4e9 4000000000 4000000000
USERS
  {
    echo "root:x:0:0:root:/:/bin/sh"
    echo "pkt-alice:x:1001:1001::/:/bin/sh"
    echo "pkt-bob:x:1002:1002::/:/bin/sh"
    echo "pkt-fault:x:1003:1003::/:/bin/sh"
    echo "pkt-quota:x:1004:1004::/:/bin/sh"
    awk '{ print $1 ":x:" $2 ":" $3 "::/:/bin/sh" }' "$staging/arch/users"
  } >"$staging/etc/passwd"
  {
    echo "root:x:0:"
    echo "pkt-alice:x:1001:"
    echo "pkt-bob:x:1002:"
    echo "pkt-fault:x:1003:"
    echo "pkt-quota:x:1004:"
    awk '!seen[$3]++ { print "g" $3 ":x:" $3 ":" }' "$staging/arch/users"
  } >"$staging/etc/group"
  printf 'passwd: files\ngroup: files\nshadow: files\n' >"$staging/etc/nsswitch.conf"
  for side in ours stock; do
    module=/w/build-i386/module/pam_keyinit.so
    [ "$side" = stock ] && module=/$lib/security/pam_keyinit.so
    printf 'session required %s debug revoke\nsession optional pam_exec.so /arch/probe\n' \
      "$module" >"$staging/etc/pam.d/arch-$side"
  done
  printf 'auth required pam_deny.so\naccount required pam_deny.so\npassword required pam_deny.so\nsession required pam_deny.so\n' \
    >"$staging/etc/pam.d/other"
  (cd "$staging" && find . -print0 | cpio --quiet -0 -o -H newc) >"$work/initramfs.cpio"
  echo "   initramfs: $(( $(stat -c %s "$work/initramfs.cpio") / 1048576 )) MiB"

  # no_timer_check: under TCG on a busy machine (the container suites run
  # side by side), the 686-pae kernel's check of the IO-APIC timer can time
  # out and panic ("IO-APIC + timer doesn't work"); the check proves
  # nothing about keyrings.
  local kernel label
  for kernel in "${KERNELS[@]}"; do
    label=${kernel%%=*}
    qemu-system-x86_64 -machine pc -cpu max -m 1024 -smp 1 -display none -no-reboot \
      -monitor none -serial "file:$work/console-$label.log" \
      -kernel "$root/kernels/vmlinuz-$label" -initrd "$work/initramfs.cpio" \
      -append "console=ttyS0 panic=-1 quiet loglevel=1 no_timer_check" >"$work/qemu-$label.log" 2>&1 &
    qemu_pids+=($!)
  done
  # Both at once, one core each; what they report as it comes.
  local since=$SECONDS last=$SECONDS i running seen=() lines count
  while :; do
    running=0
    for i in "${!qemu_pids[@]}"; do
      kill -0 "${qemu_pids[$i]}" 2>/dev/null && running=1
      label=${KERNELS[$i]%%=*}
      lines=$(grep -a '^ARCH-RESULT ' "$work/console-$label.log" 2>/dev/null || true)
      count=$(grep -c . <<<"$lines" || true)
      if [ "$count" -gt "${seen[i]:-0}" ]; then
        tail -n +"$(( ${seen[i]:-0} + 1 ))" <<<"$lines" |
          sed "s/^ARCH-RESULT /   [$label, $((SECONDS - since)) s] /"
        seen[i]=$count
        last=$SECONDS
      fi
    done
    [ "$running" -eq 1 ] || break
    if [ $((SECONDS - since)) -ge 900 ]; then
      echo "   the kernels did not finish in 900 s: stopping them"
      for i in "${!qemu_pids[@]}"; do kill "${qemu_pids[$i]}" 2>/dev/null || true; done
    fi
    if [ $((SECONDS - last)) -ge 30 ]; then
      echo "   waiting for the kernels ($((SECONDS - since)) s)"
      last=$SECONDS
    fi
    sleep 1
  done
  for i in "${!qemu_pids[@]}"; do wait "${qemu_pids[$i]}" || true; done
  qemu_pids=()
}

report_i386() {  # report_i386 LABEL EXPECTED-MACHINE
  local label=$1 machine=$2 kind name detail
  local console=$work/console-$label.log
  local context="i386 on the $label kernel"
  tr -d '\r' <"$console" >"$console.clean" 2>/dev/null || : >"$console.clean"
  if ! grep -a -q "^ARCH-KERNEL .* $machine\$" "$console.clean"; then
    fail "$context: the kernel did not start the i386 userland (want uname -m $machine)"
    tail -n 40 "$console.clean"
    cat "$work/qemu-$label.log"
    return
  fi
  echo "   $context: $(grep -a '^ARCH-KERNEL ' "$console.clean" | head -n 1)"
  while read -r _ kind name; do
    detail=""
    [[ $name == *": "* ]] && detail=${name#*: } && name=${name%%: *}
    case $kind in
      pass) pass "$context: $name${detail:+ ($detail)}" ;;
      skip) skip "$context: $name: $detail" ;;
      *) fail "$context: $name: $detail" ;;
    esac
  done < <(grep -a '^ARCH-RESULT ' "$console.clean")
  if ! grep -a -q '^ARCH-DONE' "$console.clean"; then
    fail "$context: the run inside the VM did not finish"
    tail -n 40 "$console.clean"
  fi
}

if is_built i386; then
  step "i386: real sessions on Debian's amd64 and 686-pae kernels (qemu-system-x86_64, TCG)"
  echo "   kernels: $(tr '\n' ' ' <"$root/kernels/versions")"
  boot_i386
  report_i386 amd64 x86_64
  report_i386 686-pae i686
else
  skip "i386 real-kernel sessions: the i386 build failed"
fi

# --- arm64 and s390x under qemu-user ----------------------------------------
for entry in "${USER_ARCHES[@]}"; do
  arch=${entry%%=*} qemu=qemu-${entry#*=}-static
  if ! is_built "$arch"; then
    skip "$arch under qemu-user: the $arch build failed"
    continue
  fi
  step "$arch: unit and symbols tests under $qemu"
  for test in unit-tests symbols-test; do
    args=()
    [ "$test" = symbols-test ] && args=("/w/build-$arch/module/pam_keyinit.so")
    # qemu-user finds /w/... under the root first, so the test folder
    # compiled into the tests is there, as are the target's libraries.
    # shellcheck disable=SC2016 # expanded by the inner shell
    if output=$(unshare --mount --propagation private -- sh -c '
        mount --bind "$2" "$1/w" && root=$1 && shift 2 && exec "$@"' - "$root" "$builds" \
        "$qemu" -L "$root" "$root/w/build-$arch/tests/$test" "${args[@]}" 2>&1 \
        </dev/null); then
      pass "$arch under qemu-user: $test ($(grep -E '^\[ *PASSED *\]' <<<"$output" | tr -s ' '))"
    else
      echo "$output" | tail -n 60
      fail "$arch under qemu-user: $test"
    fi
  done
done

for arch in "${UNBOOTED_ARCHES[@]}"; do
  skip "$arch real-kernel sessions: not booted (qemu-system under TCG does not fit the suite's time budget)"
done

finish
