"""What AT would most plausibly carry out of a document that breaks some rules.

The verdict (:mod:`~at_voice_kit.contracts.actionxml.problems`) says whether an app works on
AT; this module says what a call does meanwhile, so the simulator can carry the call on and
``atsim verify`` can crawl past a problem to the branches behind it instead of stopping at
the first. The choices, each documented in the fidelity table:

* actions are carried out in order; an element AT does not have, or that is not allowed
  where it stands, is skipped (its problem is still reported);
* an action with an error of its own (a required attribute missing, a URL no request can
  reach, a number that cannot be dialled) is skipped too: AT cannot carry it out;
* an attribute AT does not know, or a lenient attribute with an odd value (``voice="Man"``),
  is left out: the default applies;
* of a ``GetDigits`` or ``Record`` prompt, the first usable ``Say`` or ``Play`` is kept;
* ``Reject`` after other actions runs where it stands (AT's own example speaks, then rejects).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import at_voice_kit.contracts.actionxml.model as model
from at_voice_kit.contracts.actionxml.elements import WireElement
from at_voice_kit.contracts.actionxml.grammar import ELEMENTS, PROMPTS, ROOT, ElementSpec
from at_voice_kit.contracts.actionxml.problems import Problem, Severity


def executable_response(root: WireElement, problems: Iterable[Problem]) -> model.Response | None:
    """The actions of ``root`` AT would most plausibly carry out, or ``None`` when the
    document as a whole is unusable (its root is not ``Response``)."""
    if root.name != ROOT:
        return None
    broken = {problem.path for problem in problems if problem.severity is Severity.ERROR}
    actions: list[model.Action] = []
    for child, path in _children_with_paths(root, ROOT):
        spec = ELEMENTS.get(child.name)
        if spec is None or path in broken:
            continue
        action = _lenient_action(child, spec, path, broken)
        if action is not None:
            actions.append(action)
    return model.Response(tuple(actions))


def _children_with_paths(element: WireElement, path: str) -> list[tuple[WireElement, str]]:
    """Each child with its path as the rules write it (positions among same-named siblings)."""
    positions: Counter[str] = Counter()
    located = []
    for child in element.children:
        positions[child.name] += 1
        located.append((child, f"{path}/{child.name}[{positions[child.name]}]"))
    return located


def _lenient_action(
    element: WireElement, spec: ElementSpec, path: str, broken: set[str]
) -> model.Action | None:
    if element.is_terminal_record:
        return model.Record(terminal=True)
    values: dict[str, Any] = {}
    for name, raw in element.grammar_attributes:
        attribute = spec.attribute(name)
        if attribute is None:
            continue  # unknown: AT ignores it, the default applies
        value = attribute.value_type.from_document(raw)
        if attribute.value_type.problems(value):
            continue  # a lenient attribute's odd value: the default applies
        values[attribute.field] = attribute.value_type.to_python(raw)
    if spec.text is not None:
        value_type = spec.text.value_type
        text = value_type.from_document(element.text)
        if value_type.problems(text):
            return None
        values[spec.text.field] = value_type.to_python(text)
    if spec.takes_prompt:
        prompt = _first_usable_prompt(element, path, broken)
        if prompt is not None:
            values["prompt"] = prompt
    try:
        action: model.Action = spec.model(**values)
    except (TypeError, ValueError):  # a required field the rules flagged: nothing to run
        return None
    return action


def _first_usable_prompt(element: WireElement, path: str, broken: set[str]) -> model.Action | None:
    for child, child_path in _children_with_paths(element, path):
        if child.name in PROMPTS and child_path not in broken:
            action = _lenient_action(child, ELEMENTS[child.name], child_path, broken)
            if action is not None:
                return action
    return None
