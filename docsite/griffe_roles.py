"""A griffe extension for carteira's site: the docstrings' reStructuredText habits, read as Markdown.

carteira's docstrings name other objects the Sphinx way (``:class:`~carteira.errors.InvalidType```), which
Markdown would print as it stands. Each role becomes an optional autorefs link with the name in code: a link
when the object is in the API reference, plain code when it is not (a private module), never a warning.
A relative name (``:class:`Layout```) is resolved in the scope of the object whose docstring names it.
A paragraph ending in ``::`` (reStructuredText's "a literal block follows") ends in ``:``; the indented block
after it is already code to Markdown.
"""

from __future__ import annotations

import html
import re
from typing import Any

import griffe

LITERAL_BLOCK_FOLLOWS = re.compile(r"(?<=\S)::$", re.M)

ROLE = re.compile(
    r":(?:py:)?(?:class|mod|func|data|meth|attr|exc|obj):`(?P<tilde>~?)(?P<target>[A-Za-z_][\w.]*)(?P<call>\(\))?`"
)


def _resolve(scope: griffe.Object | griffe.Alias, target: str) -> str:
    """The full path of ``target`` as seen from ``scope``, or ``target`` itself when griffe cannot tell."""
    if target.startswith("carteira"):
        return target
    head, _, rest = target.partition(".")
    try:
        path = scope.resolve(head)
    except (griffe.NameResolutionError, griffe.AliasResolutionError):
        return target
    return f"{path}.{rest}" if rest else path


def crossrefs(text: str, scope: griffe.Object | griffe.Alias) -> str:
    """``text`` with each Sphinx role replaced by an optional autorefs link titled in code."""

    def link(match: re.Match[str]) -> str:
        target = match["target"]
        shown = (target.rsplit(".", 1)[-1] if match["tilde"] else target) + (match["call"] or "")
        identifier = html.escape(_resolve(scope, target), quote=True)
        return f'<autoref identifier="{identifier}" optional><code>{html.escape(shown)}</code></autoref>'

    return ROLE.sub(link, text)


def _walk(obj: griffe.Object) -> Any:
    yield obj
    for member in obj.members.values():
        if not member.is_alias and member.parent is obj:
            yield from _walk(member)  # type: ignore[arg-type]


class SphinxRoles(griffe.Extension):
    """Rewrites every docstring of a package once the whole package is loaded (so names resolve)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        for obj in _walk(pkg):
            if obj.docstring is not None:
                obj.docstring.value = LITERAL_BLOCK_FOLLOWS.sub(":", crossrefs(obj.docstring.value, obj))
