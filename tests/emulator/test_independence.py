"""The emulator is written from the reference alone: it imports nothing of carteira outside itself."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import carteira.testing.efi_emulator as package

ALLOWED_THIRD_PARTY = {"attrs", "httpx"}


def test_the_package_imports_only_the_stdlib_attrs_httpx_and_itself() -> None:
    offending = []
    for path in Path(package.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                top = name.split(".")[0]
                own = name.startswith("carteira.testing.efi_emulator")
                if not (own or top in ALLOWED_THIRD_PARTY or top in sys.stdlib_module_names or top == "__future__"):
                    offending.append(f"{path.name}: {name}")
    assert offending == []
