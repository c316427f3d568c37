"""What every store does the same way with return batches: checking what ``add`` is given, naming a duplicate.

A batch's file side (its digest, layout, bank, agreement, file sequence, record count, source) and
a record's file side (what the file said, its flags included) are written once, by ``add``. Later writes change only
what the clerk's work changes (:data:`BATCH_MUTABLE`, :data:`RECORD_MUTABLE`); the rest is kept as
added, so a unique key on the digest or the file key can never be broken by an update.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from carteira.domain.return_batch import BatchRecord, ReturnBatch
from carteira.errors import DuplicateImport, InvalidInput

__all__ = [
    "BATCH_KIND",
    "BATCH_MUTABLE",
    "RECORD_KIND",
    "RECORD_MUTABLE",
    "check_new",
    "duplicate_import",
    "duplicate_key",
    "first_duplicate",
    "record_key",
]

BATCH_KIND: Final = "return batch"
"""The kind a ``Conflict`` or ``NotFound`` names for a batch."""

RECORD_KIND: Final = "batch record"
"""The kind a ``Conflict`` names for a record (its key is ``"<batch id>:<line>"``)."""

BATCH_MUTABLE: Final = ("description", "process_date", "status", "warnings")
"""The fields of a batch that ``put`` writes; the file's facts stay as ``add`` stored them."""

RECORD_MUTABLE: Final = (
    "links", "origin", "settlement_ids", "confirmed_once", "note", "acknowledged_by", "acknowledged_at",
)  # fmt: skip
"""The fields of a record that ``put_records`` writes; what the file said stays as ``add`` stored it."""


def record_key(record: BatchRecord) -> str:
    """The one-text key of ``record`` that a ``Conflict`` names: ``"<batch id>:<line>"``."""
    return f"{record.batch_id}:{record.line}"


def check_new(batch: ReturnBatch, records: Sequence[BatchRecord]) -> None:
    """Refuse what ``add`` cannot store: a batch or record read from a store, another batch's record, a line twice.

    Raises:
        InvalidInput: naming the batch, or the first record at fault, and why.
    """
    if batch.version != 0:
        raise InvalidInput(
            f"batch {batch.id!r} has version {batch.version}; add stores a new batch (version 0), put updates one",
            field="batch",
        )
    seen: set[int] = set()
    for record in records:
        if record.batch_id != batch.id:
            raise InvalidInput(
                f"record on line {record.line} belongs to batch {record.batch_id!r}, not {batch.id!r}",
                field="records",
                line=record.line,
            )
        if record.line in seen:
            raise InvalidInput(f"line {record.line} appears twice; add each record once", field="records",
                               line=record.line)  # fmt: skip
        if record.version != 0:
            raise InvalidInput(
                f"record on line {record.line} has version {record.version}; a new batch's records have version 0",
                field="records",
                line=record.line,
            )
        seen.add(record.line)


def duplicate_key(new: ReturnBatch, earlier: ReturnBatch) -> str | None:
    """Which key ``new`` shares with ``earlier`` (``"digest"`` first, then ``"file key"``), or ``None``."""
    if new.digest == earlier.digest:
        return "digest"
    if new.file_key is not None and new.file_key == earlier.file_key:
        return "file key"
    return None


def first_duplicate(batch: ReturnBatch, stored: Iterable[ReturnBatch]) -> DuplicateImport | None:
    """The ``DuplicateImport`` for adding ``batch`` when one of ``stored`` (another id) is the same file, else ``None``.

    A batch with the same digest is named before one with only the same file key.
    """
    by_key: dict[str, ReturnBatch] = {}
    for earlier in stored:
        if earlier.id == batch.id:
            continue  # the same id is a Conflict (it already exists), not a second import
        key = duplicate_key(batch, earlier)
        if key is not None:
            by_key.setdefault(key, earlier)
    for key in ("digest", "file key"):
        if key in by_key:
            return duplicate_import(batch, by_key[key], key)
    return None


def duplicate_import(new: ReturnBatch, earlier: ReturnBatch, key: str) -> DuplicateImport:
    """The ``DuplicateImport`` for adding ``new`` when ``earlier`` is stored with the same ``key``."""
    if key == "digest":
        same = f"the same bytes (SHA-256 {new.digest[:16]}…)"
    else:
        same = f"the same bank, agreement and file sequence ({new.file_key})"
    return DuplicateImport(
        f"this return file was already imported as batch {earlier.id!r} ({earlier.description!r}, "
        f"process date {earlier.process_date.isoformat()}): {same}; open that batch instead, "
        "or delete it first to import the file again",
        earlier_batch_id=earlier.id,
    )
