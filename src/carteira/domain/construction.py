"""Building the domain's frozen values from parts the domain has just computed and checked.

Settlement is the library's hot path (``benchmarks/domain.py``): one call builds an amount due,
a settlement, the state before it, the next installment and the outcome. Running every
validator again on values the domain itself derived, under paired assertions, would cost more
than the arithmetic; this builds them directly instead. Nothing here is for input from outside.
"""

from __future__ import annotations

from typing import Any, TypeVar

__all__: list[str] = []

T = TypeVar("T")

_new_instance = object.__new__
_set_attribute = object.__setattr__


def built(cls: type[T], fields: dict[str, Any]) -> T:
    """An instance of the dict-backed attrs class ``cls`` whose attributes are exactly ``fields``.

    ``fields`` must name every attribute of ``cls`` (tests/domain/test_construction.py checks
    each use) and becomes the instance's ``__dict__``, so the caller must not keep it.
    """
    instance: T = _new_instance(cls)
    # Frozen attrs classes refuse ordinary assignment; object.__setattr__ is how attrs itself sets them.
    _set_attribute(instance, "__dict__", fields)
    return instance
