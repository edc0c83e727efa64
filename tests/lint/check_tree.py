#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Checks that the repository stands alone and speaks with one voice.

Every source file and script (C++, shell, Python, meson.build, anything
that starts with "#!") names its license on its first line, or on the line
after the shebang: "// SPDX-License-Identifier: BSD-3-Clause" or
"# SPDX-License-Identifier: BSD-3-Clause".

Every file path a comment or document cites exists in the tree (a path that
starts with one of the tree's top-level folders, or the name of a Markdown
file); every section of doc/design.md cited as `doc/design.md, "Section"`
or `doc/design.md ("Section")` is a heading there; every decision rule
cited by number ("rule 4", "rules 3 and 4", "the fourth rule") is one of
the numbered rules of its "Decision rules" section.

Usage: check_tree.py SOURCE_ROOT. Prints one line per problem and a summary;
exits 1 when it found any.
"""
import pathlib
import re
import subprocess
import sys

ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5,
            "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9}
TEXT_SUFFIXES = {".c", ".cc", ".h", ".py", ".sh", ".md", ".scd", ".build", ".txt",
                 ".in", ".map", ".supp", ".options", ""}
# Files this check does not read: other projects' text, generated data,
# debian/rules (the paths it names are ninja's outputs in the build folder)
# and this file, whose patterns would match themselves.
NOT_READ = ("tests/fuzz/corpus/", "tests/fuzz/flow-corpus/", "debian/copyright",
            "debian/changelog", "debian/rules", "tests/lint/check_tree.py")
# Files whose problems are printed as skipped rather than failed, until
# they are brought in line. Each is named in the summary.
NOT_YET = ()
# Sources and scripts whose license line is printed as skipped rather than
# failed, until they have one.
LICENSE_NOT_YET = ()
LICENSE_LINES = ("// SPDX-License-Identifier: BSD-3-Clause", "# SPDX-License-Identifier: BSD-3-Clause")


def is_source(root, name):
    path = pathlib.PurePosixPath(name)
    if path.suffix in {".cc", ".h", ".sh", ".py"} or path.name == "meson.build":
        return True
    with open(root / name, "rb") as file:
        return file.read(2) == b"#!"


def license_problem(root, name):
    lines = (root / name).read_text(errors="replace").splitlines()
    if lines and lines[0].startswith("#!"):
        lines = lines[1:]
    if not lines or lines[0] not in LICENSE_LINES:
        return f"{name}: does not start with an SPDX-License-Identifier: BSD-3-Clause line"
    return None


def tree_files(root):
    listed = subprocess.run(
        ["git", "-C", str(root), "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        check=True, capture_output=True, text=True).stdout.split("\0")
    return sorted(name for name in listed if name and (root / name).is_file())


def design_contract(root):
    text = (root / "doc/design.md").read_text()
    sections = set(re.findall(r"^#+ (.+?)\s*$", text, re.M))
    rules_part = re.search(r"^## Decision rules\n(.*?)(?=^## )", text, re.M | re.S)
    rules = set(int(n) for n in re.findall(r"^(\d+)\. ", rules_part.group(1), re.M)) if rules_part else set()
    return sections, rules


def flatten(text):
    # A comment that goes on over several lines reads as one line.
    return re.sub(r"\n[ \t]*(?://|#|\*|;)?[ \t]*", " ", text)


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    if not (root / ".git").exists():
        print(f"references: skipped: {root} is not a git checkout, so the tree's files are unknown")
        return 77
    files = tree_files(root)
    present = set(files)
    folders = {str(pathlib.PurePosixPath(f).parent) for f in files}
    for folder in list(folders):
        parts = pathlib.PurePosixPath(folder).parts
        folders.update(str(pathlib.PurePosixPath(*parts[:i])) for i in range(1, len(parts)))
    top = sorted({f.split("/")[0] for f in files if "/" in f})
    markdown_names = {pathlib.PurePosixPath(f).name for f in files if f.endswith(".md")}
    sections, rules = design_contract(root)

    path_pattern = re.compile(
        r"(?<![\w./$<{-])((?:%s)/[\w.*/-]*[\w*])" % "|".join(re.escape(t) for t in top))
    markdown_pattern = re.compile(r"(?<![\w./-])([\w-]+\.md)\b")
    section_pattern = re.compile(r'doc/design\.md(?:,| \(|, see)\s*"([^"]+)"((?:,? (?:and )?"[^"]+")*)')
    rule_pattern = re.compile(
        r"\b[Rr]ules? (\d+)((?:(?:,| to| and| or) \d+)*)|\bthe (%s) rule\b" % "|".join(ORDINALS))

    problems = []
    read = 0
    for name in files:
        if name.startswith(NOT_READ) or pathlib.PurePosixPath(name).suffix not in TEXT_SUFFIXES:
            continue
        try:
            text = (root / name).read_text()
        except UnicodeDecodeError:
            continue
        read += 1
        flat = flatten(text)
        for match in path_pattern.finditer(text):
            cited = match.group(1).rstrip(".")
            # A build output is named after its template.
            if cited in present or cited in folders or f"{cited}.scd" in present or f"{cited}.in" in present:
                continue
            if "*" in cited and any(pathlib.PurePosixPath(f).match(cited) for f in files):
                continue
            problems.append(f"{name}: cites {cited}, which is not in the tree")
        for match in markdown_pattern.finditer(text):
            if match.group(1) not in markdown_names:
                problems.append(f"{name}: cites {match.group(1)}, which is not in the tree")
        for match in section_pattern.finditer(flat):
            cited = [match.group(1)] + re.findall(r'"([^"]+)"', match.group(2))
            for section in cited:
                if section not in sections:
                    problems.append(f'{name}: cites doc/design.md, "{section}", which has no such section')
        for match in rule_pattern.finditer(flat):
            if match.group(3):
                numbers = [ORDINALS[match.group(3)]]
            else:
                numbers = [int(match.group(1))] + [int(n) for n in re.findall(r"\d+", match.group(2))]
            for number in numbers:
                if number not in rules:
                    problems.append(f"{name}: cites rule {number}; the decision rules are "
                                    f"{min(rules)} to {max(rules)}")
    sources = 0
    unlicensed = 0
    license_skipped = 0
    for name in files:
        if name.startswith(NOT_READ[:2]) or not is_source(root, name):
            continue
        sources += 1
        problem = license_problem(root, name)
        if problem is None:
            continue
        if any(pathlib.PurePosixPath(name).match(pattern) for pattern in LICENSE_NOT_YET):
            print(f"skipped: {problem}")
            license_skipped += 1
        else:
            problems.append(problem)
            unlicensed += 1

    skipped = [p for p in problems if p.startswith(tuple(f"{n}:" for n in NOT_YET))]
    problems = [p for p in problems if p not in skipped]
    for problem in skipped:
        print(f"skipped: {problem}")
    for problem in problems:
        print(problem)
    print(f"licenses: {sources} sources and scripts, {unlicensed} without the line, "
          f"{license_skipped} skipped")
    print(f"references: {read} files read, {len(rules)} decision rules, "
          f"{len(sections)} sections in doc/design.md, {len(problems)} problems, "
          f"{len(skipped)} skipped")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
