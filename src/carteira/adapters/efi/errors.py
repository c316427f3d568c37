"""Efí's error answers mapped to carteira's typed gateway errors, in one place (SPEC G10).

The class is chosen by the BODY's ``code`` (Efí answers some business refusals with HTTP 500 and
no source maps every code to a status): the retryable codes (4600100, the consumption limits
3500049 and 3500055) and Efí's internal-error codes give :class:`~carteira.errors.GatewayUnavailable`;
any other code is a refusal, :class:`~carteira.errors.GatewayValidationError`, carrying Efí's
``property`` pointer as ``field``. Only when the body has no code does the HTTP status decide.
A create that may have taken effect becomes :class:`~carteira.errors.GatewayOutcomeUnknown` instead
of ``GatewayUnavailable``: it is not safe to send again before a look-up by the operation id
(Efí's ``custom_id``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from carteira.errors import GatewayError, GatewayOutcomeUnknown, GatewayUnavailable, GatewayValidationError

__all__ = [
    "INTERNAL_ERROR_CODES",
    "RATE_LIMIT_CODES",
    "RETRYABLE_CODES",
    "error_from_response",
    "outcome_unknown",
]

RATE_LIMIT_CODES = frozenset({3500049, 3500055})
"""The endpoint's consumption limit was reached; the request was refused, so it may be sent again later."""
RETRYABLE_CODES = frozenset({4600100}) | RATE_LIMIT_CODES
"""Codes Efí documents as "try again": a timeout validating data, and the consumption limits."""
INTERNAL_ERROR_CODES = frozenset({3500000, 4699999})
"""Efí's internal or unexpected error: like a 5xx, the outcome of a create is unknown."""


def _code(body: Mapping[str, Any]) -> int | str | None:
    code = body.get("code")
    if isinstance(code, bool) or code is None:
        return None
    if isinstance(code, int):
        return code
    text = str(code)
    return int(text) if text.isdigit() else text


def _parse(response: httpx.Response) -> tuple[int | str | None, str | None, str]:
    """``(code, property, message)`` from an Efí error body, tolerating a string or missing description."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, Mapping):
        return None, None, f"HTTP {response.status_code} without an Efí error body"
    description = body.get("error_description")
    slug = body.get("error")
    field = None
    if isinstance(description, Mapping):
        prop = description.get("property")
        field = str(prop) if prop else None
        message = str(description.get("message") or slug or "no message")
    elif description:
        message = str(description)
    else:
        message = str(slug or body.get("detail") or body.get("title") or "no message")
    if isinstance(slug, str) and slug and slug not in message:
        message = f"{slug}: {message}"
    return _code(body), field, message


def outcome_unknown(
    operation: str, operation_id: str | None, cause: str, *, status: int | None = None, code: int | str | None = None
) -> GatewayOutcomeUnknown:
    """The error for a create that was sent and got no usable answer: what to do next is in the message."""
    if operation_id:
        advice = (
            f"it may have been created: look it up by operation_id {operation_id!r} "
            "(carteira.ports.gateway.find_created) before creating it again"
        )
    else:
        advice = "it may have been created and, sent without an operation_id, cannot be looked up: check Efí's panel"
    return GatewayOutcomeUnknown(f"{operation}: {cause}; {advice}", status=status, code=code, retryable=False)


def error_from_response(
    response: httpx.Response, *, operation: str, creates: bool, operation_id: str | None = None
) -> GatewayError:
    """The typed error for an Efí answer that is not a success (401 is handled by the caller, which re-authorizes).

    ``creates`` says whether the request creates a charge or carnet, for which an internal error
    means the outcome is unknown rather than retryable.
    """
    status = response.status_code
    code, field, message = _parse(response)
    if code in RETRYABLE_CODES or (code is None and status == 429):
        kind = "consumption limit reached" if code in RATE_LIMIT_CODES or status == 429 else "try again later"
        return GatewayUnavailable(
            f"{operation}: Efí asks to try again ({kind}): {message}", code=code, field=field, status=status
        )
    if code in INTERNAL_ERROR_CODES or (code is None and status >= 500):
        if creates:
            return outcome_unknown(operation, operation_id, f"Efí failed with {message}", status=status, code=code)
        return GatewayUnavailable(f"{operation}: Efí failed: {message}", code=code, field=field, status=status)
    return GatewayValidationError(f"{operation}: Efí refused it: {message}", code=code, field=field, status=status)
