"""The notifier contract: what every implementation of :class:`~carteira.ports.notifier.Notifier` must do.

Subclass :class:`NotifierContract` in your test suite, implement :meth:`make_notifier` and
:meth:`delivered` (what your notifier delivered so far), and pytest runs every test against it.
"""

from __future__ import annotations

from collections.abc import Sequence

from carteira.ports.notifier import Notifier

__all__ = ["NotifierContract"]


class NotifierContract:
    """Tests every notifier passes: it takes any users, subject and body, delivers each notice, and never raises."""

    def make_notifier(self) -> Notifier:
        """A new notifier to test."""
        raise NotImplementedError

    def delivered(self) -> Sequence[tuple[tuple[str, ...], str, str]]:
        """The notices the notifier from :meth:`make_notifier` delivered, in order: (users, subject, body)."""
        raise NotImplementedError

    def test_each_notice_is_delivered_in_order(self) -> None:
        notifier = self.make_notifier()
        notifier.notify(["ana", "bruno"], "billing run", "3 billets refused")
        notifier.notify(("carla",), "outbox", "operation op-1 failed: invalid CPF")
        assert list(self.delivered()) == [
            (("ana", "bruno"), "billing run", "3 billets refused"),
            (("carla",), "outbox", "operation op-1 failed: invalid CPF"),
        ]

    def test_no_user_configured_is_not_an_error(self) -> None:
        self.make_notifier().notify([], "outbox", "operation op-2 failed")
        assert [notice[0] for notice in self.delivered()] == [()]

    def test_any_text_is_taken_as_it_is(self) -> None:
        body = "Cobrança de R$ 1.030,33 recusada: 'nome' precisa de duas palavras\nlinha 2"
        self.make_notifier().notify(["josé"], "Efí", body)
        assert list(self.delivered()) == [(("josé",), "Efí", body)]
