"""Nightly fuzzing: every invariant in tests/properties.py with many cases each, then a summary table.

    python -m benchmarks.fuzz [--examples 10000] [--only NAME ...] [--seed N]

The same properties tests/test_fuzz.py runs with 40 cases each in CI. A failure prints hypothesis's
shrunk falsifying example (and a blob to reproduce it) above the table, and the exit status is 1.
"""

import argparse
import sys
import time
import traceback

from hypothesis import given, seed, settings

from tests.properties import PROPERTIES


def run_property(name: str, examples: int, seed_value: int | None = None) -> dict:
    """Run one property for ``examples`` cases; returns its name, cases run (shrinking included), seconds, result."""
    prop = PROPERTIES[name]
    reason = prop.missing()
    if reason:
        return {"property": name, "cases": 0, "seconds": 0.0, "result": f"skipped ({reason})"}
    cases = 0

    def counted(value: object) -> None:
        nonlocal cases
        cases += 1
        prop.check(value)

    test = settings(settings.get_profile("edge-fuzz-ci"), max_examples=examples)(given(prop.strategy)(counted))
    if seed_value is not None:
        test = seed(seed_value)(test)
    start = time.perf_counter()
    try:
        test()
        result = "pass"
    except Exception as exc:  # the property's failure; hypothesis attached the shrunk example as notes
        traceback.print_exception(exc)
        result = f"FAIL: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:160]
    return {"property": name, "cases": cases, "seconds": time.perf_counter() - start, "result": result}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10000, help="cases per property (default 10000)")
    parser.add_argument("--only", nargs="+", choices=list(PROPERTIES), default=list(PROPERTIES),
                        metavar="NAME", help=f"properties to run (default all: {', '.join(PROPERTIES)})")
    parser.add_argument("--seed", type=int, default=None, help="fix hypothesis's random seed")
    args = parser.parse_args()
    rows = [run_property(name, args.examples, args.seed) for name in args.only]
    print("\n| property | cases | seconds | cases/s | result |\n|---|---|---|---|---|")
    for r in rows:
        rate = r["cases"] / r["seconds"] if r["seconds"] else 0.0
        print(f"| {r['property']} | {r['cases']} | {r['seconds']:.1f} | {rate:.0f} | {r['result']} |")
    return 1 if any(r["result"].startswith("FAIL") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
