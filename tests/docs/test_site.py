"""The documentation site builds with ``mkdocs build --strict`` and says nothing worth a warning.

Strict mode turns every warning into a failure; ``mkdocs.yml`` raises to warnings what MkDocs would only
mention (a page left out of the nav, a link to a missing anchor, a link MkDocs cannot check), and autorefs
warns on a cross-reference to an object the API reference does not document. The test also reads the built
site, because a ``:::`` directive that renders nothing would build quietly.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT, unavailable

DOCS = ROOT / "docs"


def _need_mkdocs() -> None:
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("mkdocstrings_handlers") is None:
        unavailable("mkdocs and mkdocstrings[python] build the site (pip install -e '.[docs]')")


def _build(site: Path) -> subprocess.CompletedProcess[str]:
    _need_mkdocs()
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml")]
    return subprocess.run([*command, "--site-dir", str(site)], cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_the_site_builds_strict_without_a_warning(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = _build(site)
    complaints = [line for line in result.stderr.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert result.returncode == 0, result.stderr
    assert complaints == [], "\n".join(complaints)

    # Every page under docs/ was built, so none is left out of the site.
    pages = [p.relative_to(DOCS).with_suffix("") for p in DOCS.rglob("*.md")]
    built = {str(p) for p in pages if (site / p / "index.html").exists() or (site / f"{p}.html").exists()}
    missing = [str(p) for p in pages if str(p) not in built and p.name != "index"]
    assert missing == [], missing

    # The API reference rendered the objects, not only its headings.
    domain = (site / "reference" / "api" / "domain" / "index.html").read_text(encoding="utf-8")
    assert 'id="carteira.domain.settle"' in domain
    assert 'id="carteira.domain.Money"' in domain
    gateway = (site / "reference" / "api" / "ports" / "index.html").read_text(encoding="utf-8")
    assert 'id="carteira.ports.gateway.PaymentGateway"' in gateway

    # The generated decisions index links every decision.
    index = (site / "decisions" / "index.html").read_text(encoding="utf-8")
    decisions = sorted(p.stem for p in (DOCS / "decisions").glob("[0-9][0-9][0-9][0-9]-*.md"))
    assert decisions, "no decision found"
    unlisted = [d for d in decisions if f'href="{d}/"' not in index]
    assert unlisted == [], unlisted


@pytest.mark.parametrize(
    ("page", "rendered"),
    [
        # A list right under a paragraph line (as the decisions write "**Decision.**") is set apart.
        ("**Decision.**\n- a\n  wraps\n- b\n\ntext", "**Decision.**\n\n- a\n  wraps\n- b\n\ntext"),
        ("para\n1. one\n2. two", "para\n\n1. one\n2. two"),
        # A list already open, code, tables, headings and dashes inside a sentence stay as they are.
        ("- a wraps\nlazily\n- b", "- a wraps\nlazily\n- b"),
        ("```\npara\n- not a list\n```", "```\npara\n- not a list\n```"),
        ("| a |\n- x", "| a |\n- x"),
        ("# Heading\n- x", "# Heading\n- x"),
        ("para\n2. not a list start", "para\n2. not a list start"),
        ("a - b\n-5 is negative", "a - b\n-5 is negative"),
    ],
    ids=["bullets", "numbered", "open-list", "fenced", "table", "heading", "numbered-from-2", "dashes"],
)
def test_a_list_under_a_paragraph_is_set_apart(page: str, rendered: str) -> None:
    _need_mkdocs()
    spec = importlib.util.spec_from_file_location("docsite_hooks", ROOT / "docsite" / "hooks.py")
    assert spec is not None
    assert spec.loader is not None
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    assert hooks.lists_apart(page) == rendered
