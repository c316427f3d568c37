"""The batch the confirm trials settle, the checks they make after, and the process they kill.

``python -m tests.services.confirm_child <sqlite path | postgres schema> <chunk size>`` starts (the
parent prepares the batch meanwhile), reads the batch id from stdin and runs
``Portfolio(store).returns.confirm(batch id, chunk_size=...)``, printing one line per step so that
the parent can choose where to SIGKILL it:

- ``START`` once it has the batch id, before ``confirm`` begins;
- ``COMMIT <n>`` just before the n-th unit of ``confirm`` sends its COMMIT (1 is the first chunk;
  the last is the unit that sets the batch's final status);
- ``PROGRESS <done> <total>`` after each chunk committed;
- ``DONE <settled>`` when ``confirm`` returned.
"""

from __future__ import annotations

import random
import sys
from collections import Counter
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

import attrs

from carteira import ChargeTerms, Installment, Money
from carteira.adapters.cnab import LAYOUTS, CnabParser, Layout
from carteira.domain import AnticipationStatus, PortfolioSettings, SettlementPolicy, Tolerance
from carteira.domain.return_batch import BatchStatus
from carteira.errors import NotFound
from carteira.portfolio import Portfolio
from carteira.ports.storage import Store, UnitOfWork
from carteira.testing import FixedClock
from carteira.testing.return_files import TitleMovement, write_return_file
from tests.adapters.storage.child import say
from tests.adapters.storage.targets import store_at


def _layout() -> Layout:
    """FEBRABAN 240 plus the two fields seed 004's formats add for securitized parcels (in T's free positions)."""
    data = LAYOUTS["febraban-240"].to_dict()
    data["id"] = "febraban-240-anticipation"
    data["fields"]["anticipation_id"] = {"start": 106, "length": 10, "type": "text", "record": "T"}
    data["fields"]["anticipation_rate"] = {"start": 116, "length": 5, "type": "percent", "record": "T"}
    return Layout.from_dict(data)


LAYOUT = _layout()
RATE = Decimal("0.015")
TERMS = ChargeTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))
DUE = date(2026, 3, 10)  # a Tuesday: paid on the due date, nothing accrues
TODAY = date(2026, 12, 7)
# Beyond tolerance still settles (partially, or with a credit letter): every linked record settles.
POLICY = SettlementPolicy(
    over=Tolerance(amount=Money("0.10")), under=Tolerance(amount=Money("0.10")), settle_beyond_tolerance=True
)


@attrs.frozen
class Prepared:
    """A batch ready to confirm: its id, how many records it links, what the file says they paid, and its parcels."""

    batch_id: str
    linked: int
    paid: Money
    installment_ids: tuple[str, ...]
    anticipations: dict[str, set[str]]
    """The anticipations confirming must create (B11): their ids, and the installments each holds."""


def _movements(prefix: str, count: int, rng: random.Random) -> tuple[list[TitleMovement], list[Installment]]:
    """``count`` paid titles, every seventh one boleto for two parcels, amounts a few cents off now and then."""
    movements: list[TitleMovement] = []
    installments: list[Installment] = []
    for n in range(count):
        number = f"{prefix}{n:06}"
        cents = rng.randrange(1_000, 500_000)
        parcels = 2 if n % 7 == 3 else 1
        for k in range(parcels):
            due = date(DUE.year, DUE.month + k, DUE.day)
            installments.append(Installment(f"{prefix}-{n}-{k}", f"payer-{n}", due, Money.from_cents(cents), TERMS,
                                            bank_title_number=number))  # fmt: skip
        off = rng.choice((0, 0, 0, 0, 0, 0, 7, -7, 35, -35))  # within tolerance, and beyond it both ways
        paid = Money.from_cents(cents * parcels + off)
        group = f"A{n % 3}" if n % 4 == 1 else None  # a securitized parcel: B11 makes one anticipation per id
        # The file's own sum holds (face value = paid): the cents off are between the ERP and the boleto, so
        # the record is not flagged, and the tolerance decides.
        movements.append(TitleMovement(bank_title_number=number, paid=paid, due_date=DUE,
                                       face_value=paid, occurrence_date=DUE,
                                       credit_date=date(2026, 3, 11), anticipation_id=group,
                                       anticipation_rate=None if group is None else RATE))  # fmt: skip
        if n % 25 == 0:  # an entry confirmation: kept in the batch, never linked or settled
            movements.append(attrs.evolve(movements[-1], movement_code="02", paid=None, bank_title_number=f"E{number}"))
    return movements, installments


def prepare(store: Store, *, prefix: str, records: int, sequence: int = 1, seed: int = 0) -> Prepared:
    """Put ``records`` titles' installments (ids start with ``prefix``), import their return file and auto-link it.

    ``prefix`` keeps the installments of two batches in one store apart; ``sequence`` makes each
    file a new import.
    """
    movements, installments = _movements(prefix, records, random.Random(seed))
    with store.unit_of_work() as uow:
        uow.settings.put(attrs.evolve(_settings(uow), policy=POLICY))
        uow.installments.put_many(installments)
        uow.commit()
    data = write_return_file(LAYOUT, movements, generated_on=TODAY, agreement="123456", file_sequence=sequence)
    returns = Portfolio(store, clock=FixedClock(TODAY)).returns
    batch = returns.import_file(data, description=f"trial {prefix}", process_date=TODAY, parser=CnabParser(LAYOUT))
    assert returns.auto_link(batch.id).linked == records
    paid = sum((m.paid for m in movements if m.paid is not None), Money.ZERO)
    groups: dict[str, set[str]] = {}
    for movement in movements:
        if movement.anticipation_id is not None:
            parcels = {i.id for i in installments if i.bank_title_number == movement.bank_title_number}
            groups.setdefault(f"{batch.id}/{movement.anticipation_id}", set()).update(parcels)
    return Prepared(batch.id, records, paid, tuple(i.id for i in installments), groups)


def _settings(uow: UnitOfWork) -> PortfolioSettings:
    try:
        return uow.settings.get()
    except NotFound:
        return PortfolioSettings()


def check_settled_once(store: Store, prepared: Prepared) -> None:
    """Every linked record is settled, each exactly once, every settlement conserves, and the file's money is all there.

    Raises:
        AssertionError: naming the first record, installment or settlement at fault.
    """
    with store.unit_of_work() as uow:
        batch = uow.return_batches.get(prepared.batch_id)
        records = uow.return_batches.records(prepared.batch_id)
        settlements = [s for i in prepared.installment_ids for s in uow.settlements.of_installment(i)]
        anticipated = {key: {item.installment_id for item in uow.anticipations.get(key).items}
                       for key in prepared.anticipations}  # fmt: skip
        in_study = {a.id for a in uow.anticipations.with_status(AnticipationStatus.IN_STUDY)}
    linked = [r for r in records if r.links]
    assert len(linked) == prepared.linked
    unsettled = [r.line for r in linked if not r.settlement_ids]
    assert not unsettled, f"records on lines {unsettled} are linked but not settled"
    held = Counter(s for r in records for s in r.settlement_ids)
    twice = [s for s, n in held.items() if n > 1]
    assert not twice, f"settlements {twice} are held by more than one record"
    per_installment = Counter(s.installment_id for s in settlements if not s.is_reversed)
    more = {i: n for i, n in per_installment.items() if n != 1}
    assert not more, f"installments settled other than once: {more}"
    assert set(per_installment) == set(prepared.installment_ids)
    assert {s.id for s in settlements} == set(held), "the records name other settlements than the store holds"
    by_line = {r.line: r for r in records}
    for settlement in settlements:
        assert settlement.batch_id == prepared.batch_id
        assert settlement.batch_line is not None
        assert settlement.id in by_line[settlement.batch_line].settlement_ids, settlement.id
        assert settlement.conserves(), f"settlement {settlement.id} breaks D12"
    assert sum((s.paid for s in settlements), Money.ZERO) == prepared.paid
    assert batch.status is BatchStatus.COMPLETED
    assert anticipated == prepared.anticipations  # one per id, each with its parcels, none twice
    assert {key for key in in_study if key.startswith(f"{prepared.batch_id}/")} == set(prepared.anticipations)


class _AnnouncedUnit:
    """A unit of work that calls ``before_commit`` just before each COMMIT it sends; the rest it passes through."""

    def __init__(self, unit: UnitOfWork, before_commit: Callable[[], None]) -> None:
        self._unit = unit
        self._before_commit = before_commit

    def __getattr__(self, name: str) -> Any:
        return getattr(self._unit, name)

    def __enter__(self) -> Self:
        self._unit.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._unit.__exit__(exc_type, exc, tb)

    def commit(self) -> None:
        self._before_commit()
        self._unit.commit()


class AnnouncingStore:
    """``store`` with a hook run before each COMMIT: where a trial kills a process, or holds a unit open."""

    def __init__(self, store: Store, before_commit: Callable[[], None]) -> None:
        self._store = store
        self._before_commit = before_commit

    def migrate(self) -> None:
        self._store.migrate()

    def unit_of_work(self) -> UnitOfWork:
        return _AnnouncedUnit(self._store.unit_of_work(), self._before_commit)

    def close(self) -> None:
        self._store.close()


def child_application(schema: str) -> str:
    """The ``application_name`` of the child's PostgreSQL sessions, so that the parent can see them end."""
    return f"confirm-child-{schema}"


def open_store(where: str) -> Store:
    """The store the parent named: a SQLite file path, or a PostgreSQL schema (sessions named for the child)."""
    return store_at(where, application_name=child_application(where))


def main(where: str, chunk_size: int) -> None:
    """Confirm the batch named on stdin on the store at ``where``, saying how far it got (see the docstring above)."""
    store = open_store(where)
    batch_id = sys.stdin.readline().strip()
    commits = 0

    def announce() -> None:
        nonlocal commits
        commits += 1
        say(f"COMMIT {commits}")

    portfolio = Portfolio(AnnouncingStore(store, announce), clock=FixedClock(TODAY))
    say("START")
    report = portfolio.returns.confirm(
        batch_id, chunk_size=chunk_size, progress=lambda done, total: say(f"PROGRESS {done} {total}")
    )
    say(f"DONE {report.settled}")
    store.close()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
