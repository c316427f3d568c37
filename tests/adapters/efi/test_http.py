"""EfiGateway over httpx.MockTransport: the wire format, the error mapping, retries and the token."""

from __future__ import annotations

import base64
import logging
import threading
from datetime import date, datetime
from decimal import Decimal

import httpx
import pytest

from carteira.adapters.efi import EfiGateway
from carteira.domain.money import Money
from carteira.errors import (
    GatewayAuthenticationError,
    GatewayError,
    GatewayOutcomeUnknown,
    GatewayUnavailable,
    GatewayValidationError,
    InvalidInput,
    InvalidType,
)
from carteira.ports.gateway import (
    CarnetId,
    CarnetRequest,
    CarnetStatus,
    ChargeId,
    ChargeStatus,
    EventKind,
    Item,
    Payer,
    find_created,
)

from .scripted import CPF, SECRET, ScriptedEfi, billet, efi_error, gateway, ok, one_step_data

# --- wire format -------------------------------------------------------------------------------


def test_a_billet_goes_out_in_efi_units_and_names() -> None:
    script = ScriptedEfi(ok(one_step_data()))
    with gateway(script) as efi:
        issued = efi.create_billet(
            billet(
                fine_rate=Decimal("0.02"),
                monthly_interest_rate=Decimal("0.01"),
                days_to_write_off=30,
                notification_url="https://erp.example/cb",
                message="Linha 1\nLinha 2",
            )
        )
    request = script.api_requests()[0]
    assert (request.method, request.url.path) == ("POST", "/v1/charge/one-step")
    assert request.headers["authorization"] == "Bearer token-1"
    body = script.body()
    assert body["items"] == [{"name": "Mensalidade março", "value": 12500, "amount": 1}]
    assert body["metadata"] == {"custom_id": "op-1", "notification_url": "https://erp.example/cb"}
    billet_body = body["payment"]["banking_billet"]
    assert billet_body["expire_at"] == "2026-03-10"
    assert billet_body["customer"] == {
        "name": "Maria da Silva",
        "cpf": "52998224725",
        "email": "maria@example.com",
        "phone_number": "11987654321",
    }
    assert billet_body["configurations"] == {
        "fine": 200,
        "interest": {"value": 33, "type": "daily"},
        "days_to_write_off": 30,
    }
    assert billet_body["message"] == "Linha 1\nLinha 2"
    # ...and the answer comes back in domain words
    assert issued.charge_id == "4711"
    assert issued.total == Money("140.00")
    assert issued.due == date(2026, 3, 10)
    assert issued.status is ChargeStatus.WAITING
    assert issued.status_raw == "waiting"
    assert issued.operation_id == "op-1"
    assert issued.pdf == "https://pay.example/charge.pdf"
    assert any("0.99 %" in note for note in issued.adjustments)


def test_a_company_goes_out_as_juridical_person_and_a_bad_phone_is_not_sent() -> None:
    script = ScriptedEfi(ok(one_step_data()))
    with gateway(script) as efi:
        issued = efi.create_billet(billet(payer=Payer("Acme", "11.222.333/0001-81", phone="ramal 12")))
    customer = script.body()["payment"]["banking_billet"]["customer"]
    assert customer == {"juridical_person": {"corporate_name": "Acme", "cnpj": "11222333000181"}}
    assert any("phone" in note for note in issued.adjustments)


def test_a_carnet_answer_turns_string_parcels_into_numbers() -> None:
    data = {
        "carnet_id": 901,
        "status": "up_to_date",
        "link": "https://x/carnet",
        "pdf": {"carnet": "https://x/c.pdf"},
        "charges": [
            {
                "charge_id": 5001 + i,
                "parcel": str(i + 1),
                "status": "waiting",
                "value": 30000,
                "expire_at": f"2026-0{4 + i}-05",
                "barcode": "36490",
                "parcel_link": f"https://x/{i}",
            }
            for i in range(2)
        ],
    }
    script = ScriptedEfi(ok(data))
    request = CarnetRequest(
        items=(Item("Curso", Money("300.00")),),
        payer=Payer("João Souza", CPF),
        first_due=date(2026, 4, 5),
        repeats=2,
        operation_id="ct-1",
    )
    with gateway(script) as efi:
        carnet = efi.create_carnet(request)
    assert carnet.carnet_id == "901"
    assert [p.charge_id for p in carnet.parcels] == ["5001", "5002"]
    assert carnet.status is CarnetStatus.UP_TO_DATE
    assert carnet.operation_id == "ct-1"
    body = script.body()
    assert (body["expire_at"], body["repeats"], body["split_items"]) == ("2026-04-05", 2, False)
    assert body["configurations"] == {"fine": 0, "interest": 0}
    assert "days_to_write_off" not in body["configurations"]
    assert [p.parcel for p in carnet.parcels] == [1, 2]
    assert [p.due for p in carnet.parcels] == [date(2026, 4, 5), date(2026, 5, 5)]
    assert carnet.parcels[0].value == Money("300.00")
    assert carnet.pdf == "https://x/c.pdf"


def test_notification_events_are_read_in_domain_words() -> None:
    data = [
        {
            "id": 1,
            "type": "charge",
            "custom_id": "op-1",
            "status": {"current": "waiting", "previous": "new"},
            "identifiers": {"charge_id": 4711},
            "created_at": "2026-03-01 10:00:00",
        },
        {
            "id": 2,
            "type": "charge",
            "custom_id": "op-1",
            "status": {"current": "paid", "previous": "waiting"},
            "identifiers": {"charge_id": 4711},
            "created_at": "2026-03-04 07:30:12",
            "received_by_bank_at": "2026-03-03",
            "value": 14020,
        },
    ]
    script = ScriptedEfi(ok(data))
    with gateway(script) as efi:
        events = efi.notification_events("tok/1")
    assert script.api_requests()[0].url.raw_path == b"/v1/notification/tok%2F1"
    assert [(e.event_id, e.kind, e.status, e.previous_status) for e in events] == [
        (1, EventKind.CHARGE, ChargeStatus.WAITING, ChargeStatus.NEW),
        (2, EventKind.CHARGE, ChargeStatus.PAID, ChargeStatus.WAITING),
    ]
    assert {(e.charge_id, e.carnet_id, e.parcel, e.operation_id) for e in events} == {("4711", None, None, "op-1")}
    assert events[1].paid_value == Money("140.20")
    assert events[1].paid_on == date(2026, 3, 3)
    assert events[1].created_at == datetime(2026, 3, 4, 7, 30, 12)
    assert events[0].paid_value is None
    assert {e.token for e in events} == {"tok/1"}


def test_find_charges_filters_by_operation_id_sent_as_custom_id_and_reads_the_list_shape() -> None:
    entry = {
        "id": 4711,
        "total": 14000,
        "status": "paid",
        "custom_id": "op-1",
        "created_at": "2026-01-10 09:00:00",
        "payment": {"payment_method": "banking_billet", "paid_at": "2026-01-12 10:00:00", "paid_value": 14000},
    }
    stranger = {**entry, "id": 9, "custom_id": "other"}
    script = ScriptedEfi(ok([entry, stranger]), ok([]))
    with gateway(script) as efi:
        found = efi.find_charges("op-1")
        assert [s.charge_id for s in found] == ["4711"]
        assert found[0].operation_id == "op-1"
    params = script.api_requests()[0].url.params
    assert params["custom_id"] == "op-1"
    assert params["charge_type"] == "billet"
    assert params["begin_date"] < "2026-01-10" < params["end_date"]
    assert found[0].paid_value == Money("140.00")
    assert found[0].paid_on == date(2026, 1, 12)


def test_an_unexpected_answer_shape_on_a_create_is_an_unknown_outcome() -> None:
    script = ScriptedEfi(ok({"charge_id": "not a number", "total": "x"}))
    with gateway(script) as efi, pytest.raises(GatewayOutcomeUnknown, match="op-1") as caught:
        efi.create_billet(billet())
    assert caught.value.retryable is False
    assert "$.data" in str(caught.value)


# --- error mapping -----------------------------------------------------------------------------


def test_a_validation_error_carries_property_code_message_and_status() -> None:
    prop = "/payment/banking_billet/customer/phone_number"
    script = ScriptedEfi(efi_error(3500034, "Propriedade inválida", prop=prop))
    with gateway(script) as efi, pytest.raises(GatewayValidationError) as caught:
        efi.create_billet(billet())
    error = caught.value
    assert (error.code, error.field, error.status, error.retryable) == (3500034, prop, 400, False)
    assert "Propriedade inválida" in error.message


def test_errors_are_classified_by_the_body_code_not_the_status() -> None:
    # Efí answers some business refusals with HTTP 500: that is not a retryable server failure.
    script = ScriptedEfi(efi_error(3500101, "data anterior", status=500, slug="update_parcels"))
    sleeps: list[float] = []
    with gateway(script, sleeps=sleeps) as efi, pytest.raises(GatewayValidationError) as caught:
        efi.change_parcel_due_date(CarnetId("901"), 1, date(2026, 5, 1))
    assert (caught.value.code, caught.value.status) == (3500101, 500)
    assert sleeps == []
    assert len(script.api_requests()) == 1


@pytest.mark.parametrize(
    "failure",
    [
        efi_error(4600100, "tente novamente", status=400),
        efi_error(3500049, "limite", status=429),
        efi_error(4699999, "erro interno", status=500),
        httpx.Response(502, text="bad gateway"),
        httpx.Response(429, text="slow down"),
        httpx.ReadTimeout("read timed out"),
        httpx.ConnectError("connection refused"),
    ],
    ids=["4600100", "rate-limit-code", "internal-code", "502", "429", "read-timeout", "connect-error"],
)
def test_transient_failures_of_a_state_change_are_retried_with_growing_waits(failure: object) -> None:
    script = ScriptedEfi(failure, failure, ok())  # type: ignore[arg-type]
    sleeps: list[float] = []
    with gateway(script, sleeps=sleeps) as efi:
        assert efi.settle_charge(ChargeId("4711")) is True
    assert len(script.api_requests()) == 3
    assert len(sleeps) == 2
    assert 0.05 <= sleeps[0] <= 0.1 < sleeps[1] <= 0.2  # half fixed, half jitter, doubling


def test_retries_stop_at_the_cap_and_say_it_is_safe_to_retry_later() -> None:
    script = ScriptedEfi(*[httpx.Response(503, text="down")] * 3)
    sleeps: list[float] = []
    with gateway(script, sleeps=sleeps, attempts=3) as efi, pytest.raises(GatewayUnavailable) as caught:
        efi.cancel_charge(ChargeId("4711"))
    assert len(script.api_requests()) == 3
    assert len(sleeps) == 2
    assert caught.value.retryable is True
    assert "safe to retry" in str(caught.value)


def test_backoff_never_exceeds_its_cap() -> None:
    script = ScriptedEfi(*[httpx.Response(503, text="down")] * 8)
    sleeps: list[float] = []
    with gateway(script, sleeps=sleeps, attempts=8) as efi, pytest.raises(GatewayUnavailable):
        efi.cancel_charge(ChargeId("4711"))
    assert max(sleeps) <= 1.0
    assert sleeps[-1] >= 0.5


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("lost"),
        httpx.RemoteProtocolError("reset"),
        efi_error(4699999, "erro", status=500),
        httpx.Response(500, text="oops"),
    ],
    ids=["read-timeout", "reset", "internal-code", "bare-500"],
)
def test_a_create_without_an_answer_is_not_resent_and_says_how_to_recover(failure: object) -> None:
    script = ScriptedEfi(failure)  # type: ignore[arg-type]
    sleeps: list[float] = []
    with gateway(script, sleeps=sleeps) as efi, pytest.raises(GatewayOutcomeUnknown) as caught:
        efi.create_billet(billet(operation_id="op-77"))
    assert len(script.api_requests()) == 1
    assert sleeps == []
    assert caught.value.retryable is False
    assert "op-77" in str(caught.value)
    assert "find_created" in str(caught.value)


def test_a_create_that_never_left_is_retried() -> None:
    script = ScriptedEfi(httpx.ConnectError("refused"), efi_error(4600100, "tente"), ok(one_step_data()))
    with gateway(script) as efi:
        assert efi.create_billet(billet()).charge_id == "4711"
    assert len(script.api_requests()) == 3


def test_a_repeat_that_finds_the_target_state_counts_as_done() -> None:
    script = ScriptedEfi(efi_error(3500069, "não pode ser baixada"), ok({"charge_id": 4711, "status": "settled"}))
    with gateway(script) as efi:
        assert efi.settle_charge(ChargeId("4711")) is False
    assert [r.method for r in script.api_requests()] == ["PUT", "GET"]


def test_a_refused_change_in_another_state_is_raised() -> None:
    script = ScriptedEfi(efi_error(3500069, "não pode ser baixada"), ok({"charge_id": 4711, "status": "canceled"}))
    with gateway(script) as efi, pytest.raises(GatewayValidationError) as caught:
        efi.settle_charge(ChargeId("4711"))
    assert caught.value.code == 3500069


def test_find_created_returns_the_one_charge_or_refuses_duplicates() -> None:
    entry = {"id": 1, "total": 500, "status": "waiting", "custom_id": "op-1"}
    with gateway(ScriptedEfi(ok([entry]), ok([]))) as efi:
        found = find_created(efi, "op-1")
        assert found is not None
        assert found.charge_id == "1"
    with gateway(ScriptedEfi(ok([]), ok([]))) as efi:
        assert find_created(efi, "op-1") is None
    with (
        gateway(ScriptedEfi(ok([entry, {**entry, "id": 2}]), ok([]))) as efi,
        pytest.raises(GatewayValidationError, match="more than once"),
    ):
        find_created(efi, "op-1")


def test_local_refusals_send_nothing() -> None:
    script = ScriptedEfi()
    with gateway(script) as efi:
        with pytest.raises(GatewayValidationError) as caught:
            efi.create_billet(billet(payer=Payer("Maria", CPF)))
        assert caught.value.field == "payer.name"
        with pytest.raises(GatewayValidationError) as caught:
            efi.change_due_date(ChargeId("4711"), date(2026, 1, 10))
        assert caught.value.field == "due"
    assert script.requests == []  # not even an authorization


# --- the token ---------------------------------------------------------------------------------


def test_the_token_is_reused_then_renewed_before_it_expires() -> None:
    now = [0.0]
    script = ScriptedEfi(ok(), ok(), ok(), expires_in=600)
    with gateway(script, monotonic=lambda: now[0]) as efi:
        efi.resend_billet(ChargeId("1"), "a@example.com")
        now[0] = 500.0
        efi.resend_billet(ChargeId("1"), "a@example.com")
        now[0] = 580.0  # within the 30 s margin before Efí's expiry
        efi.resend_billet(ChargeId("1"), "a@example.com")
    tokens = [r.headers["authorization"] for r in script.api_requests()]
    assert tokens == ["Bearer token-1", "Bearer token-1", "Bearer token-2"]


def test_a_401_renews_the_token_once_and_replays_the_call() -> None:
    script = ScriptedEfi(httpx.Response(401, json={"error": "invalid_token"}), ok())
    with gateway(script) as efi:
        efi.resend_billet(ChargeId("1"), "a@example.com")
    assert script.authorizations == 2
    assert [r.headers["authorization"] for r in script.api_requests()] == ["Bearer token-1", "Bearer token-2"]


def test_a_second_401_is_an_authentication_error() -> None:
    script = ScriptedEfi(httpx.Response(401), httpx.Response(401))
    with gateway(script) as efi, pytest.raises(GatewayAuthenticationError):
        efi.resend_billet(ChargeId("1"), "a@example.com")
    assert script.authorizations == 2


def test_authorization_sends_basic_credentials_and_client_credentials_grant() -> None:
    script = ScriptedEfi(ok())
    with gateway(script) as efi:
        efi.resend_billet(ChargeId("1"), "a@example.com")
    authorize = script.requests[0]
    expected = base64.b64encode(f"client-id:{SECRET}".encode()).decode()
    assert authorize.headers["authorization"] == f"Basic {expected}"
    assert authorize.content == b'{"grant_type":"client_credentials"}' or b"client_credentials" in authorize.content


def _resend_from_32_threads_at_once(efi: EfiGateway) -> None:
    """32 threads released together, each resending a billet once; returns when all are done."""
    gate = threading.Barrier(32)

    def send() -> None:
        gate.wait()
        efi.resend_billet(ChargeId("1"), "a@example.com")

    threads = [threading.Thread(target=send) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_32_threads_share_one_token_fetch() -> None:
    script = ScriptedEfi(*[ok()] * 32)
    with gateway(script) as efi:
        _resend_from_32_threads_at_once(efi)
    assert script.authorizations == 1
    assert len(script.api_requests()) == 32


def test_bad_credentials_give_a_clear_error_that_never_shows_the_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    script = ScriptedEfi()
    script.auth_answers.append(httpx.Response(401, json={"error": "invalid_client"}))
    efi = gateway(script)
    with pytest.raises(GatewayAuthenticationError) as caught:
        efi.resend_billet(ChargeId("1"), "a@example.com")
    efi.close()
    error = caught.value
    assert "client-id" in str(error)
    assert "sandbox" in str(error)
    assert error.retryable is False
    encoded = base64.b64encode(f"client-id:{SECRET}".encode()).decode()
    for text in [str(error), repr(error), repr(efi), *(r.getMessage() for r in caplog.records)]:
        assert SECRET not in text
        assert encoded not in text


def test_the_environment_is_required_and_checked() -> None:
    with pytest.raises(InvalidInput, match="environment"):
        EfiGateway("id", SECRET, "homolog")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        EfiGateway("id", SECRET)  # type: ignore[call-arg]


@pytest.mark.parametrize(("args", "field"), [(("", SECRET), "client_id"), (("id", ""), "client_secret")])
def test_credentials_are_required(args: tuple[str, str], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        EfiGateway(*args, "sandbox")
    assert caught.value.field == field
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize("timeout", [0, -1.0, 601, True])
def test_the_timeout_must_be_sensible(timeout: float) -> None:
    with pytest.raises(InvalidInput, match="timeout"):
        EfiGateway("id", SECRET, "sandbox", timeout=timeout)


def test_environments_reach_their_own_hosts() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.host)
        if request.url.path == "/v1/authorize":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 600})
        return ok()

    for environment in ("sandbox", "production"):
        with EfiGateway("id", SECRET, environment, transport=httpx.MockTransport(handler)) as efi:
            efi.resend_billet(ChargeId("1"), "a@example.com")
    assert seen == ["cobrancas-h.api.efipay.com.br"] * 2 + ["cobrancas.api.efipay.com.br"] * 2


def test_create_billets_gives_one_outcome_per_request_in_order() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        import json

        operation_id = json.loads(request.content)["metadata"]["custom_id"]
        number = int(operation_id.split("-")[1])
        if number == 3:
            return efi_error(4600142, "dados inconsistentes")
        return ok(one_step_data(charge_id=100 + number))

    script = ScriptedEfi(*[handler] * 5)
    requests = [billet(operation_id=f"op-{i}") for i in range(5)]
    requests[1] = billet(operation_id="op-1", payer=Payer("Maria", CPF))
    with gateway(script) as efi:
        outcomes = efi.create_billets(requests, concurrency=4)
    assert [o.request.operation_id for o in outcomes] == [f"op-{i}" for i in range(5)]
    assert [o.billet.charge_id if o.billet else None for o in outcomes] == ["100", None, "102", None, "104"]
    assert isinstance(outcomes[1].error, GatewayValidationError)
    assert outcomes[1].error.field == "payer.name"
    assert isinstance(outcomes[3].error, GatewayError)
    assert outcomes[3].error.code == 4600142
    assert len(script.api_requests()) == 4  # the locally refused one never left


def test_efi_names_stay_out_of_the_port_and_the_domain() -> None:
    """The wire format lives in carteira.adapters.efi.wire only (style E9)."""
    from tests.support import ROOT

    wire_words = ("expire_at", "juridical_person", "banking_billet", "phone_number", 'custom_id":')
    sources = [ROOT / "src" / "carteira" / "ports" / "gateway.py", *(ROOT / "src" / "carteira" / "domain").glob("*.py")]
    for source in sources:
        text = source.read_text(encoding="utf-8")
        assert not [word for word in wire_words if word in text], source


def test_a_gateway_cannot_be_pickled_and_its_repr_names_no_secret() -> None:
    import pickle

    efi = gateway(ScriptedEfi())
    assert SECRET not in repr(efi)
    assert "client-id" in repr(efi)
    with pytest.raises(TypeError, match="pickled"):
        pickle.dumps(efi)
    efi.close()


# --- the port's words at Efí's edge ------------------------------------------------------------


def test_a_status_carteira_does_not_know_is_unknown_and_keeps_efis_word() -> None:
    carnet_data = {
        "carnet_id": 901,
        "status": "active",  # Efí's detail samples use it; its status table does not
        "charges": [
            {
                "charge_id": 5001,
                "parcel": "1",
                "status": "on_hold",
                "value": 30000,
                "expire_at": "2026-04-05",
                "barcode": "36490",
            },
        ],
    }
    entry = {"id": 4711, "total": 14000, "status": "in_analysis", "custom_id": "op-1"}
    script = ScriptedEfi(ok({**one_step_data(), "status": "brand_new"}), ok(carnet_data), ok([entry]), ok([]))
    with gateway(script) as efi:
        issued = efi.create_billet(billet())
        carnet = efi.create_carnet(
            CarnetRequest(
                items=(Item("Curso", Money("300.00")),),
                payer=Payer("João Souza", CPF),
                first_due=date(2026, 4, 5),
                repeats=2,
            )
        )
        (found,) = efi.find_charges("op-1")
    assert (issued.status, issued.status_raw) == (ChargeStatus.UNKNOWN, "brand_new")
    assert (carnet.status, carnet.status_raw) == (CarnetStatus.UNKNOWN, "active")
    assert (carnet.parcels[0].status, carnet.parcels[0].status_raw) == (ChargeStatus.UNKNOWN, "on_hold")
    assert (found.status, found.status_raw) == (ChargeStatus.UNKNOWN, "in_analysis")


def test_events_of_kinds_and_statuses_carteira_does_not_know_are_unknown_not_errors() -> None:
    data = [
        {
            "id": 1,
            "type": "subscription_charge",
            "custom_id": None,
            "status": {"current": "waiting", "previous": "new"},
            "identifiers": {"subscription_id": 77, "charge_id": 4712},
            "created_at": "2026-03-01 10:00:00",
        },
        {
            "id": 2,
            "type": "charge",
            "custom_id": "op-1",
            "status": {"current": "under_review", "previous": "waiting"},
            "identifiers": {"charge_id": 4711},
            "created_at": "2026-03-01 10:00:00",
        },
    ]
    with gateway(ScriptedEfi(ok(data))) as efi:
        first, second = efi.notification_events("tok")
    assert (first.kind, first.kind_raw, first.charge_id) == (EventKind.UNKNOWN, "subscription_charge", "4712")
    assert (second.status, second.status_raw, second.previous_status) == (
        ChargeStatus.UNKNOWN,
        "under_review",
        ChargeStatus.WAITING,
    )


def test_parcel_events_say_which_parcel_reading_each_carnet_once() -> None:
    def event(number: int, kind: str, charge: int | None, status: str) -> dict[str, object]:
        identifiers: dict[str, int] = {"carnet_id": 901}
        if charge is not None:
            identifiers["charge_id"] = charge
        return {
            "id": number,
            "type": kind,
            "custom_id": "ct-1",
            "status": {"current": status, "previous": None},
            "identifiers": identifiers,
            "created_at": "2026-03-01 10:00:00",
        }

    events = [
        event(1, "carnet", None, "up_to_date"),
        event(2, "carnet_charge", 5001, "waiting"),
        event(3, "carnet_charge", 5002, "waiting"),
        {**event(4, "carnet_charge", 5002, "paid"), "value": 30000, "received_by_bank_at": "2026-05-04"},
    ]
    detail = {
        "carnet_id": 901,
        "status": "up_to_date",
        "charges": [
            {"charge_id": 5001, "parcel": 1, "status": "waiting"},
            {"charge_id": 5002, "parcel": 2, "status": "paid"},
        ],
    }
    script = ScriptedEfi(ok(events), ok(detail))
    with gateway(script) as efi:
        read = efi.notification_events("tok")
    assert [(e.kind, e.charge_id, e.parcel) for e in read] == [
        (EventKind.CARNET, None, None),
        (EventKind.PARCEL, "5001", 1),
        (EventKind.PARCEL, "5002", 2),
        (EventKind.PARCEL, "5002", 2),
    ]
    assert read[0].status is CarnetStatus.UP_TO_DATE
    assert {e.carnet_id for e in read} == {"901"}
    assert [r.url.path for r in script.api_requests()] == ["/v1/notification/tok", "/v1/carnet/901"]


@pytest.mark.parametrize("bad", ["abc", "0", "12a", " 12", "3f2504e0-4f89-11d3-9a0c-0305e82c3301"])
def test_an_id_that_is_not_efis_is_refused_before_sending_naming_the_field(bad: str) -> None:
    script = ScriptedEfi()
    with gateway(script) as efi:
        with pytest.raises(GatewayValidationError) as caught:
            efi.settle_charge(ChargeId(bad))
        assert (caught.value.field, caught.value.code) == ("charge_id", None)
        with pytest.raises(GatewayValidationError) as caught:
            efi.resend_parcel(CarnetId(bad), 1, "a@example.com")
        assert caught.value.field == "carnet_id"
        with pytest.raises(GatewayValidationError) as caught:
            efi.cancel_parcel(CarnetId("901"), 0)
        assert caught.value.field == "parcel"
    assert script.requests == []


def test_an_integer_id_from_before_ids_were_strings_is_a_type_error() -> None:
    with gateway(ScriptedEfi()) as efi, pytest.raises(InvalidType) as caught:
        efi.cancel_charge(4711)  # type: ignore[arg-type]
    assert caught.value.field == "charge_id"
    assert isinstance(caught.value, TypeError)


def test_an_answer_whose_id_is_not_a_number_is_an_unknown_outcome_for_a_create() -> None:
    script = ScriptedEfi(ok({**one_step_data(), "charge_id": "ab12"}))
    with gateway(script) as efi, pytest.raises(GatewayOutcomeUnknown, match="charge_id"):
        efi.create_billet(billet())


def test_carnet_limits_are_efis_by_default_and_configurable_up_to_24() -> None:
    from carteira.domain import CarnetLimits

    with gateway(ScriptedEfi()) as efi:
        assert efi.carnet_limits == CarnetLimits(min_parcels=2, max_parcels=12)
    script = ScriptedEfi()
    wide = CarnetLimits(min_parcels=2, max_parcels=24)
    with EfiGateway("id", SECRET, "sandbox", transport=httpx.MockTransport(script), carnet_limits=wide) as efi:
        assert efi.carnet_limits is wide
        with pytest.raises(GatewayValidationError, match="2 to 24") as caught:
            efi.create_carnet(
                CarnetRequest(
                    items=(Item("Curso", Money("300.00")),),
                    payer=Payer("João Souza", CPF),
                    first_due=date(2026, 4, 5),
                    repeats=25,
                )
            )
        assert caught.value.field == "repeats"
    with pytest.raises(InvalidInput, match="24") as refused:
        EfiGateway("id", SECRET, "sandbox", carnet_limits=CarnetLimits(min_parcels=2, max_parcels=30))
    assert refused.value.field == "carnet_limits"


# --- the token flow ----------------------------------------------------------------------------


def test_32_threads_that_meet_a_revoked_token_renew_it_once() -> None:
    revoked: set[str] = set()
    in_flight = threading.Barrier(32, timeout=10)

    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"] not in revoked:
            return ok()
        in_flight.wait()  # all 32 are refused together, so all 32 flows see the 401 at once
        return httpx.Response(401)

    script = ScriptedEfi(*[answer] * 65)
    with gateway(script) as efi:
        efi.resend_billet(ChargeId("1"), "a@example.com")  # token-1 is fetched and cached...
        assert script.authorizations == 1
        revoked.add("Bearer token-1")  # ...and Efí revokes it while 32 threads are about to use it
        _resend_from_32_threads_at_once(efi)
    assert script.authorizations == 2
    sent = [r.headers["authorization"] for r in script.api_requests()[1:]]
    assert sent.count("Bearer token-1") == 32  # each thread's first try, refused
    assert sent.count("Bearer token-2") == 32  # each thread's one resend, with the one renewed token


def test_the_token_flow_names_no_secret_and_refuses_async_clients() -> None:
    import pickle

    from carteira.adapters.efi import EfiAuth

    script = ScriptedEfi(ok())
    with httpx.Client(transport=httpx.MockTransport(script), base_url="https://efi.test") as client:
        auth = EfiAuth("client-id", SECRET, "sandbox", client=client)
        client.auth = auth
        client.post("/v1/charge/1/billet/resend", json={"email": "a@example.com"})
        assert SECRET not in repr(auth)
        assert "token-1" not in repr(auth)
        assert "token-1" not in repr(vars(auth).get("_token"))
        with pytest.raises(TypeError, match="pickled"):
            pickle.dumps(auth)
    assert [r.url.path for r in script.requests] == ["/v1/authorize", "/v1/charge/1/billet/resend"]
    with pytest.raises(InvalidType):
        auth.async_auth_flow(httpx.Request("GET", "https://efi.test/v1/charge/1"))
