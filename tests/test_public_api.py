"""The public surface is deliberate: `__all__` lists exactly the public names, and the domain stays pure."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from types import ModuleType

import pytest

import carteira
import carteira.adapters
import carteira.domain
import carteira.errors
import carteira.ports
import carteira.services

# The top-level names, pinned: adding or removing one is a decision (docs/decisions/0012), not an accident.
TOP_LEVEL = [
    "AmountDue",
    "BrazilBankingCalendar",
    "BusinessCalendar",
    "CarteiraError",
    "ChargeTerms",
    "ClosedPeriod",
    "Conflict",
    "CreditLetter",
    "CreditLetterStatus",
    "DuplicateImport",
    "EveryDayCalendar",
    "GatewayAuthenticationError",
    "GatewayError",
    "GatewayOutcomeUnknown",
    "GatewayUnavailable",
    "GatewayValidationError",
    "Imputation",
    "InactiveAccount",
    "Installment",
    "InstallmentStatus",
    "InterestMode",
    "InvalidInput",
    "InvalidRow",
    "InvalidType",
    "MissingExtra",
    "Money",
    "NotFound",
    "OutcomeKind",
    "Payment",
    "Portfolio",
    "RefusalReason",
    "RevenueKind",
    "Reversal",
    "RuleViolation",
    "SchemaVersionError",
    "Settlement",
    "SettlementOutcome",
    "SettlementPolicy",
    "SettlementResult",
    "StoreUnavailable",
    "Tolerance",
    "__version__",
    "amount_due",
    "normalize_title_number",
    "plan_carnet",
    "present_value",
    "reverse",
    "settle",
    "use_credit_letter",
]


def _public(module: ModuleType) -> list[str]:
    return sorted(
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, ModuleType) and name != "annotations"
    )


def test_all_lists_exactly_the_public_names() -> None:
    assert sorted(carteira.__all__) == sorted([*_public(carteira), "__version__"])
    assert carteira.__all__ == sorted(carteira.__all__)
    assert carteira.__all__ == TOP_LEVEL


def test_every_error_a_caller_catches_is_at_the_top() -> None:
    assert set(carteira.errors.__all__) <= set(carteira.__all__)
    for name in carteira.errors.__all__:
        assert getattr(carteira, name) is getattr(carteira.errors, name)


def test_top_level_names_are_the_domain_ones() -> None:
    for name in carteira.__all__:
        if hasattr(carteira.domain, name):
            assert getattr(carteira, name) is getattr(carteira.domain, name), name


@pytest.mark.parametrize("package", [carteira.adapters, carteira.ports, carteira.services], ids=lambda p: p.__name__)
def test_subpackages_declare_their_submodules(package: ModuleType) -> None:
    submodules = sorted(info.name for info in pkgutil.iter_modules(package.__path__) if not info.name.startswith("_"))
    assert package.__all__ == submodules
    assert (package.__doc__ or "").strip()
    for name in package.__all__:
        module = importlib.import_module(f"{package.__name__}.{name}")
        assert (module.__doc__ or "").strip(), module.__name__


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
    # `import carteira.domain` runs `carteira/__init__` first, which names `Portfolio` (services, ports): those
    # are pure too; what must never load is an I/O library or an adapter that uses one.
    code = (
        "import sys, carteira.domain; "
        "print(sorted(m for m in ('httpx', 'sqlite3', 'psycopg', 'cattrs', 'socket', 'logging.handlers', "
        "'carteira.adapters.storage', 'carteira.adapters.efi') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_domain_source_names_no_io_module() -> None:
    import pathlib
    import re

    root = pathlib.Path(carteira.domain.__file__).parent
    pattern = re.compile(
        r"^\s*(import|from)\s+(httpx|sqlite3|psycopg|os|pathlib|logging|socket|time|random|carteira\.(adapters|ports|"
        r"services|portfolio))\b",
        re.M,
    )
    offenders = [str(path) for path in root.glob("*.py") if pattern.search(path.read_text(encoding="utf-8"))]
    assert offenders == []
