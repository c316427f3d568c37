"""One stored record of every kind, with every column holding a value, and the ways the repositories read each table.

The tests that edit rows by hand (``test_stored_rows.py``, ``test_store_probe.py``) start from :func:`seed`,
change one column of one row behind carteira's back, and read it again through every finder that returns it
(:data:`READERS`). :data:`KEYS` is the key each table's seeded row is named by in an ``InvalidRow``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import psycopg

from carteira.adapters.storage import PostgresStore, SqliteStore
from carteira.domain import (
    AnticipationStatus,
    ChargeTerms,
    Contract,
    Customer,
    EveryDayCalendar,
    Imputation,
    Installment,
    InstallmentStatus,
    InterestMode,
    Money,
    Observation,
    Payment,
    PortfolioSettings,
    SettlementPolicy,
    Tolerance,
    anticipate,
    settle,
)
from carteira.domain.notifications import Notification, NotificationStatus, SeenEvent
from carteira.domain.operations import (
    ChargeState,
    Environment,
    GatewayAccount,
    GatewayCharge,
    Operation,
    OperationError,
    OperationFilter,
    OperationKind,
    OperationStatus,
)
from carteira.domain.postings import Posting, PostingKind
from carteira.domain.return_batch import BatchRecord, BatchStatus, LinkOrigin, ReturnBatch
from carteira.ports.storage import LineState, Store, UnitOfWork
from tests.support import POSTGRES_DSN

__all__ = ["KEYS", "READERS", "edited", "seed"]

T0 = datetime(2025, 3, 1, 12, 0, 0, 250_000, tzinfo=UTC)
_TERMS = ChargeTerms(
    Decimal("0.02"), Decimal("0.0333"), grace_days=3, interest_mode=InterestMode.DAILY_AMOUNT,
    imputation=Imputation.FINE_INTEREST_PRINCIPAL,
)  # fmt: skip


def _records() -> dict[str, Any]:
    """The records :func:`seed` stores, by what they are."""
    paid = Installment(
        "i1", "c1", date(2025, 1, 10), Money("1000.00"), _TERMS, contract_id="k1", number=2, description="2/12",
        bank_title_number="0001", document_number="D-1", bank_contract="bank-001", bank_transmission="rem-1",
    )  # fmt: skip
    outcome = settle(
        paid,
        Payment(Money("1500.00"), date(2025, 3, 1), credited_on=date(2025, 3, 3), bank_charges=Money("2.50")),
        SettlementPolicy(settle_beyond_tolerance=True),
        calendar=EveryDayCalendar(),
    )
    assert outcome.settlement is not None
    assert outcome.credit_letter is not None
    settlement = attrs.evolve(outcome.settlement, batch_id="b1", batch_line=2, history="301", reversed_on=None)
    # An open installment whose open state has every column set: fine charged, interest running.
    open_one = Installment(
        "i2", "c1", date(2025, 2, 10), Money("500.00"), _TERMS, contract_id="k1", number=3, description="3/12",
        bank_title_number="0002", document_number="D-2", bank_contract="bank-001", bank_transmission="rem-1",
        principal_open=Money("400.00"), fine_open=Money("10.00"), interest_open=Money("1.50"), fine_charged=True,
        interest_from=date(2025, 2, 20), latest_settlement_id="s-older", settlements_made=1,
        status=InstallmentStatus.PARTIALLY_SETTLED,
    )  # fmt: skip
    anticipation = attrs.evolve(
        anticipate("a1", [open_one], date(2025, 1, 20), Decimal("0.0175")), status=AnticipationStatus.APPROVED
    )
    record = BatchRecord(
        "b1", 2, "06", "settled", True, False, "0001", "D-1", date(2025, 1, 10), Money("1000.00"), Money("1500.00"),
        Money("0.10"), Money("0.20"), Money("1.20"), Money("2.50"), Money("0.01"), date(2025, 3, 1), date(2025, 3, 3),
        anticipation_id="a1", anticipation_rate=Decimal("0.0175"), payer_tax_id="12345678909", links=("i1",),
        origin=LinkOrigin.AUTO, settlement_ids=(settlement.id,), confirmed_once=True, note="ok",
        flags=("sum:paid", "sequence_gap"), acknowledged_by="ana", acknowledged_at=T0 + timedelta(hours=1),
    )  # fmt: skip
    return {
        "customer": Customer("c1", "Maria", tax_id="12345678909", email="m@example.com", phone="11999990000"),
        "contract": Contract("k1", "c1", description="Contrato 7/2025", bank_contract="bank-001"),
        "installments": [outcome.installment, open_one],
        "settlement": settlement,
        "letter": outcome.credit_letter,
        "anticipation": anticipation,
        "observation": Observation("o1", "i1", date(2025, 1, 2), "called the customer"),
        "settings": PortfolioSettings(
            policy=SettlementPolicy(
                over=Tolerance(Money("0.50"), Decimal("0.015")),
                under=Tolerance(Money("0.10"), Decimal("0.001")),
                settle_beyond_tolerance=True,
                closing_date=date(2024, 12, 31),
            ),
            generate_anticipations_as_approved=True,
        ),
        "batch": ReturnBatch(
            "b1",
            "retorno",
            date(2025, 3, 3),
            "RET.txt",
            "d" * 64,
            "cnab240",
            "001",
            "4567",
            7,
            1,
            BatchStatus.IMPORTED,
            ("a warning",),
        ),
        "record": record,
        "account": GatewayAccount(
            "Client_Id_1",
            Environment.PRODUCTION,
            "wallet-0",
            "0",
            "1.1.02.003",
            Money("3.49"),
            "301",
            "302",
            "303",
            True,
            ("fin@example.com",),
        ),
        "operation": Operation(
            "op-1",
            OperationKind.ISSUE_CARNET,
            ("i2", "i1"),
            T0,
            OperationStatus.FAILED,
            '{"a": 1}',
            '{"b": 2}',
            2,
            OperationError("refused", 3500034, "value", True),
            T0 + timedelta(seconds=1),
            T0 + timedelta(minutes=5),
            T0 + timedelta(seconds=2),
            customer_id="c1",
            arguments=(("due", "2025-04-10"),),
            warnings=("w1",),
            document_reversed=True,
        ),
        "charge": GatewayCharge(
            "i2",
            "op-1",
            "41302",
            date(2025, 2, 10),
            Money("500.00"),
            ChargeState.ISSUED,
            "carnet-1",
            3,
            "0019" * 11,
            "https://example.com/b",
        ),
        "notification": Notification(
            "tok-1",
            T0,
            NotificationStatus.PENDING,
            2,
            1,
            T0 + timedelta(minutes=1),
            T0 + timedelta(minutes=2),
            "timeout",
        ),
        "event": SeenEvent("tok-1", 5, "charge", "paid", T0, "41302", "i1", settlement.id, True, "late"),
        "posting": Posting(
            "p-1",
            PostingKind.ENTRY,
            date(2025, 3, 3),
            Money("1500.00"),
            "bank-1",
            "entries",
            settlement.id,
            "41302",
            "p-0",
        ),
    }


RECORDS = _records()
SETTLEMENT_ID: str = RECORDS["settlement"].id
LETTER_ID: str = RECORDS["letter"].id


def seed(store: Store) -> None:
    """Store one record of every kind (two installments: one settled, one open) and commit."""
    records = RECORDS
    with store.unit_of_work() as uow:
        uow.customers.put(records["customer"])
        uow.contracts.put(records["contract"])
        uow.installments.put_many(records["installments"])
        uow.settlements.put(records["settlement"])
        uow.credit_letters.put(records["letter"])
        uow.anticipations.put(records["anticipation"])
        uow.observations.add(records["observation"])
        uow.settings.put(records["settings"])
        uow.return_batches.add(records["batch"], [records["record"]])
        uow.gateway_account.put(records["account"])
        uow.operations.put(records["operation"])
        uow.gateway_charges.put(records["charge"])
        uow.notifications.put(records["notification"])
        uow.seen_events.add_many([records["event"]])
        uow.postings.add_many([records["posting"]])
        uow.commit()


Reader = Callable[[UnitOfWork], object]

READERS: dict[str, list[Reader]] = {
    "customers": [lambda u: u.customers.get("c1"), lambda u: u.customers.by_tax_ids(["12345678909"])],
    "contracts": [lambda u: u.contracts.get("k1"), lambda u: u.contracts.of_customer("c1")],
    "installments": [
        lambda u: u.installments.get("i2"),
        lambda u: u.installments.get_many(["i1", "i2"]),
        lambda u: u.installments.open_of_customer("c1"),
        lambda u: u.installments.by_bank_title_numbers(["0002"]),  # the edited row only: nothing found is a miss
    ],
    "settlements": [lambda u: u.settlements.get(SETTLEMENT_ID), lambda u: u.settlements.of_installment("i1")],
    "credit_letters": [lambda u: u.credit_letters.get(LETTER_ID), lambda u: u.credit_letters.of_customer("c1")],
    "anticipations": [
        lambda u: u.anticipations.get("a1"),
        lambda u: u.anticipations.with_status(AnticipationStatus.APPROVED),
    ],
    "anticipated_installments": [lambda u: u.anticipations.get("a1")],
    "observations": [lambda u: u.observations.of_installment("i1")],
    "portfolio_settings": [lambda u: u.settings.get()],
    "return_batches": [lambda u: u.return_batches.get("b1"), lambda u: u.return_batches.all()],
    "batch_records": [
        lambda u: u.return_batches.records("b1"),
        lambda u: u.return_batches.records("b1", [2]),
        lambda u: u.return_batches.record_of_settlement(SETTLEMENT_ID),
        lambda u: u.return_batches.lines("b1", state=LineState.OPEN),
    ],
    "batch_record_links": [
        lambda u: u.return_batches.records("b1"),
        lambda u: u.return_batches.records("b1", [2]),
    ],
    "batch_record_settlements": [
        lambda u: u.return_batches.records("b1"),
        lambda u: u.return_batches.record_of_settlement(SETTLEMENT_ID),
    ],
    "gateway_account": [lambda u: u.gateway_account.get()],
    "operations": [
        lambda u: u.operations.get("op-1"),
        lambda u: u.operations.find(OperationFilter()),
        lambda u: u.operations.of_documents(["i1"]),
    ],
    "operation_documents": [lambda u: u.operations.get("op-1"), lambda u: u.operations.of_documents(["i1"])],
    "gateway_charges": [lambda u: u.gateway_charges.get("i2"), lambda u: u.gateway_charges.of_carnet("carnet-1")],
    "notifications": [
        lambda u: u.notifications.get("tok-1"),
        lambda u: u.notifications.with_status(NotificationStatus.PENDING),
    ],
    "seen_events": [lambda u: u.seen_events.of_token("tok-1"), lambda u: u.seen_events.of_charges(["41302"])],
    "postings": [
        lambda u: u.postings.of_settlement(SETTLEMENT_ID),
        lambda u: u.postings.find(on_from=date(2025, 1, 1), on_to=date(2025, 12, 31)),
    ],
}
"""How the repositories read each table's seeded row: the first reader of each is the plainest."""

KEYS: dict[str, tuple[str, str]] = {
    "customers": ("id", "'c1'"),
    "contracts": ("id", "'k1'"),
    "installments": ("id", "'i2'"),
    "settlements": ("id", repr(SETTLEMENT_ID)),
    "credit_letters": ("id", repr(LETTER_ID)),
    "anticipations": ("id", "'a1'"),
    "anticipated_installments": ("anticipation_id", "'a1'"),
    "observations": ("id", "'o1'"),
    "portfolio_settings": ("id", "1"),
    "return_batches": ("id", "'b1'"),
    "batch_records": ("batch_id", "'b1'"),
    "batch_record_links": ("batch_id", "'b1'"),
    "batch_record_settlements": ("settlement_id", repr(SETTLEMENT_ID)),
    "gateway_account": ("id", "1"),
    "operations": ("id", "'op-1'"),
    "operation_documents": ("operation_id", "'op-1'"),
    "gateway_charges": ("installment_id", "'i2'"),
    "notifications": ("token", "'tok-1'"),
    "seen_events": ("token", "'tok-1'"),
    "postings": ("id", "'p-1'"),
}
"""The first key column of each table's row that an edit changes, and its value as an ``InvalidRow`` shows it."""

WHERE: dict[str, str] = {
    "installments": "id = 'i2'",
    "operation_documents": "operation_id = 'op-1' AND position = 1",
}
"""Which row of a table an edit changes, where the table holds more than one."""


@contextmanager
def edited(store: Store, where: str) -> Iterator[Callable[[str], list[tuple[Any, ...]]]]:
    """A function that runs one SQL statement on the store's database behind carteira's back, committed at once,
    and returns the rows it selects (text as bytes on SQLite, so that text that is not UTF-8 can be seen).

    ``where`` is a SQLite path or a PostgreSQL schema. SQLite's CHECK constraints are switched off for the
    edit (a hand edit may come from any tool); PostgreSQL keeps its own.
    """
    if isinstance(store, SqliteStore):
        connection = sqlite3.connect(where, isolation_level=None)
        connection.execute("PRAGMA ignore_check_constraints = ON")
        connection.execute("PRAGMA synchronous = OFF")  # a test database: no fsync per edit
        connection.text_factory = bytes
        try:
            yield lambda sql: connection.execute(sql).fetchall()
        finally:
            connection.close()
        return
    assert isinstance(store, PostgresStore)
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as admin:
        admin.execute(f"SET search_path TO {where}")

        def run(sql: str) -> list[tuple[Any, ...]]:
            cursor = admin.execute(sql)  # type: ignore[call-overload]
            return cursor.fetchall() if cursor.description else []

        yield run
