"""The service's OpenAPI contract (``service.yaml``) as data both sides check forms against.

The webhook service validates AT's forms with these rules, and the simulator's tests check
every request it sends against them, so the two cannot drift apart: the YAML is the one
definition of what each field may hold.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from at_voice_kit.contracts import CONTRACTS_DIR
from at_voice_kit.contracts.json_schema import schema_pattern

SERVICE_SPEC_PATH = CONTRACTS_DIR / "service.yaml"


@functools.cache
def service_spec() -> dict[str, Any]:
    """The parsed OpenAPI document of the webhook service."""
    document: dict[str, Any] = yaml.safe_load(SERVICE_SPEC_PATH.read_text(encoding="utf-8"))
    return document


def _resolve(node: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    target: Any = service_spec()
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return _resolve(target)


@dataclass(frozen=True, slots=True)
class FieldRule:
    """What one form field's value must match (every pattern: JSON Schema ``allOf``)."""

    patterns: tuple[re.Pattern[str], ...]
    max_length: int | None = None

    def accepts(self, value: str) -> bool:
        """True when ``value`` keeps every pattern and the length bound."""
        if self.max_length is not None and len(value) > self.max_length:
            return False
        # A loop, not all(<generator>): this runs for every field of every webhook.
        for pattern in self.patterns:  # noqa: SIM110
            if pattern.search(value) is None:
                return False
        return True


@dataclass(frozen=True, slots=True)
class FormRules:
    """Everything ``service.yaml`` says about one webhook form."""

    required: frozenset[str]
    fields: Mapping[str, FieldRule]
    extra_field: FieldRule
    field_name: re.Pattern[str]
    max_fields: int


def _field_rule(schema: Mapping[str, Any]) -> FieldRule:
    schema = _resolve(schema)
    patterns: list[re.Pattern[str]] = []
    if "pattern" in schema:
        patterns.append(schema_pattern(schema["pattern"]))
    if "enum" in schema:
        alternatives = "|".join(re.escape(str(value)) for value in schema["enum"])
        patterns.append(re.compile(f"^(?:{alternatives})\\Z"))
    return FieldRule(tuple(patterns), schema.get("maxLength"))


@functools.cache
def form_rules(schema_name: str) -> FormRules:
    """The rules of ``components.schemas[schema_name]`` (``CallbackForm`` or ``EventForm``)."""
    schema = _resolve({"$ref": f"#/components/schemas/{schema_name}"})
    parts = [_resolve(part) for part in schema.get("allOf", [schema])]
    required: set[str] = set()
    fields: dict[str, FieldRule] = {}
    extra: FieldRule | None = None
    name_pattern: re.Pattern[str] | None = None
    max_fields = 0
    for part in parts:
        required.update(part.get("required", []))
        for name, field_schema in part.get("properties", {}).items():
            rule = _field_rule(field_schema)
            previous = fields.get(name)
            fields[name] = (
                rule
                if previous is None
                else FieldRule(
                    previous.patterns + rule.patterns, rule.max_length or previous.max_length
                )
            )
        if isinstance(part.get("additionalProperties"), dict):
            extra = _field_rule(part["additionalProperties"])
        if "propertyNames" in part:
            name_pattern = schema_pattern(_resolve(part["propertyNames"])["pattern"])
        max_fields = part.get("maxProperties", max_fields)
    if extra is None or name_pattern is None or not max_fields:
        raise ValueError(
            f"{schema_name} must set additionalProperties, propertyNames, maxProperties"
        )
    misnamed = sorted(name for name in fields if not name_pattern.match(name))
    if misnamed:
        # Readers skip the name check for known fields: it must hold for them.
        raise ValueError(f"{schema_name}: properties {misnamed} break propertyNames")
    return FormRules(frozenset(required), fields, extra, name_pattern, max_fields)


def query_values(path: str, parameter: str) -> tuple[str, ...]:
    """The values the contract allows for query ``parameter`` of ``GET path`` (its enum)."""
    operation = service_spec()["paths"][path]["get"]
    for declared in operation["parameters"]:
        if declared["name"] == parameter:
            return tuple(_resolve(declared["schema"])["enum"])
    raise KeyError(f"GET {path} has no query parameter {parameter!r}")
