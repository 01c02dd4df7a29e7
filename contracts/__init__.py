"""The agreement both sides keep: AT vocabulary, wire converters, ActionXML grammar, OpenAPI files,
and the rules for untrusted bytes and printed URLs (``charsets``, ``redaction``).

Imports nothing from ``service`` or ``simulator``.
"""

from __future__ import annotations

from pathlib import Path

CONTRACTS_DIR = Path(__file__).resolve().parent
"""Directory holding the OpenAPI and XML Schema files shipped with the package."""
