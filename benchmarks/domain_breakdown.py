"""Where one `settle()` call spends its time: the settle hot path cut short at successive statements.

A diagnostic for `benchmarks/domain.py`, not a goal: it copies the source of
`carteira.domain.settlement._settle`, cuts it before each marked statement (returning there), and
times every cut over the same 100,000 late payments, with the plain-Decimal floor in the same run.
The difference between two cuts is what the statements between them cost. A mark that is no longer
in the source stops the script with its name. Run: `python benchmarks/domain_breakdown.py [--rounds 5]`.
"""

from __future__ import annotations

import inspect
import statistics
import time
from collections.abc import Callable
from typing import Any

from carteira.domain import settlement
from domain import arguments, floor_run, library_inputs, make_cases

MARKS = (
    ("checks", "    charges = _charges("),
    ("charges (fine, interest)", "    late, fine_new, interest_new, days = charges"),
    ("totals, refusal tests", "    over = difference > _ZERO"),
    ("tolerance limit", "    extra_charge = extra_discount"),
    ("outcome kind, reason, imputation", "    principal_open = principal - closed_principal"),
    ("open balances", "    # Paired invariants"),
    ("paired assertions", "    zero = Money.ZERO"),
    ("difference Money, settlement id", "    letter = None"),
    ("credit letter (when created)", "    due = _amount_due("),
    ("AmountDue and its Money", "    settlement = built("),
    ("Settlement and the state before it", "    after = _advance("),
    ("next Installment", "    return built("),
)


def _cuts() -> list[tuple[str, Callable[..., Any]]]:
    source = inspect.getsource(settlement._settle)
    cuts: list[tuple[str, Callable[..., Any]]] = []
    for label, mark in MARKS:
        at = source.find(mark)
        if at < 0:
            raise SystemExit(f"mark for {label!r} is not in settle's source any more: {mark.strip()!r}")
        namespace = dict(vars(settlement))
        exec("from __future__ import annotations\n" + source[:at] + "    return None\n", namespace)
        cuts.append((label, namespace["_settle"]))
    cuts.append(("SettlementOutcome (the whole call)", settlement._settle))
    return cuts


def main() -> None:
    args = arguments(__doc__)
    cases = make_cases(args.count)
    inputs, policy = library_inputs(cases)
    cuts = _cuts()
    timings: dict[str, list[float]] = {label: [] for label, _ in cuts}
    floors = []
    for _ in range(args.rounds):
        floors.append(floor_run(cases)[0] / args.count * 1e6)
        for label, function in cuts:
            start = time.perf_counter()
            for installment, payment in inputs:
                function(installment, payment, policy, None, source_letter_id=None)
            timings[label].append((time.perf_counter() - start) / args.count * 1e6)
    floor = statistics.median(floors)
    print(f"settle() cut short, {args.count:,} late payments, {args.rounds} rounds (medians, us a call)")
    print(f"  floor (plain Decimal, inlined): {floor:5.2f}")
    previous = 0.0
    for label, _ in cuts:
        upto = statistics.median(timings[label])
        print(f"  {label:<36} {upto - previous:+6.2f}  = {upto:5.2f}  ({upto / floor:4.2f}x the floor)")
        previous = upto


if __name__ == "__main__":
    main()
