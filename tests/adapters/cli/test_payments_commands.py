"""``carteira payments pending`` and ``flagged``: the token backlog and what waits for a person, on every store."""

from __future__ import annotations

import json
from datetime import timedelta

from carteira.adapters.cli import ExitCode
from carteira.domain.notifications import Notification, SeenEvent

from .conftest import OpsBench


def _keep(bench: OpsBench) -> None:
    """Three tokens: one waiting after a failed fetch, one Efí does not know, one processed; two events flagged."""
    now = bench.clock.now()
    with bench.store.unit_of_work() as uow:
        uow.notifications.put(Notification("tok-wait", now).failed("Efí did not answer", retry_at=now + timedelta(30)))
        uow.notifications.put(Notification("tok-forged", now).refused("token: unknown (3500010)", at=now))
        uow.notifications.put(Notification("tok-done", now).processed(now))
        uow.seen_events.add_many(
            [
                SeenEvent("tok-done", 1, "charge", "paid", now, charge_id="901", flagged=True, note="never issued"),
                SeenEvent(
                    "tok-done",
                    2,
                    "charge",
                    "settled",
                    now,
                    charge_id="902",
                    installment_id="i2",
                    flagged=True,
                    note="settled by hand",
                ),
                SeenEvent("tok-done", 3, "charge", "waiting", now, charge_id="903"),
            ]
        )
        uow.commit()


def test_pending_lists_the_backlog_with_its_error(ops_store: OpsBench) -> None:
    empty = ops_store.run("payments", "pending")
    assert (empty.exit_code, empty.stdout) == (
        ExitCode.OK,
        "no token waits: every notification received was processed\n",
    )
    _keep(ops_store)
    result = ops_store.run("payments", "pending")
    assert result.exit_code == ExitCode.OK, result.output
    (line,) = result.stdout.splitlines()
    assert line.startswith("2026-03-20T12:00:00-03:00 token tok-wait: pending, delivered 1x, tried 0x, next 2026-04-19")
    assert line.endswith(": Efí did not answer")
    (shown,) = json.loads(ops_store.run("payments", "pending", "--json").stdout)
    assert (shown["token"], shown["status"], shown["error"]) == ("tok-wait", "pending", "Efí did not answer")


def test_flagged_lists_the_events_and_the_tokens_efi_does_not_know(ops_store: OpsBench) -> None:
    assert ops_store.run("payments", "flagged").stdout == "nothing waits for a person\n"
    _keep(ops_store)
    result = ops_store.run("payments", "flagged")
    assert result.exit_code == ExitCode.OK, result.output
    assert result.stdout.splitlines() == [
        "2026-03-20T12:00:00-03:00 charge 902 (installment i2): charge settled: settled by hand",
        "2026-03-20T12:00:00-03:00 charge 901: charge paid: never issued",
        "2026-03-20T12:00:00-03:00 token tok-forged: refused, delivered 1x, tried 0x: token: unknown (3500010)",
    ]
    shown = json.loads(ops_store.run("payments", "flagged", "--json", "--limit", "1").stdout)
    assert [e["charge_id"] for e in shown["events"]] == ["902"]
    assert [n["token"] for n in shown["refused"]] == ["tok-forged"]
