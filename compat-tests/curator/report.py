#!/usr/bin/env python3
"""Per-test results from the JUnit platform's legacy XML report.

    report.py PREFIX REPORT_DIR

Prints one line per test, `PREFIX: PASS|FAIL|SKIP Class.method (1.23s)`,
with the first lines of the failure message under a failing test, then a
last line `counts <passed> <failed> <skipped>` for run.sh to read.  A
missing or unreadable report counts as one failure.
"""
import glob
import os
import sys
import xml.etree.ElementTree as ET


def main():
    prefix, report_dir = sys.argv[1:3]
    passed = failed = skipped = 0
    files = sorted(glob.glob(os.path.join(report_dir, "TEST-*.xml")))
    cases = []
    for f in files:
        try:
            cases.extend(ET.parse(f).getroot().iter("testcase"))
        except ET.ParseError as e:
            print("%s: FAIL unreadable report %s: %s" % (prefix, f, e))
            failed += 1
    if not files:
        print("%s: FAIL no JUnit report in %s (launcher crashed or timed out?)" % (prefix, report_dir))
        failed += 1
    for c in cases:
        name = "%s.%s" % (c.get("classname", "?").rsplit(".", 1)[-1], c.get("name", "?").rstrip("()"))
        secs = float(c.get("time", "0") or 0)
        bad = c.find("failure")
        if bad is None:
            bad = c.find("error")
        if bad is not None:
            failed += 1
            print("%s: FAIL %s (%.1fs)" % (prefix, name, secs))
            # The element's text keeps the message's line breaks (the
            # attribute has them flattened); it goes on with the stack trace.
            msg = (bad.text or bad.get("message") or "").strip().splitlines()
            for line in msg[:12]:
                if line.startswith("\tat ") or line.startswith("at "):
                    break
                print("%s:        %s" % (prefix, line[:300]))
        elif c.find("skipped") is not None:
            skipped += 1
            print("%s: SKIP %s" % (prefix, name))
        else:
            passed += 1
            print("%s: PASS %s (%.1fs)" % (prefix, name, secs))
    print("counts %d %d %d" % (passed, failed, skipped))


if __name__ == "__main__":
    main()
