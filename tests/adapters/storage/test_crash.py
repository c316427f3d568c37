"""Crash tests: a child process is SIGKILLed in the middle of a large unit; the store keeps all of it or none."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time

import pytest

from carteira.ports.storage import Store
from tests.adapters.storage.child import MID_UNIT_ROWS, UNIT_ROWS, unit_rows
from tests.adapters.storage.postgres_schema import postgres_schema
from tests.adapters.storage.targets import store_at, where
from tests.support import ROOT

__all__ = ["postgres_schema", "where"]  # fixtures this module uses


def _start(mode: str, where: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.adapters.storage.child", mode, where],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stdin=subprocess.PIPE,
        text=True,
    )


def _wait_for(child: subprocess.Popen[str], line: str) -> list[str]:
    assert child.stdout is not None
    seen: list[str] = []
    while True:
        got = child.stdout.readline().strip()
        if not got:
            child.kill()
            pytest.fail(f"the child ended before printing {line!r} (printed {seen})")
        seen.append(got)
        if got.startswith(line):
            return seen


def _kill(child: subprocess.Popen[str]) -> None:
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL


def _units_kept(store: Store, units: int, size: int) -> list[int]:
    """How many installments of each unit the store holds, read back through the store."""
    with store.unit_of_work() as uow:
        return [len(uow.installments.get_many(i.id for i in unit_rows(unit, size))) for unit in range(units)]


def _store(where: str) -> Store:
    return store_at(where)


def _migrate(where: str) -> None:
    store = _store(where)
    try:
        store.migrate()
    finally:
        store.close()


def test_a_kill_in_the_middle_of_a_unit_keeps_none_of_it(where: str) -> None:
    _migrate(where)
    child = _start("mid-unit", where)
    _wait_for(child, "MID")  # unit 1 has written 30,000 rows and not committed
    _kill(child)
    store = _store(where)
    try:
        store.migrate()
        assert _units_kept(store, 1, UNIT_ROWS) == [UNIT_ROWS]
        assert _units_kept(store, 2, MID_UNIT_ROWS)[1] == 0
        with store.unit_of_work() as uow:  # the store takes writes again (no lock left behind)
            uow.installments.put_many(unit_rows(7, 10))
            uow.commit()
        assert _units_kept(store, 8, 10)[7] == 10
    finally:
        store.close()


def test_a_kill_at_any_moment_keeps_whole_units_only(where: str) -> None:
    _migrate(where)
    child = _start("commit-loop", where)
    printed = _wait_for(child, "committed 0")
    time.sleep(random.uniform(0.05, 0.5))  # somewhere inside a later unit, or its commit
    _kill(child)
    assert child.stdout is not None
    printed += [line.strip() for line in child.stdout.read().splitlines()]
    reported = sum(1 for line in printed if line.startswith("committed"))
    store = _store(where)
    try:
        store.migrate()
        kept = _units_kept(store, reported + 2, UNIT_ROWS)
    finally:
        store.close()
    assert set(kept) <= {0, UNIT_ROWS}, kept  # every unit is whole or absent
    assert kept[:reported] == [UNIT_ROWS] * reported  # what was reported committed survived
    assert kept[reported + 1] == 0  # at most the unit being committed at the kill is there, unreported
