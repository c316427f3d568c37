"""Whatever Efí answers, the adapter gives a result or a typed GatewayError, never a stray exception."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from carteira.errors import GatewayError, GatewayOutcomeUnknown
from carteira.ports.gateway import ChargeId, IssuedBillet

from .scripted import ScriptedEfi, billet, gateway, ok, one_step_data

_scalars = st.none() | st.booleans() | st.integers(-(10**6), 10**12) | st.text(max_size=12)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _mutations() -> st.SearchStrategy[dict[str, Any]]:
    """A real one-step answer with some fields replaced by arbitrary JSON: closer to what could go wrong."""
    base = one_step_data()
    return st.dictionaries(st.sampled_from(sorted(base)), _json, max_size=3).map(lambda changes: {**base, **changes})


def _outcome(call: Callable[[], object]) -> object:
    """The call's result, or the GatewayError it raised; anything else propagates and fails the test."""
    try:
        return call()
    except GatewayError as error:
        return error


@settings(max_examples=150)
@given(data=_json | _mutations())
def test_any_answer_to_a_create_is_a_billet_or_an_unknown_outcome(data: Any) -> None:
    with gateway(ScriptedEfi(ok(data))) as efi:
        result = _outcome(lambda: efi.create_billet(billet()))
    assert isinstance(result, (IssuedBillet, GatewayOutcomeUnknown)), result
    if isinstance(result, GatewayOutcomeUnknown):
        assert "op-1" in str(result)


@settings(max_examples=150)
@given(data=_json)
def test_any_answer_to_reads_is_a_result_or_a_gateway_error(data: Any) -> None:
    with gateway(ScriptedEfi(ok(data), ok(data), ok(data))) as efi:
        events = _outcome(lambda: efi.notification_events("t"))
        found = _outcome(lambda: efi.find_charges("x"))
    assert isinstance(events, (list, GatewayError))
    assert isinstance(found, (list, GatewayError))


@settings(max_examples=100)
@given(status=st.integers(400, 599), body=_json)
def test_any_error_answer_maps_to_a_typed_error(status: int, body: Any) -> None:
    script = ScriptedEfi(*[httpx.Response(status, json=body)] * 4)
    with gateway(script) as efi:
        result = _outcome(lambda: efi.resend_billet(ChargeId("1"), "a@example.com"))
    assert isinstance(result, GatewayError)
    assert result.status == status
    assert ("safe to retry" in str(result)) == result.retryable
