"""A clerk's month in random order: import, auto-link, link, unlink, acknowledge, confirm subsets, reactivate,
delete (B2-B10).

After every step: each batch's status is the one its records give, every active settlement a batch
made is held by exactly one record (nothing settled twice), every installment's balance is its face
value less what its active settlements closed, nothing was settled before the closing date, and no record
the file's own checks flagged was settled before someone acknowledged it (decision 0718).
"""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from decimal import Decimal

import attrs
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from carteira import ChargeTerms, Installment, Money
from carteira.adapters.storage import MemoryStore, SqliteStore
from carteira.domain import PortfolioSettings, SettlementPolicy, Tolerance
from carteira.domain.return_batch import batch_status
from carteira.errors import CarteiraError
from carteira.portfolio import Portfolio
from carteira.ports.storage import Store
from carteira.testing import FixedClock
from carteira.testing.return_files import TitleMovement, write_return_file

TERMS = ChargeTerms(fine_rate=Decimal("0.02"), monthly_interest_rate=Decimal("0.01"))
DUE = date(2026, 3, 10)
TITLES = [str(n) for n in range(1, 7)]
POLICY = SettlementPolicy(
    over=Tolerance(amount=Money("0.50")), under=Tolerance(amount=Money("0.50")), settle_beyond_tolerance=True
)


class ReturnBatchMachine(RuleBasedStateMachine):
    """The model is the store itself: the invariants read it back and check it against the rules."""

    def make_store(self) -> Store:
        return MemoryStore()

    def __init__(self) -> None:
        super().__init__()
        self.store = self.make_store()
        self.store.migrate()
        with self.store.unit_of_work() as uow:
            uow.settings.put(PortfolioSettings(policy=POLICY))
            uow.installments.put_many(
                [Installment(f"i{t}", f"c{t}", DUE, Money("100.00"), TERMS, bank_title_number=t) for t in TITLES]
            )
            uow.commit()
        self.portfolio = Portfolio(self.store, clock=FixedClock(date(2026, 6, 1)))
        self.batches: list[str] = []
        self.sequence = 0
        self.closing: date | None = None

    @rule(
        titles=st.lists(st.sampled_from(TITLES), min_size=1, max_size=4, unique=True),
        cents=st.lists(st.integers(min_value=-3000, max_value=3000), min_size=4, max_size=4),
        late=st.integers(min_value=0, max_value=40),
        link=st.booleans(),
        consistent=st.booleans(),
    )
    def import_file(self, titles: list[str], cents: list[int], late: int, link: bool, consistent: bool) -> None:
        self.sequence += 1
        on = DUE + timedelta(days=late)
        # A consistent file prints the face value it was paid (the tolerance against the ERP's 100.00 decides);
        # an inconsistent one prints 100.00 beside another amount paid, and its record is flagged 'sum:paid'.
        movements = [
            TitleMovement(bank_title_number=t, paid=Money.from_cents(10_000 + c), due_date=DUE,
                          face_value=Money.from_cents(10_000 + c) if consistent else Money("100.00"),
                          occurrence_date=on, credit_date=on)
            for t, c in zip(titles, cents, strict=False)
        ]  # fmt: skip
        data = write_return_file("bb-240", movements, generated_on=on, agreement="9", file_sequence=self.sequence)
        batch = self.portfolio.returns.import_file(data, description=f"file {self.sequence}", process_date=on)
        self.batches.append(batch.id)
        if link:
            self.portfolio.returns.auto_link(batch.id)

    @rule(pick=st.integers(min_value=0, max_value=50))
    def auto_link(self, pick: int) -> None:
        if self.batches:
            self.portfolio.returns.auto_link(self.batches[pick % len(self.batches)])

    @rule(pick=st.integers(min_value=0, max_value=50), line=st.integers(min_value=1, max_value=12),
          title=st.sampled_from(TITLES))  # fmt: skip
    def link_by_hand(self, pick: int, line: int, title: str) -> None:
        if self.batches:
            # A line that is no record, an installment already settled: refused, and nothing changed.
            with contextlib.suppress(CarteiraError):
                self.portfolio.returns.link(self.batches[pick % len(self.batches)], line, [f"i{title}"])

    @rule(pick=st.integers(min_value=0, max_value=50), line=st.integers(min_value=1, max_value=12))
    def unlink(self, pick: int, line: int) -> None:
        if self.batches:
            with contextlib.suppress(CarteiraError):
                self.portfolio.returns.unlink(self.batches[pick % len(self.batches)], line)

    @rule(pick=st.integers(min_value=0, max_value=50), lines=st.lists(st.integers(1, 12), min_size=1, max_size=3))
    def acknowledge(self, pick: int, lines: list[int]) -> None:
        if self.batches:
            # A line that is no record, or a record without flags: refused, and nothing acknowledged.
            with contextlib.suppress(CarteiraError):
                self.portfolio.returns.acknowledge(self.batches[pick % len(self.batches)], lines, by="clerk")

    @rule(pick=st.integers(min_value=0, max_value=50), lines=st.none() | st.lists(st.integers(1, 12), max_size=3))
    def confirm(self, pick: int, lines: list[int] | None) -> None:
        if not self.batches:
            return
        batch_id = self.batches[pick % len(self.batches)]
        with self.store.unit_of_work() as uow:
            before = {s for r in uow.return_batches.records(batch_id) for s in r.settlement_ids}
        self.portfolio.returns.confirm(batch_id, lines=lines, chunk_size=2)
        with self.store.unit_of_work() as uow:
            made = {s for r in uow.return_batches.records(batch_id) for s in r.settlement_ids} - before
            for settlement_id in made:
                paid_on = uow.settlements.get(settlement_id).paid_on
                assert self.closing is None or paid_on >= self.closing, (settlement_id, paid_on, self.closing)

    @rule(title=st.sampled_from(TITLES))
    def reactivate(self, title: str) -> None:
        # Nothing to reverse, a later settlement first, or a closed period: refused, and nothing changed.
        with contextlib.suppress(CarteiraError):
            self.portfolio.returns.reactivate(f"i{title}", on=date(2026, 6, 1), acknowledge=True)

    @rule(pick=st.integers(min_value=0, max_value=50), often=st.integers(min_value=0, max_value=3))
    def delete(self, pick: int, often: int) -> None:
        if not self.batches or often:  # a deletion is rarer than the clerk's other steps
            return
        batch_id = self.batches[pick % len(self.batches)]
        try:
            self.portfolio.returns.delete(batch_id)
        except CarteiraError:
            return
        self.batches.remove(batch_id)

    @rule(days=st.integers(min_value=0, max_value=45))
    def close_the_period(self, days: int) -> None:
        self.closing = DUE + timedelta(days=days)
        with self.store.unit_of_work() as uow:
            current = uow.settings.get()
            uow.settings.put(attrs.evolve(current, policy=attrs.evolve(current.policy, closing_date=self.closing)))
            uow.commit()

    @invariant()
    def status_is_derived_and_nothing_is_settled_twice(self) -> None:
        held: dict[str, tuple[str, int]] = {}
        with self.store.unit_of_work() as uow:
            for batch in uow.return_batches.all():
                records = uow.return_batches.records(batch.id)
                assert batch.status is batch_status(records), batch
                for record in records:
                    assert not (record.settlement_ids and record.awaits_acknowledgement), record
                    for settlement_id in record.settlement_ids:
                        assert settlement_id not in held, (settlement_id, held[settlement_id], record.line)
                        held[settlement_id] = (batch.id, record.line)
            for title in TITLES:
                for settlement in uow.settlements.of_installment(f"i{title}"):
                    if settlement.batch_id is not None and not settlement.is_reversed:
                        assert held.get(settlement.id) == (settlement.batch_id, settlement.batch_line), settlement

    @invariant()
    def money_is_conserved(self) -> None:
        with self.store.unit_of_work() as uow:
            for title in TITLES:
                installment = uow.installments.get(f"i{title}")
                active = [s for s in uow.settlements.of_installment(installment.id) if not s.is_reversed]
                closed = sum((s.principal for s in active), Money.ZERO)
                assert installment.principal_open == installment.amount - closed, (installment, active)
                assert all(s.conserves() for s in active)


class ReturnBatchMachineOnSqlite(ReturnBatchMachine):
    def make_store(self) -> Store:
        import tempfile
        from pathlib import Path

        return SqliteStore(Path(tempfile.mkdtemp()) / "machine.db")


machine_settings = settings(max_examples=60, stateful_step_count=30)
TestReturnBatchMachine = ReturnBatchMachine.TestCase
TestReturnBatchMachine.settings = machine_settings
TestReturnBatchMachineOnSqlite = ReturnBatchMachineOnSqlite.TestCase
TestReturnBatchMachineOnSqlite.settings = machine_settings
