"""Registers carteira's strategies for ``st.from_type``; hypothesis calls the hook through its entry point.

The hook lives apart from :mod:`carteira.testing.strategies` because hypothesis runs entry
points while it is itself being imported, which may be from inside ``strategies``' own import;
deferred strategies reach that module only when a value is first drawn.
"""

from __future__ import annotations

from hypothesis import strategies as st

from carteira.domain import ChargeTerms, Installment, Money, Payment, SettlementPolicy, Tolerance

__all__: list[str] = []


def _hypothesis_setup_hook() -> None:
    """Register the domain types with hypothesis (called once, by hypothesis)."""
    from importlib import import_module

    def lazy(name: str) -> st.SearchStrategy[object]:
        return st.deferred(lambda: getattr(import_module("carteira.testing.strategies"), name)())

    st.register_type_strategy(Money, lazy("money"))
    st.register_type_strategy(ChargeTerms, lazy("charge_terms"))
    st.register_type_strategy(Installment, lazy("installments"))
    st.register_type_strategy(Payment, lazy("payments"))
    st.register_type_strategy(Tolerance, lazy("tolerances"))
    st.register_type_strategy(SettlementPolicy, lazy("policies"))
