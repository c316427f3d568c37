"""The public surface is deliberate: `__all__` lists exactly the public names, and the domain stays pure."""

from __future__ import annotations

import subprocess
import sys
from types import ModuleType

import carteira
import carteira.domain
import carteira.errors


def _public(module: ModuleType) -> list[str]:
    return sorted(
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, ModuleType) and name != "annotations"
    )


def test_all_lists_exactly_the_public_names() -> None:
    assert sorted(carteira.__all__) == sorted([*_public(carteira), "__version__"])
    assert carteira.__all__ == sorted(carteira.__all__)


def test_domain_all_is_complete() -> None:
    assert sorted(carteira.domain.__all__) == _public(carteira.domain)


def test_every_error_derives_from_the_root() -> None:
    for name in carteira.errors.__all__:
        assert issubclass(getattr(carteira.errors, name), carteira.errors.CarteiraError)


def test_every_public_name_is_documented() -> None:
    for module in (carteira, carteira.domain, carteira.errors):
        for name in module.__all__:
            value = getattr(module, name)
            if callable(value):
                assert (value.__doc__ or "").strip(), f"{module.__name__}.{name} has no docstring"


def test_the_domain_imports_no_io() -> None:
    code = (
        "import sys, carteira.domain; "
        "print(sorted(m for m in ('httpx', 'sqlite3', 'psycopg', 'cattrs', 'socket', 'logging.handlers', "
        "'carteira.adapters.storage', 'carteira.adapters.efi', 'carteira.services') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_domain_source_names_no_io_module() -> None:
    import pathlib
    import re

    root = pathlib.Path(carteira.domain.__file__).parent
    pattern = re.compile(r"^\s*(import|from)\s+(httpx|sqlite3|psycopg|os|pathlib|logging|socket|time|random)\b", re.M)
    offenders = [str(path) for path in root.glob("*.py") if pattern.search(path.read_text(encoding="utf-8"))]
    assert offenders == []
