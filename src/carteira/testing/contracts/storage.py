"""The contract every storage adapter passes: subclass :class:`StorageContract` and say how to make a store.

carteira runs it over ``MemoryStore``, ``SqliteStore`` and ``PostgresStore``; a user who writes an
adapter for another database runs it over theirs the same way::

    # tests/test_my_store.py
    from carteira.testing.contracts.storage import StorageContract

    class TestMyStore(StorageContract):
        def make_store(self) -> MyStore:
            return MyStore(...)            # a new, empty store at every call

pytest collects the ``test_*`` methods of the subclass (the base class's name does not start with
``Test``, so it is not collected by itself). ``make_store`` is called once per test, and once per
generated example in the property tests; the suite calls ``migrate()`` and ``close()`` itself.
Set ``interleaved_units = False`` for a store whose units of work cannot be open at the same time in
one thread (SQLite takes its write lock when a unit begins, and again at its first statement after a
commit). Every store lets a unit that has committed hold no other unit back.

What it checks: round trips of every aggregate to the cent; rollback unless ``commit()`` was called,
on error too; a failure in the middle of a unit leaves nothing of it; the version rule with
``Conflict`` on stale writes; the bulk finders return exactly what a plain Python model (and
``MemoryStore``) returns for generated portfolios; and the gateway outbox (account, operations,
charges), from :mod:`carteira.testing.contracts.outbox_storage`, the gateway's notification tokens,
from :mod:`carteira.testing.contracts.notification_storage`, and what a store holds (a value beyond what
carteira's PostgreSQL schema holds is refused the same way by every store), from
:mod:`carteira.testing.contracts.limits_storage`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carteira.adapters.storage import MemoryStore
from carteira.domain import (
    AnticipationStatus,
    ChargeTerms,
    Contract,
    CreditLetter,
    CreditLetterStatus,
    Customer,
    EveryDayCalendar,
    Imputation,
    Installment,
    InstallmentStatus,
    InterestMode,
    Money,
    Observation,
    OutcomeKind,
    Payment,
    PortfolioSettings,
    SettlementPolicy,
    Tolerance,
    anticipate,
    normalize_title_number,
    reverse,
    settle,
)
from carteira.domain.return_batch import BatchRecord, BatchStatus, LinkOrigin, ReturnBatch
from carteira.errors import Conflict, DuplicateImport, InvalidInput, NotFound
from carteira.ports.storage import LineState, Store, UnitOfWork
from carteira.testing.contracts.limits_storage import LimitsStorageContract
from carteira.testing.contracts.notification_storage import NotificationStorageContract
from carteira.testing.contracts.outbox_storage import OutboxStorageContract
from carteira.testing.contracts.payments_storage import PaymentsStorageContract
from carteira.testing.contracts.samples import TEXT
from carteira.testing.strategies import batch_records, charge_terms, installments, payments, policies, return_batches

__all__ = ["StorageContract"]

_TERMS = ChargeTerms(
    Decimal("0.02"),
    Decimal("0.0333"),
    grace_days=3,
    interest_mode=InterestMode.DAILY_AMOUNT,
    imputation=Imputation.FINE_INTEREST_PRINCIPAL,
)
_LENIENT = SettlementPolicy(settle_beyond_tolerance=True)
_CALENDAR = EveryDayCalendar()  # the suite's dates need no business-day rule
_CUSTOMERS = ("c1", "c2", "c3")
_CONTRACTS = ("k1", "k2")
_DUES = (date(2025, 1, 10), date(2025, 2, 10), date(2025, 3, 10))
_AMOUNTS = (Money("100.00"), Money("250.55"), Money("0.01"))
# Numbers as ERPs store them and files print them: padded with zeros and blanks, or not (decision 0201).
_TITLES = ("0001", "1", " 01 ", "0002", "2", "0003", "00004", "0000")
_DOCUMENTS = ("D-1", "00D-1", "D-2 ", "D-3")
# Each subclass runs the same method over another adapter: differing executors are the point here.
_EXAMPLES = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.differing_executors],
)


_AMOUNT = Money("1234.56")


def a_batch(
    key: str = "b1",
    *,
    digest: str = "d" * 64,
    sequence: int | None = 1,
    agreement: str | None = "4567",
    bank: str = "001",
    description: str = "retorno",
    process_date: date = date(2025, 3, 3),
) -> ReturnBatch:
    """A new batch ``key`` of a CNAB 240 file; by default every batch made here is the same file."""
    return ReturnBatch(key, description, process_date, "RET0303.txt", digest, "cnab240", bank, agreement, sequence, 2)


def a_record(batch_id: str, line: int) -> BatchRecord:
    """A new settlement record of ``batch_id`` on ``line``: a title paid in full, credited two days later."""
    return BatchRecord(
        batch_id, line, "06", "settled", True, False, f"{line:012}", f"DOC-{line}", date(2025, 3, 1),
        Money("150.00"), Money("151.20"), Money.ZERO, None, Money("1.20"), Money("2.50"), None,
        date(2025, 3, 3), date(2025, 3, 5), payer_tax_id="12345678909",
    )  # fmt: skip


def an_installment(key: str = "i1", *, amount: Money = _AMOUNT, **fields: object) -> Installment:
    """A new open installment of customer c1 with a few identity fields set; ``fields`` override them."""
    values: dict[str, object] = {
        "contract_id": "k1",
        "number": 3,
        "description": "parcela 3/12",
        "bank_title_number": f"NN-{key}",
        "document_number": f"DOC-{key}",
        "bank_contract": "bank-001",
    }
    values.update(fields)
    return Installment(key, "c1", date(2025, 1, 10), amount, _TERMS, **values)  # type: ignore[arg-type]


@st.composite
def _portfolios(draw: st.DrawFn) -> list[Installment]:
    """Up to 25 installments over a few customers, contracts, numbers, dues and amounts, some partly or fully paid."""
    found: list[Installment] = []
    for n in range(draw(st.integers(0, 25))):
        due = draw(st.sampled_from(_DUES))
        amount = draw(st.sampled_from(_AMOUNTS))
        installment = Installment(
            f"i{n}",
            draw(st.sampled_from(_CUSTOMERS)),
            due,
            amount,
            draw(charge_terms()),
            contract_id=draw(st.none() | st.sampled_from(_CONTRACTS)),
            number=n + 1,
            bank_title_number=draw(st.none() | st.sampled_from(_TITLES)),
            document_number=draw(st.none() | st.sampled_from(_DOCUMENTS)),
            bank_contract=draw(st.none() | st.just("bank-001")),
        )
        paid = draw(st.sampled_from(("none", "part", "all")))
        if paid != "none" and amount > Money("0.01"):
            value = amount if paid == "all" else Money.from_cents(amount.cents // 2)
            late = draw(st.integers(0, 40))
            outcome = settle(installment, Payment(value, due + timedelta(days=late)), _LENIENT, calendar=_CALENDAR)
            if outcome.kind is not OutcomeKind.REFUSED:
                installment = outcome.installment
        found.append(installment)
    return found


def _ids(installments: Sequence[Installment]) -> list[str]:
    return [i.id for i in installments]


def _expected(rows: list[Installment], keep: object) -> list[str]:
    return [i.id for i in sorted((i for i in rows if keep(i)), key=lambda i: (i.due, i.id))]  # type: ignore[operator]


class StorageContract(
    OutboxStorageContract, NotificationStorageContract, PaymentsStorageContract, LimitsStorageContract
):
    """The storage contract as pytest test methods; subclass it as ``Test<YourStore>`` and define ``make_store``.

    The gateway outbox's tests (:class:`~carteira.testing.contracts.outbox_storage.OutboxStorageContract`)
    and the notification tokens' (:class:`~carteira.testing.contracts.notification_storage.NotificationStorageContract`)
    come with it, and so do the seen events' and postings'
    (:class:`~carteira.testing.contracts.payments_storage.PaymentsStorageContract`), and what every store holds
    (:class:`~carteira.testing.contracts.limits_storage.LimitsStorageContract`).
    """

    interleaved_units = True
    """Whether two units of work of one store may be open at once in one thread (False for SQLite)."""

    def make_store(self) -> Store:
        """A new, empty store (migrated or not): override this."""
        raise NotImplementedError("subclass StorageContract and return a new, empty store from make_store()")

    @pytest.fixture
    def store(self) -> Iterator[Store]:
        """A migrated store from :meth:`make_store`, closed after the test."""
        store = self.make_store()
        store.migrate()
        yield store
        store.close()

    def _fresh(self) -> Store:
        store = self.make_store()
        store.migrate()
        return store

    # -- round trips --------------------------------------------------------------------------

    def test_every_aggregate_round_trips_to_the_cent(self, store: Store) -> None:
        customer = Customer("c1", "Maria da Silva", tax_id="12345678909", email="m@example.com", phone="11999990000")
        contract = Contract("k1", "c1", description="Contrato 7/2025", bank_contract="bank-001")
        fresh = an_installment("i1", amount=Money("9999999999.99"))
        owed = an_installment("i2", amount=Money("1000.01"), bank_title_number=None, document_number=None)
        outcome = settle(owed, Payment(Money("1500.37"), date(2025, 3, 1), credited_on=date(2025, 3, 3),
                                       discount=Money("0.10"), bank_charges=Money("2.50")), _LENIENT,
                         calendar=_CALENDAR)  # fmt: skip
        assert outcome.settlement is not None
        assert outcome.credit_letter is not None
        letter = outcome.credit_letter.draw(Money("0.07"))
        anticipation = attrs.evolve(
            anticipate("a1", [fresh, owed], date(2024, 11, 5), Decimal("0.0175")), status=AnticipationStatus.APPROVED
        )
        observation = Observation("o1", "i1", date(2025, 1, 2), "anticipation generated as approved (B11)")
        portfolio = PortfolioSettings(
            policy=SettlementPolicy(
                over=Tolerance(Money("0.50"), Decimal("0.015")),
                under=Tolerance(None, Decimal("0")),
                settle_beyond_tolerance=True,
                closing_date=date(2024, 12, 31),
            ),
            generate_anticipations_as_approved=True,
        )
        with store.unit_of_work() as uow:
            stored = (
                uow.customers.put(customer),
                uow.contracts.put(contract),
                uow.installments.put(fresh),
                uow.installments.put(outcome.installment),
                uow.settlements.put(outcome.settlement),
                uow.credit_letters.put(letter),
                uow.anticipations.put(anticipation),
                uow.settings.put(portfolio),
            )
            uow.observations.add(observation)
            uow.commit()
        originals = (
            customer, contract, fresh, outcome.installment, outcome.settlement, letter, anticipation, portfolio
        )  # fmt: skip
        assert [s.version for s in stored] == [1] * len(stored)
        assert list(stored) == [attrs.evolve(o, version=1) for o in originals]
        with store.unit_of_work() as uow:
            loaded = (
                uow.customers.get("c1"),
                uow.contracts.get("k1"),
                uow.installments.get("i1"),
                uow.installments.get("i2"),
                uow.settlements.get(outcome.settlement.id),
                uow.credit_letters.get(letter.id),
                uow.anticipations.get("a1"),
                uow.settings.get(),
            )
            assert loaded == stored
            assert uow.observations.of_installment("i1") == [observation]
        assert loaded[2].amount.cents == 999_999_999_999
        assert loaded[4].conserves()

    @_EXAMPLES
    @given(portfolio=_portfolios())
    def test_installments_round_trip_in_bulk(self, portfolio: list[Installment]) -> None:
        store = self._fresh()
        try:
            with store.unit_of_work() as uow:
                stored = uow.installments.put_many(portfolio)
                uow.commit()
            assert stored == [attrs.evolve(i, version=1) for i in portfolio]
            with store.unit_of_work() as uow:
                loaded = uow.installments.get_many([*_ids(portfolio), "nobody"])
            assert loaded == {i.id: i for i in stored}
        finally:
            store.close()

    @_EXAMPLES
    @given(data=st.data())
    def test_settlements_letters_and_settings_round_trip(self, data: st.DataObject) -> None:
        installment = data.draw(installments())
        policy = data.draw(policies())
        outcome = settle(installment, data.draw(payments(installment=installment)), policy, calendar=_CALENDAR)
        if outcome.settlement is not None:  # the receipt's history code, when a gateway payment gave one (G6)
            outcome = attrs.evolve(
                outcome, settlement=attrs.evolve(outcome.settlement, history=data.draw(st.none() | TEXT))
            )
        store = self._fresh()
        try:
            with store.unit_of_work() as uow:
                stored = [uow.installments.put(outcome.installment), uow.settings.put(PortfolioSettings(policy))]
                if outcome.settlement is not None:
                    stored.append(uow.settlements.put(outcome.settlement))
                if outcome.credit_letter is not None:
                    stored.append(uow.credit_letters.put(outcome.credit_letter))
                uow.commit()
            with store.unit_of_work() as uow:
                loaded = [uow.installments.get(installment.id), uow.settings.get()]
                if outcome.settlement is not None:
                    loaded.append(uow.settlements.get(outcome.settlement.id))
                if outcome.credit_letter is not None:
                    loaded.append(uow.credit_letters.get(outcome.credit_letter.id))
            assert loaded == stored
        finally:
            store.close()

    def test_get_of_a_missing_record_raises_not_found(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            with pytest.raises(NotFound) as raised:
                uow.installments.get("nope")
            assert (raised.value.kind, raised.value.key) == ("installment", "nope")
            with pytest.raises(NotFound):
                uow.customers.get("nope")
            with pytest.raises(NotFound):
                uow.settlements.get("nope")
            assert uow.settings.get() == PortfolioSettings()

    # -- units of work --------------------------------------------------------------------------

    def test_a_unit_without_commit_keeps_nothing(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.installments.put(an_installment("i1"))
            uow.customers.put(Customer("c1", "Ana"))
        with store.unit_of_work() as uow:
            assert uow.installments.get_many(["i1"]) == {}
            assert uow.customers.get_many(["c1"]) == {}

    def test_an_error_in_the_unit_rolls_it_back(self, store: Store) -> None:

        def fail_half_way() -> None:
            with store.unit_of_work() as uow:
                uow.installments.put(an_installment("i1"))
                uow.observations.add(Observation("o1", "i1", date(2025, 1, 1), "x"))
                _ = 1 / 0

        with pytest.raises(ZeroDivisionError):
            fail_half_way()
        with store.unit_of_work() as uow:
            assert uow.installments.get_many(["i1"]) == {}
            assert uow.observations.of_installment("i1") == []

    def test_commit_keeps_the_unit_and_the_unit_goes_on(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            first = uow.installments.put(an_installment("i1"))
            uow.commit()
            uow.installments.put(an_installment("i2"))
            uow.installments.put(first)
            uow.commit()
            uow.installments.put(an_installment("i3"))
        with store.unit_of_work() as uow:
            assert sorted(uow.installments.get_many(["i1", "i2", "i3"])) == ["i1", "i2"]
            assert uow.installments.get("i1").version == 2

    def test_a_unit_that_has_committed_holds_no_other_unit_back(self, store: Store) -> None:
        # A use case commits and then calls a gateway inside one block: meanwhile another unit must be
        # able to write and commit, on every store (SQLite included: it takes its lock again lazily).
        with store.unit_of_work() as first:
            first.installments.put(an_installment("i1"))
            first.commit()
            with store.unit_of_work() as second:
                second.installments.put(an_installment("i2"))
                second.commit()
            first.installments.put(an_installment("i3"))
            first.commit()
        with store.unit_of_work() as uow:
            assert sorted(uow.installments.get_many(["i1", "i2", "i3"])) == ["i1", "i2", "i3"]

    def test_a_failure_in_the_middle_of_a_unit_leaves_nothing_of_it(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            existing = uow.installments.put(an_installment("i0"))
            uow.commit()
        batch = [an_installment(f"i{n}") for n in range(1, 120)]
        with store.unit_of_work() as uow:
            uow.customers.put(Customer("c1", "Ana"))
            uow.installments.put_many(batch)
            uow.settings.put(PortfolioSettings(generate_anticipations_as_approved=True))
            with pytest.raises(Conflict) as raised:  # i0 exists, so its version 0 is stale
                uow.installments.put_many([an_installment("i200"), an_installment("i0")])
            assert raised.value.key == "i0"
            with pytest.raises(Conflict):
                uow.commit()  # the unit is spoiled: nothing of it may be kept
        with store.unit_of_work() as uow:
            assert uow.installments.get_many(["i0", *_ids(batch), "i200"]) == {"i0": existing}
            assert uow.customers.get_many(["c1"]) == {}
            assert uow.settings.get().version == 0

    def test_a_unit_is_used_inside_its_with_block_only(self, store: Store) -> None:
        unit = store.unit_of_work()
        with unit as uow:
            uow.installments.put(an_installment("i1"))
        with pytest.raises(InvalidInput):
            unit.installments.get("i1")

    # -- the version rule -----------------------------------------------------------------------

    def test_each_write_bumps_the_version_and_get_sees_it(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            first = uow.installments.put(an_installment("i1"))
            assert first.version == 1
            assert uow.installments.get("i1").version == 1
            second = uow.installments.put(attrs.evolve(first, description="renamed"))
            assert second.version == 2
            assert uow.installments.get("i1") == second
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.installments.get("i1") == second

    def test_a_stale_write_raises_conflict_naming_the_record(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.installments.put(an_installment("i1"))
            uow.settings.put(PortfolioSettings())
            uow.commit()
        with store.unit_of_work() as uow:
            read = uow.installments.get("i1")
            read_settings = uow.settings.get()
        with store.unit_of_work() as uow:
            uow.installments.put(attrs.evolve(read, description="first writer"))
            uow.settings.put(attrs.evolve(read_settings, generate_anticipations_as_approved=True))
            uow.commit()
        with store.unit_of_work() as uow:
            uow.installments.put(an_installment("new-in-the-stale-unit"))
            with pytest.raises(Conflict) as raised:
                uow.installments.put(attrs.evolve(read, description="second writer"))
            assert (raised.value.kind, raised.value.key, raised.value.expected_version) == ("installment", "i1", 1)
        with store.unit_of_work() as uow:
            with pytest.raises(Conflict) as settings_conflict:
                uow.settings.put(read_settings)
            assert settings_conflict.value.kind == "settings"
        with store.unit_of_work() as uow:
            assert uow.installments.get("i1").description == "first writer"
            assert uow.installments.get_many(["new-in-the-stale-unit"]) == {}

    def test_putting_a_new_record_over_an_existing_one_conflicts(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.customers.put(Customer("c1", "Ana"))
            uow.observations.add(Observation("o1", "i1", date(2025, 1, 1), "x"))
            uow.commit()
        with store.unit_of_work() as uow, pytest.raises(Conflict) as raised:
            uow.customers.put(Customer("c1", "Another Ana"))
        assert raised.value.key == "c1"
        with store.unit_of_work() as uow, pytest.raises(Conflict):
            uow.observations.add(Observation("o1", "i1", date(2025, 1, 1), "again"))
        with store.unit_of_work() as uow:
            assert uow.customers.get("c1").name == "Ana"

    @pytest.mark.parametrize("size", [5, 150])  # adapters may write a few rows and many rows differently
    def test_a_stale_record_in_a_bulk_write_is_named(self, store: Store, size: int) -> None:
        with store.unit_of_work() as uow:
            stored = uow.installments.put_many([an_installment(f"i{n:03}") for n in range(size)])
            uow.commit()
        stale = stored[size // 2]
        with store.unit_of_work() as uow:
            uow.installments.put(attrs.evolve(stale, description="changed elsewhere"))
            uow.commit()
        with store.unit_of_work() as uow, pytest.raises(Conflict) as raised:
            uow.installments.put_many([attrs.evolve(i, description="bulk") for i in stored])
        assert raised.value.key == stale.id
        with store.unit_of_work() as uow:
            assert {i.description for i in uow.installments.get_many(_ids(stored)).values()} == {
                "parcela 3/12",
                "changed elsewhere",
            }
            assert uow.installments.get(stored[0].id).version == 1

    def test_the_same_record_twice_in_one_put_many_is_refused(self, store: Store) -> None:
        with store.unit_of_work() as uow, pytest.raises(InvalidInput):
            uow.installments.put_many([an_installment("i1"), an_installment("i1")])

    def test_concurrent_units_writing_one_record_conflict(self, store: Store) -> None:
        if not self.interleaved_units:
            pytest.skip("this store runs its units one after the other")
        with store.unit_of_work() as uow:
            uow.installments.put(an_installment("i1"))
            uow.commit()
        with store.unit_of_work() as slow:
            read = slow.installments.get("i1")
            with store.unit_of_work() as fast:
                fast.installments.put(attrs.evolve(fast.installments.get("i1"), description="fast"))
                fast.commit()
            slow.customers.put(Customer("c9", "kept only with the slow unit"))
            with pytest.raises(Conflict) as raised:  # at put (PostgreSQL) or at commit (memory)
                self._put_and_commit(slow, attrs.evolve(read, description="slow"))
            assert raised.value.key == "i1"
        with store.unit_of_work() as uow:
            assert uow.installments.get("i1").description == "fast"
            assert uow.customers.get_many(["c9"]) == {}

    @staticmethod
    def _put_and_commit(uow: UnitOfWork, installment: Installment) -> None:
        uow.installments.put(installment)
        uow.commit()

    # -- finders --------------------------------------------------------------------------------

    @_EXAMPLES
    @given(portfolio=_portfolios(), data=st.data())
    def test_bulk_finders_return_what_the_model_returns(
        self, portfolio: list[Installment], data: st.DataObject
    ) -> None:
        titles = data.draw(st.lists(st.sampled_from((*_TITLES, "9999", "0", "  ")), max_size=4))
        documents = data.draw(st.lists(st.sampled_from((*_DOCUMENTS, "D-9", "0D-2")), max_size=3))
        customers = data.draw(st.lists(st.sampled_from((*_CUSTOMERS, "nobody")), max_size=3))
        title_keys = {normalize_title_number(t) for t in titles} - {None}
        document_keys = {normalize_title_number(d) for d in documents} - {None}
        keys = data.draw(st.lists(st.tuples(st.sampled_from(_DUES), st.sampled_from(_AMOUNTS)), max_size=4))
        customer = data.draw(st.sampled_from(_CUSTOMERS))
        contract = data.draw(st.sampled_from(_CONTRACTS))
        model = {
            "customer": _expected(portfolio, lambda i: i.customer_id == customer and i.is_open),
            "contract": _expected(portfolio, lambda i: i.contract_id == contract and i.is_open),
            "customers": _expected(portfolio, lambda i: i.customer_id in customers and i.is_open),
            "titles": _expected(portfolio, lambda i: normalize_title_number(i.bank_title_number) in title_keys),
            "documents": _expected(portfolio, lambda i: normalize_title_number(i.document_number) in document_keys),
            "due_amount": _expected(portfolio, lambda i: i.is_open and (i.due, i.amount) in keys),
        }
        for store in (MemoryStore(), self._fresh()):
            try:
                with store.unit_of_work() as uow:
                    uow.installments.put_many(portfolio)
                    uow.commit()
                with store.unit_of_work() as uow:
                    found = {
                        "customer": _ids(uow.installments.open_of_customer(customer)),
                        "contract": _ids(uow.installments.open_of_contract(contract)),
                        "customers": _ids(uow.installments.open_of_customers(customers)),
                        "titles": _ids(uow.installments.by_bank_title_numbers(titles)),
                        "documents": _ids(uow.installments.by_document_numbers(documents)),
                        "due_amount": _ids(uow.installments.open_by_due_and_amount(keys)),
                    }
                assert found == model, store
            finally:
                store.close()

    def test_settlements_come_latest_first_and_reversal_is_stored(self, store: Store) -> None:
        installment = an_installment("i1", amount=Money("300.00"))
        with store.unit_of_work() as uow:
            installment = uow.installments.put(installment)
            settlements = []
            for day in (10, 11, 12):
                outcome = settle(
                    installment, Payment(Money("100.00"), date(2025, 1, day)), _LENIENT, calendar=_CALENDAR
                )
                assert outcome.settlement is not None
                installment = uow.installments.put(outcome.installment)
                settlements.append(uow.settlements.put(outcome.settlement))
            uow.commit()
        with store.unit_of_work() as uow:
            latest = uow.settlements.of_installment("i1")
            assert latest == settlements[::-1]
            undone = reverse(uow.installments.get("i1"), latest[0], SettlementPolicy(), on=date(2025, 1, 13))
            uow.installments.put(undone.installment)
            uow.settlements.put(undone.settlement)
            uow.commit()
        with store.unit_of_work() as uow:
            again = uow.settlements.of_installment("i1")
            assert again[0].reversed_on == date(2025, 1, 13)
            assert again[0].version == 2
            assert uow.installments.get("i1").principal_open == Money("100.00")
            assert uow.installments.get("i1").status is InstallmentStatus.PARTIALLY_SETTLED

    def test_letters_anticipations_and_observations_are_found(self, store: Store) -> None:
        letters = [
            CreditLetter("L2", "c1", Money("5.00"), "s2", date(2025, 2, 1)),
            CreditLetter(
                "L1",
                "c1",
                Money("7.25"),
                "s1",
                date(2025, 1, 1),
                status=CreditLetterStatus.CANCELLED,
                balance=Money.ZERO,
            ),
            CreditLetter("L3", "c2", Money("1.00"), "s3", date(2025, 1, 1)),
        ]
        studied = anticipate("a2", [an_installment("i1")], date(2025, 1, 1), Decimal("0.02"))
        approved = attrs.evolve(studied, id="a1", status=AnticipationStatus.APPROVED)
        notes = [Observation(f"o{n}", "i1" if n != 2 else "i2", date(2025, 1, 9 - n), f"note {n}") for n in range(4)]
        with store.unit_of_work() as uow:
            for letter in letters:
                uow.credit_letters.put(letter)
            uow.anticipations.put(studied)
            uow.anticipations.put(approved)
            for note in notes:
                uow.observations.add(note)
            uow.commit()
        with store.unit_of_work() as uow:
            assert [c.id for c in uow.credit_letters.of_customer("c1")] == ["L1", "L2"]
            assert [a.id for a in uow.anticipations.with_status(AnticipationStatus.IN_STUDY)] == ["a2"]
            assert uow.anticipations.with_status(AnticipationStatus.APPROVED)[0].items == approved.items
            assert uow.observations.of_installment("i1") == [notes[0], notes[1], notes[3]]
            reread = uow.anticipations.get("a2")
            rejected = uow.anticipations.put(attrs.evolve(reread, status=AnticipationStatus.REJECTED))
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.anticipations.get("a2") == rejected
            assert uow.anticipations.with_status(AnticipationStatus.IN_STUDY) == []

    # -- return batches -------------------------------------------------------------------------

    @_EXAMPLES
    @given(batch=return_batches("b1"), records=batch_records("b1"), other=batch_records("b2", max_size=3))
    def test_a_batch_and_its_records_round_trip(
        self, batch: ReturnBatch, records: list[BatchRecord], other: list[BatchRecord]
    ) -> None:
        second = attrs.evolve(batch, id="b2", digest="0" * 64, agreement=None)
        store = self._fresh()
        try:
            with store.unit_of_work() as uow:
                stored = uow.return_batches.add(batch, records)
                uow.return_batches.add(second, other)
                uow.commit()
            assert stored == attrs.evolve(batch, version=1)
            with store.unit_of_work() as uow:
                assert uow.return_batches.get("b1") == stored
                assert uow.return_batches.records("b1") == [attrs.evolve(r, version=1) for r in records]
                assert uow.return_batches.records("b2") == [attrs.evolve(r, version=1) for r in other]
                some = [r.line for r in records[::2]]
                wanted = [attrs.evolve(r, version=1) for r in records[::2]]
                assert uow.return_batches.records("b1", lines=[*reversed(some), 0, -5]) == wanted
                assert uow.return_batches.records("b1", lines=[]) == []
                for state in LineState:
                    assert uow.return_batches.lines("b1", state=state) == [r.line for r in records if state.holds(r)]
                    assert uow.return_batches.lines("nobody", state=state) == []
                for record in records:
                    for settlement_id in record.settlement_ids:
                        assert uow.return_batches.record_of_settlement(settlement_id) == attrs.evolve(record, version=1)
        finally:
            store.close()

    def test_add_refuses_what_is_not_a_new_batch_and_stores_nothing(self, store: Store) -> None:
        batch = a_batch("b1")
        wrong = [
            (attrs.evolve(batch, version=1), []),
            (batch, [a_record("b2", 1)]),
            (batch, [a_record("b1", 1), a_record("b1", 1)]),
            (batch, [attrs.evolve(a_record("b1", 1), version=2)]),
        ]
        for candidate, records in wrong:
            with store.unit_of_work() as uow:
                with pytest.raises(InvalidInput):
                    uow.return_batches.add(candidate, records)
                uow.commit()
        with store.unit_of_work() as uow:
            assert uow.return_batches.all() == []
            assert uow.return_batches.records("b1") == []
            with pytest.raises(NotFound) as raised:
                uow.return_batches.get("b1")
            assert (raised.value.kind, raised.value.key) == ("return batch", "b1")

    def test_batches_come_newest_process_date_first_then_by_id(self, store: Store) -> None:
        dated = [("b3", date(2025, 3, 1)), ("b1", date(2025, 3, 2)), ("b2", date(2025, 3, 1)), ("b0", date(2025, 1, 1))]
        with store.unit_of_work() as uow:
            for n, (key, day) in enumerate(dated):
                uow.return_batches.add(a_batch(key, digest=f"{n}" * 64, sequence=n, process_date=day), [])
            uow.commit()
        with store.unit_of_work() as uow:
            assert [b.id for b in uow.return_batches.all()] == ["b1", "b2", "b3", "b0"]

    def test_a_batch_without_commit_is_not_kept(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.return_batches.add(a_batch("b1"), [a_record("b1", 1)])
        with store.unit_of_work() as uow:
            assert uow.return_batches.all() == []
            assert uow.return_batches.records("b1") == []
            uow.return_batches.add(a_batch("b1"), [a_record("b1", 1)])  # the same file is new again
            uow.commit()

    def test_put_of_a_batch_follows_the_version_rule_and_keeps_the_files_facts(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            added = uow.return_batches.add(a_batch("b1"), [])
            uow.commit()
        changed = attrs.evolve(
            added, description="março, banco 001", status=BatchStatus.PENDING, warnings=("trailer total differs",),
            process_date=date(2025, 3, 5), digest="f" * 64, file_sequence=99, record_count=7,
        )  # fmt: skip
        with store.unit_of_work() as uow:
            stored = uow.return_batches.put(changed)
            assert stored.version == 2
            again = uow.return_batches.put(attrs.evolve(stored, status=BatchStatus.COMPLETED))
            assert again.version == 3
            uow.commit()
        with store.unit_of_work() as uow:
            loaded = uow.return_batches.get("b1")
        facts = ("digest", "file_sequence", "record_count", "source", "layout_id", "bank_code", "agreement")
        assert [getattr(loaded, name) for name in facts] == [getattr(added, name) for name in facts]
        assert (loaded.description, loaded.process_date, loaded.warnings) == (
            "março, banco 001",
            date(2025, 3, 5),
            ("trailer total differs",),
        )
        assert (loaded.status, loaded.version) == (BatchStatus.COMPLETED, 3)
        with store.unit_of_work() as uow:
            with pytest.raises(Conflict) as raised:
                uow.return_batches.put(added)  # read at version 1, stored at 3
            assert (raised.value.kind, raised.value.key, raised.value.expected_version) == ("return batch", "b1", 1)
            with pytest.raises(Conflict):
                uow.commit()
        for missing in (a_batch("nobody"), attrs.evolve(a_batch("nobody"), version=4)):
            with store.unit_of_work() as uow, pytest.raises(Conflict):
                uow.return_batches.put(missing)
        with store.unit_of_work() as uow:
            assert uow.return_batches.get("b1") == loaded
            assert [b.id for b in uow.return_batches.all()] == ["b1"]

    @pytest.mark.parametrize("size", [5, 150])  # adapters may write a few rows and many rows differently
    def test_put_records_follows_the_version_rule_and_keeps_what_the_file_said(self, store: Store, size: int) -> None:
        records = [a_record("b1", line) for line in range(1, size + 1)]
        with store.unit_of_work() as uow:
            uow.return_batches.add(a_batch("b1"), records)
            uow.commit()
        with store.unit_of_work() as uow:
            read = uow.return_batches.records("b1")
            linked = [r.linked([f"i{r.line}", "i0"], LinkOrigin.AUTO, note="by bank title number") for r in read]
            # Not the file's to change: the amount, the movement, the flags its checks raised.
            linked[0] = attrs.evolve(linked[0], paid=Money("1.00"), movement_code="99", flags=("sum:paid",))
            stored = uow.return_batches.put_records(linked)
            assert [r.version for r in stored] == [2] * size
            settled = uow.return_batches.put_records([stored[1].settled_by(["s-1", "s-2"])])
            assert settled[0].version == 3
            uow.commit()
        with store.unit_of_work() as uow:
            loaded = uow.return_batches.records("b1")
        assert loaded[0] == attrs.evolve(
            stored[0], paid=records[0].paid, movement_code=records[0].movement_code, flags=()
        )
        assert loaded[1] == settled[0]
        assert loaded[1].settlement_ids == ("s-1", "s-2")
        assert loaded[1].confirmed_once
        assert loaded[2:] == stored[2:]
        assert all(r.links == (f"i{r.line}", "i0") and r.origin is LinkOrigin.AUTO for r in loaded)
        # A record changed by another unit since it was read is named; nothing of the bulk write is kept.
        with store.unit_of_work() as uow:
            uow.return_batches.put_records([loaded[size // 2].unlinked()])
            uow.commit()
        with store.unit_of_work() as uow:
            with pytest.raises(Conflict) as raised:
                uow.return_batches.put_records([r.refused("closing date") for r in loaded])
            assert (raised.value.kind, raised.value.key) == ("batch record", f"b1:{size // 2 + 1}")
            assert raised.value.expected_version == loaded[size // 2].version
        with store.unit_of_work() as uow:
            after = uow.return_batches.records("b1")
            assert [r.note for r in after if r.note == "closing date"] == []
            assert after[size // 2].links == ()
            with pytest.raises(Conflict):
                uow.return_batches.put_records([a_record("b1", 10_000)])  # a record never added
        with store.unit_of_work() as uow, pytest.raises(InvalidInput):
            uow.return_batches.put_records([after[0], after[0]])

    @pytest.mark.parametrize("size", [2, 150])  # adapters may write a few rows and many rows differently
    def test_a_records_flags_are_kept_and_its_acknowledgement_is_written(self, store: Store, size: int) -> None:
        # Odd lines flagged, even lines clean.
        records = [
            attrs.evolve(a_record("b1", line), flags=("sum:paid", "sequence_gap")) if line % 2 else a_record("b1", line)
            for line in range(1, size + 1)
        ]
        with store.unit_of_work() as uow:
            uow.return_batches.add(a_batch("b1"), records)
            uow.commit()
        at = datetime(2025, 3, 4, 9, 30, 15, 123_456, tzinfo=UTC)
        with store.unit_of_work() as uow:
            read = uow.return_batches.records("b1")
            assert [r.flags for r in read] == [r.flags for r in records]
            assert {(r.acknowledged_by, r.acknowledged_at) for r in read} == {(None, None)}
            stored = uow.return_batches.put_records([r.acknowledged("ana", at) for r in read if r.flags])
            uow.commit()
        with store.unit_of_work() as uow:
            loaded = uow.return_batches.records("b1")
            assert loaded[::2] == stored
            assert {(r.acknowledged_by, r.acknowledged_at) for r in loaded[::2]} == {("ana", at)}
            assert {(r.flags, r.acknowledged_by) for r in loaded[1::2]} == {((), None)}
            settled = uow.return_batches.put_records([loaded[0].linked(["i1"], LinkOrigin.AUTO).settled_by(["s-1"])])
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.return_batches.record_of_settlement("s-1") == settled[0]

    def test_put_records_rewrites_links_and_settlement_ids_and_lines_follow(self, store: Store) -> None:
        records = [a_record("b1", line) for line in (1, 2, 3, 4)]
        with store.unit_of_work() as uow:
            uow.return_batches.add(a_batch("b1"), [*records, attrs.evolve(a_record("b1", 5), is_settlement=False)])
            uow.commit()
        with store.unit_of_work() as uow:
            read = uow.return_batches.records("b1", [1, 2, 3])
            linked = uow.return_batches.put_records([r.linked([f"i{r.line}"], LinkOrigin.AUTO) for r in read])
            assert uow.return_batches.lines("b1", state=LineState.OPEN) == [4]
            assert uow.return_batches.lines("b1", state=LineState.TO_CONFIRM) == [1, 2, 3]
            # Settle 1 and 2 (links unchanged), relink 3 (no settlement ids to change).
            changed = [
                linked[0].settled_by(["s-1"]),
                linked[1].settled_by(["s-2", "s-3"]),
                linked[2].linked(["j", "k"], LinkOrigin.MANUAL),
            ]
            stored = uow.return_batches.put_records(changed)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.return_batches.records("b1", [1, 2, 3]) == stored
            assert uow.return_batches.lines("b1", state=LineState.TO_CONFIRM) == [3]
            assert uow.return_batches.records_linked_to(["i1", "i3", "j"]) == [stored[2]]
            # Reopened (settlement ids gone, links kept), then relinked elsewhere: only what is put is stored.
            reopened = uow.return_batches.put_records(
                [stored[0].reopened(), stored[1].reopened().linked(["m"], LinkOrigin.MANUAL)]
            )
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.return_batches.records("b1", [1, 2]) == reopened
            assert [r.links for r in reopened] == [("i1",), ("m",)]
            assert uow.return_batches.record_of_settlement("s-2") is None
            assert uow.return_batches.lines("b1", state=LineState.TO_CONFIRM) == [1, 2, 3]
            again = uow.return_batches.put_records([reopened[0].settled_by(["s-9"])])
            uow.commit()
        # A settlement id is held by one record: a second record claiming it conflicts, and nothing is kept.
        with store.unit_of_work() as uow, pytest.raises(Conflict):
            uow.return_batches.put_records([stored[2].settled_by(["s-9"])])
        with store.unit_of_work() as uow, pytest.raises(Conflict):
            uow.return_batches.put_records([reopened[1].settled_by(["s-7"]), stored[2].settled_by(["s-7"])])
        with store.unit_of_work() as uow:
            assert uow.return_batches.record_of_settlement("s-9") == again[0]
            assert uow.return_batches.record_of_settlement("s-7") is None
            assert uow.return_batches.lines("b1", state=LineState.TO_CONFIRM) == [2, 3]

    def test_the_same_bytes_again_are_a_duplicate_import_naming_the_earlier_batch(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.return_batches.add(a_batch("b1", description="março"), [a_record("b1", 1)])
            uow.commit()
        again = a_batch("b2", sequence=2)  # same digest, another file sequence
        with store.unit_of_work() as uow:
            with pytest.raises(DuplicateImport) as raised:
                uow.return_batches.add(again, [a_record("b2", 1)])
            assert raised.value.earlier_batch_id == "b1"
            assert "'b1'" in str(raised.value)
            assert "same bytes" in str(raised.value)
            # Nothing of the refused batch was written, and the unit goes on (decision 0320).
            assert uow.return_batches.get("b1").description == "março"
            assert uow.return_batches.records("b2") == []
            uow.customers.put(Customer("c1", "kept after the refusal"))
            uow.commit()
        with store.unit_of_work() as uow:
            assert [b.id for b in uow.return_batches.all()] == ["b1"]
            assert uow.customers.get("c1").name == "kept after the refusal"

    def test_the_same_bank_agreement_and_sequence_are_a_duplicate_import(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.return_batches.add(a_batch("b1", digest="a" * 64, sequence=7), [])
            # Without an agreement or a sequence a file has no file key: only its bytes identify it.
            uow.return_batches.add(a_batch("n1", digest="b" * 64, sequence=7, agreement=None), [])
            uow.return_batches.add(a_batch("n2", digest="c" * 64, sequence=7, agreement=None), [])
            uow.return_batches.add(a_batch("n3", digest="d" * 64, sequence=None), [])
            uow.return_batches.add(a_batch("n4", digest="e" * 64, sequence=None), [])
            uow.return_batches.add(a_batch("o1", digest="f" * 64, sequence=7, bank="341"), [])  # another bank
            uow.commit()
        with store.unit_of_work() as uow:
            with pytest.raises(DuplicateImport) as raised:
                uow.return_batches.add(a_batch("b2", digest="9" * 64, sequence=7), [])
            assert raised.value.earlier_batch_id == "b1"
            assert "file sequence" in str(raised.value)
            assert "'b1'" in str(raised.value)
            # Within one unit too: a batch added earlier in it counts.
            uow.return_batches.add(a_batch("b3", digest="8" * 64, sequence=8), [])
            with pytest.raises(DuplicateImport) as in_unit:
                uow.return_batches.add(a_batch("b4", digest="8" * 64, sequence=9), [])
            assert in_unit.value.earlier_batch_id == "b3"
            uow.commit()
        with store.unit_of_work() as uow:
            assert sorted(b.id for b in uow.return_batches.all()) == ["b1", "b3", "n1", "n2", "n3", "n4", "o1"]

    def test_two_units_adding_one_file_at_once_leave_one_batch(self, store: Store) -> None:
        outcomes: dict[str, str] = {}

        def add(batch_id: str) -> None:
            try:
                with store.unit_of_work() as own:
                    own.return_batches.add(a_batch(batch_id), [a_record(batch_id, 1)])
                    own.commit()
            except DuplicateImport as exc:
                outcomes[batch_id] = exc.earlier_batch_id
            else:
                outcomes[batch_id] = "added"

        with store.unit_of_work() as first:
            first.return_batches.add(a_batch("b1"), [a_record("b1", 1)])
            # The second unit waits for the first (PostgreSQL's unique key, SQLite's write lock) or
            # races it to commit (MemoryStore): either way one batch is left.
            second = threading.Thread(target=add, args=("b2",))
            second.start()
            second.join(0.5)
            try:
                first.commit()
                outcomes["b1"] = "added"
            except DuplicateImport as exc:
                outcomes["b1"] = exc.earlier_batch_id
        second.join(60)
        assert not second.is_alive()
        winner = "b1" if outcomes["b1"] == "added" else "b2"
        loser = "b2" if winner == "b1" else "b1"
        assert outcomes == {winner: "added", loser: winner}
        with store.unit_of_work() as uow:
            assert [b.id for b in uow.return_batches.all()] == [winner]
            assert uow.return_batches.records(loser) == []

    def test_delete_removes_the_batch_and_its_records(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.return_batches.add(a_batch("b1"), [a_record("b1", 1), a_record("b1", 2)])
            uow.return_batches.add(a_batch("b2", digest="2" * 64, sequence=2), [a_record("b2", 1)])
            read = uow.return_batches.records("b1")
            uow.return_batches.put_records(
                [read[0].linked(["i1"], LinkOrigin.MANUAL).settled_by(["s1"]), read[1].linked(["i2"], LinkOrigin.AUTO)]
            )
            uow.commit()
        with store.unit_of_work() as uow:
            uow.return_batches.delete("b1")
            uow.commit()
        with store.unit_of_work() as uow:
            assert [b.id for b in uow.return_batches.all()] == ["b2"]
            assert uow.return_batches.records("b1") == []
            assert uow.return_batches.record_of_settlement("s1") is None
            assert uow.return_batches.records_linked_to(["i1", "i2"]) == []
            assert len(uow.return_batches.records("b2")) == 1
            with pytest.raises(NotFound):
                uow.return_batches.delete("b1")
            # Deleted, the file may be imported again, on the same lines.
            uow.return_batches.add(a_batch("b1-again"), [a_record("b1-again", 1), a_record("b1-again", 2)])
            uow.commit()
        with store.unit_of_work() as uow:
            assert [r.links for r in uow.return_batches.records("b1-again")] == [(), ()]

    def test_record_of_settlement_and_records_linked_to_find_by_key(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.return_batches.add(a_batch("b1"), [a_record("b1", line) for line in (1, 2, 3, 4)])
            uow.return_batches.add(a_batch("b0", digest="0" * 64, sequence=2), [a_record("b0", 9)])
            r1, r2, r3, _ = uow.return_batches.records("b1")
            (r9,) = uow.return_batches.records("b0")
            stored = uow.return_batches.put_records(
                [
                    r1.linked(["i1", "i2"], LinkOrigin.AUTO),
                    r2.linked(["i2"], LinkOrigin.MANUAL).settled_by(["s2"]),
                    r3.linked(["i3", "i1"], LinkOrigin.MANUAL),
                    r9.linked(["i1"], LinkOrigin.AUTO),
                ]
            )
            uow.commit()
        with store.unit_of_work() as uow:
            finder = uow.return_batches
            assert finder.record_of_settlement("s2") == stored[1]
            assert finder.record_of_settlement("s-unknown") is None
            # Settled records are left out; each record once, by (batch id, line).
            assert finder.records_linked_to(["i1"]) == [stored[3], stored[0], stored[2]]
            assert finder.records_linked_to(["i2", "i1", "i2"]) == [stored[3], stored[0], stored[2]]
            assert finder.records_linked_to(["i2"]) == [stored[0]]
            assert finder.records_linked_to(["i4"]) == []
            assert finder.records_linked_to([]) == []
            # A reactivation opens the record again (B9): it is found by its links, no longer by its settlement.
            reopened = finder.put_records([stored[1].reopened()])[0]
            assert finder.record_of_settlement("s2") is None
            assert finder.records_linked_to(["i2"]) == [stored[0], reopened]
            uow.commit()

    def test_a_settlement_id_belongs_to_one_record(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.return_batches.add(a_batch("b1"), [a_record("b1", 1), a_record("b1", 2)])
            r1, r2 = uow.return_batches.records("b1")
            uow.return_batches.put_records([r1.linked(["i1"], LinkOrigin.AUTO).settled_by(["s1"])])
            uow.commit()
        with store.unit_of_work() as uow:
            with pytest.raises(Conflict) as raised:
                uow.return_batches.put_records([r2.linked(["i2"], LinkOrigin.AUTO).settled_by(["s1"])])
            assert raised.value.kind == "batch record"
            with pytest.raises(Conflict):
                uow.commit()
        with store.unit_of_work() as uow:
            assert uow.return_batches.record_of_settlement("s1") == uow.return_batches.records("b1", lines=[1])[0]
            assert uow.return_batches.records("b1", lines=[2])[0].links == ()

    def test_customers_are_found_by_tax_id(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            for key, tax_id in (("c3", "12345678909"), ("c1", "11222333000181"), ("c2", None), ("c4", "12345678909")):
                uow.customers.put(Customer(key, f"customer {key}", tax_id=tax_id))
            uow.commit()
        with store.unit_of_work() as uow:
            assert [c.id for c in uow.customers.by_tax_ids(["12345678909", "11222333000181"])] == ["c1", "c3", "c4"]
            assert [c.id for c in uow.customers.by_tax_ids(["11222333000181", "11222333000181"])] == ["c1"]
            assert uow.customers.by_tax_ids(["00000000000"]) == []
            assert uow.customers.by_tax_ids([]) == []

    def test_title_and_document_numbers_are_compared_normalized(self, store: Store) -> None:
        stored = [
            an_installment("i1", bank_title_number="000123", document_number="  0042"),
            an_installment("i2", bank_title_number="123 ", document_number="42"),
            an_installment("i3", bank_title_number="1230", document_number="4 2"),
            an_installment("i4", bank_title_number="0000", document_number="   "),
            an_installment("i5", bank_title_number=None, document_number=None),
        ]
        with store.unit_of_work() as uow:
            uow.installments.put_many(stored)
            uow.commit()
        with store.unit_of_work() as uow:
            titles = uow.installments.by_bank_title_numbers
            documents = uow.installments.by_document_numbers
            assert _ids(titles(["123"])) == ["i1", "i2"]
            assert _ids(titles(["0000000123  "])) == ["i1", "i2"]
            assert _ids(titles(["01230"])) == ["i3"]
            assert titles(["0", "   ", "00"]) == []  # nothing left after the padding names nothing
            assert _ids(documents(["042"])) == ["i1", "i2"]
            assert _ids(documents(["4 2"])) == ["i3"]
            assert documents(["0"]) == []
            # The numbers are kept as the ERP stored them; only the comparison is normalized.
            assert uow.installments.get("i1").bank_title_number == "000123"

    def test_the_batch_fields_of_settlements_and_installments_round_trip(self, store: Store) -> None:
        installment = an_installment("i1", bank_transmission="remessa-2025-03-01#17")
        outcome = settle(installment, Payment(Money("1234.56"), date(2025, 1, 10)), _LENIENT, calendar=_CALENDAR)
        assert outcome.settlement is not None
        settlement = attrs.evolve(outcome.settlement, batch_id="b1", batch_line=42)
        cleared = attrs.evolve(outcome.installment, bank_transmission=None)
        with store.unit_of_work() as uow:
            kept = (uow.installments.put(installment), uow.settlements.put(settlement))
            uow.commit()
        with store.unit_of_work() as uow:
            assert (uow.installments.get("i1"), uow.settlements.get(settlement.id)) == kept
            assert kept[0].bank_transmission == "remessa-2025-03-01#17"
            assert (kept[1].batch_id, kept[1].batch_line) == ("b1", 42)
            uow.installments.put(attrs.evolve(cleared, version=1))
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.installments.get("i1").bank_transmission is None

    def test_the_receipt_history_of_a_settlement_round_trips_and_outlives_its_reversal(self, store: Store) -> None:
        installment = an_installment("i1")
        outcome = settle(installment, Payment(Money("1234.56"), date(2025, 1, 10)), _LENIENT, calendar=_CALENDAR)
        assert outcome.settlement is not None
        assert outcome.settlement.history is None  # the domain gives none: the service that settles says which
        coded = attrs.evolve(outcome.settlement, history="Recebimento Efí 101")
        other = attrs.evolve(outcome.settlement, id="i2/S1", installment_id="i2")
        with store.unit_of_work() as uow:
            uow.installments.put(outcome.installment)
            kept = uow.settlements.put_many([coded, other])
            uow.commit()
        with store.unit_of_work() as uow:
            assert [uow.settlements.get("i1/S1"), uow.settlements.get("i2/S1")] == kept
            assert [s.history for s in kept] == ["Recebimento Efí 101", None]
            undone = reverse(uow.installments.get("i1"), kept[0], SettlementPolicy(), on=date(2025, 1, 13))
            uow.settlements.put(undone.settlement)
            uow.commit()
        with store.unit_of_work() as uow:
            again = uow.settlements.get("i1/S1")
        assert (again.reversed_on, again.history) == (date(2025, 1, 13), "Recebimento Efí 101")


if TYPE_CHECKING:
    from carteira.adapters.storage import PostgresStore, SqliteStore

    def _adapters_satisfy_the_port(memory: MemoryStore, sqlite: SqliteStore, postgres: PostgresStore) -> list[Store]:
        """Never called: mypy checks here that every adapter is a ``Store`` whose units are ``UnitOfWork``s."""
        units: list[UnitOfWork] = [memory.unit_of_work(), sqlite.unit_of_work(), postgres.unit_of_work()]
        del units
        return [memory, sqlite, postgres]
