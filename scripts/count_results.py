#!/usr/bin/env python3
"""Add up test cases across build directories: cmocka's per-program
"[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s)" lines, the integration
runner's "integration: N passed, N failed" line, and one case per other test
script (by its automake .trs result); files given directly are read for
"integration:" and "fuzz:" summary lines. Prints "N passed, N failed"."""
import pathlib
import re
import sys

passed = failed = 0
for d in sys.argv[1:]:
    if pathlib.Path(d).is_file():
        text = pathlib.Path(d).read_text(errors="replace")
        for kind in ("integration", "fuzz", "distcheck"):
            m = re.findall(r"^%s: (\d+) passed, (\d+) failed" % kind, text, re.M)
            if m:
                passed += int(m[-1][0]); failed += int(m[-1][1])
        continue
    for trs in pathlib.Path(d, "tests").rglob("*.trs"):
        log = trs.with_suffix(".log")
        text = log.read_text(errors="replace") if log.exists() else ""
        result = re.search(r"^:test-result: (\w+)", trs.read_text(), re.M)
        result = result.group(1) if result else "ERROR"
        p = [int(x) for x in re.findall(r"^\[  PASSED  \] (\d+) test", text, re.M)]
        f = [int(x) for x in re.findall(r"^\[  FAILED  \] (\d+) test", text, re.M)]
        integ = re.findall(r"^integration: (\d+) passed, (\d+) failed", text, re.M)
        if integ:
            passed += int(integ[-1][0]); failed += int(integ[-1][1])
            if result in ("FAIL", "ERROR") and int(integ[-1][1]) == 0:
                failed += 1
        elif p or f:
            passed += sum(p); failed += sum(f)
            if result in ("FAIL", "ERROR") and not sum(f):
                failed += 1
        elif result == "PASS":
            passed += 1
        elif result in ("FAIL", "ERROR", "XPASS"):
            failed += 1
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
