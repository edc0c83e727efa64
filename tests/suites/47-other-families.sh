#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# scripts/test: runs beside other suites (builds and roots of its own, no containers; about 2.5 minutes of CPU, mostly the two compiles)
# The packages for the families without diversions, built and checked on
# this Debian 12 machine with the tools Debian packages for them:
#   RPM (packaging/rpm/pam-keyinit.spec, Fedora, RHEL, openSUSE) with
#     rpm/rpmbuild/rpmspec 4.18 and rpmlint 2.4: the spec parses and lints;
#     rpmbuild builds the binary and source packages with Fedora's flags and
#     %meson macros (packaging/rpm/macros.debian-host), %check running the
#     unit and symbols tests; the file list is meson install's plus what the
#     spec adds; the packages lint; the binary one installs into an empty
#     root, verifies, and its erase puts the switched stacks back;
#   pacman (packaging/arch/PKGBUILD, Arch) with makepkg and pacman 6.0.2:
#     makepkg builds it as an unprivileged user with Arch's flags, check()
#     running the same tests; .PKGINFO and the file list are checked; it
#     installs into an empty root, passes pacman -Qkk, and its removal puts
#     the switched stacks back;
#   the module out of the RPM, named by a relative path with a folder in it
#     as the switched stack lines name it, runs a real session under this
#     machine's Linux-PAM (Debian 12: 1.5.2).
# The empty roots get a static busybox as /bin/sh and its tools, so that the
# packages' scriptlets and pam-keyinit-stacks run in them. Each step says
# what it proved and what it cannot prove here: there is no Fedora, RHEL,
# openSUSE or Arch userland on this machine, so no dnf, zypper, authselect,
# pam-config, their Linux-PAM or a login there.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
top=$PWD
name=47-other-families
. scripts/lib/common.sh
. tests/lib/cases.sh

skip_suite() {
  echo "$name: skipped: $*"
  exit 77
}
[ "$(id -u)" -eq 0 ] || skip_suite "needs root (installs rpm and pacman, makes the user that builds the Arch package, installs into roots)"

# What this suite needs on Debian 12 and 13, besides what the build needs
# (elfutils: eu-strip, which Debian 13's rpm 4.20 runs through debugedit's
# find-debuginfo).
TOOLS=(rpm rpmlint pacman-package-manager makepkg libarchive-tools fakeroot busybox-static pamtester man-db elfutils)
ensure_packages "${BASE_PACKAGES[@]}" scdoc "${TOOLS[@]}" || exit 1
version_of() { dpkg-query -W -f='${Version}' "$1" | sed 's/^[0-9]*://; s/[-+~].*//'; }
rpm_version=$(version_of rpm)
rpmlint_version=$(version_of rpmlint)
pacman_version=$(version_of pacman-package-manager)

started=$SECONDS
work=$(mktemp -d -t pam-keyinit-families.XXXXXX)
chmod 755 "$work"
builder=pkt-families
service=pam-keyinit-families
multiarch=$(g++ -print-multiarch)
# A folder of the host's PAM module folder, for the relative-path session.
host_folder=/usr/lib/$multiarch/security/pam-keyinit-families
cleanup() {
  rm -rf --one-file-system "$work" "$host_folder"
  rm -f "/etc/pam.d/$service"
  getent passwd "$builder" >/dev/null && userdel --remove "$builder" 2>/dev/null
}
trap cleanup EXIT

say() { echo "[$((SECONDS - started)) s] $*"; }
proved() { echo "   what this step proves: $*"; }
not_here() { echo "   what it cannot prove here: $*"; }

version=$(sed -n "s/^  version: '\(.*\)',$/\1/p" meson.build)
tarball=pam-keyinit-$version.tar.gz
# The working tree as a release tarball would hold it, uncommitted changes
# included.
tar -C "$top" --exclude=./.git --exclude='./build*' --exclude='./obj-*' \
  --exclude=./debian/.debhelper --exclude=./debian/libpam-keyinit --exclude=./debian/tmp \
  --transform "s,^\.,pam-keyinit-$version," -czf "$work/$tarball" .

# expected_files ROOT EXTRA...: what meson installed into ROOT, as the
# package ships it (the man page renamed and gzipped), plus EXTRA; sorted,
# files only.
expected_files() {
  local root=$1
  shift
  { (cd "$root" && find . -type f -printf '/%P\n') |
      sed -e 's|/man8/pam_keyinit\.8$|/man8/pam-keyinit.8.gz|'
    printf '%s\n' "$@"; } | sort
}

# make_root DIR: an empty root with busybox as /bin/sh and its tools, and
# /dev/null.
make_root() {
  local dir=$1 tool
  mkdir -p "$dir/usr/bin" "$dir/tmp" "$dir/etc/pam.d" "$dir/dev"
  # A container may forbid mknod: the switcher then does without.
  mknod -m 666 "$dir/dev/null" c 1 3 2>/dev/null || true
  ln -s usr/bin "$dir/bin"
  cp /bin/busybox "$dir/usr/bin/busybox"
  for tool in sh sed grep cat mktemp rm wc readlink; do
    ln -s busybox "$dir/usr/bin/$tool"
  done
}

# --- RPM ---------------------------------------------------------------------
spec=packaging/rpm/pam-keyinit.spec
rpm_macros=packaging/rpm/macros.debian-host
rpmlint_config=packaging/rpm/rpmlint.toml
mkdir -p "$work/home" "$work/tmp" "$work/rpm/SOURCES"
cp "$work/$tarball" "$work/rpm/SOURCES/"
# rpm would write to ~/rpmbuild, ~/.rpmdb and /var/tmp: all of it goes to
# $work.
in_work() { env HOME="$work/home" TMPDIR="$work/tmp" "$@"; }
rpm_defs=(--define "_topdir $work/rpm" --define "_tmppath $work/tmp")

say "RPM: the spec"
if in_work rpmspec --load "$rpm_macros" -q --srpm "$spec" | grep -qx "pam-keyinit-$version-1.src" &&
  [ "$(in_work rpmspec -q --qf '%{version}\n' --srpm "$spec")" = "$version" ]; then
  pass "rpmspec -q parses $spec; its Version is meson.build's ($version)"
  echo "   BuildRequires: $(in_work rpmspec -q --buildrequires "$spec" | tr '\n' ' ')"
else
  fail "rpmspec -q $spec, or its Version is not meson.build's $version"
fi
if in_work rpmlint -c "$rpmlint_config" "$spec" | tee "$work/rpmlint-spec.log" &&
  grep -q ' 0 errors, 0 warnings' "$work/rpmlint-spec.log"; then
  pass "rpmlint: the spec, no errors, no warnings (the checks $rpmlint_config turns off say why)"
else
  fail "rpmlint on the spec"
fi
proved "rpm $rpm_version parses the spec; rpmlint $rpmlint_version with upstream's checks finds nothing else"
not_here "Fedora's or openSUSE's rpmlint configuration, dnf builddep resolving the BuildRequires"

say "RPM: rpmbuild -ba --nodeps (Fedora's flags and %meson macros from $rpm_macros)"
# --noclean: the build folder stays, for the file list below.
if run_logged rpmbuild "$work/rpmbuild.log" in_work rpmbuild --load "$rpm_macros" "${rpm_defs[@]}" \
  --nodeps --noclean -ba "$spec"; then
  pass "rpmbuild builds the binary and source packages; %check (unit and symbols suites) passes"
  grep -E '^(Ok|Fail|Skipped): ' "$work/rpmbuild.log" | sed 's/^/   meson test /'
else
  tail -n 40 "$work/rpmbuild.log"
  fail "rpmbuild -ba"
fi
rpm_file=$(ls "$work"/rpm/RPMS/*/pam-keyinit-"$version"-1.*.rpm 2>/dev/null | head -n 1)
srpm_file=$(ls "$work"/rpm/SRPMS/pam-keyinit-"$version"-1.src.rpm 2>/dev/null | head -n 1)
proved "the spec builds with %meson, %meson_build, %meson_install, %meson_test and Fedora's x86_64 compiler flags; the symbols test passes on the module built so"
not_here "redhat-rpm-config itself (its annobin and hardening -specs files), Fedora's or openSUSE's compiler and libraries"

if [ -n "$rpm_file" ] && [ -n "$srpm_file" ]; then
  say "RPM: the packages"
  in_work rpm -qpl "$rpm_file" | sed 's/^/   /'
  requires=$(in_work rpm -qp --requires "$rpm_file")
  if grep -qx 'libpam.so.0()(64bit)' <<<"$requires" && grep -qx 'libkeyutils.so.1()(64bit)' <<<"$requires" &&
    ! grep -q 'libstdc++\|libgcc_s' <<<"$requires"; then
    pass "automatic Requires: libpam.so.0()(64bit) and libkeyutils.so.1()(64bit), no C++ runtime"
  else
    echo "$requires"
    fail "automatic Requires"
  fi
  # What meson installs from the very build rpmbuild made, as the package
  # ships it, plus what the spec adds.
  # rpm 4.18 (Debian 12) unpacks into BUILD/NAME-VERSION; rpm 4.20 (Debian
  # 13, as Fedora 41 on) into BUILD/NAME-VERSION-build/NAME-VERSION.
  build_dir=$(ls -d "$work"/rpm/BUILD/pam-keyinit-"$version"/*-build \
    "$work"/rpm/BUILD/pam-keyinit-"$version"-build/pam-keyinit-"$version"/*-build 2>/dev/null | head -n 1)
  # rpm's own default for the documentation and license folders,
  # NAME-VERSION (Fedora's and openSUSE's macros make them NAME).
  doc=/usr/share/doc/pam-keyinit-$version
  licenses=/usr/share/licenses/pam-keyinit-$version
  if [ -n "$build_dir" ] && meson install -C "$build_dir" --no-rebuild --destdir "$work/meson-rpm" >"$work/meson-install.log" 2>&1; then
    expected_files "$work/meson-rpm" /usr/sbin/pam-keyinit-stacks /usr/share/man/man8/pam-keyinit-stacks.8.gz \
      "$licenses/LICENSE" "$doc/README.md" "$doc/packaging.md" >"$work/rpm-expected"
    # Files only: not folders, nor the links rpm makes under
    # /usr/lib/.build-id, as Fedora's rpm does.
    in_work rpm -qp --qf '[%{FILENAMES} %{FILEMODES:perms}\n]' "$rpm_file" |
      awk '$2 !~ /^[dl]/ { print $1 }' | sort >"$work/rpm-files"
    if diff -u "$work/rpm-expected" "$work/rpm-files"; then
      pass "the package's files are meson install's (man page as pam-keyinit.8) plus the switcher, LICENSE and the docs"
    else
      fail "the package's file list differs from meson install's"
    fi
  else
    echo "rpmbuild's build folder: ${build_dir:-none under $work/rpm/BUILD: $(ls "$work/rpm/BUILD" "$work/rpm/BUILD"/* 2>&1 | tr '\n' ' ')}"
    cat "$work/meson-install.log" 2>/dev/null
    fail "meson install from rpmbuild's build folder"
  fi
  if in_work rpmlint -c "$rpmlint_config" "$rpm_file" "$srpm_file" | tee "$work/rpmlint.log" &&
    grep -q ' 0 errors, 0 warnings' "$work/rpmlint.log"; then
    pass "rpmlint: the binary and source packages, no errors, no warnings"
  else
    fail "rpmlint on the packages"
  fi
  proved "the package holds the module in %{_libdir}/security/pam-keyinit, pam-keyinit(8), the switcher, the license; rpm derives the library Requires from the module"
  not_here "the Requires resolving against Fedora's or openSUSE's packages"

  say "RPM: install into an empty root, switch, erase"
  rpm_root=$work/rpm-root
  make_root "$rpm_root"
  # Fedora-shaped stacks: a service's own file, and authselect's link.
  mkdir -p "$rpm_root/etc/authselect"
  printf '%s\n' '#%PAM-1.0' 'session    required     pam_loginuid.so' \
    'session    optional     pam_keyinit.so force revoke' 'session    include      password-auth' \
    >"$rpm_root/etc/pam.d/sshd"
  printf '%s\n' 'session     optional                   pam_keyinit.so revoke' \
    'session     required                   pam_limits.so' >"$rpm_root/etc/authselect/system-auth"
  ln -s ../authselect/system-auth "$rpm_root/etc/pam.d/system-auth"
  cp -a "$rpm_root/etc" "$work/rpm-etc-before"
  rpm_in_root=(in_work rpm --root "$rpm_root" --dbpath /var/lib/rpm)
  if "${rpm_in_root[@]}" --initdb && "${rpm_in_root[@]}" --nodeps -ivh "$rpm_file" &&
    "${rpm_in_root[@]}" -V --nodeps pam-keyinit; then
    pass "rpm --root installs the package into an empty root; rpm -V finds it intact"
  else
    fail "rpm --root -ivh, or rpm -V"
  fi
  chroot "$rpm_root" /usr/sbin/pam-keyinit-stacks use
  if grep -q '^session    optional     pam-keyinit/pam_keyinit.so force revoke$' "$rpm_root/etc/pam.d/sshd" &&
    grep -q ' pam_keyinit.so revoke$' "$rpm_root/etc/authselect/system-auth"; then
    pass "pam-keyinit-stacks use, in the root: sshd names pam-keyinit/pam_keyinit.so; authselect's link is left alone"
  else
    cat "$rpm_root/etc/pam.d/sshd"
    fail "pam-keyinit-stacks use in the RPM root"
  fi
  cp -a "$rpm_root/etc" "$work/rpm-etc-switched"
  again=$(chroot "$rpm_root" /usr/sbin/pam-keyinit-stacks use | grep -v ': left alone: ')
  listing=$(chroot "$rpm_root" /usr/sbin/pam-keyinit-stacks status)
  if [ -z "$again" ] && diff -r "$work/rpm-etc-switched" "$rpm_root/etc" &&
    grep -qx '/etc/pam.d/sshd:3:session    optional     pam-keyinit/pam_keyinit.so force revoke' <<<"$listing" &&
    grep -qx '/etc/pam.d/system-auth:1:session     optional                   pam_keyinit.so revoke' <<<"$listing"; then
    pass "pam-keyinit-stacks: use a second time changes nothing; status lists the switched line and authselect's stock one"
  else
    echo "$again"
    echo "$listing"
    fail "pam-keyinit-stacks use twice, or status"
  fi
  if "${rpm_in_root[@]}" --nodeps -e pam-keyinit; then
    left=$(cd "$rpm_root" && find usr -path '*pam-keyinit*')
    if diff -r "$work/rpm-etc-before" "$rpm_root/etc" && [ -z "$left" ]; then
      pass "rpm -e runs %preun: the stacks are as before the switch, and nothing of the package is left"
    else
      echo "${left:-nothing left under /usr}"
      fail "after rpm -e: the stacks differ from before the switch, or files are left"
    fi
  else
    fail "rpm -e"
  fi
  proved "the payload installs and erases cleanly; the erase puts switched stacks back"
  not_here "dnf, SELinux labels, authselect and a Fedora login using the switched stacks"

  say "the module from the RPM, named by a relative path, in a real session; its manual pages"
  mkdir -p "$host_folder" "$work/payload"
  bsdtar -C "$work/payload" -xf "$rpm_file"
  cp "$work/payload/usr/lib64/security/pam-keyinit/pam_keyinit.so" "$host_folder/"
  useradd --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$builder"
  printf 'auth required pam_permit.so\naccount required pam_permit.so\nsession required %s revoke\n' \
    "${host_folder##*/}/pam_keyinit.so" >"/etc/pam.d/$service"
  if (pamtester "$service" "$builder" open_session close_session); then
    pass "Linux-PAM loads it as ${host_folder##*/}/pam_keyinit.so (relative, with a folder) and the session opens and closes"
  else
    fail "a session with the module named by a relative path"
  fi
  printf 'auth required pam_permit.so\naccount required pam_permit.so\nsession required %s\n' \
    "${host_folder##*/}/no_such_module.so" >"/etc/pam.d/$service"
  if ! (pamtester "$service" "$builder" open_session close_session) 2>/dev/null; then
    pass "the same line naming a missing file fails the session: the relative path is what loads the module"
  else
    fail "a session with a missing module named by a relative path opened"
  fi
  rm -f "/etc/pam.d/$service"
  rm -rf --one-file-system "$host_folder"

  # The manual pages beside a stand-in for the pam package's pam_keyinit(8),
  # indexed by man-db as Fedora, openSUSE and Arch index theirs.
  manpath=$work/manpath
  mkdir -p "$manpath/man8"
  cp "$work"/payload/usr/share/man/man8/pam-keyinit*.8.gz "$manpath/man8/"
  printf '.TH PAM_KEYINIT 8\n.SH NAME\npam_keyinit \\- the stock module\n' | gzip -n >"$manpath/man8/pam_keyinit.8.gz"
  mandb --quiet "$manpath" >/dev/null 2>&1
  if [ "$(man -M "$manpath" -aw pam_keyinit)" = "$manpath/man8/pam_keyinit.8.gz" ] &&
    [ "$(man -M "$manpath" -w pam-keyinit)" = "$manpath/man8/pam-keyinit.8.gz" ] &&
    [ "$(man -M "$manpath" -w pam-keyinit-stacks)" = "$manpath/man8/pam-keyinit-stacks.8.gz" ]; then
    pass "man-db: man pam-keyinit and man pam-keyinit-stacks show this package's pages; man pam_keyinit still the stock one"
  else
    man -M "$manpath" -aw pam_keyinit pam-keyinit pam-keyinit-stacks
    fail "the manual pages' names under man-db"
  fi
  proved "Linux-PAM 1.5.2 (Debian 12) resolves pam-keyinit/pam_keyinit.so-style paths in the module folder, as pam.conf(5) says; the built module runs; man-db 2.11 keeps the two pam_keyinit pages apart"
  not_here "Fedora's, openSUSE's or Arch's Linux-PAM (1.6 and later), whose module folder is /usr/lib64/security or /usr/lib/security"
else
  skip "the checks of the built RPM: rpmbuild made no package (see its failure above)"
fi

# --- pacman -------------------------------------------------------------------
say "Arch: makepkg as the unprivileged user $builder"
arch_dir=$work/arch
mkdir -p "$arch_dir"
cp packaging/arch/PKGBUILD packaging/arch/pam-keyinit.install "$work/$tarball" "$arch_dir/"
getent passwd "$builder" >/dev/null ||
  useradd --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$builder"
chown -R "$builder:" "$arch_dir"
# Debian's makepkg.conf with Arch's x86_64 compiler and linker flags (LTO
# stays off: Debian's makepkg.conf turns it off, and it only costs time).
cp /etc/makepkg.conf "$work/makepkg.conf"
cat >>"$work/makepkg.conf" <<'EOF'
CHOST="x86_64-pc-linux-gnu"
CFLAGS="-march=x86-64 -mtune=generic -O2 -pipe -fno-plt -fexceptions -Wp,-D_FORTIFY_SOURCE=3 -Wformat -Werror=format-security -fstack-clash-protection -fcf-protection -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer"
CXXFLAGS="$CFLAGS -Wp,-D_GLIBCXX_ASSERTIONS"
LDFLAGS="-Wl,-O1 -Wl,--sort-common -Wl,--as-needed -Wl,-z,relro -Wl,-z,now -Wl,-z,pack-relative-relocs"
EOF
as_builder() { (cd "$arch_dir" && runuser -u "$builder" -- env HOME="$arch_dir" "$@"); }
if as_builder makepkg --config "$work/makepkg.conf" --printsrcinfo >"$work/SRCINFO" &&
  grep -qx "	pkgver = $version" "$work/SRCINFO"; then
  pass "makepkg --printsrcinfo reads the PKGBUILD; its pkgver is meson.build's ($version)"
else
  fail "makepkg --printsrcinfo, or pkgver is not meson.build's $version"
fi
if run_logged makepkg "$work/makepkg.log" as_builder makepkg --config "$work/makepkg.conf" \
  --nodeps --noconfirm --noprogressbar; then
  pass "makepkg --nodeps builds the package as $builder; check() (unit and symbols suites) passes"
  grep -E '^(Ok|Fail|Skipped): ' "$work/makepkg.log" | sed 's/^/   meson test /'
else
  tail -n 40 "$work/makepkg.log"
  fail "makepkg"
fi
proved "the PKGBUILD builds unprivileged with Arch's flags and libdir; the symbols test passes on the module built so"
not_here "Arch's own makepkg.conf (LTO), namcap, the dependencies (--nodeps: Debian's libraries stand in)"

pkg_file=$(ls "$arch_dir"/pam-keyinit-"$version"-1-x86_64.pkg.tar.* 2>/dev/null | head -n 1)
if [ -n "$pkg_file" ]; then
  say "Arch: the package"
  bsdtar -xOf "$pkg_file" .PKGINFO >"$work/PKGINFO"
  sed 's/^/   /' "$work/PKGINFO"
  if grep -qx 'pkgname = pam-keyinit' "$work/PKGINFO" && grep -qx "pkgver = $version-1" "$work/PKGINFO" &&
    grep -qx 'arch = x86_64' "$work/PKGINFO" && grep -qx 'license = BSD-3-Clause' "$work/PKGINFO" &&
    [ "$(grep '^depend = ' "$work/PKGINFO" | sort | tr '\n' ' ')" = "depend = glibc depend = keyutils depend = pam " ]; then
    pass ".PKGINFO: pam-keyinit $version-1, x86_64, BSD-3-Clause, depends on glibc, keyutils and pam"
  else
    fail ".PKGINFO"
  fi
  if meson install -C "$arch_dir/src/build" --no-rebuild --destdir "$work/meson-arch" >"$work/meson-install.log" 2>&1; then
    expected_files "$work/meson-arch" /usr/bin/pam-keyinit-stacks /usr/share/man/man8/pam-keyinit-stacks.8.gz \
      /usr/share/licenses/pam-keyinit/LICENSE \
      /usr/share/doc/pam-keyinit/README.md /usr/share/doc/pam-keyinit/packaging.md >"$work/arch-expected"
    bsdtar -tf "$pkg_file" | grep -v '^\.' | grep -v '/$' | sed 's|^|/|' | sort >"$work/arch-files"
    if diff -u "$work/arch-expected" "$work/arch-files"; then
      pass "the package's files are meson install's (module in /usr/lib/security/pam-keyinit, man page as pam-keyinit.8) plus the switcher, LICENSE and the docs"
    else
      fail "the package's file list differs from meson install's"
    fi
  else
    cat "$work/meson-install.log"
    fail "meson install from makepkg's build folder"
  fi

  say "Arch: install into an empty root, switch, remove"
  arch_root=$work/arch-root
  make_root "$arch_root"
  mkdir -p "$arch_root/var/lib/pacman" "$arch_root/var/cache/pacman/pkg"
  printf '%s\n' '#%PAM-1.0' 'session    optional   pam_keyinit.so       force revoke' \
    'session    include    system-auth' >"$arch_root/etc/pam.d/system-login"
  cp -a "$arch_root/etc" "$work/arch-etc-before"
  printf '[options]\nArchitecture = auto\nSigLevel = Never\nLocalFileSigLevel = Never\n' >"$work/pacman.conf"
  pacman_in_root=(pacman --config "$work/pacman.conf" --root "$arch_root" --dbpath "$arch_root/var/lib/pacman"
    --cachedir "$arch_root/var/cache/pacman/pkg" --logfile "$work/pacman.log")
  if "${pacman_in_root[@]}" --noconfirm --noprogressbar -U -dd "$pkg_file" &&
    "${pacman_in_root[@]}" -Qkk pam-keyinit; then
    pass "pacman -U --root installs it into an empty root; pacman -Qkk finds every file as packaged"
  else
    fail "pacman -U --root, or pacman -Qkk"
  fi
  chroot "$arch_root" /usr/bin/pam-keyinit-stacks use
  if grep -q '^session    optional   pam-keyinit/pam_keyinit.so       force revoke$' "$arch_root/etc/pam.d/system-login"; then
    pass "pam-keyinit-stacks use, in the root: system-login names pam-keyinit/pam_keyinit.so, spacing kept"
  else
    cat "$arch_root/etc/pam.d/system-login"
    fail "pam-keyinit-stacks use in the Arch root"
  fi
  if "${pacman_in_root[@]}" --noconfirm --noprogressbar -R -dd pam-keyinit; then
    left=$(cd "$arch_root" && find usr -path '*pam-keyinit*')
    if diff -r "$work/arch-etc-before" "$arch_root/etc" && [ -z "$left" ]; then
      pass "pacman -R runs pre_remove: system-login is as before the switch, and nothing of the package is left"
    else
      echo "${left:-nothing left under /usr}"
      fail "after pacman -R: system-login differs from before the switch, or files are left"
    fi
  else
    fail "pacman -R"
  fi
  proved "the package installs, verifies and removes cleanly with pacman $pacman_version; removal puts the switched stack back"
  not_here "pacman -Syu against Arch's repositories, pambase's real system-login, a login on Arch"
else
  skip "the checks of the built Arch package: makepkg made no package (see its failure above)"
fi

userdel --remove "$builder" 2>/dev/null || userdel "$builder" 2>/dev/null
say "done"
echo "$name: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
