#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Every C++ source of the tree is as clang-format 14 lays it out with the
# tree's .clang-format. Prints the files that are not, with the first lines
# that differ; exits 77 when clang-format 14 or the git checkout is missing.
set -euo pipefail
root=${1:-.}
cd "$root"

if ! command -v clang-format-14 >/dev/null; then
  echo "format: skipped: clang-format-14 is not installed; the layout is pinned to clang-format 14, Debian 12's (apt-get install clang-format-14 there), and other versions lay out differently"
  exit 77
fi
if [ ! -e .git ]; then
  echo "format: skipped: $PWD is not a git checkout, so the tree's files are unknown"
  exit 77
fi

# Files whose layout is printed as skipped rather than failed, until they
# are brought in line.
not_yet=()

diff_file=$(mktemp -t pam-keyinit-format.XXXXXX)
trap 'rm -f "$diff_file"' EXIT
checked=0
skipped=0
bad=0
while IFS= read -r -d '' file; do
  [ -f "$file" ] || continue
  if ! clang-format-14 --style=file "$file" | diff -u "$file" - >"$diff_file" 2>&1; then
    if [[ " ${not_yet[*]} " == *" $file "* ]]; then
      echo "skipped: $file is not laid out as .clang-format says"
      skipped=$((skipped + 1))
      continue
    fi
    echo "$file is not laid out as .clang-format says (clang-format-14 -i $file):"
    head -n 20 "$diff_file"
    bad=$((bad + 1))
  fi
  checked=$((checked + 1))
done < <(git ls-files -z --cached --others --exclude-standard -- '*.cc' '*.h')
echo "format: $checked files checked, $bad not laid out as .clang-format says, $skipped skipped"
[ "$bad" -eq 0 ]
