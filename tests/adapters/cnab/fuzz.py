"""Fuzzing the return-file reader with mutations of the 34 real fixture files (issue #14, SPEC Q8).

Each mutation is one thing a careless operator, an editor or a transfer does to a bank's file: a line
deleted or duplicated, a stray byte, changed line ends, a UTF-8 re-encoding, one digit changed inside an
amount or a date of a settled title, a file cut short. Each outcome is judged against the unmutated file:

* refused: ``InvalidInput`` naming a line (>= 1) and a field;
* warned: parsed, with a warning (or a changed one) the original did not have;
* no effect: parsed to the same values and warnings (line numbers aside: a blank line at the top moves them);
* silently changed: parsed to other values with no new warning.

What must hold: nothing but ``InvalidInput`` escapes (crashes 0), every refusal names its line and field
(untyped 0), every digit changed inside an amount or a date of a settled title is refused, warned about or
provably undetectable (no check the file carries covers that field: missed 0), a byte inserted into a line
changes values silently only where the line's trailing blanks were stripped (so its length shows nothing),
and a UTF-8 re-encoding either reads back exactly the Latin-1 file's values or is refused. ``test_fuzz.py``
draws the mutations with hypothesis on every CI run; the long mode, ``benchmarks/fuzz_returns.py``, draws
them from a seeded ``random.Random`` (:func:`run`) and prints the counts (:func:`report`).
"""

from __future__ import annotations

import enum
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

import attrs

from carteira.adapters.cnab import LAYOUTS, FieldType, Layout, parse_return
from carteira.errors import CarteiraError, InvalidInput
from carteira.ports.return_files import MovementCategory, ReturnFile, ReturnRecord

KINDS = ("delete_line", "duplicate_line", "stray_byte", "line_ends", "utf8", "digit", "cut")
"""The kinds of mutation, each drawn as often as the others."""

Pick = Callable[[int], int]
"""A source of choices: ``pick(n)`` is a number from 0 to n - 1 (hypothesis draws it, or ``random``)."""

_ACCENTED = "ÁÉÍÓÚÂÊÔÃÕÇáéíóúâêôãõçº"
_STRAY = b"0123456789 ABCTUWY\r\n\t\x00\x1a\xc7\xe9\xff"
_LINE_NUMBER = re.compile(r"^line \d+: ")


class Outcome(enum.Enum):
    """How the reader took one mutation (the last three must never happen)."""

    REFUSED = "refused"
    WARNED = "warned"
    NO_EFFECT = "no effect"
    SILENT = "silently changed"
    CRASH = "crash (an exception other than InvalidInput)"
    UNTYPED = "untyped (a refusal without its line or field)"
    MISSED = "missed (a covered digit or a full line's byte changed values silently, or UTF-8 read back wrong)"


FAILURES = (Outcome.CRASH, Outcome.UNTYPED, Outcome.MISSED)


@attrs.frozen
class Mutation:
    """One mutated file: which fixture, what was done, and for a digit the field and record it changed."""

    seed: str
    kind: str
    data: bytes
    detail: str
    field: str | None = None
    line: int | None = None
    twin: bytes | None = None  # utf8: the same change kept in Latin-1, which must read the same


@attrs.frozen
class Judgement:
    """The outcome of a mutation and why; ``undetectable`` marks a silent change no check covers."""

    outcome: Outcome
    why: str = ""
    undetectable: bool = False


# --- the fixtures -------------------------------------------------------------------------------------


def fixture_names(folder: Path) -> tuple[str, ...]:
    """Every fixture file in ``folder``, by name."""
    return tuple(sorted(path.name for path in folder.glob("*.ret")))


@cache
def _bytes(folder: Path, name: str) -> bytes:
    return (folder / name).read_bytes()


@cache
def original(folder: Path, name: str) -> ReturnFile | None:
    """The fixture as read unmutated (``None`` for the one that is refused: the rejection report)."""
    try:
        return parse_return(_bytes(folder, name), source=name)
    except InvalidInput:
        return None


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


# --- the mutations ------------------------------------------------------------------------------------


def mutate(folder: Path, name: str, kind: str, pick: Pick) -> Mutation:
    """A mutation of fixture ``name`` of ``kind``, every choice made by ``pick``."""
    data = _bytes(folder, name)
    if kind == "digit":
        found = _digit(folder, name, data, pick)
        if found is not None:
            return found
        kind = "stray_byte"  # a file without a settled title: mutate it otherwise
    if kind == "utf8":
        return _utf8(folder, name, data, pick)
    if kind in ("delete_line", "duplicate_line"):
        lines = _lines(data)
        at = pick(len(lines))
        lines[at : at + 1] = [] if kind == "delete_line" else [lines[at], lines[at]]
        return Mutation(name, kind, b"\n".join(lines), f"line {at + 1}")
    if kind == "stray_byte":
        at = pick(len(data) + 1)
        byte = _STRAY[pick(len(_STRAY))] if pick(2) else pick(256)
        detail = f"byte {byte:#04x} at offset {at}"
        return Mutation(name, kind, data[:at] + bytes([byte]) + data[at:], detail, line=data.count(b"\n", 0, at) + 1)
    if kind == "cut":
        at = pick(len(data))
        return Mutation(name, kind, data[:at], f"cut after {at} bytes")
    return _line_ends(name, data, pick)


_LINE_END_CHANGES: tuple[tuple[str, Callable[[bytes], bytes]], ...] = (
    ("LF to CRLF", lambda d: d.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")),
    ("CRLF to LF", lambda d: d.replace(b"\r\n", b"\n")),
    ("LF then CR", lambda d: d.replace(b"\r\n", b"\n").replace(b"\n", b"\n\r")),
    ("CR alone", lambda d: d.replace(b"\r\n", b"\n").replace(b"\n", b"\r")),
    ("no final newline", lambda d: d.rstrip(b"\r\n")),
    ("blank lines at the end", lambda d: d + b"\n\n  \n"),
    ("blank lines at the top", lambda d: b"\n\r\n" + d),
    ("a byte-order mark", lambda d: b"\xef\xbb\xbf" + d),
    ("a DOS end of file", lambda d: d + b"\x1a"),
)


def _line_ends(name: str, data: bytes, pick: Pick) -> Mutation:
    lines = _lines(data)
    choice = pick(len(_LINE_END_CHANGES) + 1)
    if choice == len(_LINE_END_CHANGES):  # a blank line inside the file
        at = pick(len(lines))
        return Mutation(name, "line_ends", b"\n".join([*lines[:at], b"", *lines[at:]]), f"blank line at {at + 1}")
    label, change = _LINE_END_CHANGES[choice]
    return Mutation(name, "line_ends", change(data), label)


# Text areas an accented letter may really appear in (1-based, inclusive): names in headers and segments.
_TEXT_240 = {"0": (73, 102), "1": (74, 103), "T": (149, 188), "U": (181, 210), "5": (124, 200), "9": (36, 200)}
_TEXT_400 = {"0": (47, 76), "9": (300, 390)}


def _text_positions(layout: Layout | None, line: bytes) -> list[int]:
    """0-based positions of ``line`` where text (not numbers) sits, so an accent there changes no number."""
    text = line.rstrip(b"\r").decode("latin-1")
    if layout is not None and layout.format == "cnab240":
        kind = text[13:14] if text[7:8] == "3" else text[7:8]
        first, last = _TEXT_240.get(kind, (20, 240))
    elif layout is not None and text[:1] in layout.detail_types:
        return [at for item in layout.fields if item.type is FieldType.TEXT for at in range(item.start - 1, item.end)]
    else:
        first, last = _TEXT_400.get(text[:1], (20, 390))
    return list(range(first - 1, last))


def _utf8(folder: Path, name: str, data: bytes, pick: Pick) -> Mutation:
    """An accented letter written into a text area, then the file re-encoded as UTF-8 by an "editor"."""
    parsed = original(folder, name)
    lines = _lines(data)
    filled = [at for at, line in enumerate(lines) if line.strip()]
    at = filled[pick(len(filled))]
    positions = _text_positions(LAYOUTS[parsed.layout_id] if parsed is not None else None, lines[at])
    column = positions[pick(len(positions))]
    letter = _ACCENTED[pick(len(_ACCENTED))].encode("latin-1")
    end = b"\r" if lines[at].endswith(b"\r") else b""
    line = lines[at].rstrip(b"\r").ljust(column + 1)
    lines[at] = line[:column] + letter + line[column + 1 :] + end
    twin = b"\n".join(lines)
    utf8 = twin.decode("latin-1").encode("utf-8")
    return Mutation(name, "utf8", utf8, f"{letter.decode('latin-1')!r} at line {at + 1} column {column + 1}", twin=twin)


def _digit(folder: Path, name: str, data: bytes, pick: Pick) -> Mutation | None:
    """One digit changed inside an amount or a date of a settled title."""
    parsed = original(folder, name)
    settled = [r for r in parsed.records if r.category is MovementCategory.SETTLED] if parsed is not None else []
    if parsed is None or not settled:
        return None
    record = settled[pick(len(settled))]
    layout = LAYOUTS[parsed.layout_id]
    lines = _lines(data)
    choices = []
    for item in layout.fields:
        if item.type not in (FieldType.MONEY, FieldType.DATE):
            continue
        number = record.lines[1] if item.record == "U" else record.line
        text = lines[number - 1]
        choices.extend((item.name, number, at) for at in range(item.start - 1, item.end) if text[at : at + 1].isdigit())
    field, number, at = choices[pick(len(choices))]
    text = bytearray(lines[number - 1])
    old = text[at] - ord("0")
    new = (old + 1 + pick(9)) % 10
    text[at] = ord("0") + new
    lines[number - 1] = bytes(text)
    detail = f"{field} on line {number} column {at + 1}: {old} -> {new}"
    return Mutation(name, "digit", b"\n".join(lines), detail, field=field, line=record.line)


# --- judging ------------------------------------------------------------------------------------------


def _values(result: ReturnFile) -> tuple[object, ...]:
    # Line numbers aside: a blank line at the top moves every record without changing what it says.
    header = (result.layout_id, result.bank_code, result.agreement, result.file_sequence, result.generated_on)
    return (*header, *(record._replace(line=0, lines=()) for record in result.records))


def _warnings(result: ReturnFile) -> list[str]:
    return sorted(_LINE_NUMBER.sub("", warning) for warning in result.warnings)


def covered(layout: Layout, field: str, record: ReturnRecord) -> bool:
    """Whether a check the layout declares covers ``field`` of ``record``: a sum it is in, or a trailer total."""
    if any(check.sums == field for check in (*layout.trailer_checks, *layout.lot_trailer_checks)):
        return True
    derived = {d.name: d for d in layout.derived}

    def names(name: str) -> set[str]:
        if name in derived:
            return {base for term in derived[name].terms for base in names(term.lstrip("-"))}
        return {name}

    for check in layout.sum_checks:
        if check.when and record.category not in check.when:
            continue
        if getattr(record, check.name, record.extra.get(check.name)) is None:
            continue
        if field in names(check.name) or any(field in names(term.lstrip("-")) for term in check.terms):
            return True
    return False


def judge(folder: Path, mutation: Mutation) -> Judgement:
    """How the reader took ``mutation``, against the unmutated fixture."""
    try:
        result = parse_return(mutation.data, source=mutation.seed)
    except InvalidInput as error:
        if error.line is None or error.line < 1 or not error.field:
            return Judgement(Outcome.UNTYPED, f"{error!r}: line {error.line!r}, field {error.field!r}")
        return Judgement(Outcome.REFUSED, f"{error.field}: {error.reason}")
    except CarteiraError as error:
        return Judgement(Outcome.UNTYPED, repr(error))
    except Exception as error:  # the point of fuzzing: anything else is a crash to report
        return Judgement(Outcome.CRASH, repr(error))
    before = original(folder, mutation.seed)
    if mutation.twin is not None:
        return _judge_utf8(mutation, result)
    if before is None:
        return Judgement(Outcome.MISSED, "a file refused unmutated was read")  # the rejection report parsed
    if _warnings(result) != _warnings(before):
        return Judgement(Outcome.WARNED, "; ".join(set(result.warnings) - set(before.warnings))[:200])
    if _values(result) == _values(before):
        return Judgement(Outcome.NO_EFFECT)
    if mutation.kind == "digit":
        record = next(r for r in before.records if r.line == mutation.line)
        assert mutation.field is not None
        if covered(LAYOUTS[before.layout_id], mutation.field, record):
            return Judgement(Outcome.MISSED, f"{mutation.field} is covered by a check, yet changed silently")
        return Judgement(Outcome.SILENT, f"no check covers {mutation.field}", undetectable=True)
    if mutation.kind == "stray_byte":
        if _trimmed(folder, mutation, LAYOUTS[before.layout_id]):
            # A line whose trailing blanks were stripped has no length to check: a byte inserted is read as data.
            return Judgement(Outcome.SILENT, "inserted into a line shorter than its record", undetectable=True)
        return Judgement(Outcome.MISSED, "a byte inserted into a full-length line changed values silently")
    return Judgement(Outcome.SILENT)


def _trimmed(folder: Path, mutation: Mutation, layout: Layout) -> bool:
    """Whether the line ``mutation`` inserted a byte into was shorter than a record before, and is not longer now."""
    assert mutation.line is not None
    line = _lines(_bytes(folder, mutation.seed))[mutation.line - 1].rstrip(b"\r")
    return len(line) < layout.record_length


def _judge_utf8(mutation: Mutation, result: ReturnFile) -> Judgement:
    assert mutation.twin is not None
    try:
        twin = parse_return(mutation.twin, source=mutation.seed)
    except InvalidInput:
        return Judgement(Outcome.MISSED, "read from UTF-8 though its Latin-1 twin is refused")
    if result.records != twin.records:
        return Judgement(Outcome.MISSED, "read back from UTF-8 to other values than its Latin-1 twin")
    if any("re-encoded as UTF-8" in warning for warning in result.warnings):
        return Judgement(Outcome.WARNED, "read back from UTF-8")
    return Judgement(Outcome.NO_EFFECT, "no byte above 127: nothing re-encoded")


# --- the long mode ------------------------------------------------------------------------------------


@attrs.define
class Tally:
    """Outcomes per kind of mutation, and how many silent changes were provably undetectable."""

    outcomes: Counter[tuple[str, Outcome]] = attrs.field(factory=Counter)
    undetectable: Counter[str] = attrs.field(factory=Counter)
    examples: list[str] = attrs.field(factory=list)  # the first failures, to reproduce them

    def add(self, kind: str, judgement: Judgement) -> None:
        """Count one judged mutation of ``kind``."""
        self.outcomes[kind, judgement.outcome] += 1
        self.undetectable[kind] += judgement.undetectable

    def count(self, kinds: Iterable[str], outcome: Outcome) -> int:
        """How many mutations of ``kinds`` had ``outcome``."""
        return sum(self.outcomes[kind, outcome] for kind in kinds)

    @property
    def failures(self) -> int:
        """Crashes, untyped refusals and misses: each one is a bug."""
        return sum(n for (_, outcome), n in self.outcomes.items() if outcome in FAILURES)


def run(folder: Path, mutations: int, seed: int, kinds: tuple[str, ...]) -> Tally:
    """Draw ``mutations`` mutations from ``random.Random(seed)`` and judge them; the first failures are kept."""
    rnd = random.Random(seed)
    names = fixture_names(folder)
    tally = Tally()
    for _ in range(mutations):
        mutation = mutate(folder, names[rnd.randrange(len(names))], kinds[rnd.randrange(len(kinds))], rnd.randrange)
        judgement = judge(folder, mutation)
        tally.add(mutation.kind, judgement)
        if judgement.outcome in FAILURES and len(tally.examples) < 20:
            tally.examples.append(
                f"{judgement.outcome.value}: {mutation.seed} {mutation.kind} {mutation.detail}: {judgement.why}"
            )
    return tally


def report(tally: Tally, kinds: tuple[str, ...]) -> str:
    """The counts per kind of mutation and in all, as a Markdown table."""
    columns = (Outcome.REFUSED, Outcome.WARNED, Outcome.SILENT, Outcome.NO_EFFECT, *FAILURES)
    heads = ["kind", "mutations", "refused", "warned", "silently changed (of which undetectable)", "no effect",
             "crashes", "untyped", "missed"]  # fmt: skip
    rows = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for kind in (*kinds, "all"):
        wanted = kinds if kind == "all" else (kind,)
        counts = [tally.count(wanted, outcome) for outcome in columns]
        cells = [f"{n:,}" for n in counts]
        cells[2] += f" ({sum(tally.undetectable[k] for k in wanted):,})"
        rows.append(f"| {kind} | {sum(counts):,} | " + " | ".join(cells) + " |")
    return "\n".join(rows)
