"""MkDocs hook: text written once, elsewhere, shown on the site.

A page holding ``<!-- README: name -->`` gets the README's text between
``<!-- name -->`` and ``<!-- /name -->`` in its place. Links in the README point into
``docs/`` (they must work on the repository's front page); on the site the pages are
siblings, so that prefix is dropped.

A page holding ``<!-- RULE_VERDICTS -->`` gets a table of the ActionXML verdict model's
rules, each with its severity and evidence, generated from ``RULE_VERDICTS`` in
``contracts/actionxml/problems.py``, so the page cannot disagree with the code.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from at_voice_kit.contracts.actionxml import RULE_VERDICTS
from at_voice_kit.contracts.actionxml.problems import LENIENT_ATTRIBUTES

README = Path(__file__).resolve().parents[2] / "README.md"
PLACEHOLDER = re.compile(r"<!-- README: ([\w-]+) -->")
VERDICTS_PLACEHOLDER = "<!-- RULE_VERDICTS -->"


def readme_section(name: str) -> str:
    """The README's text between ``<!-- name -->`` and ``<!-- /name -->``."""
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"<!-- {name} -->\n(.*?)<!-- /{name} -->", text, re.DOTALL)
    if match is None:
        raise ValueError(f"README.md has no section marked <!-- {name} -->")
    return re.sub(r"\]\(docs/", "](", match.group(1))


def rule_verdicts_table() -> str:
    """Every rule of the verdict model as a Markdown table: rule, severity, evidence."""
    rows = [
        "| rule | severity | evidence |",
        "|---|---|---|",
        *(
            f"| `{rule}` | {verdict.severity} | {html.escape(verdict.evidence, quote=False)} |"
            for rule, verdict in RULE_VERDICTS.items()
        ),
    ]
    lenient = ", ".join(f"`{name}`" for name in sorted(LENIENT_ATTRIBUTES))
    note = (
        f"\nOne exception to the table: a `bad-value` of {lenient} is a warning, since AT most "
        "plausibly uses the attribute's default instead.\n"
    )
    return "\n".join(rows) + "\n" + note


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Replace each placeholder by its README section or generated table."""
    markdown = markdown.replace(VERDICTS_PLACEHOLDER, rule_verdicts_table())
    return PLACEHOLDER.sub(lambda m: readme_section(m.group(1)), markdown)
