"""A notifier that writes each notice to Python's logging: the ERP's own handlers deliver it (G10)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

__all__ = ["LoggingNotifier"]


class LoggingNotifier:
    """Logs every notice at WARNING on ``logger`` (``carteira.notifications`` unless given), users in ``extra``.

    carteira configures no handler: where the line goes (a file, e-mail through ``SMTPHandler``, a chat
    webhook) is the ERP's logging configuration. The record carries ``users`` and ``subject`` as
    attributes, so a handler can route by them.
    """

    def __init__(self, logger: str = "carteira.notifications") -> None:
        self._logger = logging.getLogger(logger)

    def __repr__(self) -> str:
        return f"LoggingNotifier({self._logger.name!r})"

    def notify(self, users: Sequence[str], subject: str, body: str) -> None:
        """Log the notice; a handler's failure is logging's to report (it never reaches the caller)."""
        self._logger.warning(
            "%s: %s (for %s)", subject, body, ", ".join(users) or "nobody configured",
            extra={"users": tuple(users), "subject": subject},
        )  # fmt: skip
