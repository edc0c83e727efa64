#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Counts the GoogleTest cases of a meson test run.

gtest-cases.py BUILD_DIR prints "PASSED FAILED SKIPPED" on its first line,
then one line per skipped case: "Suite.Case: the reason GoogleTest gave".
Counts come from meson's JUnit log; reasons from the XML files GoogleTest
wrote beside it (meson's log keeps no message), and for a test that is not
a GoogleTest program (it exits 77) from its own output in meson's log: its
line "NAME: skipped: REASON", else its last line.
"""
import glob
import os
import sys
import xml.etree.ElementTree as ET


def main(build_dir):
    try:
        root = ET.parse(os.path.join(build_dir, "meson-logs", "testlog.junit.xml")).getroot()
    except (OSError, ET.ParseError):
        print(0, 1, 0)
        return
    passed = failed = skipped = 0
    skipped_names = []
    outputs = {}
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
            name = f"{case.get('classname', '')}.{case.get('name', '')}"
            skipped_names.append(name)
            outputs[name] = case.findtext("system-out") or ""
        else:
            passed += 1
    reasons = {}
    for path in glob.glob(os.path.join(build_dir, "*.xml")):
        try:
            gtest = ET.parse(path).getroot()
        except ET.ParseError:
            continue
        for case in gtest.iter("testcase"):
            node = case.find("skipped")
            if node is not None:
                message = (node.get("message") or node.text or "").strip()
                # GoogleTest puts "file:line" on a line of its own first.
                first, _, rest = message.partition("\n")
                if rest and ":" in first and first.rsplit(":", 1)[1].isdigit():
                    message = rest
                reasons[f"{case.get('classname', '')}.{case.get('name', '')}"] = message
    print(passed, failed, skipped)
    for name in skipped_names:
        reason = " ".join(reasons.get(name, "").split()) or own_reason(outputs.get(name, ""))
        print(f"{name}: {reason or 'the test gave no reason'}")


def own_reason(output):
    """The reason a test that is not a GoogleTest program printed."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        _, marker, reason = line.partition("skipped: ")
        if marker:
            return reason
    return lines[-1] if lines else ""


if __name__ == "__main__":
    main(sys.argv[1])
