"""MkDocs hooks for carteira's site: the pages that would go stale if written by hand are generated.

- ``decisions/index.md`` lists every decision by its heading, so a new decision needs no nav or index edit.
- A list that starts right under a paragraph line gets the blank line Python-Markdown needs to see a list,
  so a page reads on the site as it does on GitHub (CommonMark lets a list interrupt a paragraph).
- ``<!-- exports: carteira.xxx -->`` on an API page becomes a table of that package's ``__all__``: each name
  links to the one place the reference documents it, with the first line of its docstring. A name that is
  exported but documented nowhere is an unresolved cross-reference, which fails ``mkdocs build --strict``.

Kept out of ``docs/`` so that MkDocs does not publish it as a static file.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

import griffe
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

DECISION = re.compile(r"^decisions/(\d{4})-[a-z0-9-]+\.md$")
DECISIONS_INDEX = "decisions/index.md"
LIST_ITEM = re.compile(r"^(?:[-*+]|1[.)]) \S")
EXPORTS = re.compile(r"^<!-- exports: (?P<module>[\w.]+) -->$", re.M)


def decisions_index(files: Files) -> str:
    """The Markdown of the decisions index: one line per decision, in number order, titled by its heading."""
    lines = [
        "# Decisions",
        "",
        "Every choice an issue left open, with its context, the decision and its consequences. Numbers are",
        "allotted per piece of work, so gaps are normal; a decision that replaces another says so.",
        "",
    ]
    decisions = sorted((f for f in files.documentation_pages() if DECISION.match(f.src_uri)), key=lambda f: f.src_uri)
    for file in decisions:
        heading = file.content_string.split("\n", 1)[0].removeprefix("# ").strip()
        lines.append(f"- [{heading}]({PurePosixPath(file.src_uri).name})")
    return "\n".join(lines) + "\n"


def exports_table(module: griffe.Object | griffe.Alias) -> str:
    """A Markdown table of ``module.__all__``: each name as a cross-reference, and its docstring's first line."""
    rows = ["| name | what it is |", "|---|---|"]
    for name in module.exports or ():
        member = module[name]
        docstring = member.docstring.value if member.docstring else ""
        summary = docstring.split("\n", 1)[0].replace("|", "\\|")
        rows.append(f"| [`{name}`][{module.path}.{name}] | {summary} |")
    return "\n".join(rows) + "\n"


def lists_apart(markdown: str) -> str:
    """``markdown`` with a blank line between a paragraph and a list that starts right under it.

    Lines in fenced code, in tables, indented, or continuing a list already open are left as they are.
    """
    out: list[str] = []
    fenced = in_list = False
    for line in markdown.split("\n"):
        if line.startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced:
            starts_list = LIST_ITEM.match(line) is not None
            previous = out[-1] if out else ""
            if starts_list and not in_list and previous.strip() and not previous.startswith((" ", "\t", "|", "#")):
                out.append("")
            in_list = starts_list or (in_list and line.strip() != "")
        out.append(line)
    return "\n".join(out)


def on_files(files: Files, config: Any) -> Files:
    """Add the generated decisions index."""
    if files.get_file_from_path(DECISIONS_INDEX) is None:
        files.append(File.generated(config, DECISIONS_INDEX, content=decisions_index(files)))
    return files


def on_page_markdown(markdown: str, page: Page, config: Any, files: Files) -> str:
    """Set lists apart from the paragraph above them, and replace each exports marker with its table."""
    markdown = lists_apart(markdown)
    if "<!-- exports: " not in markdown:
        return markdown
    # Asked of mkdocstrings' own Python handler: the package is loaded once, with the pages' options and
    # extensions, so the table's summaries read exactly as the pages do.
    handler = config.plugins["mkdocstrings"].handlers.get_handler("python")
    options = handler.get_options({})
    return EXPORTS.sub(lambda match: exports_table(handler.collect(match["module"], options)), markdown)
