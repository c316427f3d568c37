"""The gateway account and an operation's life cycle: the outbox's rules, as values (SPEC G1, G8-G10)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carteira import Money
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
from carteira.errors import InvalidInput

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
QUIET = timedelta(seconds=90)
TIMEOUT = OperationError("no answer within 30 s", retryable=True)


def account(**changes: object) -> GatewayAccount:
    fields: dict[str, object] = {
        "client_id": "Client_Id_1", "environment": Environment.SANDBOX, "agreement_id": "wallet",
        "agreement_bank_code": "0", "bank_account": "itau-1234", "payment_fee": Money("2.50"),
        "receipt_history": "101", "entries_history": "201", "fees_history": "301",
    }  # fmt: skip
    fields.update(changes)
    return GatewayAccount(**fields)  # type: ignore[arg-type]


def an_operation() -> Operation:
    return Operation("op-1", OperationKind.ISSUE_BILLET, ("inst-1",), T0)


def test_an_account_names_its_environment_and_uses_the_wallet() -> None:
    assert account().active
    with pytest.raises(InvalidInput, match="no default"):
        account(environment="sandbox")
    with pytest.raises(InvalidInput) as caught:
        account(agreement_bank_code="341")
    assert caught.value.field == "agreement_bank_code"
    with pytest.raises(TypeError):
        GatewayAccount("id", agreement_id="w", agreement_bank_code="0")  # type: ignore[call-arg]


def test_a_sent_operation_records_its_answer_and_its_attempt() -> None:
    sent = an_operation().sent('{"charge_id": 1}', T0)
    assert (sent.status, sent.attempts, sent.sent_at, sent.flagged) == (OperationStatus.SENT, 1, T0, False)
    with pytest.raises(InvalidInput, match="is sent"):
        sent.sent("again", T0)


def test_a_retryable_failure_waits_and_a_refusal_is_flagged_for_a_person() -> None:
    later = T0 + timedelta(seconds=30)
    waiting = an_operation().failed(TIMEOUT, T0, retry_at=later)
    assert (waiting.status, waiting.next_attempt_at, waiting.due(T0), waiting.due(later)) == (
        OperationStatus.PENDING,
        later,
        False,
        True,
    )
    refused = an_operation().failed(OperationError("invalid CPF", code=3500034, field="/customer/cpf"), T0)
    assert refused.status is OperationStatus.FAILED
    assert refused.flagged
    assert not refused.due(later)
    again = refused.resend(later)
    assert (again.status, again.due(later)) == (OperationStatus.PENDING, True)


def test_an_unknown_outcome_is_looked_up_and_reissued_only_after_the_quiet_period() -> None:
    lost = an_operation().unknown(TIMEOUT, T0)
    assert lost.status is OperationStatus.UNKNOWN
    assert lost.due(T0)  # look it up at once
    early = lost.after_lookup(found=False, now=T0 + timedelta(seconds=5), quiet=QUIET)
    assert early.status is OperationStatus.UNKNOWN  # nothing found yet is not proof
    assert early.next_attempt_at == T0 + QUIET
    reissuable = early.after_lookup(found=False, now=T0 + QUIET, quiet=QUIET)
    assert (reissuable.status, reissuable.unknown_since) == (OperationStatus.PENDING, None)
    found = lost.after_lookup(found=True, now=T0 + timedelta(seconds=5), quiet=QUIET)
    assert (found.status, found.attempts) == (OperationStatus.SENT, 1)  # the lookup is not another attempt


def test_only_an_unknown_operation_is_looked_up() -> None:
    with pytest.raises(InvalidInput):
        an_operation().after_lookup(found=False, now=T0, quiet=QUIET)
    with pytest.raises(InvalidInput, match="longer"):
        an_operation().unknown(TIMEOUT, T0).after_lookup(found=False, now=T0, quiet=timedelta(0))


@given(
    lands_after=st.integers(min_value=0, max_value=90_000),
    lookups=st.lists(st.integers(min_value=0, max_value=300_000), min_size=1, max_size=8),
)
def test_a_create_that_lands_late_is_never_issued_twice(lands_after: int, lookups: list[int]) -> None:
    """A create slower than the client's timeout lands within ``quiet``; lookups at any times never reissue it."""
    landed_at = T0 + timedelta(milliseconds=lands_after)
    operation = an_operation().unknown(TIMEOUT, T0)
    for offset in sorted(lookups):
        now = T0 + timedelta(milliseconds=offset)
        if not operation.due(now):
            continue
        operation = operation.after_lookup(found=now >= landed_at, now=now, quiet=QUIET)
        if operation.status is not OperationStatus.UNKNOWN:
            break
    assert operation.status is not OperationStatus.PENDING  # reissuing would have created a second charge


def test_a_naive_or_text_time_is_refused() -> None:
    from carteira.errors import InvalidType

    with pytest.raises(InvalidType):
        Operation("op-1", OperationKind.RESEND, ("i1",), "2026-03-10T12:00")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="timezone-aware"):
        Operation("op-1", OperationKind.RESEND, ("i1",), T0.replace(tzinfo=None))


LEASE = timedelta(seconds=60)


def test_a_claimed_operation_is_in_flight_and_a_lost_worker_leaves_it_to_be_looked_up() -> None:
    claimed = an_operation().claimed(T0, lease=LEASE)
    assert (claimed.status, claimed.unknown_since, claimed.due(T0), claimed.due(T0 + LEASE)) == (
        OperationStatus.UNKNOWN,
        T0 + LEASE,  # no request of it starts later: a lost create's quiet period counts from there
        False,
        True,
    )
    assert claimed.lease_ends() == T0 + LEASE
    assert claimed.unknown(TIMEOUT, T0 + timedelta(seconds=3)).unknown_since == T0 + timedelta(seconds=3)
    with pytest.raises(InvalidInput, match="look it up first"):
        claimed.claimed(T0 + LEASE, lease=LEASE)  # a create in flight may have landed
    assert claimed.sent("{}", T0).attempts == 1
    retry = claimed.failed(TIMEOUT, T0, retry_at=T0 + LEASE)
    assert (retry.status, retry.unknown_since) == (OperationStatus.PENDING, None)
    # Sending a state change twice is harmless (G5), so an unknown one is simply claimed again.
    settle = Operation("op-2", OperationKind.SETTLE, ("inst-1",), T0).claimed(T0, lease=LEASE)
    assert settle.claimed(T0 + LEASE, lease=LEASE).unknown_since == T0 + 2 * LEASE
    with pytest.raises(InvalidInput, match="longer"):
        an_operation().claimed(T0, lease=timedelta(0))


def test_the_panel_flags_failures_warnings_and_reversed_documents() -> None:
    sent = an_operation().sent("{}", T0)
    assert not sent.flagged
    assert sent.reversed_locally().flagged
    assert an_operation().sent("{}", T0, warnings=("parcel 2 due 2026-05-11, planned 2026-05-10",)).flagged
    refused = an_operation().failed(OperationError("invalid CPF", field="/customer/cpf"), T0)
    assert OperationFilter(flagged=True, kind=OperationKind.ISSUE_BILLET, document="inst-1").matches(refused)
    assert not OperationFilter(status=OperationStatus.SENT).matches(refused)
    assert not OperationFilter(created_from=T0 + LEASE).matches(refused)
    assert OperationFilter(created_to=T0, customer_id=None).matches(refused)


def test_an_operation_names_its_documents_and_keeps_its_arguments() -> None:
    change = Operation("op-3", OperationKind.CHANGE_DUE_DATE, ["inst-1"], T0, arguments={"due": "2026-04-10"},
                       customer_id="c1")  # fmt: skip
    assert (change.documents, change.argument("due"), change.argument("email")) == (("inst-1",), "2026-04-10", None)
    assert hash(change) == hash(attrs_evolve_copy(change))
    with pytest.raises(InvalidInput):
        Operation("op-4", OperationKind.CANCEL, ("",), T0)


def attrs_evolve_copy(operation: Operation) -> Operation:
    import attrs

    return attrs.evolve(operation)


def test_a_gateway_charge_is_a_billet_or_a_parcel() -> None:
    billet = GatewayCharge("inst-1", "op-1", "1001", T0.date(), Money("99.90"))
    parcel = GatewayCharge("inst-2", "op-2", "1002", T0.date(), Money("99.90"), carnet_id="77", parcel=2)
    assert (billet.in_carnet, parcel.in_carnet, billet.state) == (False, True, ChargeState.ISSUED)
    with pytest.raises(InvalidInput):
        GatewayCharge("inst-1", "op-1", "", T0.date(), Money("1"))
