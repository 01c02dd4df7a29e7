"""The rules of ActionXML, judged on wire element trees: the one place they are defined.

:func:`check_document` judges a tree read from a document; :func:`validate` judges a typed
value by writing it as a tree first. Problems come out in document order.

Decisions (also in docs/actionxml.md):

* Names are case-sensitive, as on AT: ``<getDigits>`` is an unknown element, reported with
  "did you mean `GetDigits`?".
* Terminal actions, after which nothing runs and any further action is ``after-terminal``:
  ``Redirect`` and the terminal ``<Record/>``. ``Reject`` must be alone
  (``reject-not-alone``), which covers anything next to it. ``Dial`` and ``Dequeue`` end the
  document only if someone picks up, and the actions after them are the fallback when
  nobody does, so they are not terminal here; neither is ``Enqueue`` (AT does not document
  what follows a queued call) nor ``Conference`` (undocumented).
* An empty ``<Response/>`` is valid grammar. A first answer that gives the caller nothing
  is a behaviour check for ``atsim verify``, not a grammar error.
* Whitespace-only text is allowed anywhere text is not (pretty-printing); any other text
  there is ``unexpected-text``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

from at_voice_kit.contracts.actionxml.elements import WireElement, wire_response
from at_voice_kit.contracts.actionxml.grammar import (
    ELEMENTS,
    PROMPTS,
    REJECT,
    ROOT,
    ElementSpec,
    suggest,
)
from at_voice_kit.contracts.actionxml.model import Response
from at_voice_kit.contracts.actionxml.problems import RULE_VERDICTS, Problem, Rule, Severity
from at_voice_kit.contracts.actionxml.values import (
    XML_WHITESPACE,
    ValueType,
    has_content,
    illegal_xml_character,
    quote,
)


@dataclass(frozen=True, slots=True)
class Findings:
    """What judging a tree found: ``problems`` (it is invalid if any) and non-fatal ``notes``."""

    problems: tuple[Problem, ...]
    notes: tuple[Problem, ...]


def check_document(root: WireElement) -> Findings:
    """Judge a whole document tree against every rule of the grammar."""
    judge = _Judge()
    judge.response(root)
    return Findings(tuple(judge.problems), tuple(judge.notes))


def validate(response: Response) -> tuple[Problem, ...]:
    """Every rule a typed :class:`Response` breaks, by the same rules as parsed documents.

    Typed values are judged as the document they would render to; a few states only typed
    values can hold (a terminal Record with attributes, a field of the wrong type) have
    their own rules. An empty tuple means :func:`render` will accept it.
    """
    return check_document(wire_response(response)).problems


def _did_you_mean(name: str, known: list[str]) -> str:
    hint = suggest(name, known)
    if hint is None:
        return ""
    if hint.lower() == name.lower():
        return f": did you mean `{hint}`? (names are case-sensitive)"
    return f": did you mean `{hint}`?"


def _names(names: Collection[str]) -> str:
    quoted = [f"`{name}`" for name in names]
    return " or ".join(quoted)


class _Judge:
    """Walks one tree, collecting problems and notes in document order."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.notes: list[Problem] = []

    def report(
        self,
        element: WireElement,
        path: str,
        attribute: str | None,
        rule: Rule,
        message: str,
    ) -> None:
        found = Problem(path, element.name, attribute, rule, message, element.line)
        is_note = RULE_VERDICTS[rule].severity is Severity.NOTE
        (self.notes if is_note else self.problems).append(found)

    def response(self, root: WireElement) -> None:
        if root.name != ROOT:
            message = f"the root element must be `{ROOT}`, not `{root.name}`"
            self.report(
                root,
                root.name,
                None,
                Rule.NO_RESPONSE_ROOT,
                message + _did_you_mean(root.name, [ROOT]),
            )
            return
        self.typed_problems(root, ROOT)
        for name, _ in root.grammar_attributes:
            message = f"`{ROOT}` takes no attributes, found `{name}`"
            self.report(root, ROOT, name, Rule.UNKNOWN_ATTRIBUTE, message)
        self.no_text(root, ROOT)
        self.actions(root)

    def actions(self, root: WireElement) -> None:
        positions: Counter[str] = Counter()
        terminal: str | None = None
        for child in root.children:
            positions[child.name] += 1
            path = f"{ROOT}/{child.name}[{positions[child.name]}]"
            spec = self.place(child, path, None, ELEMENTS.keys())
            if spec is None:
                continue
            self.element(child, spec, path)
            if spec is REJECT:
                if len(root.children) > 1:
                    message = (
                        f"`Reject` is not the only action in the `{ROOT}` "
                        f"({len(root.children)} elements): AT documents it alone, to refuse "
                        "a call; here it most plausibly ends the call where it stands"
                    )
                    self.report(child, path, None, Rule.REJECT_NOT_ALONE, message)
            elif terminal is not None:
                message = f"`{child.name}` comes after the terminal {terminal} and would never run"
                self.report(child, path, None, Rule.AFTER_TERMINAL, message)
            if terminal is None and (spec.terminal or child.is_terminal_record):
                terminal = f"`{child.name}` ({path})"

    def place(
        self, child: WireElement, path: str, parent: ElementSpec | None, allowed: Collection[str]
    ) -> ElementSpec | None:
        """The spec of ``child`` if it is a known element allowed here; else report why not."""
        if any(typed.problem.rule is Rule.NOT_AN_ACTION for typed in child.typed_problems):
            self.typed_problems(child, path)
            return None
        spec = ELEMENTS.get(child.name)
        if spec is None and child.name != ROOT:
            message = f"`{child.name}` is not an ActionXML element"
            known = [*ELEMENTS, ROOT]
            self.report(
                child, path, None, Rule.UNKNOWN_ELEMENT, message + _did_you_mean(child.name, known)
            )
            return None
        if spec is not None and spec.name in allowed:
            return spec
        if child.name == ROOT:
            message = f"`{ROOT}` is the document root and cannot be nested"
        elif parent is not None and parent.takes_prompt:
            message = (
                f"`{parent.name}` takes only a {_names(sorted(PROMPTS))} prompt, not `{child.name}`"
            )
        else:
            message = (
                f"`{parent.name if parent else ROOT}` cannot contain `{child.name}`: only "
                "`GetDigits` and `Record` take a child, one `Say` or `Play` prompt"
            )
        self.report(child, path, None, Rule.WRONG_NESTING, message)
        return None

    def element(self, element: WireElement, spec: ElementSpec, path: str) -> None:
        self.typed_problems(element, path)
        self.attributes(element, spec, path)
        text_mistyped = any(typed.attribute is None for typed in element.typed_problems)
        if spec.text is not None and not text_mistyped:
            subject = f"`{spec.name}` text"
            self.value(element, path, None, subject, spec.text.value_type, element.text)
            self.markup(element, path)
        elif spec.text is None:
            self.no_text(element, path)
        self.children(element, spec, path)

    def typed_problems(self, element: WireElement, path: str) -> None:
        for typed in element.typed_problems:
            if typed.attribute is None:
                message = f"`{element.name}` {typed.problem.reason}"
            else:
                message = f"`{element.name}` attribute `{typed.attribute}` {typed.problem.reason}"
            self.report(element, path, typed.attribute, typed.problem.rule, message)

    def attributes(self, element: WireElement, spec: ElementSpec, path: str) -> None:
        seen: dict[str, str] = {}
        for name, raw in element.grammar_attributes:
            attribute = spec.attribute(name)
            if attribute is None:
                self.unknown_attribute(element, spec, path, name)
                continue
            if attribute.name in seen:
                message = (
                    f"`{spec.name}` has both `{seen[attribute.name]}` and `{name}`, two spellings "
                    f"of one attribute: keep only `{attribute.name}`"
                )
                self.report(element, path, name, Rule.DUPLICATE_ATTRIBUTE, message)
                # The second spelling's value is still judged: both are on the wire.
                subject = f"`{spec.name}` attribute `{name}`"
                self.value(element, path, name, subject, attribute.value_type, raw)
                continue
            seen[attribute.name] = name
            if name != attribute.name:
                message = (
                    f"`{spec.name}` attribute `{name}` is AT's alternative spelling of "
                    f"`{attribute.name}`: accepted, but `{attribute.name}` is canonical"
                )
                self.report(element, path, name, Rule.ALIAS_SPELLING, message)
            subject = f"`{spec.name}` attribute `{name}`"
            self.value(element, path, name, subject, attribute.value_type, raw)
        mistyped = {typed.attribute for typed in element.typed_problems}
        for attribute in spec.attributes:
            if attribute.required and attribute.name not in seen and attribute.name not in mistyped:
                message = f"`{spec.name}` requires the attribute `{attribute.name}`"
                self.report(element, path, attribute.name, Rule.MISSING_REQUIRED_ATTRIBUTE, message)

    def unknown_attribute(
        self, element: WireElement, spec: ElementSpec, path: str, name: str
    ) -> None:
        known = [attribute.name for attribute in spec.attributes]
        if known:
            message = f"`{spec.name}` has no attribute `{name}`" + _did_you_mean(name, known)
        else:
            message = f"`{spec.name}` takes no attributes, found `{name}`"
        self.report(element, path, name, Rule.UNKNOWN_ATTRIBUTE, message)

    def value(
        self,
        element: WireElement,
        path: str,
        attribute: str | None,
        subject: str,
        value_type: ValueType,
        raw: str,
    ) -> None:
        illegal = illegal_xml_character(raw)
        if illegal is not None:
            message = f"{subject} contains {illegal}, a character XML 1.0 cannot carry"
            self.report(element, path, attribute, Rule.BAD_VALUE, message)
            return
        for problem in value_type.problems(value_type.from_document(raw)):
            self.report(element, path, attribute, problem.rule, f"{subject} {problem.reason}")

    def markup(self, element: WireElement, path: str) -> None:
        if element.markup:
            names = ", ".join(f"<{name}>" for name in element.markup)
            message = (
                f"`{element.name}` holds SSML markup ({names}): accepted, AT's voices speak "
                "SSML; its text is what the simulator speaks"
            )
            self.report(element, path, None, Rule.SSML_IN_SAY, message)

    def no_text(self, element: WireElement, path: str) -> None:
        if has_content(element.text):
            message = (
                f"`{element.name}` takes no text, found {quote(element.text.strip(XML_WHITESPACE))}"
            )
            self.report(element, path, None, Rule.UNEXPECTED_TEXT, message)

    def children(self, element: WireElement, spec: ElementSpec, path: str) -> None:
        positions: Counter[str] = Counter()
        prompts = 0
        allowed = PROMPTS if spec.takes_prompt else frozenset[str]()
        for child in element.children:
            positions[child.name] += 1
            child_path = f"{path}/{child.name}[{positions[child.name]}]"
            child_spec = self.place(child, child_path, spec, allowed)
            if child_spec is None:
                continue
            prompts += 1
            if prompts > 1:
                message = f"`{spec.name}` takes one prompt, and this `{child.name}` is a second one"
                self.report(child, child_path, None, Rule.WRONG_NESTING, message)
                continue
            self.element(child, child_spec, child_path)
