"""The fuzzing harness's long mode (issue #14): mutate the 34 real return files and count what the reader did.

Draws mutations of the shared fixtures (lines deleted or copied, stray bytes, line ends, UTF-8 re-encoding,
one digit in a settled amount or date, cuts) from a seeded ``random.Random`` and judges each against the
unmutated file with ``tests/adapters/cnab/fuzz.py``, the same code the CI's hypothesis tests run. Prints the
counts (refused, warned, silently changed and how many of those no check covers, no effect, crashes, untyped
refusals, misses) per kind of mutation; exits 1 when there is any crash, untyped refusal or miss. Run from
the project root:

    PYTHONPATH=src:. python benchmarks/fuzz_returns.py --mutations 200000 [--seed 14] [--kinds digit,utf8]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

from tests.adapters.cnab.fuzz import KINDS, fixture_names, report, run
from tests.support import CNAB_FIXTURES


def main(argv: list[str] | None = None) -> int:
    """Run the long mode and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mutations", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated, among {', '.join(KINDS)}")
    parser.add_argument("--fixtures", type=Path, default=CNAB_FIXTURES)
    args = parser.parse_args(argv)
    kinds = tuple(args.kinds.split(","))
    start = time.perf_counter()
    tally = run(args.fixtures, args.mutations, args.seed, kinds)
    elapsed = time.perf_counter() - start
    print(
        f"{date.today()}: {args.mutations:,} mutations of {len(fixture_names(args.fixtures))} fixtures, "
        f"seed {args.seed}, {elapsed:.0f} s ({args.mutations / elapsed:,.0f} a second)"
    )
    print(report(tally, kinds))
    for example in tally.examples:
        print(example)
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())
