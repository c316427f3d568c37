"""Carnet limits are a plain value the gateway supplies; plan_carnet keeps to whatever limits it is given."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carteira.domain import CarnetLimits, ChargeTerms, Installment, Money, carnet_due_dates, plan_carnet
from carteira.errors import InvalidInput, InvalidType

TERMS = ChargeTerms(Decimal("0.02"), Decimal("0.01"))


def _series(count: int) -> list[Installment]:
    return [
        Installment(f"p{n + 1}", "c1", due, Money("99.90"), TERMS, description="Plano")
        for n, due in enumerate(carnet_due_dates(date(2025, 1, 10), count))
    ]


def test_the_domain_knows_no_gateway_s_numbers() -> None:
    with pytest.raises(TypeError):
        CarnetLimits()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        plan_carnet(_series(3))  # type: ignore[call-arg]
    wide = CarnetLimits(min_parcels=1, max_parcels=60)  # no 24 cap: another gateway may allow more
    assert [len(c.parcel_ids) for c in plan_carnet(_series(60), wide).carnets] == [60]


@pytest.mark.parametrize(
    ("low", "high", "field"), [(0, 3, "min_parcels"), (-1, 3, "min_parcels"), (4, 3, "max_parcels")]
)
def test_limits_out_of_order_or_below_one_are_refused(low: int, high: int, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        CarnetLimits(min_parcels=low, max_parcels=high)
    assert caught.value.field == field


@pytest.mark.parametrize("bad", [True, 2.0, "2", None])
def test_a_count_that_is_not_a_whole_number_is_a_type_error(bad: object) -> None:
    with pytest.raises(InvalidType) as caught:
        CarnetLimits(min_parcels=bad, max_parcels=12)  # type: ignore[arg-type]
    assert caught.value.field == "min_parcels"


def test_limits_that_are_not_carnet_limits_are_refused() -> None:
    with pytest.raises(InvalidType) as caught:
        plan_carnet(_series(3), (2, 12))  # type: ignore[arg-type]
    assert caught.value.field == "limits"


@given(
    count=st.integers(1, 40),
    low=st.integers(1, 6),
    extra=st.integers(0, 14),
)
def test_every_parcel_goes_once_and_every_carnet_keeps_to_the_limits(count: int, low: int, extra: int) -> None:
    limits = CarnetLimits(min_parcels=low, max_parcels=low + extra)
    series = _series(count)
    plan = plan_carnet(series, limits)
    sent = list(plan.billets) + [pid for carnet in plan.carnets for pid in carnet.parcel_ids]
    assert sorted(sent) == sorted(p.id for p in series)
    assert all(limits.min_parcels <= carnet.repeats <= limits.max_parcels for carnet in plan.carnets)
    # A qualifying series is cut greedily: only a remainder under the minimum goes as billets.
    assert len(plan.billets) == (count % limits.max_parcels if count % limits.max_parcels < low else 0)
