"""Building the domain's frozen values from parts the domain has just computed and checked.

Settlement is the library's hot path (``benchmarks/domain.py``): one call builds an amount due,
a settlement, the state before it, the next installment and the outcome. Running every
validator again on values the domain itself derived, under paired assertions, would cost more
than the arithmetic; this builds them directly instead. Nothing here is for input from outside.
"""

from __future__ import annotations

from typing import Any, TypeVar

import attrs

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


_FIELDS: dict[type[Any], dict[str, Any]] = {}


def evolved(instance: T, **changes: Any) -> T:
    """What ``attrs.evolve(instance, **changes)`` makes, running only the validators of the fields that change.

    The other fields were checked when ``instance`` was built, are immutable, and are shared as they are;
    the changed fields go through their own validators in the class's order (so the first bad field is the
    one ``attrs.evolve`` names), then the class's ``__attrs_post_init__`` (its checks across fields) runs on
    the result. For the frozen attrs classes of the domain, whose fields have no converters, dict-backed or
    slotted; tests/domain/test_construction.py checks it against ``attrs.evolve``.
    """
    cls = type(instance)
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = _FIELDS[cls] = {field.name: field for field in attrs.fields(cls)}  # type: ignore[arg-type]
    for name in changes:
        if name not in fields:
            raise TypeError(f"{cls.__name__} has no field {name!r}")
    made = _copied(instance, fields, changes)
    for name, field in fields.items() if len(changes) > 1 else ((name, fields[name]) for name in changes):
        if name in changes and field.validator is not None:
            field.validator(made, field, changes[name])
    check = getattr(made, "__attrs_post_init__", None)
    if check is not None:
        check()
    return made


def _copied(instance: T, fields: dict[str, Any], changes: dict[str, Any]) -> T:
    """A new instance of ``instance``'s class with its fields, ``changes`` applied; nothing checked."""
    shared = getattr(instance, "__dict__", None)
    if shared is not None:
        return built(type(instance), {**shared, **changes})
    # Slotted (a class kept small in memory, as BatchRecord: 100,000 of them per file): field by field.
    made: T = _new_instance(type(instance))
    for name in fields:
        _set_attribute(made, name, changes[name] if name in changes else getattr(instance, name))
    return made
