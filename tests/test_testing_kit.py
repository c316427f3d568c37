"""The public test kit imports cleanly, in any order, and exposes what the docs promise."""

from __future__ import annotations

import subprocess
import sys

import pytest

import carteira.testing


@pytest.mark.parametrize(
    "statement",
    [
        "from carteira.testing import strategies",  # before hypothesis itself: the entry point must cope
        "import hypothesis; from carteira.testing import strategies",
        "from carteira.testing import FakeGateway, FixedClock, EfiEmulator, serve",
        "from carteira.testing.contracts import storage, gateway",
    ],
)
def test_the_kit_imports_in_a_fresh_interpreter(statement: str) -> None:
    result = subprocess.run([sys.executable, "-c", statement], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_from_type_draws_carteira_values() -> None:
    code = (
        "from hypothesis import given, strategies as st\n"
        "from carteira.domain import Money, Installment\n"
        "seen = []\n"
        "@given(st.from_type(Money), st.from_type(Installment))\n"
        "def check(m, i):\n"
        "    assert isinstance(m, Money) and isinstance(i, Installment)\n"
        "    seen.append(1)\n"
        "check()\n"
        "assert seen\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_all_names_the_kit() -> None:
    assert sorted(carteira.testing.__all__) == carteira.testing.__all__
    for name in carteira.testing.__all__:
        assert getattr(carteira.testing, name).__doc__
