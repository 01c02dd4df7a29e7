"""A call's readable timeline, from the simulator's journal (the admin API's call document).

Used by ``atsim call``, ``atsim dial`` and ``atsim demo``: the webhooks the platform sent
(each with the app's answer, summarised) and what happened on the line (ringing, keys pressed,
recordings, bridges, why the call ended), in the call's own clock, seconds from its start.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from at_voice_kit.contracts.actionxml import parse
from at_voice_kit.contracts.actionxml.model import (
    Action,
    Dequeue,
    Dial,
    Enqueue,
    GetDigits,
    Play,
    Record,
    Redirect,
    Say,
)
from at_voice_kit.contracts.redaction import masked_text
from at_voice_kit.simulator.engine.answers import INVALID
from at_voice_kit.simulator.untrusted_text import printable

SAY_PREVIEW = 38
HIDDEN_NOTES = frozenset({"in-flow", "answered", "ringing", "not-answered"})
"""State notes the events already show (or that say nothing a reader needs)."""


@dataclass(frozen=True, slots=True)
class TimelineLine:
    """One line: seconds from the call's start, and what happened."""

    seconds: float
    text: str


def webhook_failed(webhook: Mapping[str, Any]) -> bool:
    """Whether the app failed this webhook (no answer, or not a 2xx)."""
    status = webhook.get("status")
    return webhook.get("error") is not None or status is None or not 200 <= int(status) < 300


def call_headline(call: Mapping[str, Any]) -> str:
    """One line saying who called whom and how it ended."""
    direction = call["direction"]
    if direction == "Inbound":
        parties = f"{call['phoneNumber']} -> {call['atNumber']}"
    else:
        parties = f"{call['atNumber']} -> {call['phoneNumber']}"
    outcome = call.get("outcome")
    if outcome is None:
        return f"{call['sessionId']}  {direction:8} {parties}  ({call['phase']})"
    result = f"{outcome['callSessionState']}/{outcome['status']} {outcome['hangupCause']}"
    cost = f"{outcome['durationInSeconds']} s, {outcome['currencyCode']} {outcome['amount']}"
    return f"{call['sessionId']}  {direction:8} {parties}  {result}  ({cost})"


def timeline(call: Mapping[str, Any]) -> list[TimelineLine]:
    """The call's webhooks and line events, in order, timed from its start."""
    outcome = call.get("outcome")
    webhooks: Sequence[Mapping[str, Any]] = call.get("webhooks", [])
    # Sort key: time, then line notes before webhooks, then each webhook kind in its own
    # order. Callbacks and events are sent by separate senders, so at one instant their
    # arrival in the journal can come either way; the kind keeps a seeded run's text stable.
    entries: list[tuple[datetime, int, str, int, str]] = []
    per_kind: dict[str, int] = {}
    for webhook in webhooks:
        kind = str(webhook.get("kind", ""))
        per_kind[kind] = per_kind.get(kind, -1) + 1
        moment = _moment(webhook["startedAt"])
        entries.append((moment, 1, kind, per_kind[kind], webhook_text(webhook)))
    # A live call's lines so far are its journaled notes; an ended one's, its record's.
    notes = outcome["timeline"] if outcome is not None else call.get("notes", [])
    for index, note in enumerate(notes):
        if note["event"] not in HIDDEN_NOTES:
            entries.append((_moment(note["at"]), 0, "", index, f"  {note['event']}"))
    if not entries:
        return []
    start = call_start(call) or min(e[0] for e in entries)
    entries.sort(key=lambda entry: entry[:4])
    return [
        TimelineLine(round((moment - start).total_seconds(), 3), text)
        for moment, _, _, _, text in entries
    ]


def call_start(call: Mapping[str, Any]) -> datetime | None:
    """When the call began on its own clock: its timeline's times count from it."""
    outcome = call.get("outcome")
    if outcome is not None:
        return _moment(outcome["queuedAt"])
    started = call.get("clockStart")
    return None if started is None else _moment(started)


def render_call(call: Mapping[str, Any], indent: str = "  ") -> str:
    """The headline and timeline of a call as text: what the app answered made printable,
    the query values and passwords of URLs (an app's Redirect) masked."""
    lines = [printable(call_headline(call))]
    for line in timeline(call):
        lines.append(f"{indent}{line.seconds:>8.1f}s {redact(line.text)}")
    lines.extend(ending_lines(call, indent))
    return "\n".join(lines)


def ending_lines(call: Mapping[str, Any], indent: str = "  ") -> list[str]:
    """What a finished call left: the legs a Dial rang, and its recordings."""
    outcome = call.get("outcome")
    if outcome is None:
        return []
    lines = []
    for leg in outcome["legs"]:
        cause = leg["hangupCause"] or "connected"
        lines.append(f"{indent}leg {leg['phoneNumber']}: rang {leg['ringSeconds']:g} s, {cause}")
    for url in outcome["recordingUrls"]:
        lines.append(f"{indent}recording: {redact(url)}")
    return lines


def redact(text: str) -> str:
    """``text`` as a timeline shows it: every URL's query values and password masked
    (:func:`~at_voice_kit.contracts.redaction.masked_text`), and made printable."""
    return printable(masked_text(text))


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def webhook_text(webhook: Mapping[str, Any]) -> str:
    """One webhook as a timeline line: what was sent, and the app's answer summarised."""
    form: Mapping[str, str] = webhook["form"]
    if webhook["kind"] == "event":
        sent = f"event    {form.get('eventType', '?')}"
        if form.get("hangupCause", "None") != "None":
            sent += f" ({form['hangupCause']})"
    else:
        sent = "callback " + _callback_fields(form)
    answer = answer_text(webhook)
    # The final request's note is why the call ended (shown on its own line), not a fault.
    final = webhook["kind"] == "callback" and form.get("isActive") == "0"
    note = f"  !! {webhook['note']}" if webhook.get("note") and not final else ""
    return f"{sent}  -> {answer}{note}"


def _callback_fields(form: Mapping[str, str]) -> str:
    if form.get("isActive") == "0":
        # An answered call's final request carries no hangupCause (as AT's recorded ones).
        cause = f" {form['hangupCause']}" if "hangupCause" in form else ""
        return (
            f"final: {form.get('callSessionState')}/{form.get('status')}{cause}, "
            f"{form.get('durationInSeconds')} s, {form.get('currencyCode')} {form.get('amount')}"
        )
    parts = ["isActive=1"]
    if "dtmfDigits" in form:
        parts.append(f"dtmfDigits={form['dtmfDigits']}")
    if "recordingUrl" in form:
        parts.append("recordingUrl=" + (form["recordingUrl"] or '""'))
    return " ".join(parts)


def answer_text(webhook: Mapping[str, Any]) -> str:
    """The app's answer to a webhook, summarised (``200 GetDigits(numDigits=1), Say "Bye"``)."""
    if webhook.get("error"):
        return f"no answer ({webhook['error']})"
    status = webhook["status"]
    body: str = webhook.get("body") or ""
    if webhook["kind"] == "event" or not 200 <= int(status) < 300:
        return str(status)
    if webhook["form"].get("isActive") == "0":
        return f"{status}"
    if not body.strip():
        return f"{status} (empty: AT hangs up)"
    parsed = parse(body)
    # What the call carried out: the whole document, or (with problems) what AT would run of
    # it; nothing when the platform refused the answer (not XML, or a strict simulator).
    carried_out = parsed.response if parsed.ok else parsed.executable
    if carried_out is None or str(webhook.get("note") or "").startswith(INVALID):
        return f"{status} invalid ActionXML"
    return f"{status} " + ", ".join(_action_text(a) for a in carried_out.actions)


def _action_text(action: Action) -> str:
    match action:
        case Say():
            text = action.text.strip()
            preview = text if len(text) <= SAY_PREVIEW else text[: SAY_PREVIEW - 3] + "..."
            return f'Say "{preview}"'
        case Play():
            return "Play"
        case GetDigits():
            details = [f"numDigits={action.num_digits}"] if action.num_digits else []
            if action.finish_on_key:
                details.append(f"finishOnKey={action.finish_on_key}")
            return f"GetDigits({', '.join(details)})"
        case Record():
            return "Record" if not action.terminal else "Record(terminal)"
        case Dial():
            return f"Dial {','.join(action.phone_numbers)}"
        case Redirect():
            return f"Redirect {action.url}"
        case Enqueue() | Dequeue():
            name = f" {action.name}" if action.name else ""
            return f"{type(action).__name__}{name}"
    return type(action).__name__
