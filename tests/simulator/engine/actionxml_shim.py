"""TEMPORARY: a minimal ActionXML reader for the engine tests until contracts.actionxml.parse
lands on main. Confined to tests; the production engine uses contracts.actionxml.parse."""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as ET

from contracts.actionxml.model import (
    Action,
    Conference,
    Dequeue,
    Dial,
    Enqueue,
    GetDigits,
    Play,
    Prompt,
    Record,
    Redirect,
    Reject,
    Response,
    Say,
)


@dataclass(frozen=True)
class ShimResult:
    response: Response | None
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.response is not None and not self.problems


def _int(el: Element, name: str) -> int | None:
    v = el.get(name)
    return None if v is None else int(v)


def _bool(el: Element, name: str) -> bool | None:
    v = el.get(name)
    return None if v is None else v == "true"


def _prompt(el: Element) -> Prompt | None:
    for child in el:
        return _action(child)  # type: ignore[return-value]
    return None


def _action(el: Element) -> Action:
    tag = el.tag
    if tag == "Say":
        return Say(el.text or "", play_beep=_bool(el, "playBeep"))
    if tag == "Play":
        return Play(el.get("url", ""))
    if tag == "GetDigits":
        return GetDigits(
            _prompt(el),
            _int(el, "numDigits"),
            _int(el, "timeout"),
            el.get("finishOnKey"),
            el.get("callbackUrl"),
        )
    if tag == "Record":
        if not el.attrib and len(el) == 0:
            return Record(terminal=True)
        return Record(
            _prompt(el),
            el.get("finishOnKey"),
            _int(el, "maxLength"),
            _int(el, "timeout"),
            _bool(el, "trimSilence"),
            _bool(el, "playBeep"),
            el.get("callbackUrl"),
        )
    if tag == "Dial":
        return Dial(
            tuple(n.strip() for n in el.get("phoneNumbers", "").split(",")),
            record=_bool(el, "record"),
            sequential=_bool(el, "sequential"),
            max_duration=_int(el, "maxDuration"),
        )
    if tag == "Redirect":
        return Redirect((el.text or "").strip())
    if tag == "Reject":
        return Reject()
    if tag == "Enqueue":
        return Enqueue(el.get("holdMusic"), el.get("name"))
    if tag == "Dequeue":
        return Dequeue(el.get("phoneNumber", ""), el.get("name"))
    if tag == "Conference":
        return Conference()
    raise ValueError(f"unknown element <{tag}>")


def parse(document: str) -> ShimResult:
    try:
        root = ET.fromstring(document)
    except Exception as exc:
        return ShimResult(None, (f"not well-formed XML: {exc}",))
    if root.tag != "Response":
        return ShimResult(None, (f"root must be <Response>, not <{root.tag}>",))
    try:
        return ShimResult(Response(tuple(_action(child) for child in root)))
    except ValueError as exc:
        return ShimResult(None, (str(exc),))
