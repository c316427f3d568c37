"""EfiGateway against the Efí emulator: tokens, bad credentials, faults, lost answers, and real HTTP on loopback."""

from __future__ import annotations

import base64
import contextlib
import logging
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from carteira.adapters.efi import EfiGateway, RetryPolicy
from carteira.domain.money import Money
from carteira.errors import (
    GatewayAuthenticationError,
    GatewayError,
    GatewayOutcomeUnknown,
    GatewayUnavailable,
    GatewayValidationError,
)
from carteira.ports.gateway import ChargeStatus, IssuedBillet, Item, Payer, find_created
from carteira.testing.efi_emulator import EfiEmulator, serve

from .scripted import TODAY, billet

SECRET = "csecret-NEVER-SHOW-7f3a"


@pytest.fixture
def emulator() -> Iterator[EfiEmulator]:
    emu = EfiEmulator(client_id="cid", client_secret=SECRET, today=TODAY)
    yield emu
    emu.close()


def _gateway(emu: Any, *, secret: str = SECRET, sleeps: list[float] | None = None, **options: Any) -> EfiGateway:
    recorded = sleeps if sleeps is not None else []
    return EfiGateway(
        "cid",
        secret,
        "sandbox",
        transport=emu.transport(),
        today=lambda: emu.today,
        sleep=recorded.append,
        retry=RetryPolicy(attempts=4, backoff_initial_s=0.01, backoff_max_s=0.05),
        **options,
    )


class _Counting(httpx.BaseTransport):
    """Wraps the emulator's transport to count what went over it."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.paths: list[tuple[str, int]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        self.paths.append((request.url.path, response.status_code))
        return response


def test_a_token_expired_early_is_renewed_transparently(emulator: Any) -> None:
    counting = _Counting(emulator.transport())
    with EfiGateway("cid", SECRET, "sandbox", transport=counting, today=lambda: emulator.today) as efi:
        first = efi.create_billet(billet(operation_id="t-1"))
        emulator.expire_tokens()
        second = efi.create_billet(billet(operation_id="t-2"))
        emulator.advance(3600 * 2)  # the emulator's clock passes every token's expiry
        assert efi.settle_charge(first.charge_id) is True
    assert second.charge_id != first.charge_id
    assert len(emulator.charges) == 2  # the 401s did not create anything twice
    authorizations = [status for path, status in counting.paths if path == "/v1/authorize"]
    refused = [path for path, status in counting.paths if status == 401]
    assert authorizations == [200, 200, 200]  # the first, then one renewal per expiry
    assert len(refused) == 2  # each expiry cost exactly one refused call, replayed with the new token


@pytest.mark.parametrize("wire", ["in-process", "loopback"])
def test_bad_credentials_give_a_clear_error_that_never_shows_the_secret(
    emulator: Any, caplog: pytest.LogCaptureFixture, wire: str
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx and httpcore included: they must not log the Basic header either
    wrong = "wrong-" + SECRET
    with contextlib.ExitStack() as stack:
        if wire == "loopback":
            url = stack.enter_context(serve(emulator, host="127.0.0.1", port=0))
            efi = EfiGateway("cid", wrong, "sandbox", base_url=url, today=lambda: emulator.today, timeout=5.0)
        else:
            efi = _gateway(emulator, secret=wrong)
        with efi, pytest.raises(GatewayAuthenticationError) as caught:
            efi.create_billet(billet())
    error = caught.value
    assert "cid" in str(error)
    assert "client id and secret" in str(error)
    assert error.retryable is False
    assert not emulator.charges
    texts = [str(error), repr(error), repr(efi), error.message, *(r.getMessage() for r in caplog.records)]
    texts += [str(r.args) for r in caplog.records]
    for secret in (wrong, SECRET):
        encoded = base64.b64encode(f"cid:{secret}".encode()).decode()
        for text in texts:
            assert secret not in text
            assert encoded not in text


def test_32_threads_share_one_client_and_one_token(emulator: Any) -> None:
    counting = _Counting(emulator.transport())
    batch = [billet(operation_id=f"run-{i}", items=(Item(f"Mensalidade {i}", Money("80.00")),)) for i in range(96)]
    with EfiGateway("cid", SECRET, "sandbox", transport=counting, today=lambda: emulator.today) as efi:
        outcomes = efi.create_billets(batch, concurrency=32)
    assert all(o.ok for o in outcomes), [o.error for o in outcomes if o.error]
    ids = [o.billet.charge_id for o in outcomes if o.billet]
    assert len(set(ids)) == 96
    assert {emulator.charges[int(i)]["custom_id"] for i in ids} == {f"run-{i}" for i in range(96)}
    assert [path for path, _ in counting.paths].count("/v1/authorize") == 1


def test_5xx_and_timeouts_on_state_changes_are_retried_until_they_pass(emulator: Any) -> None:
    sleeps: list[float] = []
    with _gateway(emulator, sleeps=sleeps) as efi:
        issued = efi.create_billet(billet())
        emulator.fail_next(2, status=500)
        assert efi.cancel_charge(issued.charge_id) is True
        other = efi.create_billet(billet(operation_id="op-2"))
        emulator.timeout_next(2)
        efi.change_due_date(other.charge_id, TODAY + timedelta(days=90))
    assert len(sleeps) == 4
    assert emulator.charges[int(issued.charge_id)]["status"] == "canceled"


def test_a_lost_answer_to_a_state_change_is_retried_and_counts_as_done(emulator: Any) -> None:
    with _gateway(emulator) as efi:
        issued = efi.create_billet(billet())
        emulator.lose_next_response(1)  # Efí settles it, the answer is lost; the retry finds it settled
        assert efi.settle_charge(issued.charge_id) is False
    assert emulator.charges[int(issued.charge_id)]["status"] == "settled"


def test_a_create_whose_answer_was_lost_is_found_again_by_operation_id(emulator: Any) -> None:
    with _gateway(emulator) as efi:
        emulator.lose_next_response(1)
        with pytest.raises(GatewayOutcomeUnknown) as caught:
            efi.create_billet(billet(operation_id="lost-1"))
        assert caught.value.retryable is False
        assert len(emulator.charges) == 1  # Efí made it; the adapter did not send it again
        found = find_created(efi, "lost-1")
        assert found is not None
        assert int(found.charge_id) in emulator.charges
        assert found.status is ChargeStatus.WAITING
        assert len(emulator.charges) == 1


def test_a_create_that_timed_out_before_the_work_is_found_missing_and_can_be_reissued(emulator: Any) -> None:
    with _gateway(emulator) as efi:
        emulator.timeout_next(1)
        with pytest.raises(GatewayOutcomeUnknown):
            efi.create_billet(billet(operation_id="timeout-1"))
        assert find_created(efi, "timeout-1") is None
        issued = efi.create_billet(billet(operation_id="timeout-1"))
        assert find_created(efi, "timeout-1") is not None
    assert list(emulator.charges) == [int(issued.charge_id)]


def test_under_faults_every_call_succeeds_or_says_whether_to_retry(emulator: Any) -> None:
    """A storm of 5xx, timeouts and lost answers over 16 threads: no untyped error, no duplicate charge."""
    emulator.latency_s = 0.001
    outcomes: list[tuple[str, object]] = []
    changes: list[object] = []
    lock = threading.Lock()
    with _gateway(emulator) as efi:

        def work(index: int) -> None:
            for round_ in range(3):
                operation_id = f"storm-{index}-{round_}"
                try:
                    # distinct values: Efí refuses the third identical charge (4600210)
                    items = (Item("Mensalidade", Money.from_cents(10_000 + index * 10 + round_)),)
                    result: object = efi.create_billet(billet(operation_id=operation_id, items=items))
                except GatewayError as exc:
                    result = exc
                with lock:
                    outcomes.append((operation_id, result))
                if isinstance(result, IssuedBillet):
                    try:
                        changed: object = efi.settle_charge(result.charge_id)
                    except GatewayError as exc:
                        changed = exc
                    with lock:
                        changes.append(changed)
                    if round_ == 1:  # more faults while the other threads are mid-flight
                        emulator.fail_next(2, status=502)
                        emulator.lose_next_response(1)

        emulator.fail_next(3, status=503)
        emulator.timeout_next(3)
        emulator.lose_next_response(3)
        threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for operation_id, result in outcomes:
            if isinstance(result, GatewayError):
                assert isinstance(result, (GatewayOutcomeUnknown, GatewayUnavailable)), result
                assert ("safe to retry" in str(result)) == result.retryable
                if isinstance(result, GatewayOutcomeUnknown):
                    assert operation_id in str(result)
            # whatever happened, the operation id resolves to at most one charge
            assert len(efi.find_charges(operation_id)) <= 1
    assert len(outcomes) == 48
    for changed in changes:
        # a settle is safe to repeat: it succeeds (True, or False when a lost answer had already done it)
        # or, once the retries are spent, says it is safe to retry
        assert changed in (True, False) or (isinstance(changed, GatewayUnavailable) and changed.retryable), changed
    settled = [i for i, c in emulator.charges.items() if c["status"] == "settled"]
    assert len(settled) >= sum(1 for c in changes if c in (True, False))
    assert any(isinstance(r, GatewayOutcomeUnknown) for _, r in outcomes)


def test_the_adapter_works_over_real_http_on_loopback(emulator: Any) -> None:
    with (
        serve(emulator, host="127.0.0.1", port=0) as url,
        EfiGateway("cid", SECRET, "sandbox", base_url=url, today=lambda: emulator.today, timeout=5.0) as efi,
    ):
        issued = efi.create_billet(billet(operation_id="loop-1"))
        assert issued.status is ChargeStatus.WAITING
        assert efi.settle_charge(issued.charge_id) is True
        assert efi.settle_charge(issued.charge_id) is False
        found = find_created(efi, "loop-1")
        assert found is not None
        assert found.status is ChargeStatus.SETTLED
    assert url.startswith("http://127.0.0.1:")


def test_a_fresh_clock_day_refuses_old_due_dates_locally(emulator: Any) -> None:
    with _gateway(emulator) as efi:
        issued = efi.create_billet(billet(due=date(2026, 2, 1)))
        emulator.today = date(2026, 2, 1)
        with pytest.raises(GatewayError) as caught:
            efi.change_due_date(issued.charge_id, date(2026, 2, 1))
        assert caught.value.field == "due"


def test_business_refusals_sent_as_http_500_are_not_retried(emulator: Any) -> None:
    emulator.switches.business_error_status = 500
    emulator.switches.validation_error_status = 500
    sleeps: list[float] = []
    with _gateway(emulator, sleeps=sleeps) as efi:
        issued = efi.create_billet(billet())
        emulator.pay(int(issued.charge_id))
        with pytest.raises(GatewayValidationError) as caught:
            efi.cancel_charge(issued.charge_id)
    assert caught.value.status == 500
    assert caught.value.code is not None
    assert caught.value.retryable is False
    assert sleeps == []


def test_efi_refusals_carry_code_and_property_pointer(emulator: Any) -> None:
    emulator.switches.phone_number_required = True  # the 2022 rule (reference §12 point 1)
    emulator.switches.inconsistent_documents = frozenset({"52998224725"})
    with _gateway(emulator) as efi:
        with pytest.raises(GatewayValidationError) as caught:
            efi.create_billet(billet(payer=Payer("Maria da Silva", "529.982.247-25", phone="ramal 3")))
        assert caught.value.code == 3500034
        assert caught.value.field is not None
        assert "phone_number" in caught.value.field
        with pytest.raises(GatewayValidationError) as caught:
            efi.create_billet(billet())
        assert caught.value.code == 4600142
    assert not emulator.charges


def test_the_daily_limit_is_retried_then_reported_as_safe_to_retry(emulator: Any) -> None:
    sleeps: list[float] = []
    with _gateway(emulator, sleeps=sleeps) as efi:
        issued = efi.create_billet(billet())
        emulator.switches.daily_request_limit = 1
        efi.resend_billet(issued.charge_id, "maria@example.com")
        with pytest.raises(GatewayUnavailable) as caught:
            efi.resend_billet(issued.charge_id, "maria@example.com")
    assert caught.value.code in (3500049, 3500055)
    assert caught.value.retryable is True
    assert len(sleeps) == 3


def test_an_overdue_billet_can_be_moved_and_paid_late(emulator: Any) -> None:
    with _gateway(emulator) as efi:
        issued = efi.create_billet(billet(due=TODAY + timedelta(days=5), operation_id="late-1"))
        emulator.today = TODAY + timedelta(days=10)
        found = find_created(efi, "late-1")
        assert found is not None
        assert found.status is ChargeStatus.UNPAID
        efi.change_due_date(issued.charge_id, TODAY + timedelta(days=20))
        emulator.pay(int(issued.charge_id), value_cents=12_600)
        found = find_created(efi, "late-1")
    assert found is not None
    assert found.status is ChargeStatus.PAID
    assert found.paid_value == Money("126.00")
