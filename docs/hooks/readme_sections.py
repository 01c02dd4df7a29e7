"""MkDocs hook: pages that show a section of the README, so that it is written once.

A page holding ``<!-- README: name -->`` gets the README's text between
``<!-- name -->`` and ``<!-- /name -->`` in its place. Links in the README point into
``docs/`` (they must work on the repository's front page); on the site the pages are
siblings, so that prefix is dropped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[2] / "README.md"
PLACEHOLDER = re.compile(r"<!-- README: ([\w-]+) -->")


def readme_section(name: str) -> str:
    """The README's text between ``<!-- name -->`` and ``<!-- /name -->``."""
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"<!-- {name} -->\n(.*?)<!-- /{name} -->", text, re.DOTALL)
    if match is None:
        raise ValueError(f"README.md has no section marked <!-- {name} -->")
    return re.sub(r"\]\(docs/", "](", match.group(1))


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Replace each placeholder by its README section."""
    return PLACEHOLDER.sub(lambda m: readme_section(m.group(1)), markdown)
