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
``MemoryStore``) returns for generated portfolios.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
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
    reverse,
    settle,
)
from carteira.errors import Conflict, InvalidInput, NotFound
from carteira.ports.storage import Store, UnitOfWork
from carteira.testing.strategies import charge_terms, installments, payments, policies

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
_TITLES = ("0001", "0002", "0003", "0004")
_DOCUMENTS = ("D-1", "D-2", "D-3")
# Each subclass runs the same method over another adapter: differing executors are the point here.
_EXAMPLES = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.differing_executors],
)


_AMOUNT = Money("1234.56")


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


def _ids(installments: list[Installment]) -> list[str]:
    return [i.id for i in installments]


def _expected(rows: list[Installment], keep: object) -> list[str]:
    return [i.id for i in sorted((i for i in rows if keep(i)), key=lambda i: (i.due, i.id))]  # type: ignore[operator]


class StorageContract:
    """The storage contract as pytest test methods; subclass it as ``Test<YourStore>`` and define ``make_store``."""

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
        titles = data.draw(st.lists(st.sampled_from((*_TITLES, "9999")), max_size=4))
        documents = data.draw(st.lists(st.sampled_from((*_DOCUMENTS, "D-9")), max_size=3))
        keys = data.draw(st.lists(st.tuples(st.sampled_from(_DUES), st.sampled_from(_AMOUNTS)), max_size=4))
        customer = data.draw(st.sampled_from(_CUSTOMERS))
        contract = data.draw(st.sampled_from(_CONTRACTS))
        model = {
            "customer": _expected(portfolio, lambda i: i.customer_id == customer and i.is_open),
            "contract": _expected(portfolio, lambda i: i.contract_id == contract and i.is_open),
            "titles": _expected(portfolio, lambda i: i.bank_title_number in titles),
            "documents": _expected(portfolio, lambda i: i.document_number in documents),
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


if TYPE_CHECKING:
    from carteira.adapters.storage import PostgresStore, SqliteStore

    def _adapters_satisfy_the_port(memory: MemoryStore, sqlite: SqliteStore, postgres: PostgresStore) -> list[Store]:
        """Never called: mypy checks here that every adapter is a ``Store`` whose units are ``UnitOfWork``s."""
        units: list[UnitOfWork] = [memory.unit_of_work(), sqlite.unit_of_work(), postgres.unit_of_work()]
        del units
        return [memory, sqlite, postgres]
