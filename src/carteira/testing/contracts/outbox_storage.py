"""The storage contract of the gateway outbox (G1, G2-G3, G8): the account, the operations log, the charges.

:class:`OutboxStorageContract` is a mixin of :class:`~carteira.testing.contracts.storage.StorageContract`,
so every store that runs the storage contract runs these tests too; it uses the ``store`` fixture and
``_fresh()`` of that class. What it checks: every field of the three records round trips (``None``
where optional, an error code that is a number stays a number, instants equal to the microsecond
whatever their zone); the version rule, ``Conflict``, ``NotFound`` and rollback; and that ``due``,
``find``, ``of_documents`` and ``count_sent_since`` return exactly what :meth:`Operation.due`,
:meth:`OperationFilter.matches` and a plain Python model say, for generated operations.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carteira.domain import Money
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
from carteira.errors import Conflict, InvalidInput, NotFound
from carteira.ports.storage import Store
from carteira.testing.contracts.samples import EXAMPLES as _EXAMPLES
from carteira.testing.contracts.samples import T0 as _T0
from carteira.testing.contracts.samples import TEXT as _TEXT
from carteira.testing.contracts.samples import TICK as _TICK
from carteira.testing.contracts.samples import moments
from carteira.testing.strategies import dates, money

__all__ = ["OutboxStorageContract"]

# Ids that Python orders by code point; a database collation ordering them otherwise would show.
_IDS = ("op-1", "op-10", "op-2", "Op-3", "op_4", "op.5", "OP-6", "op-7", "opé-8", "op-9", "op 11", "op-12")
_INSTALLMENTS = ("i1", "i2", "i3", "i4", "i5")
_CUSTOMERS = ("c1", "c2", "c3")
_LEASE = timedelta(minutes=5)


def _errors() -> st.SearchStrategy[OperationError]:
    codes = st.none() | st.integers(-(2**70), 2**70) | _TEXT  # numbers beyond 64 bits too
    return st.builds(OperationError, _TEXT, codes, st.none() | _TEXT, st.booleans())


@st.composite
def _operation(draw: st.DrawFn, key: str) -> Operation:
    """Any operation ``key``: every field drawn, whatever its status (storage keeps what it is given)."""
    moment = st.none() | moments()
    return Operation(
        key,
        draw(st.sampled_from(OperationKind)),
        tuple(draw(st.lists(st.sampled_from(_INSTALLMENTS), min_size=1, max_size=3))),
        draw(moments()),
        draw(st.sampled_from(OperationStatus)),
        draw(_TEXT),
        draw(_TEXT),
        draw(st.integers(0, 5)),
        draw(st.none() | _errors()),
        draw(moment),
        draw(moment),
        draw(moment),
        customer_id=draw(st.none() | st.sampled_from(_CUSTOMERS)),
        arguments=tuple(draw(st.lists(st.tuples(_TEXT, _TEXT), max_size=2))),
        warnings=tuple(draw(st.lists(_TEXT, max_size=2))),
        document_reversed=draw(st.booleans()),
    )


def _operations() -> st.SearchStrategy[list[Operation]]:
    """Up to 12 new operations with distinct ids."""
    return st.lists(st.sampled_from(_IDS), unique=True, max_size=len(_IDS)).flatmap(
        lambda keys: st.tuples(*(_operation(key) for key in keys)).map(list)
    )


def _filters() -> st.SearchStrategy[OperationFilter]:
    return st.builds(
        OperationFilter,
        status=st.none() | st.sampled_from(OperationStatus),
        kind=st.none() | st.sampled_from(OperationKind),
        customer_id=st.none() | st.sampled_from((*_CUSTOMERS, "nobody")),
        document=st.none() | st.sampled_from((*_INSTALLMENTS, "nobody")),
        created_from=st.none() | moments(),
        created_to=st.none() | moments(),
        flagged=st.none() | st.booleans(),
        limit=st.none() | st.integers(1, 6),
    )


@st.composite
def _charges(draw: st.DrawFn) -> list[GatewayCharge]:
    """Up to 10 new charges of distinct installments; parcels of one carnet have distinct numbers."""
    size = draw(st.integers(0, 10))
    parcels = draw(st.lists(st.integers(1, 60), min_size=size, max_size=size, unique=True))
    found = []
    for n, parcel in enumerate(parcels):
        carnet = draw(st.none() | st.sampled_from(("carnet-1", "carnet-2")))
        found.append(
            GatewayCharge(
                f"inst-{n}",
                draw(st.sampled_from(_IDS)),
                draw(st.sampled_from(("ch-1", "ch-2", "ch-3", "41302"))),  # a few, so that installments share one
                draw(dates()),
                draw(money()),
                draw(st.sampled_from(ChargeState)),
                carnet,
                None if carnet is None else parcel,
                draw(_TEXT),
                draw(st.none() | _TEXT),
            )
        )
    return found


def _oldest_first(operations: Iterable[Operation]) -> list[Operation]:
    return sorted(operations, key=lambda o: (o.created_at, o.id))


def _stored(records: list[Operation]) -> list[Operation]:
    return [attrs.evolve(o, version=o.version + 1) for o in records]


def an_account(**fields: object) -> GatewayAccount:
    """The portfolio's account at the gateway with every field set; ``fields`` override them."""
    values: dict[str, object] = {
        "client_id": "Client_Id_9f3c",
        "environment": Environment.PRODUCTION,
        "agreement_id": "wallet-0",
        "agreement_bank_code": "0",
        "bank_account": "1.1.02.003",
        "payment_fee": Money("3.49"),
        "receipt_history": "301",
        "entries_history": "302",
        "fees_history": "303",
        "active": False,
        "notify": ("fin@example.com", "joão@example.com.br"),
    }
    values.update(fields)
    return GatewayAccount(**values)  # type: ignore[arg-type]


def an_operation(key: str = "op-1", *, at: datetime = _T0, **fields: Any) -> Operation:
    """A new PENDING operation ``key`` issuing a carnet of three parcels, created ``at``."""
    return attrs.evolve(
        Operation(key, OperationKind.ISSUE_CARNET, ("i3", "i1", "i2"), at, customer_id="c1"),
        **fields,
    )


def a_charge(installment_id: str = "i1", **fields: Any) -> GatewayCharge:
    """A billet charge of ``installment_id``; ``fields`` override its fields."""
    charge = GatewayCharge(installment_id, "op-1", "41302", date(2025, 4, 10), Money("150.75"))
    return attrs.evolve(charge, **fields)


class OutboxStorageContract:
    """The outbox's part of the storage contract; :class:`StorageContract` inherits it."""

    def _fresh(self) -> Store:
        """A new, migrated store (``StorageContract`` supplies it)."""
        raise NotImplementedError

    # -- the account ----------------------------------------------------------------------------

    def test_the_gateway_account_round_trips_and_follows_the_version_rule(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            with pytest.raises(NotFound) as missing:
                uow.gateway_account.get()
            assert (missing.value.kind, missing.value.key) == ("gateway account", "the portfolio's")
            first = uow.gateway_account.put(an_account())
            assert first == attrs.evolve(an_account(), version=1)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.gateway_account.get() == first
            plain = attrs.evolve(first, active=True, notify=(), payment_fee=Money.ZERO, environment=Environment.SANDBOX)
            second = uow.gateway_account.put(plain)
            assert second.version == 2
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.gateway_account.get() == second
            with pytest.raises(Conflict) as stale:
                uow.gateway_account.put(first)
            assert (stale.value.kind, stale.value.expected_version) == ("gateway account", 1)
        with store.unit_of_work() as uow, pytest.raises(Conflict):
            uow.gateway_account.put(an_account())  # a new account over the stored one
        with store.unit_of_work() as uow:
            assert uow.gateway_account.get() == second

    # -- operations: round trips ----------------------------------------------------------------

    def test_an_operation_round_trips_every_field(self, store: Store) -> None:
        later = _T0 + timedelta(microseconds=1)
        full = an_operation(
            status=OperationStatus.FAILED,
            request='{"items": [{"name": "Parcela 1/3", "value": 15075}]}\n',
            response="Erro: vencimento inválido 'x' \\ \"y\"",
            attempts=3,
            error=OperationError("invalid due date", 3500034, "expire_at", retryable=False),
            sent_at=later.astimezone(UTC),
            next_attempt_at=later + timedelta(days=1),
            unknown_since=_T0.astimezone(timezone(timedelta(hours=9))),
            arguments=(("due", "2025-04-10"), ("email", "ana@example.com"), ("due", "again")),
            warnings=("parcel 2 due 2025-05-12, planned 2025-05-10", ""),
            document_reversed=True,
        )
        text_code = an_operation("op-2", error=OperationError("", "validation_error", None, retryable=True))
        bare = Operation("op-3", OperationKind.SETTLE, ("i9", "i9"), _T0.astimezone(UTC))
        numeric_text = an_operation("op-4", error=OperationError("x", "42"))
        with store.unit_of_work() as uow:
            stored = [uow.operations.put(o) for o in (full, text_code, bare, numeric_text)]
            assert stored == _stored([full, text_code, bare, numeric_text])
            uow.commit()
        with store.unit_of_work() as uow:
            loaded = [uow.operations.get(o.id) for o in stored]
        assert loaded == stored
        codes = [None if o.error is None else o.error.code for o in loaded]
        assert codes == [3500034, "validation_error", None, "42"]
        assert [type(code) for code in codes] == [int, str, type(None), str]
        assert loaded[0].flagged
        assert not loaded[2].flagged
        assert loaded[2].error is None
        assert loaded[2].customer_id is None
        assert loaded[0].documents == ("i3", "i1", "i2")
        for moment in (loaded[0].created_at, loaded[0].sent_at, loaded[0].next_attempt_at, loaded[0].unknown_since):
            assert moment is not None
            assert moment.utcoffset() is not None
        assert loaded[0].sent_at == later
        assert loaded[0].sent_at is not None
        assert loaded[0].sent_at.microsecond == later.microsecond

    @_EXAMPLES
    @given(operations=_operations(), data=st.data())
    def test_operations_round_trip_in_bulk_and_when_rewritten(
        self, operations: list[Operation], data: st.DataObject
    ) -> None:
        store = self._fresh()
        try:
            with store.unit_of_work() as uow:
                stored = uow.operations.put_many(operations)
                uow.commit()
            assert stored == _stored(operations)
            with store.unit_of_work() as uow:
                assert uow.operations.get_many([*_IDS, "nobody"]) == {o.id: o for o in stored}
                # Every field rewritten, documents too: the store keeps the new value whole.
                rewritten = [attrs.evolve(data.draw(_operation(o.id)), version=o.version) for o in stored]
                again = uow.operations.put_many(rewritten)
                uow.commit()
            assert again == _stored(rewritten)
            with store.unit_of_work() as uow:
                assert uow.operations.get_many(o.id for o in again) == {o.id: o for o in again}
        finally:
            store.close()

    @pytest.mark.parametrize("size", [5, 150])  # adapters may write a few rows and many rows differently
    def test_a_worker_claims_due_operations_and_their_state_is_kept(self, store: Store, size: int) -> None:
        created = [an_operation(f"op-{n:03}", at=_T0 + n * _TICK) for n in range(size)]
        with store.unit_of_work() as uow:
            uow.operations.put_many(created)
            uow.commit()
        now = _T0 + size * _TICK
        with store.unit_of_work() as uow:
            due = uow.operations.due(now, limit=size)
            assert [o.id for o in due] == [o.id for o in created]
            claimed = uow.operations.put_many([o.claimed(now, lease=_LEASE) for o in due])
            assert uow.operations.due(now, limit=size) == []
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.operations.get_many(o.id for o in claimed) == {o.id: o for o in claimed}
            assert uow.operations.due(now + _LEASE, limit=2) == claimed[:2]  # the lease ran out: look them up
            answered = [o.sent("{}", now, warnings=("due dates differ",)) for o in claimed]
            uow.operations.put_many(answered)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.operations.due(now + _LEASE, limit=size) == []
            assert [o.id for o in uow.operations.find(OperationFilter(flagged=True))] == [o.id for o in created][::-1]
            assert uow.operations.count_sent_since(OperationKind.ISSUE_CARNET, now) == size
            assert uow.operations.count_sent_since(OperationKind.ISSUE_CARNET, now + _TICK) == 0

    # -- operations: the version rule, NotFound, rollback ---------------------------------------

    def test_operations_follow_the_version_rule(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            read = uow.operations.put(an_operation("op-1"))
            uow.operations.put(an_operation("op-2"))
            uow.commit()
        with store.unit_of_work() as uow:
            winner = uow.operations.put(read.claimed(_T0, lease=_LEASE))
            assert winner.version == 2
            uow.commit()
        with store.unit_of_work() as uow:
            uow.operations.put(an_operation("op-new-in-the-stale-unit"))
            with pytest.raises(Conflict) as stale:
                uow.operations.put(read.with_request("second writer"))
            assert (stale.value.kind, stale.value.key, stale.value.expected_version) == ("operation", "op-1", 1)
        with store.unit_of_work() as uow, pytest.raises(Conflict) as existing:
            uow.operations.put_many([an_operation("op-3"), an_operation("op-2")])
        assert (existing.value.kind, existing.value.key) == ("operation", "op-2")
        with store.unit_of_work() as uow:
            assert uow.operations.get("op-1") == winner
            assert set(uow.operations.get_many(["op-new-in-the-stale-unit", "op-3"])) == set()
            assert [o.id for o in uow.operations.of_documents(["i1"])] == ["op-1", "op-2"]

    def test_missing_outbox_records_raise_not_found(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            with pytest.raises(NotFound) as operation:
                uow.operations.get("nope")
            assert (operation.value.kind, operation.value.key) == ("operation", "nope")
            with pytest.raises(NotFound) as charge:
                uow.gateway_charges.get("nope")
            assert (charge.value.kind, charge.value.key) == ("gateway charge", "nope")
            assert uow.operations.get_many([]) == {}
            assert uow.gateway_charges.get_many(["nope"]) == {}

    def test_the_same_record_twice_in_one_put_many_is_refused(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            with pytest.raises(InvalidInput):
                uow.operations.put_many([an_operation("op-1"), an_operation("op-2"), an_operation("op-1")])
            with pytest.raises(InvalidInput):
                uow.gateway_charges.put_many([a_charge("i1"), a_charge("i1", charge_id="other")])
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.operations.get_many(["op-1", "op-2"]) == {}
            assert uow.gateway_charges.get_many(["i1"]) == {}

    def test_an_outbox_unit_without_commit_or_with_an_error_keeps_nothing(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.gateway_account.put(an_account())
            uow.operations.put(an_operation())
            uow.gateway_charges.put(a_charge())

        def fail_half_way() -> None:
            with store.unit_of_work() as uow:
                uow.operations.put(an_operation())
                uow.gateway_charges.put(a_charge())
                _ = 1 / 0

        with pytest.raises(ZeroDivisionError):
            fail_half_way()
        with store.unit_of_work() as uow:
            with pytest.raises(NotFound):
                uow.gateway_account.get()
            assert uow.operations.get_many(["op-1"]) == {}
            assert uow.operations.of_documents(["i1"]) == []
            assert uow.operations.due(_T0 + _LEASE, limit=5) == []
            assert uow.gateway_charges.get_many(["i1"]) == {}

    # -- operations: the finders agree with the domain ------------------------------------------

    @_EXAMPLES
    @given(operations=_operations(), data=st.data())
    def test_due_find_and_the_finders_agree_with_the_domain(
        self, operations: list[Operation], data: st.DataObject
    ) -> None:
        store = self._fresh()
        try:
            with store.unit_of_work() as uow:
                stored = uow.operations.put_many(operations)
                uow.commit()
            with store.unit_of_work() as uow:
                for _ in range(4):
                    now, limit = data.draw(moments()), data.draw(st.integers(0, 6))
                    assert (
                        uow.operations.due(now, limit=limit) == _oldest_first(o for o in stored if o.due(now))[:limit]
                    )
                    criteria = data.draw(_filters())
                    matched = _oldest_first(o for o in stored if criteria.matches(o))[::-1]
                    assert uow.operations.find(criteria) == matched[: criteria.limit]
                    wanted = set(data.draw(st.lists(st.sampled_from((*_INSTALLMENTS, "nobody")), max_size=3)))
                    naming = _oldest_first(o for o in stored if wanted.intersection(o.documents))
                    assert uow.operations.of_documents(wanted) == naming
                    kind, since = data.draw(st.sampled_from(OperationKind)), data.draw(moments())
                    sent = [o for o in stored if o.kind is kind and o.sent_at is not None and o.sent_at >= since]
                    assert uow.operations.count_sent_since(kind, since) == len(sent)
        finally:
            store.close()

    def test_find_sees_the_flag_and_the_status_change(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            first, second = uow.operations.put_many([an_operation("op-1"), an_operation("op-2", at=_T0 + _TICK)])
            uow.commit()
        refused = OperationError("invalid due date", 3500034, "expire_at")
        with store.unit_of_work() as uow:
            assert uow.operations.find(OperationFilter(flagged=True)) == []
            failed = uow.operations.put(second.failed(refused, _T0))
            reversed_ = uow.operations.put(first.reversed_locally())
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.operations.find(OperationFilter(flagged=True)) == [failed, reversed_]
            assert uow.operations.find(OperationFilter(flagged=True, limit=1)) == [failed]
            assert uow.operations.find(OperationFilter(status=OperationStatus.FAILED)) == [failed]
            assert uow.operations.find(OperationFilter(flagged=False)) == []
            assert uow.operations.find(OperationFilter(document="i2", customer_id="c1")) == [failed, reversed_]
            assert uow.operations.find(OperationFilter(created_from=_T0 + _TICK, created_to=_T0 + _TICK)) == [failed]

    # -- gateway charges ------------------------------------------------------------------------

    def test_a_charge_round_trips_every_field_and_follows_the_version_rule(self, store: Store) -> None:
        parcel = a_charge("i2", state=ChargeState.PAID, carnet_id="carnet-9", parcel=2, barcode="8" * 47,
                          link="https://example.com/boleto/2?x=1&y=ç")  # fmt: skip
        with store.unit_of_work() as uow:
            stored = uow.gateway_charges.put_many([a_charge("i1"), parcel])
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.gateway_charges.get_many(["i1", "i2", "i3"]) == {c.installment_id: c for c in stored}
            assert uow.gateway_charges.get("i1") == attrs.evolve(a_charge("i1"), version=1)
            assert stored[0].link is None
            assert stored[0].carnet_id is None
            assert stored[0].parcel is None
            settled = uow.gateway_charges.put(attrs.evolve(stored[0], state=ChargeState.SETTLED))
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.gateway_charges.get("i1") == settled
            with pytest.raises(Conflict) as stale:
                uow.gateway_charges.put(stored[0])
            assert (stale.value.kind, stale.value.key, stale.value.expected_version) == ("gateway charge", "i1", 1)
        with store.unit_of_work() as uow, pytest.raises(Conflict):
            uow.gateway_charges.put(a_charge("i2"))
        with store.unit_of_work() as uow:
            assert uow.gateway_charges.get("i2") == stored[1]

    @_EXAMPLES
    @given(charges=_charges(), data=st.data())
    def test_charges_are_found_by_charge_id_and_by_carnet(
        self, charges: list[GatewayCharge], data: st.DataObject
    ) -> None:
        store = self._fresh()
        try:
            with store.unit_of_work() as uow:
                stored = uow.gateway_charges.put_many(charges)
                uow.commit()
            with store.unit_of_work() as uow:
                assert uow.gateway_charges.get_many(c.installment_id for c in charges) == {
                    c.installment_id: c for c in stored
                }
                wanted = data.draw(st.lists(st.sampled_from(("ch-1", "ch-2", "ch-3", "41302", "nope")), max_size=4))
                by_charge = sorted((c for c in stored if c.charge_id in wanted), key=lambda c: c.installment_id)
                assert uow.gateway_charges.by_charge_ids(wanted) == by_charge
                for carnet in ("carnet-1", "carnet-2", "nope"):
                    parcels = sorted((c for c in stored if c.carnet_id == carnet), key=lambda c: c.parcel or 0)
                    assert uow.gateway_charges.of_carnet(carnet) == parcels
        finally:
            store.close()
