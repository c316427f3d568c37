"""What a bulk write returns (``Stored``, decision 0352): the records written, one version on, as a list holds them.

The property: for any records and any way of reading the result (an index, a negative one, a slice, a
loop), ``Stored`` reads exactly as the eager list of ``with_version`` copies, equals that list both
ways round, and does not change when the caller's list does. Then, on SQLite, what ``put_many`` and
``put_records`` return is what the store then reads back.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carteira.adapters.storage import SqliteStore
from carteira.adapters.storage.versions import Stored, with_version
from carteira.domain import Installment
from carteira.domain.return_batch import BatchRecord, LinkOrigin
from carteira.testing.contracts.storage import a_batch, a_record, an_installment
from carteira.testing.strategies import batch_records, installments

_READS = st.lists(
    st.one_of(
        st.tuples(st.just("index"), st.integers(-8, 7)),
        st.tuples(st.just("slice"), st.tuples(st.none() | st.integers(-8, 8), st.none() | st.integers(-8, 8))),
        st.tuples(st.just("loop"), st.none()),
    ),
    max_size=6,
)


@given(st.lists(installments(), max_size=6), _READS)
def test_stored_reads_as_the_eager_list_of_bumped_copies(
    written: list[Installment], reads: list[tuple[str, object]]
) -> None:
    versioned = [attrs.evolve(item, version=n) for n, item in enumerate(written)]
    eager = [with_version(item, item.version + 1) for item in versioned]
    stored = Stored(versioned)
    versioned.reverse()  # the caller's list changing does not change what was stored
    assert len(stored) == len(eager)
    for kind, argument in reads:
        if kind == "index":
            assert isinstance(argument, int)
            if -len(eager) <= argument < len(eager):
                assert stored[argument] == eager[argument]
                assert stored[argument] is stored[argument]  # copied once
            else:
                with pytest.raises(IndexError):
                    stored[argument]
        elif kind == "slice":
            assert isinstance(argument, tuple)
            assert stored[slice(*argument)] == eager[slice(*argument)]
        else:
            assert list(stored) == eager
    assert stored == eager
    assert eager == stored
    assert [item.version for item in stored] == list(range(1, len(eager) + 1))


@given(batch_records(max_size=3).filter(bool))
def test_stored_equals_only_the_same_records_in_the_same_order(written: list[BatchRecord]) -> None:
    stored = Stored(written)
    eager = [with_version(record, record.version + 1) for record in written]
    assert stored == eager
    assert stored == tuple(eager)
    assert stored == Stored(written)
    assert stored != eager[:-1]
    assert stored != [*eager, eager[0]]
    assert stored != written  # the versions differ
    if len(eager) > 1:
        assert stored != eager[::-1]
    assert stored != "not a sequence"
    assert (stored == 3) is False
    with pytest.raises(TypeError):
        hash(stored)
    assert repr(stored) == f"Stored({eager!r})"


def test_what_sqlite_returns_from_a_bulk_write_is_what_it_then_reads(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "store.db")
    store.migrate()
    with store.unit_of_work() as uow:
        stored = uow.installments.put_many([an_installment("i1"), an_installment("i2")])
        uow.return_batches.add(a_batch("b1"), [a_record("b1", 1), a_record("b1", 2)])
        uow.commit()
    assert isinstance(stored, Stored)
    with store.unit_of_work() as uow:
        assert list(stored) == [uow.installments.get("i1"), uow.installments.get("i2")]
        again = uow.installments.put_many([attrs.evolve(stored[1], description="again")])
        read = uow.return_batches.records("b1")
        records = uow.return_batches.put_records([r.linked(["i1"], LinkOrigin.MANUAL) for r in read])
        uow.commit()
    assert isinstance(records, Stored)
    with store.unit_of_work() as uow:
        assert again == [uow.installments.get("i2")]
        assert again[0].version == 2
        assert records == uow.return_batches.records("b1")
