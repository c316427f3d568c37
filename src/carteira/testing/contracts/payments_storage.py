"""The storage contract of seen notification events and postings (#13): ``uow.seen_events`` and ``uow.postings``.

:class:`PaymentsStorageContract` is a mixin of :class:`~carteira.testing.contracts.storage.StorageContract`,
so every store that runs the storage contract runs these tests too; it uses the ``store`` fixture,
``_fresh()`` and ``interleaved_units`` of that class. What it checks: every field round trips (instants
to the microsecond whatever their zone, cents exact, ``None`` where optional); a key that exists, or
appears twice, raises ``Conflict`` and nothing of the unit is kept; two units adding one key leave one;
rollback; and that ``of_token``, ``of_charges``, ``flagged``, ``of_settlement`` and ``find`` return
exactly what a plain Python model says, for generated records.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carteira.domain import Money
from carteira.domain.notifications import SeenEvent
from carteira.domain.postings import Posting, PostingKind
from carteira.errors import Conflict
from carteira.ports.storage import Store, UnitOfWork
from carteira.testing.contracts.samples import EXAMPLES as _EXAMPLES
from carteira.testing.contracts.samples import T0 as _T0
from carteira.testing.contracts.samples import TEXT as _TEXT
from carteira.testing.contracts.samples import moments

__all__ = ["PaymentsStorageContract", "a_posting", "a_seen_event"]

_DAY = date(2025, 3, 3)
# Keys that Python orders by code point ('-' < digits < upper case < '_' < lower case); a database
# collation that ordered them otherwise would show.
_TOKENS = ("tok-1", "tok-10", "tok-2", "Tok-3", "tok_4", "TOK-5", "toka", "9tok")
_IDS = ("p-1", "p-10", "p-2", "P-3", "p_4", "pA", "pa", "9p", "p-12", "P_1")
_CHARGES = ("c-1", "c-2", "C-3", "c_4")
_SETTLEMENTS = ("s-1", "s-2", "S-3")
_ACCOUNTS = ("bank-1", "bank-2")
_HISTORIES = ("entries", "fees")
_WORD = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=8).filter(str.strip)


def a_seen_event(token: str = "tok-1", event_id: int = 1, **fields: Any) -> SeenEvent:
    """A ``paid`` charge event ``(token, event_id)`` seen at a fixed instant; ``fields`` override the others."""
    return attrs.evolve(SeenEvent(token, event_id, "charge", "paid", _T0, "c-1"), **fields)


def a_posting(posting_id: str = "p-1", **fields: Any) -> Posting:
    """An entry of R$ 100.00 of settlement ``s-1``; ``fields`` override the others."""
    return attrs.evolve(
        Posting(posting_id, PostingKind.ENTRY, _DAY, Money("100.00"), "bank-1", "entries", "s-1", "c-1"), **fields
    )


def _event(key: tuple[str, int]) -> st.SearchStrategy[SeenEvent]:
    optional = st.none() | st.sampled_from(_CHARGES)
    return st.builds(
        SeenEvent,
        st.just(key[0]),
        st.just(key[1]),
        _WORD,
        _WORD,
        moments(5),
        optional,
        st.none() | _WORD,
        st.none() | _WORD,
        st.booleans(),
        _TEXT,
    )


def _events() -> st.SearchStrategy[list[SeenEvent]]:
    """Up to 16 events with distinct keys."""
    keys = st.lists(st.tuples(st.sampled_from(_TOKENS), st.integers(0, 3)), unique=True, max_size=16)
    return keys.flatmap(lambda ks: st.tuples(*(_event(k) for k in ks)).map(list))


def _posting(posting_id: str) -> st.SearchStrategy[Posting]:
    return st.builds(
        Posting,
        st.just(posting_id),
        st.sampled_from(PostingKind),
        st.builds(lambda n: _DAY + timedelta(days=n), st.integers(0, 4)),
        st.builds(Money.from_cents, st.integers(1, 10**13)),
        st.sampled_from(_ACCOUNTS),
        st.sampled_from(_HISTORIES),
        st.sampled_from(_SETTLEMENTS),
        st.none() | st.sampled_from(_CHARGES),
        st.none() | st.sampled_from(_IDS),
    )


def _posting_batches() -> st.SearchStrategy[list[list[Posting]]]:
    """Up to 10 postings with distinct ids, split into up to 3 ``add_many`` calls."""
    ids = st.lists(st.sampled_from(_IDS), unique=True, max_size=len(_IDS))
    postings = ids.flatmap(lambda found: st.tuples(*(_posting(i) for i in found)).map(list))
    return postings.flatmap(
        lambda ps: st.lists(st.integers(0, 2), min_size=len(ps), max_size=len(ps)).map(
            lambda cuts: [[p for p, cut in zip(ps, cuts, strict=True) if cut == n] for n in range(3)]
        )
    )


def _add_and_commit(uow: UnitOfWork, events: list[SeenEvent], postings: list[Posting]) -> None:
    uow.seen_events.add_many(events)
    uow.postings.add_many(postings)
    uow.commit()


def _adding_event(token: str) -> Callable[[UnitOfWork, int], None]:
    """Adds event ``(token, 1)`` noting which side added it, and commits."""
    return lambda uow, side: _add_and_commit(uow, [a_seen_event(token, note=str(side))], [])


def _adding_posting(posting_id: str) -> Callable[[UnitOfWork, int], None]:
    """Adds posting ``posting_id`` under the adding side as its history, and commits."""
    return lambda uow, side: _add_and_commit(uow, [], [a_posting(posting_id, history=str(side))])


def _race(store: Store, add: Callable[[UnitOfWork, int], None]) -> list[str]:
    """Two threads run ``add`` (which commits) at once, in a unit each; what each got: ``OK`` or the conflict."""
    outcomes = ["", ""]
    start = threading.Barrier(2)

    def run(side: int) -> None:
        start.wait()
        try:
            with store.unit_of_work() as uow:
                add(uow, side)
            outcomes[side] = "OK"
        except Conflict as exc:
            outcomes[side] = f"CONFLICT {exc.kind} {exc.key}"

    threads = [threading.Thread(target=run, args=(side,)) for side in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


class PaymentsStorageContract:
    """The seen events' and postings' part of the storage contract; :class:`StorageContract` inherits it."""

    interleaved_units: bool
    """Whether two units of work of one store may be open at once in one thread (``StorageContract`` sets it)."""

    def _fresh(self) -> Store:
        """A new, migrated store (``StorageContract`` supplies it)."""
        raise NotImplementedError

    # -- round trips ----------------------------------------------------------------------------

    def test_seen_events_and_postings_round_trip_every_field(self, store: Store) -> None:
        later = _T0 + timedelta(microseconds=1)
        full = a_seen_event(
            "0f3c9d1e-4b2a-4c8e-9d7f-1a2b3c4d5e6f",
            2**40,
            seen_at=later.astimezone(timezone(timedelta(hours=9))),
            installment_id="i-1",
            settlement_id="s-1",
            flagged=True,
            note="paid, but carteira never issued it: 'x' \\ \"y\" ç\n",
        )
        bare = a_seen_event("tok-2", 0, kind="carnet", status="up_to_date", charge_id=None)
        entry = a_posting("p-1", amount=Money("9999999999.99"))
        reversal = a_posting("p-2", kind=PostingKind.FEE, amount=Money("0.01"), charge_id=None, reverses="p-1")
        with store.unit_of_work() as uow:
            uow.seen_events.add_many([full, bare])
            uow.postings.add_many([entry, reversal])
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.seen_events.of_token(full.token) == [full]
            assert uow.seen_events.of_token("tok-2") == [bare]
            assert uow.seen_events.flagged() == [full]
            assert uow.postings.of_settlement("s-1") == [entry, reversal]
            loaded = uow.seen_events.of_token(full.token)[0]
        assert loaded.seen_at == later
        assert loaded.seen_at.utcoffset() is not None
        assert loaded.seen_at.microsecond == later.microsecond

    # -- duplicates, rollback -------------------------------------------------------------------

    def test_a_key_that_exists_or_appears_twice_is_a_conflict_and_keeps_nothing(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.seen_events.add_many([a_seen_event("tok-1", 1)])
            uow.postings.add_many([a_posting("p-1")])
            uow.commit()
        attempts: list[tuple[Callable[[UnitOfWork], None], str, str]] = [
            (lambda u: u.seen_events.add_many([a_seen_event("tok-1", 2), a_seen_event("tok-1", 1)]),
             "seen event", "tok-1/1"),
            (lambda u: u.seen_events.add_many([a_seen_event("tok-9", 5), a_seen_event("tok-9", 5)]),
             "seen event", "tok-9/5"),
            (lambda u: u.postings.add_many([a_posting("p-0"), a_posting("p-1")]), "posting", "p-1"),
            (lambda u: u.postings.add_many([a_posting("p-7"), a_posting("p-7")]), "posting", "p-7"),
        ]  # fmt: skip
        for add, kind, key in attempts:
            with store.unit_of_work() as uow:
                uow.seen_events.add_many([a_seen_event("tok-new", 1)])
                uow.postings.add_many([a_posting("p-new")])
                with pytest.raises(Conflict) as raised:
                    add(uow)
                with pytest.raises(Conflict):
                    uow.commit()  # the unit is spoiled: nothing of it is kept
            assert (raised.value.kind, raised.value.key) == (kind, key)
        with store.unit_of_work() as uow:
            assert uow.seen_events.of_token("tok-1") == [a_seen_event("tok-1", 1)]
            assert uow.seen_events.of_token("tok-new") == []
            assert uow.seen_events.of_token("tok-9") == []
            assert uow.postings.find(on_from=date.min, on_to=date.max) == [a_posting("p-1")]

    def test_seen_events_and_postings_without_commit_or_with_an_error_are_not_kept(self, store: Store) -> None:
        with store.unit_of_work() as uow:
            uow.seen_events.add_many([a_seen_event(flagged=True)])
            uow.postings.add_many([a_posting()])

        def fail_half_way() -> None:
            with store.unit_of_work() as uow:
                uow.seen_events.add_many([a_seen_event("tok-2", flagged=True)])
                uow.postings.add_many([a_posting("p-2")])
                _ = 1 / 0

        with pytest.raises(ZeroDivisionError):
            fail_half_way()
        with store.unit_of_work() as uow:
            assert uow.seen_events.flagged() == []
            assert uow.seen_events.of_charges(["c-1"]) == []
            assert uow.postings.of_settlement("s-1") == []
            assert uow.postings.find(on_from=date.min, on_to=date.max) == []

    # -- two units, one key ---------------------------------------------------------------------

    def test_two_open_units_adding_one_key_leave_one(self, store: Store) -> None:
        if not self.interleaved_units:
            pytest.skip("this store runs its units one after the other (the threaded test covers it)")
        with store.unit_of_work() as slow:
            with store.unit_of_work() as fast:
                fast.seen_events.add_many([a_seen_event(note="fast")])
                fast.postings.add_many([a_posting(history="fast")])
                fast.commit()
            slow.postings.add_many([a_posting("p-2")])
            with pytest.raises(Conflict) as raised:  # at add_many (SQL) or at commit (memory)
                _add_and_commit(slow, [a_seen_event(note="slow")], [])
            assert (raised.value.kind, raised.value.key) == ("seen event", "tok-1/1")
        with store.unit_of_work() as slow:
            with store.unit_of_work() as fast:
                fast.postings.add_many([a_posting("p-3")])
                fast.commit()
            with pytest.raises(Conflict) as raised:
                _add_and_commit(slow, [], [a_posting("p-3", history="slow")])
            assert (raised.value.kind, raised.value.key) == ("posting", "p-3")
        with store.unit_of_work() as uow:
            assert uow.seen_events.of_token("tok-1") == [a_seen_event(note="fast")]
            assert [p.id for p in uow.postings.find(on_from=_DAY, on_to=_DAY)] == ["p-1", "p-3"]
            assert uow.postings.of_settlement("s-1")[0].history == "fast"

    def test_two_threads_adding_one_key_leave_one(self, store: Store) -> None:
        for trial in range(3):
            token, posting_id = f"tok-race-{trial}", f"p-race-{trial}"
            seen = _race(store, _adding_event(token))
            assert sorted(seen) == [f"CONFLICT seen event {token}/1", "OK"], seen
            posted = _race(store, _adding_posting(posting_id))
            assert sorted(posted) == [f"CONFLICT posting {posting_id}", "OK"], posted
            with store.unit_of_work() as uow:
                assert uow.seen_events.of_token(token) == [a_seen_event(token, note=str(seen.index("OK")))]
                kept = [p for p in uow.postings.find(on_from=_DAY, on_to=_DAY) if p.id == posting_id]
            assert kept == [a_posting(posting_id, history=str(posted.index("OK")))]

    # -- the finders agree with a plain model ---------------------------------------------------

    @_EXAMPLES
    @given(events=_events(), data=st.data())
    def test_seen_event_finders_agree_with_a_plain_model(self, events: list[SeenEvent], data: st.DataObject) -> None:
        charges = data.draw(st.lists(st.sampled_from(_CHARGES), max_size=3))
        limit = data.draw(st.none() | st.integers(0, 5))
        store = self._fresh()
        try:
            half = len(events) // 2
            for part in (events[:half], events[half:]):
                with store.unit_of_work() as uow:
                    uow.seen_events.add_many(part)
                    uow.commit()
            newest_first = sorted((e for e in events if e.flagged), key=lambda e: (e.seen_at, e.key), reverse=True)
            with store.unit_of_work() as uow:
                for token in _TOKENS:
                    expected = sorted((e for e in events if e.token == token), key=lambda e: e.event_id)
                    assert uow.seen_events.of_token(token) == expected
                wanted = sorted((e for e in events if e.charge_id in charges), key=lambda e: e.key)
                assert uow.seen_events.of_charges(charges) == wanted
                assert uow.seen_events.flagged(limit=limit) == newest_first[:limit]
        finally:
            store.close()

    @_EXAMPLES
    @given(batches=_posting_batches(), data=st.data())
    def test_posting_finders_agree_with_a_plain_model(self, batches: list[list[Posting]], data: st.DataObject) -> None:
        first, last = sorted(data.draw(st.lists(st.integers(-1, 5), min_size=2, max_size=2)))
        on_from, on_to = _DAY + timedelta(days=first), _DAY + timedelta(days=last)
        account = data.draw(st.none() | st.sampled_from(_ACCOUNTS))
        history = data.draw(st.none() | st.sampled_from(_HISTORIES))
        store = self._fresh()
        try:
            for batch in batches:
                with store.unit_of_work() as uow:
                    uow.postings.add_many(batch)
                    uow.commit()
            recorded = [p for batch in batches for p in sorted(batch, key=lambda p: p.id)]
            with store.unit_of_work() as uow:
                for settlement_id in _SETTLEMENTS:
                    expected = [p for p in recorded if p.settlement_id == settlement_id]
                    assert uow.postings.of_settlement(settlement_id) == expected
                found = uow.postings.find(on_from=on_from, on_to=on_to, account=account, history=history)
            wanted = [
                p
                for p in recorded
                if on_from <= p.on <= on_to and account in (None, p.account) and history in (None, p.history)
            ]
            assert found == sorted(wanted, key=lambda p: (p.on, p.id))
        finally:
            store.close()
