"""The agreement both sides keep: AT vocabulary, wire converters, ActionXML grammar, OpenAPI files,
and the rules for untrusted bytes and printed URLs (``charsets``, ``redaction``).

Imports nothing from ``service`` or ``simulator``.
"""

from __future__ import annotations

import functools
from importlib import metadata
from pathlib import Path

CONTRACTS_DIR = Path(__file__).resolve().parent
"""Directory holding the OpenAPI and XML Schema files shipped with the package."""


@functools.cache  # reading the installed metadata costs a millisecond: health is polled
def kit_version() -> str:
    """The version of the installed at-voice-kit these contracts ship in (``unknown`` when
    run from a source tree that was never installed)."""
    try:
        return metadata.version("at-voice-kit")
    except metadata.PackageNotFoundError:
        return "unknown"
