"""The notifier contract over the recording fake and the logging notifier."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest

from carteira.adapters.notifier import LoggingNotifier
from carteira.ports.notifier import Notifier
from carteira.testing import RecordingNotifier
from carteira.testing.contracts.notifier import NotifierContract


class TestRecordingNotifier(NotifierContract):
    def make_notifier(self) -> Notifier:
        self.notifier = RecordingNotifier()
        return self.notifier

    def delivered(self) -> Sequence[tuple[tuple[str, ...], str, str]]:
        return [(notice.users, notice.subject, notice.body) for notice in self.notifier.sent]


class TestLoggingNotifier(NotifierContract):
    @pytest.fixture(autouse=True)
    def _capture(self, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.WARNING, logger="carteira.notifications")
        self.caplog = caplog

    def make_notifier(self) -> Notifier:
        return LoggingNotifier()

    def delivered(self) -> Sequence[tuple[tuple[str, ...], str, str]]:
        records = [r for r in self.caplog.records if r.name == "carteira.notifications"]
        return [(r.users, r.subject, r.getMessage().split(": ", 1)[1].rsplit(" (for ", 1)[0]) for r in records]
