"""A worker the outbox's SIGKILL trials start and kill: ``python -m tests.services.outbox_child``.

Usage: ``outbox_child.py <sqlite path | postgres schema> <emulator url> <today> <log file> <name>``, the
secret in ``$CARTEIRA_FAULTS_SECRET`` (as an ERP keeps it: in its configuration, not in the store).
It builds the real adapter over loopback HTTP and ``portfolio.gateway`` on the store, prints ``READY``,
waits for a line on stdin, prints ``START`` and drains until no operation is PENDING or UNKNOWN,
sleeping until the next is due. It prints ``RECORDED`` after each operation's answer is recorded
(so that the parent can kill it at a chosen point) and ``DONE`` at the end. Every log record, at DEBUG
and httpx's and httpcore's included, goes to the log file, which the parent searches for the secret.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from datetime import date, datetime

from tests.adapters.storage.targets import store_at
from tests.services.outbox_faults_support import KILL_WIRING, SECRET_ENV, efi_at, portfolio_on

_say_lock = threading.Lock()


def say(line: str) -> None:
    """One line to the parent, flushed at once (from any thread)."""
    with _say_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def child_application(name: str) -> str:
    """The ``application_name`` of this worker's PostgreSQL sessions, so that the parent can see them end."""
    return f"outbox-child-{name}"


def main(where: str, url: str, today: date, log_path: str, name: str) -> None:
    """Drain the outbox of the store at ``where`` against the emulator at ``url`` (see the module)."""
    handler = logging.FileHandler(log_path)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    logging.basicConfig(level=logging.DEBUG, handlers=[handler], force=True)
    store = store_at(where, application_name=child_application(name))
    with efi_at(url, KILL_WIRING, today, secret=os.environ[SECRET_ENV]) as efi:
        gateway = portfolio_on(store, efi, KILL_WIRING).gateway
        say("READY")
        sys.stdin.readline()
        say("START")
        while True:
            gateway.drain(concurrency=KILL_WIRING.concurrency, progress=lambda _done, _total: say("RECORDED"))
            due = gateway.next_due()
            if due is None:
                break
            time.sleep(min(max((due - datetime.now(due.tzinfo)).total_seconds(), 0.0) + 0.01, 0.2))
    store.close()
    say("DONE")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], date.fromisoformat(sys.argv[3]), sys.argv[4], sys.argv[5])
