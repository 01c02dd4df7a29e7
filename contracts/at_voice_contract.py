"""The simulator's OpenAPI contract (``at_voice.yaml``) as data the simulator enforces.

The admin API and the config file check their fields with the patterns and bounds this file
declares, read here at run time: the contract is the one definition, so what schemathesis
generates from it and what the simulator accepts cannot drift apart.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import yaml

from at_voice_kit.contracts import CONTRACTS_DIR
from at_voice_kit.contracts.json_schema import schema_pattern

AT_VOICE_SPEC_PATH = CONTRACTS_DIR / "at_voice.yaml"


@functools.cache
def at_voice_spec() -> dict[str, Any]:
    """The parsed OpenAPI document of the simulator (AT's REST surface and the admin API)."""
    document: dict[str, Any] = yaml.safe_load(AT_VOICE_SPEC_PATH.read_text(encoding="utf-8"))
    return document


def component_schema(*path: str | int) -> Any:
    """The node at ``components.schemas`` then ``path`` (names and list positions)."""
    node: Any = at_voice_spec()["components"]["schemas"]
    for step in path:
        node = node[step]
    return node


def component_pattern(*path: str | int) -> re.Pattern[str]:
    """The ``pattern`` of the schema at ``path``, compiled to mean in Python what it means in
    the schema (see :func:`~at_voice_kit.contracts.json_schema.schema_pattern`)."""
    return schema_pattern(component_schema(*path)["pattern"])
