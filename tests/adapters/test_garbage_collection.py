"""The garbage collector is the caller's: no public bulk call touches it, and paused_collection is the caller's pause.

Decision 0500. Every public bulk path (``parse_return``, ``iter_records``, each store's ``put_many``,
``get_many`` and finders) runs with ``gc.disable``, ``gc.enable``, ``gc.set_threshold``,
``gc.freeze`` and ``gc.collect`` watched, under a collector the caller left on and one the caller
turned off; none of them may be called, and the collector must be as the caller left it.
"""

from __future__ import annotations

import gc
import io
import threading
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from carteira.adapters.cnab import iter_records, parse_return
from carteira.adapters.storage import MemoryStore, PostgresStore, SqliteStore
from carteira.domain import ChargeTerms, Installment, Money
from carteira.garbage_collection import paused_collection
from carteira.ports.storage import Store
from tests.adapters.cnab.synthetic import bb240_file, itau_file, to_bytes
from tests.adapters.storage.postgres_schema import empty, postgres_schema
from tests.support import POSTGRES_DSN

__all__ = ["postgres_schema"]

WATCHED = ("disable", "enable", "set_threshold", "freeze", "unfreeze", "collect")
TERMS = ChargeTerms(Decimal("0.02"), Decimal("0.01"))
DUE = date(2025, 3, 10)


@pytest.fixture
def collector_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the ``gc`` functions called while the test runs (each one recorded, not run)."""
    calls: list[str] = []
    for name in WATCHED:
        monkeypatch.setattr(gc, name, lambda *args, _name=name, **kwargs: calls.append(_name))
    return calls


@pytest.fixture(params=[True, False], ids=["caller-collector-on", "caller-collector-off"])
def caller_collector(request: pytest.FixtureRequest) -> Iterator[bool]:
    """The collector as the caller left it before a bulk call: on, or off (restored after the test)."""
    was = gc.isenabled()
    if request.param:
        gc.enable()
    else:
        gc.disable()
    try:
        yield request.param
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()


def _untouched(call: Callable[[], object], calls: list[str], enabled: bool) -> None:
    thresholds = gc.get_threshold()
    call()
    assert calls == []
    assert gc.isenabled() is enabled
    assert gc.get_threshold() == thresholds


# -- the reader ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lines", [itau_file(2_500), bb240_file(2_500)], ids=["cnab400", "cnab240"])
def test_parse_return_leaves_the_collector_as_the_caller_set_it(
    lines: list[str], caller_collector: bool, collector_calls: list[str]
) -> None:
    data = to_bytes(lines)
    _untouched(lambda: parse_return(data), collector_calls, caller_collector)
    assert len(parse_return(data).records) == 2_500


@pytest.mark.parametrize("lines", [itau_file(2_500), bb240_file(2_500)], ids=["cnab400", "cnab240"])
def test_iter_records_leaves_the_collector_as_the_caller_set_it(
    lines: list[str], caller_collector: bool, collector_calls: list[str]
) -> None:
    data = to_bytes(lines)
    seen: list[bool] = []

    def read_all() -> None:
        for _ in iter_records(io.BytesIO(data)):
            seen.append(gc.isenabled())

    _untouched(read_all, collector_calls, caller_collector)
    assert seen == [caller_collector] * 2_500  # never switched, not even while a record is built


# -- the stores ------------------------------------------------------------------------------------


def _bulk_work(store: Store) -> None:
    """Every bulk path of a store: put_many of new and stored records, get_many and the finders."""
    installments = [
        Installment(
            f"i{n}",
            f"c{n % 7}",
            DUE + timedelta(days=n % 30),
            Money.from_cents(10_000 + n),
            TERMS,
            bank_title_number=f"{n:08}",
            document_number=f"D{n}",
        )
        for n in range(2_500)
    ]
    ids = [i.id for i in installments]
    with store.unit_of_work() as uow:
        stored = uow.installments.put_many(installments)
        uow.commit()
    with store.unit_of_work() as uow:
        loaded = uow.installments.get_many(ids)
        assert [loaded[key].version for key in ids] == [s.version for s in stored]
        assert len(uow.installments.open_of_customer("c1")) == len([i for i in installments if i.customer_id == "c1"])
        # Numbers compare normalized: "00000000" (i0's) is only padding and names nothing.
        assert len(uow.installments.by_bank_title_numbers(f"{n:08}" for n in range(100))) == 99
        assert len(uow.installments.by_document_numbers(f"D{n}" for n in range(100))) == 100
        assert uow.installments.open_by_due_and_amount([(DUE, Money.from_cents(10_000))])[0].id == "i0"
        # The update path of put_many (rows under the version rule, and the records it returns).
        again = uow.installments.put_many([loaded[key] for key in ids])
        assert {i.version for i in again} == {2}
        uow.commit()


def test_memory_store_bulk_calls_leave_the_collector_alone(caller_collector: bool, collector_calls: list[str]) -> None:
    _untouched(lambda: _bulk_work(MemoryStore()), collector_calls, caller_collector)


def test_sqlite_store_bulk_calls_leave_the_collector_alone(
    tmp_path: Path, caller_collector: bool, collector_calls: list[str]
) -> None:
    store = SqliteStore(tmp_path / "carteira.db")
    store.migrate()
    _untouched(lambda: _bulk_work(store), collector_calls, caller_collector)


@pytest.mark.postgres
def test_postgres_store_bulk_calls_leave_the_collector_alone(
    postgres_schema: str, caller_collector: bool, collector_calls: list[str]
) -> None:
    empty(postgres_schema)
    store = PostgresStore(POSTGRES_DSN, schema=postgres_schema, max_size=2)
    try:
        store.migrate()
        _untouched(lambda: _bulk_work(store), collector_calls, caller_collector)
    finally:
        store.close()


# -- the caller's pause ----------------------------------------------------------------------------


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    try:
        yield
    finally:
        if not was:
            gc.disable()


@pytest.mark.usefixtures("collector_on")
def test_the_pause_turns_the_collector_off_for_the_block_and_back_on_after() -> None:
    with paused_collection():
        assert not gc.isenabled()
        parse_return(to_bytes(itau_file(10)))
        assert not gc.isenabled()
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_the_pause_restores_the_collector_when_the_block_raises() -> None:
    seen: list[bool] = []

    def failing_job() -> None:
        with paused_collection():
            seen.append(gc.isenabled())
            raise ValueError("row 2 is unreadable")

    with pytest.raises(ValueError, match="row 2"):
        failing_job()
    assert seen == [False]
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_pauses_nest_and_the_collector_comes_back_when_the_outermost_ends() -> None:
    with paused_collection():
        with paused_collection():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block found it off: ending it must not turn it on
        with pytest.raises(KeyError), paused_collection():
            raise KeyError("x")
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_the_caller_turned_off_stays_off_and_is_never_touched(monkeypatch: pytest.MonkeyPatch) -> None:
    was = gc.isenabled()
    gc.disable()
    calls: list[str] = []
    try:
        for name in WATCHED:
            monkeypatch.setattr(gc, name, lambda *args, _name=name, **kwargs: calls.append(_name))
        with paused_collection(), paused_collection():
            assert not gc.isenabled()
        assert not gc.isenabled()
        assert calls == []  # neither disabled again nor enabled on the way out
    finally:
        monkeypatch.undo()
        if was:
            gc.enable()


@pytest.mark.usefixtures("collector_on")
def test_pauses_held_by_two_threads_end_in_any_order() -> None:
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def first() -> None:
        with paused_collection():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with paused_collection():
            second_in.set()
            first_out.wait(5)
            seen["after the first thread's block ended"] = gc.isenabled()
        seen["after both ended"] = gc.isenabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == {"after the first thread's block ended": False, "after both ended": True}
