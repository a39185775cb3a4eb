"""The script tests' shared check: records each failed condition, prints it, and ends the test."""

import sys

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def finish(name):
    """Prints the outcome and exits 1 when any check failed."""
    print(f"{name}:", f"{len(failures)} check(s) FAILED" if failures else "all checks passed")
    sys.exit(1 if failures else 0)
