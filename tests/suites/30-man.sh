#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The man page and the configuration examples:
#  - pam_keyinit(8) builds from its scdoc source and installs to man8;
#  - it lints clean with groff (as lintian and man --warnings do) and with
#    mandoc;
#  - its OPTIONS and SYNOPSIS name exactly the options of module/options.cc,
#    and so does the README's options table once it has one;
#  - its title line names the project's manual, its FILES name what the
#    package installs, and the README, README.Debian, the examples' README
#    and the page quote the pam-auth-update profile's line as it is;
#  - every service file in conf-examples/ is driven by pamtester against the
#    built module (debian/tests/conf-examples, the autopkgtest of the package).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
top=$PWD
. scripts/lib/common.sh

ensure_packages scdoc groff-base man-db mandoc pamtester keyutils meson ninja-build || exit 1

failures=0
pass() { echo "ok: $*"; }
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# A build of our own with the man page required, so that a missing scdoc
# fails here instead of quietly leaving the page out.
build=$top/build-man
stage=$(mktemp -d -t pam-keyinit-man.XXXXXX)
trap 'rm -rf "$stage"' EXIT
if ! configure_build "$build" -Dman=enabled -Dtests=false >"$stage/setup.log" 2>&1; then
    cat "$stage/setup.log" >&2
    fail "meson setup with -Dman=enabled"
    exit 1
fi
if ! meson compile -C "$build" doc/pam_keyinit.8 >"$stage/compile.log" 2>&1; then
    cat "$stage/compile.log" >&2
    fail "scdoc did not build pam_keyinit.8"
    exit 1
fi
page=$build/doc/pam_keyinit.8
pass "pam_keyinit.8 built from doc/pam_keyinit.8.scd"

# Installed where man looks for section 8.
mandir=$(meson introspect "$build" --buildoptions |
    python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "mandir"))')
if meson install -C "$build" --no-rebuild --tags man --destdir "$stage/root" >"$stage/install.log" 2>&1 &&
   installed=$(find "$stage/root" -path "*/$mandir/man8/pam_keyinit.8" -type f) && [ -n "$installed" ] &&
   cmp -s "$installed" "$page"; then
    pass "meson install puts it in <mandir>/man8 (${installed#"$stage/root"})"
else
    cat "$stage/install.log" >&2
    fail "meson install did not install pam_keyinit.8 into $mandir/man8"
fi

# Lint. groff with every warning, and man as lintian runs it.
if warnings=$(groff -ww -z -man "$page" 2>&1) && [ -z "$warnings" ]; then
    pass "groff -ww -z -man: no warnings"
else
    fail "groff -ww -z -man: $warnings"
fi
if warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null) &&
   [ -z "$warnings" ]; then
    pass "man --warnings -l: no warnings"
else
    fail "man --warnings -l: $warnings"
fi
# mandoc, down to warnings. scdoc 1.11 opens every paragraph with .P, even
# right after .SH or before another .P; mandoc reports those as skipped
# paragraph macros, which change nothing in the output. Anything else fails.
mandoc -T lint -W warning "$page" >"$stage/mandoc.log" 2>&1
remaining=$(grep -v -E 'WARNING: skipping paragraph macro: (PP|P) (empty|after SH|after SS)' "$stage/mandoc.log")
if [ -z "$remaining" ]; then
    pass "mandoc -T lint -W warning: nothing beyond scdoc's redundant paragraph macros"
else
    fail "mandoc -T lint: $remaining"
fi

# The options: module/options.cc is the truth.
code_options=$(sed -n 's/.*OptionName{"\([^"]*\)".*/\1/p' module/options.cc | sort)
if [ -z "$code_options" ]; then
    fail "found no options in module/options.cc (has its table changed shape?)"
fi
# An option in the man page is a "*name*" line of its own in OPTIONS.
man_options=$(awk '/^# /{ in_options = ($0 == "# OPTIONS"); next }
                   in_options && /^\*[a-z_]+\*$/ { gsub(/\*/, ""); print }' doc/pam_keyinit.8.scd | sort)
synopsis_options=$(awk '/^# /{ in_synopsis = ($0 == "# SYNOPSIS"); next }
                        in_synopsis' doc/pam_keyinit.8.scd | grep -o '\[\*[a-z_]*\*\]' | tr -d '[]*' | sort)
compare_options() {  # compare_options WHERE LIST
    local missing extra
    missing=$(comm -23 <(echo "$code_options") <(echo "$2") | tr '\n' ' ')
    extra=$(comm -13 <(echo "$code_options") <(echo "$2") | tr '\n' ' ')
    if [ -z "$missing$extra" ]; then
        pass "$1 names exactly the module's options: $(echo "$code_options" | tr '\n' ' ')"
    else
        fail "$1: missing [${missing% }], not in module/options.cc [${extra% }]"
    fi
}
compare_options "the man page's OPTIONS" "$man_options"
compare_options "the man page's SYNOPSIS" "$synopsis_options"
# The README's options table: the rows whose first cell is a lower-case
# word in backquotes.
# shellcheck disable=SC2016 # the backquotes are literal
readme_options=$(sed -n 's/^| *`\([a-z_]*\)` *|.*/\1/p' README.md 2>/dev/null | sort -u)
if [ -n "$readme_options" ]; then
    compare_options "README.md's options table" "$readme_options"
else
    echo "note: README.md has no options table yet; not compared"
fi

# The page is the project's, and says what the package installs.
if head -n 1 doc/pam_keyinit.8.scd | grep -q '"pam-keyinit Manual"$'; then
    pass "the page's title line names the project's manual"
else
    fail "the page's title line is not the project's manual: $(head -n 1 doc/pam_keyinit.8.scd)"
fi
files_section=$(awk '/^# /{ in_files = ($0 == "# FILES"); next } in_files' doc/pam_keyinit.8.scd)
# What debian/libpam-keyinit.install puts in the package, and README.Debian.
while read -r _ destination; do
    [ -n "$destination" ] || continue
    if grep -qF "_/$destination/" <<<"$files_section"; then
        pass "FILES names /$destination/ (debian/libpam-keyinit.install)"
    else
        fail "FILES does not name /$destination/, which the package installs"
    fi
done <debian/libpam-keyinit.install
for shipped in /usr/share/doc/libpam-keyinit/README.Debian /usr/share/pam-configs/keyinit; do
    if grep -qF "_${shipped}_" <<<"$files_section"; then
        pass "FILES names $shipped"
    else
        fail "FILES does not name $shipped"
    fi
done

# The pam-auth-update profile's line, and every text that quotes it.
profile_line=$(sed -n 's/^[[:space:]]\+\(optional[[:space:]].*\)$/\1/p' debian/pam-configs/keyinit | tr -s ' \t' '  ')
if [ -z "$profile_line" ]; then
    fail "found no session line in debian/pam-configs/keyinit"
else
    for text in README.md debian/README.Debian conf-examples/README.md doc/pam_keyinit.8.scd; do
        # grep reads to the end (no -q): under pipefail, a grep that stops
        # at the first match can leave tr killed by SIGPIPE, a false failure.
        if tr -s ' \t' '  ' <"$text" | tr -d '*`' | grep -F "session $profile_line" >/dev/null; then
            pass "$text quotes the profile's line: session $profile_line"
        else
            fail "$text does not quote the profile's line \"session $profile_line\""
        fi
    done
fi

# Every example, exercised against the module of this tree.
module=${PAM_KEYINIT_BUILD_DIR:+$PAM_KEYINIT_BUILD_DIR/module/pam_keyinit.so}
if [ -z "$module" ]; then
    meson compile -C "$build" >"$stage/module.log" 2>&1 || { cat "$stage/module.log" >&2; fail "building the module"; }
    module=$build/module/pam_keyinit.so
fi
PAM_KEYINIT_MODULE=$module PAM_KEYINIT_EXAMPLES=$top/conf-examples bash debian/tests/conf-examples
examples_status=$?
case $examples_status in
    0) pass "debian/tests/conf-examples against $module" ;;
    77) echo "conf-examples: skipped" ;;
    *) fail "debian/tests/conf-examples against $module" ;;
esac

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
[ "$examples_status" -eq 77 ] && exit 77
exit 0
