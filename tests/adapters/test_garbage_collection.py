"""build_all: every item, in order, with automatic collection paused while building and restored after."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carteira.adapters.garbage_collection import RECORDS_PER_YOUNG_COLLECTION, build_all

around_batches = st.integers(0, 3 * RECORDS_PER_YOUNG_COLLECTION + 1) | st.sampled_from(
    [RECORDS_PER_YOUNG_COLLECTION - 1, RECORDS_PER_YOUNG_COLLECTION, RECORDS_PER_YOUNG_COLLECTION + 1]
)


def _watched(count: int, seen: list[bool]) -> Iterator[int]:
    for n in range(count):
        seen.append(gc.isenabled())
        yield n


@given(around_batches)
def test_every_item_in_order_with_the_collector_paused_then_restored(count: int) -> None:
    assert gc.isenabled()
    seen: list[bool] = []
    assert build_all(_watched(count, seen)) == list(range(count))
    assert seen == [False] * count
    assert gc.isenabled()


def test_a_collector_the_caller_turned_off_stays_off_and_nothing_is_collected() -> None:
    collected: list[int] = []

    def count_collections(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collected.append(info["generation"])

    gc.disable()
    gc.callbacks.append(count_collections)
    try:
        assert build_all(range(5 * RECORDS_PER_YOUNG_COLLECTION)) == list(range(5 * RECORDS_PER_YOUNG_COLLECTION))
        assert not gc.isenabled()
        assert collected == []
    finally:
        gc.callbacks.remove(count_collections)
        gc.enable()


def test_the_young_generations_are_collected_once_a_batch() -> None:
    collected: list[int] = []

    def count_collections(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collected.append(info["generation"])

    gc.callbacks.append(count_collections)
    try:
        build_all(range(3 * RECORDS_PER_YOUNG_COLLECTION + 1))
    finally:
        gc.callbacks.remove(count_collections)
    # Three full batches and the short last one; never the oldest generation.
    assert collected == [1, 1, 1, 1]


def test_the_collector_is_restored_when_building_raises() -> None:
    def failing() -> Iterator[int]:
        yield 1
        raise ValueError("row 2 is unreadable")

    with pytest.raises(ValueError, match="row 2"):
        build_all(failing())
    assert gc.isenabled()
