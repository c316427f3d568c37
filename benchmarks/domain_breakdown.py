"""Where one `settle()` call spends its time: its four stages, and the recording stage cut short statement by statement.

A diagnostic for `benchmarks/domain.py`, not a goal. `_settle` (in `carteira.domain.settlement`) runs
four stages: price, decide, impute, record. This copies the source of `_settle` and cuts it before each
stage (returning there), then copies `_record` and cuts it before each marked statement (run under the
whole `_settle`), and times every cut over the same 100,000 late payments, with the plain-Decimal floor
in the same run. The difference between two cuts is what the code between them costs; the last row is
the public `settle()`, whose argument checks, calendar and switch to the library's decimal context come
on top (the cuts are given each payment's lateness, asked of the calendar beforehand, and run in the
library's context). A mark that is no longer in the source stops the script with its name.
Run: `python benchmarks/domain_breakdown.py [--rounds 5]`.
"""

from __future__ import annotations

import inspect
import statistics
import time
from collections.abc import Callable
from decimal import localcontext
from typing import Any

from carteira.domain import settlement
from carteira.domain.installment import _is_late
from carteira.domain.money import _CONTEXT
from domain import CALENDAR, arguments, floor_run, library_inputs, make_cases

# (label of what the cut adds, the statement it cuts before), in the order they run.
SETTLE_MARKS = (
    ("price the charges (_price)", "    decision = _decide("),
    ("decide the outcome (_decide)", "    if decision[0] is _REFUSED:"),
    ("impute the payment (_impute_payment)", "    return _record("),
)
RECORD_MARKS = (
    ("record: AmountDue and its Money", "    difference_money = _money(difference)"),
    ("record: difference Money, settlement id", "    letter = None"),
    ("record: credit letter (when created)", "    settlement = _settlement("),
    ("record: Settlement and the state before it", "    after = _advance("),
    ("record: next Installment", "    return built("),
)


PUBLIC = "settle(): argument checks, calendar, context"


def _cut(function: Callable[..., Any], label: str, mark: str, namespace: dict[str, Any]) -> None:
    """Define in ``namespace`` ``function`` cut short before ``mark`` (returning None there)."""
    source = inspect.getsource(function)
    at = source.find(mark)
    if at < 0:
        raise SystemExit(f"mark for {label!r} is not in {function.__name__}'s source any more: {mark.strip()!r}")
    exec("from __future__ import annotations\n" + source[:at] + "    return None\n", namespace)


def _cuts() -> list[tuple[str, Callable[..., Any]]]:
    cuts: list[tuple[str, Callable[..., Any]]] = []
    for label, mark in SETTLE_MARKS:
        namespace = dict(vars(settlement))
        _cut(settlement._settle, label, mark, namespace)
        cuts.append((label, namespace["_settle"]))
    whole_settle = "from __future__ import annotations\n" + inspect.getsource(settlement._settle)
    for label, mark in RECORD_MARKS:
        namespace = dict(vars(settlement))
        _cut(settlement._record, label, mark, namespace)
        exec(whole_settle, namespace)  # the whole _settle, calling the cut _record of this namespace
        cuts.append((label, namespace["_settle"]))
    cuts.append(("record: SettlementOutcome (all of _settle)", settlement._settle))
    return cuts


def main() -> None:
    args = arguments(__doc__)
    cases = make_cases(args.count)
    inputs, policy = library_inputs(cases)
    lates = [_is_late(installment, payment.paid_on, CALENDAR) for installment, payment in inputs]
    cuts = _cuts()
    timings: dict[str, list[float]] = {label: [] for label, _ in cuts}
    timings[PUBLIC] = []
    floors = []
    for _ in range(args.rounds):
        floors.append(floor_run(cases)[0] / args.count * 1e6)
        for label, function in cuts:
            with localcontext(_CONTEXT):
                start = time.perf_counter()
                for (installment, payment), late in zip(inputs, lates, strict=True):
                    function(installment, payment, policy, late, None)
                timings[label].append((time.perf_counter() - start) / args.count * 1e6)
        start = time.perf_counter()
        for installment, payment in inputs:
            settlement.settle(installment, payment, policy, calendar=CALENDAR)
        timings[PUBLIC].append((time.perf_counter() - start) / args.count * 1e6)
    floor = statistics.median(floors)
    print(f"settle() cut short, {args.count:,} late payments, {args.rounds} rounds (medians, us a call)")
    print(f"  floor (plain Decimal, inlined): {floor:5.2f}")
    previous = 0.0
    for label in timings:
        upto = statistics.median(timings[label])
        print(f"  {label:<46} {upto - previous:+6.2f}  = {upto:5.2f}  ({upto / floor:4.2f}x the floor)")
        previous = upto


if __name__ == "__main__":
    main()
