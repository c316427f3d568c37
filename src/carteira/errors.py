"""The one error hierarchy of carteira.

Every error carteira raises on purpose derives from :class:`CarteiraError`. Each class is
named for what happened and carries, as attributes, what a program needs to act on it;
its message says what was wrong, where, and what to do. Errors that correspond to a
builtin a caller would already catch also derive from it (``InvalidInput`` is a
``ValueError``, ``InvalidType`` a ``TypeError``, ``NotFound`` a ``LookupError``).

Secrets (client secrets, tokens, passwords in DSNs) never appear in any message here:
adapters pass only what is safe to show.
"""

from __future__ import annotations

from datetime import date

__all__ = [
    "CarteiraError",
    "ClosedPeriod",
    "Conflict",
    "DuplicateImport",
    "GatewayAuthenticationError",
    "GatewayError",
    "GatewayOutcomeUnknown",
    "GatewayUnavailable",
    "GatewayValidationError",
    "InactiveAccount",
    "InvalidInput",
    "InvalidRow",
    "InvalidType",
    "MissingExtra",
    "NotFound",
    "RuleViolation",
    "SchemaVersionError",
    "StoreUnavailable",
]


class CarteiraError(Exception):
    """Root of every error carteira raises on purpose; catch this one at your boundary."""


class InvalidInput(CarteiraError, ValueError):
    """Input that cannot be used: an argument out of range, or a malformed line of a file.

    ``field`` names the argument or the layout field; ``source`` the file (or ``""`` for an
    argument); ``line`` the 1-based line of that file (``None`` when not from a file); ``raw``
    the offending text when there is one; ``reason`` says what is wrong and ``hint`` how to fix it.
    """

    def __init__(
        self,
        reason: str,
        *,
        field: str,
        source: str = "",
        line: int | None = None,
        raw: str | None = None,
        hint: str = "",
    ) -> None:
        self.reason = reason
        self.field = field
        self.source = source
        self.line = line
        self.raw = raw
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        head = f"{where}: {self.field}" if where else self.field
        text = f"{head}: {self.reason}"
        if self.raw is not None:
            text += f" (found {self.raw!r})"
        if self.hint:
            text += f". {self.hint}"
        return text

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_invalid_input, (self.reason, self.field, self.source, self.line, self.raw, self.hint))


def _rebuild_invalid_input(
    reason: str, field: str, source: str, line: int | None, raw: str | None, hint: str
) -> InvalidInput:
    return InvalidInput(reason, field=field, source=source, line=line, raw=raw, hint=hint)


class InvalidRow(InvalidInput):
    """A row a store cannot hold or read back: a value its column cannot hold, or a stored row the domain refuses.

    ``table`` is the table, ``key`` the row's primary key as ``column=value`` pairs (``"id='i1'"``,
    ``"batch_id='b1', line=7"``) and ``column`` the column at fault (``field`` too); ``raw`` shows the
    value found. A row read back this way was changed outside carteira: restore it from a backup or
    correct it. A value refused before a write was not written, and the unit of work keeps nothing.
    """

    def __init__(
        self, reason: str, *, table: str, key: str, column: str, raw: str | None = None, hint: str = ""
    ) -> None:
        self.table = table
        self.key = key
        self.column = column
        super().__init__(reason, field=column, source=f"{table} ({key})", raw=raw, hint=hint)

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_invalid_row, (self.reason, self.table, self.key, self.column, self.raw, self.hint))


def _rebuild_invalid_row(reason: str, table: str, key: str, column: str, raw: str | None, hint: str) -> InvalidRow:
    return InvalidRow(reason, table=table, key=key, column=column, raw=raw, hint=hint)


class InvalidType(CarteiraError, TypeError):
    """An argument of the wrong type: a float where money or a rate belongs, a bool, a bare number mixed with ``Money``.

    ``field`` names the parameter, attribute or operand that was wrong. Catch it as a ``TypeError``
    or as a ``CarteiraError``; every wrong type the library refuses on purpose is this one class.
    """

    def __init__(self, message: str, *, field: str) -> None:
        self.field = field
        super().__init__(message)

    def __reduce__(self) -> tuple[object, ...]:
        # The keyword-only field would otherwise be lost when the error crosses a process boundary.
        return (_rebuild_invalid_type, (str(self), self.field))


def _rebuild_invalid_type(message: str, field: str) -> InvalidType:
    return InvalidType(message, field=field)


class MissingExtra(CarteiraError, ImportError):
    """An optional part of carteira was used without its extra installed; the message names the pip command."""

    def __init__(self, feature: str, extra: str) -> None:
        self.feature = feature
        self.extra = extra
        super().__init__(f"{feature} needs the '{extra}' extra: pip install 'carteira[{extra}]'")


class RuleViolation(CarteiraError):
    """A direct call that a business rule refuses (for example reversing a settlement that is not the latest).

    ``rule`` is the SPEC number (``"D8"``) and ``subject`` the id of the record concerned.
    Inside a batch the same refusal is an outcome on its record, not an exception.
    """

    def __init__(self, message: str, *, rule: str, subject: str) -> None:
        self.rule = rule
        self.subject = subject
        super().__init__(message)


class ClosedPeriod(RuleViolation):
    """A settlement, reversal or deletion dated before the portfolio's closing date (D7)."""

    def __init__(self, *, subject: str, on: date, closing_date: date, action: str = "settle") -> None:
        self.on = on
        self.closing_date = closing_date
        self.action = action
        super().__init__(
            f"cannot {action} {subject} on {on.isoformat()}: the portfolio is closed up to "
            f"{closing_date.isoformat()}; reopen the period (move the closing date back) first",
            rule="D7",
            subject=subject,
        )


class InactiveAccount(RuleViolation):
    """The portfolio's gateway account is inactive: nothing is sent or written (G1). Activate it to send again."""

    def __init__(self, action: str) -> None:
        super().__init__(
            f"cannot {action}: the gateway account is inactive, so nothing is sent; activate it first",
            rule="G1",
            subject="gateway account",
        )


class DuplicateImport(CarteiraError):
    """A return file that was already imported (same bytes, or same bank, agreement and sequence)."""

    def __init__(self, message: str, *, earlier_batch_id: str) -> None:
        self.earlier_batch_id = earlier_batch_id
        super().__init__(message)


class NotFound(CarteiraError, LookupError):
    """A record asked for by key that does not exist; ``kind`` and ``key`` say which."""

    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key!r} does not exist")


class Conflict(CarteiraError):
    """A write based on a stale version: another unit changed the record first; nothing of this unit was kept.

    ``kind`` and ``key`` name the record; ``expected_version`` is what this unit read.
    Reload and retry the whole unit.
    """

    def __init__(self, kind: str, key: str, *, expected_version: int | None = None, detail: str = "") -> None:
        self.kind = kind
        self.key = key
        self.expected_version = expected_version
        text = f"{kind} {key!r} was changed by another unit of work"
        if expected_version is not None:
            text += f" (this unit read version {expected_version})"
        if detail:
            text += f"; {detail}"
        super().__init__(text + "; nothing of this unit was kept: reload and try again")


class StoreUnavailable(CarteiraError):
    """The store cannot be opened or reached: a DSN that does not connect, a file that is not a database."""


class SchemaVersionError(CarteiraError):
    """The store's schema is newer than this library (or otherwise not one it can use); nothing was written."""

    def __init__(self, message: str, *, found: int | None, supported: int) -> None:
        self.found = found
        self.supported = supported
        super().__init__(message)


class GatewayError(CarteiraError):
    """An error talking to the payment gateway.

    ``code`` is the gateway's own error code (Efí's body ``code``), ``field`` the property it
    points at (Efí's ``error_description.property``), ``message`` its text, ``status`` the HTTP
    status (``None`` when no response came back) and ``retryable`` whether sending the same
    request again is safe and may succeed.
    """

    default_retryable = False

    def __init__(
        self,
        message: str,
        *,
        code: int | str | None = None,
        field: str | None = None,
        status: int | None = None,
        retryable: bool | None = None,
    ) -> None:
        self.message = message
        self.code = code
        self.field = field
        self.status = status
        self.retryable = self.default_retryable if retryable is None else retryable
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [self.message]
        if self.field:
            parts.append(f"field {self.field}")
        if self.code is not None:
            parts.append(f"code {self.code}")
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        parts.append("safe to retry" if self.retryable else "do not retry as is")
        return "; ".join(parts)


class GatewayValidationError(GatewayError):
    """The gateway (or the local checks made before sending) refused a request's content or a state change."""


class GatewayAuthenticationError(GatewayError):
    """The gateway refused the credentials; check the client id and secret and the environment."""


class GatewayUnavailable(GatewayError):
    """No usable answer: a timeout, a 5xx, a rate limit. The request did not take effect and may be retried."""

    default_retryable = True


class GatewayOutcomeUnknown(GatewayError):
    """The request may have taken effect but no answer came back (for example a timeout after sending).

    Not safe to repeat blindly: look the charge up by its operation id first (``find_created``).
    """
