"""Documents as plain element trees, and the conversions between them and typed values.

A :class:`WireElement` is what a document says, attribute strings and all, before any
judgement. The parser reads XML into one; typed values are written into one
(:func:`wire_response`). The rules (:mod:`at_voice_kit.contracts.actionxml.rules`) judge only wire
elements, so a document and a typed value are held to exactly the same rules, and the
renderer serialises only wire elements that passed.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import at_voice_kit.contracts.actionxml.model as model
from at_voice_kit.contracts.actionxml.grammar import (
    ELEMENTS,
    RECORD,
    ROOT,
    SCHEMA_LOCATION_ATTRIBUTES,
    SPEC_OF_MODEL,
    ElementSpec,
)
from at_voice_kit.contracts.actionxml.problems import Rule
from at_voice_kit.contracts.actionxml.values import ValueProblem


@dataclass(frozen=True, slots=True)
class TypedProblem:
    """A problem found while writing a typed value: the attribute (or ``None``) and why."""

    attribute: str | None
    problem: ValueProblem


@dataclass(frozen=True, slots=True)
class WireElement:
    """One element as written: name, attributes in order, direct text, children, line.

    ``typed_problems`` carries what was wrong with a typed value that has no document
    spelling at all (a field of the wrong type, a non-action in ``actions``). ``markup``
    names the SSML elements a ``Say`` holds, in order of first appearance: their text is
    part of the Say's ``text`` and they are not ``children`` (speech markup, not ActionXML).
    """

    name: str
    attributes: tuple[tuple[str, str], ...] = ()
    text: str = ""
    children: tuple[WireElement, ...] = ()
    line: int | None = None
    typed_problems: tuple[TypedProblem, ...] = ()
    markup: tuple[str, ...] = ()

    @property
    def grammar_attributes(self) -> tuple[tuple[str, str], ...]:
        """The attributes the grammar judges: all but schema location hints, which are ignored."""
        return tuple(pair for pair in self.attributes if pair[0] not in SCHEMA_LOCATION_ATTRIBUTES)

    @property
    def is_terminal_record(self) -> bool:
        """``<Record/>`` with no attributes and no children: record until hang-up."""
        return (
            self.name == RECORD.name
            and not self.grammar_attributes
            and not self.children
            # A typed partial Record with nothing set is reported as such, not as terminal.
            and not any(t.problem.rule is Rule.EMPTY_PARTIAL_RECORD for t in self.typed_problems)
        )


def wire_response(response: object) -> WireElement:
    """Write a typed :class:`~at_voice_kit.contracts.actionxml.model.Response` as a wire element
    tree."""
    if not isinstance(response, model.Response):
        problem = ValueProblem(
            Rule.NOT_AN_ACTION, f"must be a Response, not {type(response).__name__}"
        )
        return WireElement(ROOT, typed_problems=(TypedProblem(None, problem),))
    if not isinstance(response.actions, tuple | list):
        reason = f"actions must be a tuple of actions, not {type(response.actions).__name__}"
        problem = ValueProblem(Rule.NOT_AN_ACTION, reason)
        return WireElement(ROOT, typed_problems=(TypedProblem(None, problem),))
    return WireElement(ROOT, children=tuple(wire_action(action) for action in response.actions))


def wire_action(action: object) -> WireElement:
    """Write one typed action (or prompt) as a wire element."""
    spec = SPEC_OF_MODEL.get(type(action))
    if spec is None:
        name = type(action).__name__
        problem = ValueProblem(
            Rule.NOT_AN_ACTION,
            "is not an ActionXML action (use the classes of "
            "at_voice_kit.contracts.actionxml.model)",
        )
        return WireElement(name, typed_problems=(TypedProblem(None, problem),))
    if isinstance(action, model.Record) and action.terminal:
        return _wire_terminal_record(action)
    attributes: list[tuple[str, str]] = []
    typed_problems: list[TypedProblem] = []
    for attribute in spec.attributes:
        value = getattr(action, attribute.field)
        if value is None:
            continue
        written = attribute.value_type.to_wire(value)
        if isinstance(written, ValueProblem):
            typed_problems.append(TypedProblem(attribute.name, written))
        else:
            attributes.append((attribute.name, written))
    text = ""
    text_value = None if spec.text is None else getattr(action, spec.text.field)
    if spec.text is not None and text_value is not None:  # None: no text, reported as missing
        written = spec.text.value_type.to_wire(text_value)
        if isinstance(written, ValueProblem):
            typed_problems.append(TypedProblem(None, written))
        else:
            text = written
    children: tuple[WireElement, ...] = ()
    prompt = getattr(action, "prompt", None) if spec.takes_prompt else None
    if prompt is not None:
        children = (wire_action(prompt),)
    if spec is RECORD and not attributes and not children and not typed_problems:
        reason = (
            "is partial (terminal=False) but sets no attribute and no prompt: it would be "
            "written <Record/>, which AT runs as a terminal Record; use Record.until_hangup() "
            "or set an attribute"
        )
        typed_problems.append(TypedProblem(None, ValueProblem(Rule.EMPTY_PARTIAL_RECORD, reason)))
    return WireElement(spec.name, tuple(attributes), text, children, None, tuple(typed_problems))


def _wire_terminal_record(record: model.Record) -> WireElement:
    given = [
        f.name
        for f in fields(record)
        if f.name != "terminal" and getattr(record, f.name) is not None
    ]
    if not given:
        return WireElement(RECORD.name)
    reason = (
        "is terminal (written <Record/>) and so takes no attributes and no prompt, "
        f"but sets {', '.join(given)}"
    )
    problem = ValueProblem(Rule.TERMINAL_RECORD_NOT_EMPTY, reason)
    return WireElement(RECORD.name, typed_problems=(TypedProblem(None, problem),))


def typed_response(root: WireElement) -> model.Response:
    """The typed value of a wire tree that broke no rule (the rules guarantee the shapes)."""
    return model.Response(
        tuple(_typed_action(child, ELEMENTS[child.name]) for child in root.children)
    )


def _typed_action(element: WireElement, spec: ElementSpec) -> model.Action:
    if element.is_terminal_record:
        return model.Record(terminal=True)
    # Any: the value types of the grammar table produce exactly the fields' types.
    values: dict[str, Any] = {}
    for name, raw in element.grammar_attributes:
        attribute = spec.attribute(name)
        if attribute is not None:
            values[attribute.field] = attribute.value_type.to_python(raw)
    if spec.text is not None:
        value_type = spec.text.value_type
        values[spec.text.field] = value_type.to_python(value_type.from_document(element.text))
    if spec.takes_prompt and element.children:
        prompt = element.children[0]
        values["prompt"] = _typed_action(prompt, ELEMENTS[prompt.name])
    action: model.Action = spec.model(**values)
    return action
