"""Benchmark: linking quality on generated messy months (issue #11). Prints figures; not a timed test.

For each seed, builds :func:`carteira.testing.messy_month.messy_month` (5,000 customers by default:
an ISP's month with padded numbers, document numbers only, numberless payments, twins of due and
value, one boleto for three parcels, values off by cents, titles paid twice or already settled, one
CPF on two customer records), loads it into each store asked for, imports its return file, runs
``auto_link`` and compares every record's links with the month's truth. Prints, per seed and store:
records, the links a person makes, those auto-link made, wrong auto-links (must be 0), the share of
a person's links made (goal: at least 95 %), the kinds of the links missed, and the wall time of
``import_file`` and of ``auto_link``. Run from the project root:

    .venv/bin/python benchmarks/linking.py [--customers N] [--seeds 1 2 3] [--stores memory sqlite]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path

from carteira.adapters.storage import MemoryStore, SqliteStore
from carteira.domain.return_batch import LinkOrigin
from carteira.portfolio import Portfolio
from carteira.ports.storage import Store
from carteira.testing import FixedClock
from carteira.testing.messy_month import LinkScore, MessyMonth, messy_month, score_links


def _store(kind: str, folder: Path) -> Store:
    return MemoryStore() if kind == "memory" else SqliteStore(folder / "carteira.db")


def _run(month: MessyMonth, store: Store) -> tuple[LinkScore, float, float]:
    """Load, import, auto-link: the score, and the seconds import and auto-link took."""
    store.migrate()
    month.load(store)
    portfolio = Portfolio(store, clock=FixedClock(month.process_date))
    started = time.perf_counter()
    batch = portfolio.returns.import_file(month.data, description="messy month", process_date=month.process_date)
    imported = time.perf_counter()
    portfolio.returns.auto_link(batch.id)
    linked = time.perf_counter()
    rows = portfolio.returns.review(batch.id)
    links = {row.record.line: row.record.links for row in rows if row.record.origin is LinkOrigin.AUTO}
    return score_links(month.truth, links), imported - started, linked - imported


def main() -> None:
    """Parse the arguments, run every seed on every store, print one table row each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--stores", nargs="+", choices=["memory", "sqlite"], default=["memory", "sqlite"])
    args = parser.parse_args()
    print(f"messy months of {args.customers:,} customers")
    print(
        "| seed | store | records | a person links | auto-linked | wrong | share | missed (kinds) "
        "| import s | auto-link s |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---|---:|---:|")
    left: dict[int, Counter[str]] = {}
    for seed in args.seeds:
        month = messy_month(seed, customers=args.customers)
        left[seed] = Counter(truth.kind.name for truth in month.truth if not truth.linkable)
        kind_of = {truth.line: truth.kind.name for truth in month.truth}
        for kind in args.stores:
            with tempfile.TemporaryDirectory() as folder:
                store = _store(kind, Path(folder))
                try:
                    score, importing, linking = _run(month, store)
                finally:
                    store.close()
            missed = Counter(kind_of[line] for line in score.missed)
            print(
                f"| {seed} | {kind} | {score.records:,} | {score.possible:,} | {score.made:,} | {len(score.wrong)} "
                f"| {score.share:.2%} | {dict(missed) or '-'} | {importing:.2f} | {linking:.2f} |"
            )
    for seed, kinds in left.items():
        print(f"seed {seed}: left for a person by the truth: {sum(kinds.values())} {dict(sorted(kinds.items()))}")


if __name__ == "__main__":
    main()
