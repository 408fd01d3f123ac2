#!/usr/bin/env python3
"""Print each failed test of meson's testlog.json files with its failing
TAP lines, a few lines per test: the tail of a CI log is often all that is
shown, and "70 passed, 2 failed" alone does not say where to look."""
import json
import sys


def failures(path):
    try:
        with open(path) as f:
            lines = f.readlines()
    except OSError:
        return
    for line in lines:
        test = json.loads(line)
        if test.get("result") in ("OK", "SKIP", "EXPECTEDFAIL"):
            continue
        bad = [l for l in (test.get("stdout") or "").splitlines()
               if l.startswith("not ok") or l.startswith("Bail out")]
        yield test["name"], test.get("result"), bad


def main(paths):
    for path in paths:
        build = path.split("/")[0]
        for name, result, bad in failures(path):
            print(f"FAILED {build}: {name} ({result})")
            for l in bad[:8]:
                print(f"    {l}")


if __name__ == "__main__":
    main(sys.argv[1:])
