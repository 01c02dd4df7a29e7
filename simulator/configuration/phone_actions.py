"""Strict readers of what a dev phone sends: the person's actions on a call, and a call they
place.

``POST /_simulator/phones/{number}/actions`` takes ``{"sessionId": ..., "action": ...}``:
``answer``, ``reject``, ``hangup``, ``played`` (a Play ended), ``key`` with ``"key": "5"``, or
``recorded`` with ``"seconds": 4.5`` (a phone without a microphone: the platform makes a
voice-like recording that long). ``POST /_simulator/phones/{number}/calls`` takes
``{"to": AT number}``. Each broken rule is reported with its field, like every admin body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from at_voice_kit.contracts.at_voice_contract import component_pattern, component_schema
from at_voice_kit.simulator.configuration.fields import FieldReader
from at_voice_kit.simulator.engine.line import KeyPress, LineAction, LineInput, RecordedAudio

ACTION_FIELDS = ("sessionId", "action", "key", "seconds")
CALL_FIELDS = ("to",)
SESSION_ID = component_pattern("PhoneSessionId")
"""A session id as a phone or the feed names it (any the platform could have issued)."""
KEY = component_pattern("PhoneKey", "properties", "key")
SIGNALS: tuple[str, ...] = tuple(component_schema("PhoneSignal", "properties", "action")["enum"])
ACTIONS = (
    *SIGNALS,
    component_schema("PhoneKey", "properties", "action")["const"],
    component_schema("PhoneRecorded", "properties", "action")["const"],
)
ACTION = re.compile("^(" + "|".join(map(re.escape, ACTIONS)) + r")\Z")
ACTION_RULE = "must be one of " + ", ".join(repr(action) for action in ACTIONS)
MAX_RECORDED_SECONDS: float = component_schema("PhoneRecorded", "properties", "seconds")["maximum"]


@dataclass(frozen=True, slots=True)
class PhoneAction:
    """An action of the person on their call ``session_id``."""

    session_id: str
    item: LineInput


def read_phone_action(data: object) -> PhoneAction:
    """Validate an action body."""
    reader = FieldReader(data, "", ACTION_FIELDS)
    session_id = reader.string(
        "sessionId", SESSION_ID, "must be the call's sessionId", required=True
    )
    action = reader.string("action", ACTION, ACTION_RULE, required=True)
    item = _item(reader, action) if isinstance(action, str) else None
    reader.raise_if_invalid()
    assert isinstance(session_id, str) and item is not None
    return PhoneAction(session_id, item)


def _item(reader: FieldReader, action: str) -> LineInput | None:
    if action == "key":
        key = reader.string("key", KEY, "must be one key: 0-9, * or #", required=True)
        return KeyPress(key) if isinstance(key, str) else None
    if action == "recorded":
        if not reader.present("seconds"):
            reader.fail("seconds", "is required: how long the person talked")
            return None
        seconds = reader.number("seconds", 0.0, MAX_RECORDED_SECONDS, inclusive_minimum=True)
        if seconds is None:
            reader.fail("seconds", "must be a number of seconds")
        return RecordedAudio(seconds) if isinstance(seconds, float) else None
    for field in ("key", "seconds"):
        if reader.present(field):
            reader.fail(field, f"goes only with the action 'key' or 'recorded', not {action!r}")
    return LineAction(action)


def read_phone_call(data: object) -> str:
    """Validate a call body: the AT number the person calls."""
    reader = FieldReader(data, "", CALL_FIELDS)
    to = reader.phone_number("to", required=True)
    reader.raise_if_invalid()
    assert isinstance(to, str)
    return to
