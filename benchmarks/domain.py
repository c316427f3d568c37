"""Settlements per second for `settle()` on late payments, against a plain-Decimal floor measured in the same run.

The floor is the same arithmetic (days late from the two dates, fine and pro-rata interest,
tolerance limit, full or partial imputation) inlined on bare Decimals with no objects, no
validation and no records. Run: `python benchmarks/domain.py [--count 100000] [--rounds 5]`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from carteira.adapters.calendar import BrazilBankingCalendar
from carteira.domain import (
    ChargeTerms,
    Installment,
    Money,
    OutcomeKind,
    Payment,
    SettlementPolicy,
    Tolerance,
    settle,
)

CENT = Decimal("0.01")
DUE = date(2025, 3, 10)  # a Monday: every late payment asks the calendar whether the due date was open
# The calendar the services pass; `calendar=` by keyword also runs against the signature before issue #10.
CALENDAR = BrazilBankingCalendar()


def make_cases(count: int, seed: int = 20251123) -> list[tuple[int, int, int]]:
    """(principal cents, days late, paid cents): late payments that land within, over and under tolerance."""
    rng = random.Random(seed)
    cases = []
    for _ in range(count):
        principal = rng.randint(1_000, 1_000_000)
        days = rng.randint(1, 120)
        due_cents = principal + principal * 2 // 100 + principal * days // 3000
        paid = due_cents + rng.choice((0, -30, 40, -5_000, 5_000, rng.randint(-200, 200)))
        cases.append((principal, days, max(paid, 1)))
    return cases


def floor_run(cases: list[tuple[int, int, int]]) -> tuple[float, Decimal]:
    fine_rate, monthly = Decimal("0.02"), Decimal("0.01")
    over_amount, over_rate = Decimal("1.00"), Decimal("0.005")
    under_amount, under_rate = Decimal("0.50"), Decimal("0.001")
    inputs = [(Decimal(p).scaleb(-2), DUE, DUE + timedelta(days=d), Decimal(x).scaleb(-2)) for p, d, x in cases]
    checksum = Decimal(0)
    start = time.perf_counter()
    for principal, due, paid_on, paid in inputs:
        days = (paid_on - due).days  # D2 counts calendar days between the two dates
        if days <= 0:
            raise AssertionError("the floor's cases are all late")
        # Rounding passed positionally, as the library does: the keyword form costs ~0.09 us more a call.
        fine = (principal * fine_rate).quantize(CENT, ROUND_HALF_UP)
        interest = (principal * monthly * days / 30).quantize(CENT, ROUND_HALF_UP)
        expected = principal + fine + interest
        diff = paid - expected
        if diff > 0:
            limit = min(over_amount, (expected * over_rate).quantize(CENT, ROUND_HALF_UP))
        else:
            limit = min(under_amount, (expected * under_rate).quantize(CENT, ROUND_HALF_UP))
        if abs(diff) <= limit or diff > 0:
            closed = principal
            letter = diff if abs(diff) > limit else Decimal(0)
        else:
            left = paid
            paid_interest = min(left, interest)
            left -= paid_interest
            paid_fine = min(left, fine)
            left -= paid_fine
            closed = min(left, principal)
            letter = Decimal(0)
        checksum += closed + letter
    return time.perf_counter() - start, checksum


def library_inputs(
    cases: list[tuple[int, int, int]],
) -> tuple[list[tuple[Installment, Payment]], SettlementPolicy]:
    """The cases as installments and payments, and the policy they are settled under."""
    terms = ChargeTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))
    policy = SettlementPolicy(
        over=Tolerance(amount=Money("1.00"), rate=Decimal("0.005")),
        under=Tolerance(amount=Money("0.50"), rate=Decimal("0.001")),
        settle_beyond_tolerance=True,
    )
    inputs = [
        (
            Installment(f"i{n}", "c", DUE, Money.from_cents(p), terms),
            Payment(Money.from_cents(x), DUE + timedelta(days=d)),
        )
        for n, (p, d, x) in enumerate(cases)
    ]
    return inputs, policy


def library_run(cases: list[tuple[int, int, int]]) -> tuple[float, Decimal]:
    inputs, policy = library_inputs(cases)
    checksum = Decimal(0)
    start = time.perf_counter()
    for installment, payment in inputs:
        outcome = settle(installment, payment, policy, calendar=CALENDAR)
        settlement = outcome.settlement
        assert settlement is not None
        assert outcome.kind is not OutcomeKind.REFUSED
        checksum += settlement.principal.amount + settlement.credit_letter_amount.amount
    return time.perf_counter() - start, checksum


def arguments(description: str | None) -> argparse.Namespace:
    """``--count`` (late payments, default 100,000) and ``--rounds`` (default 5), shared with domain_breakdown.py."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    return parser.parse_args()


def main() -> None:
    args = arguments(__doc__)
    cases = make_cases(args.count)
    floors, libs, ratios = [], [], []
    for _ in range(args.rounds):
        floor_s, floor_sum = floor_run(cases)
        lib_s, lib_sum = library_run(cases)
        if floor_sum != lib_sum:
            raise SystemExit(f"checksums differ: floor {floor_sum}, library {lib_sum}")
        floors.append(floor_s)
        libs.append(lib_s)
        ratios.append(lib_s / floor_s)
    floor_med, lib_med = statistics.median(floors), statistics.median(libs)
    print(f"settle(): {args.count:,} late payments, {args.rounds} rounds (medians)")
    print(f"  floor (plain Decimal, inlined): {args.count / floor_med:>10,.0f} settlements/s")
    print(f"  carteira.domain.settle():       {args.count / lib_med:>10,.0f} settlements/s")
    print(f"  ratio to floor: median {statistics.median(ratios):.2f}x (min {min(ratios):.2f}x, max {max(ratios):.2f}x)")


if __name__ == "__main__":
    main()
