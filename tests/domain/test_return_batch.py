"""A batch's records move through link, confirm and reactivation; the batch's status follows them (SPEC B3-B9)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carteira.domain import Money
from carteira.domain.return_batch import BatchRecord, BatchStatus, LinkOrigin, RecordFilter, batch_status
from carteira.errors import InvalidInput, InvalidType, RuleViolation


def _record(line: int, *, settlement: bool = True) -> BatchRecord:
    return BatchRecord(
        batch_id="b1", line=line, movement_code="06" if settlement else "02",
        category="settled" if settlement else "entry_confirmed", is_settlement=settlement, is_rejection=False,
        bank_title_number=str(line), document_number=None, due_date=date(2026, 3, 10), face_value=Money("10.00"),
        paid=Money("10.00"), discount=None, abatement=None, interest_and_fine=None, tariff=None, other_credits=None,
        occurrence_date=date(2026, 3, 10), credit_date=date(2026, 3, 11),
    )  # fmt: skip


def test_filters_tell_auto_manual_and_open_apart() -> None:
    auto = _record(1).linked(["i1"], LinkOrigin.AUTO)
    manual = _record(2).linked(["i2"], LinkOrigin.MANUAL)
    open_ = _record(3)
    entry = _record(4, settlement=False)
    records = [auto, manual, open_, entry]
    assert [r.line for r in records if r.matches(RecordFilter.AUTO)] == [1]
    assert [r.line for r in records if r.matches(RecordFilter.MANUAL)] == [2]
    assert [r.line for r in records if r.matches(RecordFilter.OPEN)] == [3]
    assert len([r for r in records if r.matches(RecordFilter.ALL)]) == 4


def test_a_non_settlement_record_is_never_linked() -> None:
    with pytest.raises(InvalidInput, match="not a settlement"):
        _record(1, settlement=False).linked(["i1"], LinkOrigin.MANUAL)


def test_a_settled_record_keeps_its_links_until_reactivated() -> None:
    settled = _record(1).linked(["i1"], LinkOrigin.AUTO).settled_by(["i1/S1"])
    with pytest.raises(RuleViolation):
        settled.unlinked()
    with pytest.raises(RuleViolation):
        settled.linked(["i2"], LinkOrigin.MANUAL)
    assert settled.reopened().unlinked().links == ()


def test_status_imported_then_pending_then_completed_and_back_to_pending() -> None:
    first, second = _record(1).linked(["i1"], LinkOrigin.AUTO), _record(2).linked(["i2"], LinkOrigin.AUTO)
    assert batch_status([first, second]) is BatchStatus.IMPORTED
    first = first.settled_by(["i1/S1"])
    assert batch_status([first, second]) is BatchStatus.PENDING
    second = second.settled_by(["i2/S1"])
    assert batch_status([first, second, _record(3, settlement=False)]) is BatchStatus.COMPLETED
    assert batch_status([first.reopened(), second]) is BatchStatus.PENDING
    assert batch_status([first.reopened(), second.reopened()]) is BatchStatus.PENDING


@given(st.lists(st.sampled_from(["open", "linked", "settled", "reopened", "entry"]), max_size=8))
def test_status_is_completed_exactly_when_no_settlement_record_is_left(states: list[str]) -> None:
    records = []
    for line, state in enumerate(states, 1):
        record = _record(line, settlement=state != "entry")
        if state in ("linked", "settled", "reopened"):
            record = record.linked([f"i{line}"], LinkOrigin.AUTO)
        if state in ("settled", "reopened"):
            record = record.settled_by([f"i{line}/S1"])
        if state == "reopened":
            record = record.reopened()
        records.append(record)
    status = batch_status(records)
    left = [r for r in records if r.is_settlement and not r.is_settled]
    assert (status is BatchStatus.COMPLETED) == (not left)
    if status is BatchStatus.IMPORTED:
        assert not any(r.confirmed_once for r in records)


def test_a_batch_refuses_a_blank_description_and_a_text_date_naming_the_field() -> None:
    from carteira.domain.return_batch import ReturnBatch
    from carteira.errors import InvalidType

    fields: dict[str, object] = {
        "id": "B1", "description": "March", "process_date": date(2026, 3, 10), "source": "", "digest": "ab",
        "layout_id": "bb-240", "bank_code": "001", "agreement": None, "file_sequence": None, "record_count": 0,
    }  # fmt: skip
    assert ReturnBatch(**fields).description == "March"  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as blank:
        ReturnBatch(**{**fields, "description": "  "})  # type: ignore[arg-type]
    assert blank.value.field == "description"
    with pytest.raises(InvalidType) as text_date:
        ReturnBatch(**{**fields, "process_date": "2026-03-10"})  # type: ignore[arg-type]
    assert text_date.value.field == "process_date"


_AT = datetime(2026, 3, 20, 15, 0, tzinfo=UTC)


def test_an_acknowledgement_names_who_and_when_and_only_a_flagged_record_has_one() -> None:
    flagged = attrs.evolve(_record(1), flags=("sum:paid",))
    acknowledged = flagged.acknowledged("ana", _AT)
    assert (acknowledged.acknowledged_by, acknowledged.acknowledged_at) == ("ana", _AT)
    assert acknowledged.acknowledged("bruno", _AT.replace(hour=16)) is acknowledged  # the first one stays
    with pytest.raises(InvalidInput, match="nothing to acknowledge") as caught:
        _record(2).acknowledged("ana", _AT)
    assert caught.value.line == 2
    wrong = [
        ({"acknowledged_by": "ana"}, "acknowledged_at"),
        ({"acknowledged_at": _AT}, "acknowledged_by"),
        ({"acknowledged_by": " ", "acknowledged_at": _AT}, "acknowledged_by"),
        ({"acknowledged_by": "ana", "acknowledged_at": _AT.replace(tzinfo=None)}, "acknowledged_at"),
        ({"flags": ("",)}, "flags"),
        ({"flags": ["sum:paid"]}, "flags"),
    ]
    for fields, field in wrong:
        with pytest.raises((InvalidInput, InvalidType)) as refused:
            attrs.evolve(flagged, **fields)
        assert refused.value.field == field, fields
    with pytest.raises(InvalidInput, match="no flags"):
        attrs.evolve(_record(3), acknowledged_by="ana", acknowledged_at=_AT)


def test_a_flagged_record_is_settled_only_acknowledged() -> None:
    flagged = attrs.evolve(_record(1), flags=("sequence_gap",)).linked(["i1"], LinkOrigin.AUTO)
    assert flagged.awaits_acknowledgement
    assert flagged.matches(RecordFilter.FLAGGED)
    assert not _record(2).matches(RecordFilter.FLAGGED)
    with pytest.raises(InvalidInput, match="not acknowledged"):
        attrs.evolve(flagged, settlement_ids=("i1/S1",))
    settled = flagged.acknowledged("ana", _AT).settled_by(["i1/S1"])
    assert not settled.matches(RecordFilter.FLAGGED)
    assert settled.reopened().acknowledged_by == "ana"  # a reactivation does not undo the acknowledgement
