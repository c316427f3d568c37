"""The reader's bank_title_number is normalize_title_number of the raw field, for every layout that reads it raw."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carteira.adapters.cnab import LAYOUTS, Layout, parse_return
from carteira.domain.title_numbers import normalize_title_number
from tests.adapters.cnab.synthetic import cnab240, cnab400, title, to_bytes

RAW_FIELD_LAYOUTS = sorted(key for key, layout in LAYOUTS.items() if not layout.title_number)


def _width(layout: Layout) -> int:
    (item,) = (item for item in layout.fields if item.name == "bank_title_number")
    return item.length


@pytest.mark.parametrize("layout_id", RAW_FIELD_LAYOUTS)
@settings(max_examples=25)
@given(data=st.data())
def test_the_normalized_number_is_the_public_normalizer_of_the_raw_field(layout_id: str, data: st.DataObject) -> None:
    layout = LAYOUTS[layout_id]
    width = _width(layout)
    raws = data.draw(st.lists(st.text(alphabet="0123456789 ", min_size=width, max_size=width), min_size=1, max_size=5))
    titles = [{**title(n), "bank_title_number": raw} for n, raw in enumerate(raws, 1)]
    lines = cnab240(layout, titles) if layout.format == "cnab240" else cnab400(layout, titles, bank=layout.bank_code)
    records = parse_return(to_bytes(lines), layout).records
    assert [record.bank_title_number_raw for record in records] == raws
    assert [record.bank_title_number for record in records] == [normalize_title_number(raw) for raw in raws]


def test_every_built_in_layout_but_three_reads_the_number_raw() -> None:
    # Itaú (both formats) and Sicoob 240 build it from stretches instead (decision 0201); the rest are covered above.
    assert sorted(set(LAYOUTS) - set(RAW_FIELD_LAYOUTS)) == ["itau-240", "itau-400", "sicoob-240"]
