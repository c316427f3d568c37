"""Fuzzing (SPEC Q8): whatever the bytes, the reader either parses or raises InvalidInput; nothing else escapes."""

from __future__ import annotations

import contextlib
import io
import sys
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from carteira.adapters.cnab import LAYOUTS, iter_records, parse_return
from carteira.errors import InvalidInput
from tests.adapters.cnab import fuzz
from tests.adapters.cnab.manifest import FILES
from tests.adapters.cnab.synthetic import bb240_file, cnab240, itau_file, title, to_bytes
from tests.support import CNAB_FIXTURES, unavailable

# A Sicoob 240 file with a payer CPF and CNPJ exercises the tax_id converter (kind, number, check digits).
PAYERS = [title(1) | {"payer_tax_id": "33806987840"}, title(2) | {"payer_tax_id": "03997783000118"}]
SEEDS = (
    to_bytes(itau_file(3)),
    to_bytes(bb240_file(3)),
    to_bytes(bb240_file(2), "\r\n"),
    to_bytes(cnab240(LAYOUTS["sicoob-240"], PAYERS, bank="756")),
)
# Bytes that matter to a CNAB reader: digits, blanks, line ends, the record-type and segment letters.
INTERESTING = st.sampled_from(list(b"0123456789 \r\n\x1aTUWY79RETORNO\xc7\xef\xbb\xbf"))


def outcome(data: bytes) -> object:
    """Parse ``data`` both ways; anything but success or InvalidInput fails the test."""
    try:
        whole = parse_return(data, source="fuzz")
    except InvalidInput:
        whole = None
    try:
        streamed = tuple(iter_records(io.BytesIO(data), source="fuzz"))
    except InvalidInput:
        streamed = None
    if whole is not None:
        # A file that parses whole also streams to the same records.
        assert streamed == whole.records
    return whole


@st.composite
def mutated(draw: st.DrawFn, seeds: tuple[bytes, ...]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["replace", "delete", "insert", "truncate", "duplicate_line", "drop_line"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "replace" and data:
            data[at] = draw(st.one_of(INTERESTING, st.integers(0, 255)))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 300))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=20))
        elif kind == "truncate":
            del data[at:]
        else:
            lines = bytes(data).split(b"\n")
            index = draw(st.integers(0, len(lines) - 1))
            if kind == "duplicate_line":
                lines.insert(index, lines[index])
            else:
                del lines[index]
            data = bytearray(b"\n".join(lines))
    return bytes(data)


@settings(max_examples=300)
@given(st.binary(max_size=2000))
def test_random_bytes_parse_or_raise_invalid_input(data: bytes) -> None:
    outcome(data)


@settings(max_examples=300)
@given(st.lists(INTERESTING, max_size=1500).map(bytes))
def test_cnab_like_noise_parses_or_raises_invalid_input(data: bytes) -> None:
    outcome(data)


@settings(max_examples=400)
@given(mutated(SEEDS))
def test_mutated_synthetic_files_parse_or_raise_invalid_input(data: bytes) -> None:
    outcome(data)


@cache
def fixture_seeds() -> tuple[bytes, ...]:
    paths = [CNAB_FIXTURES / name for name in sorted(FILES)]
    if not all(path.is_file() for path in paths):
        unavailable(f"CNAB fixtures are missing from {CNAB_FIXTURES}")
    # The small files keep each example cheap; every bank and both formats are among them.
    return tuple(p.read_bytes() for p in paths if p.stat().st_size < 20_000)


@pytest.mark.fixtures
@settings(max_examples=400)
@given(st.data())
def test_mutated_real_files_parse_or_raise_invalid_input(data: st.DataObject) -> None:
    data.draw(mutated(fixture_seeds()).map(outcome))


@settings(max_examples=100)
@given(mutated(SEEDS), st.sampled_from(sorted(LAYOUTS)))
def test_any_layout_on_any_bytes_parses_or_raises_invalid_input(data: bytes, layout_id: str) -> None:
    with contextlib.suppress(InvalidInput):
        parse_return(data, LAYOUTS[layout_id])


# --- issue #14: mutations of the real files, judged against the unmutated file (tests/adapters/cnab/fuzz.py) ---


def fixtures_folder() -> Path:
    if not all((CNAB_FIXTURES / name).is_file() for name in FILES):
        unavailable(f"CNAB fixtures are missing from {CNAB_FIXTURES}")
    return CNAB_FIXTURES


def judged(data: st.DataObject, kinds: tuple[str, ...]) -> fuzz.Judgement:
    """Draw a fixture and a mutation of one of ``kinds``; judge it, and check the stream reads it alike."""
    folder = fixtures_folder()
    name = data.draw(st.sampled_from(fuzz.fixture_names(folder)), label="fixture")
    kind = data.draw(st.sampled_from(kinds), label="kind")
    mutation = fuzz.mutate(folder, name, kind, lambda n: data.draw(st.integers(0, n - 1)))
    note(f"{name} {kind}: {mutation.detail}")
    judgement = fuzz.judge(folder, mutation)
    assert judgement.outcome not in fuzz.FAILURES, judgement.why
    outcome(mutation.data)
    return judgement


@pytest.mark.fixtures
@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_mutation_of_a_real_file_is_refused_with_line_and_field_or_read(data: st.DataObject) -> None:
    judged(data, fuzz.KINDS)


@pytest.mark.fixtures
@settings(max_examples=120, deadline=None)
@given(st.data())
def test_a_digit_changed_in_a_settled_amount_or_date_is_refused_warned_or_undetectable(data: st.DataObject) -> None:
    judgement = judged(data, ("digit",))
    if judgement.outcome is fuzz.Outcome.SILENT:
        assert judgement.undetectable, judgement.why


@pytest.mark.fixtures
@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_utf8_re_encoding_reads_back_the_latin1_values_or_is_refused(data: st.DataObject) -> None:
    assert judged(data, ("utf8",)).outcome in (fuzz.Outcome.WARNED, fuzz.Outcome.REFUSED)


@pytest.mark.fixtures
def test_a_seeded_sample_prints_the_counts(capsys: pytest.CaptureFixture[str]) -> None:
    # The long mode's own loop on a small sample (benchmarks/fuzz_returns.py --mutations 200000 runs it long).
    tally = fuzz.run(fixtures_folder(), 500, seed=14, kinds=fuzz.KINDS)
    with capsys.disabled():
        sys.stdout.write("\n" + fuzz.report(tally, fuzz.KINDS) + "\n")
    assert tally.failures == 0, tally.examples
    assert tally.count(fuzz.KINDS, fuzz.Outcome.REFUSED) > 0
    assert tally.count(fuzz.KINDS, fuzz.Outcome.WARNED) > 0
