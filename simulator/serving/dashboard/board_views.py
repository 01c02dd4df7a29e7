"""What the dashboard and the live feed show of calls: the admin API's records, made safe to
display and easy to read.

The admin API hands back exactly what was exchanged (tests assert on it). What is shown to a
person (the call board, the live feed that ``atsim call`` and ``atsim serve`` print from) goes
through here first: every URL's query values and password masked and every secret-looking
``name=value`` too (:mod:`at_voice_kit.contracts.redaction`), the app's answers summarised, and
an ActionXML answer pretty-printed with its problems listed, read with the shared grammar.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from datetime import datetime
from typing import Any

import defusedxml.ElementTree as SafeElementTree

from at_voice_kit.contracts.actionxml import parse
from at_voice_kit.contracts.actionxml.problems import severity_of
from at_voice_kit.contracts.redaction import masked_text, masked_url
from at_voice_kit.simulator.backend.calls import Call
from at_voice_kit.simulator.backend.feed import CallNote, FeedEntry, FeedEntryKind
from at_voice_kit.simulator.backend.journal import ApiExchange, WebhookExchange
from at_voice_kit.simulator.backend.numbers import AtNumber
from at_voice_kit.simulator.client.timeline import answer_text
from at_voice_kit.simulator.engine.ports import WebhookKind
from at_voice_kit.simulator.serving.admin.views import (
    call_view,
    number_view,
    outcome_view,
    timestamp,
    transfer_view,
)

View = dict[str, Any]


def board_call(call: Call) -> View:
    """A call as the board lists it: the admin API's view, with secrets masked."""
    view: View = dict(call_view(call))
    view["transfers"] = [
        {**transfer_view(transfer), "holdMusicUrl": _masked_url_or_none(transfer.hold_music_url)}
        for transfer in call.transfers
    ]
    record = call.record
    if record is not None:
        view["outcome"] = {
            **outcome_view(record),
            "reason": masked_text(record.end_reason),
            "timeline": [
                {"at": timestamp(at), "event": masked_text(text)} for at, text in record.timeline
            ],
        }
    return view


def board_number(number: AtNumber) -> View:
    """An AT number with its URLs' secrets masked."""
    return {
        **number_view(number),
        "callbackUrl": _masked_url_or_none(number.callback_url),
        "eventsUrl": _masked_url_or_none(number.events_url),
        "mediaUrls": [masked_url(url) for url in number.media_urls],
    }


def board_webhook(exchange: WebhookExchange, *, review: bool = True) -> View:
    """A webhook with the app's answer: fields sent, status, latency, the body (with
    ``review``, an ActionXML answer pretty-printed and its problems listed), what the
    platform made of it; secrets masked."""
    request, result = exchange.request, exchange.result
    view: View = {
        "kind": request.kind.value,
        "url": masked_url(request.url),
        "form": {name: masked_text(value) for name, value in request.fields},
        "status": result.status,
        "error": _masked_or_none(result.error),
        "timedOut": result.timed_out,
        "note": _masked_or_none(exchange.note),
        "startedAt": timestamp(exchange.sent_at),
        "elapsedMs": round(result.elapsed * 1000),
        "body": masked_text(result.body),
        "bodySize": len(result.body) if result.body_size is None else result.body_size,
        "bodyTruncated": result.body_truncated,
        "actionXml": None,
    }
    view["summary"] = answer_text(view)
    if review and _carries_actionxml(exchange):
        view["actionXml"] = actionxml_review(result.body)
    return view


def actionxml_review(body: str) -> View:
    """An ActionXML answer read with the shared grammar: ``ok`` (no problem at all),
    ``worksOnAt`` (no error: AT carries it out as the app means it), every ``problem`` (line,
    path, rule, severity, message) and, when it is well-formed, the document
    ``pretty``-printed."""
    parsed = parse(body)
    problems = [
        {
            "line": problem.line,
            "path": problem.path,
            "element": problem.element,
            "rule": str(problem.rule),
            "severity": severity_of(problem).value,
            "message": masked_text(problem.message),
        }
        for problem in parsed.problems
    ]
    return {
        "ok": parsed.ok,
        "worksOnAt": parsed.works_on_at,
        "problems": problems,
        "pretty": _pretty(body),
    }


def _pretty(body: str) -> str | None:
    """The document indented, one element a line; ``None`` when it is not well-formed XML
    (or declares a DTD, which is never read)."""
    try:
        root = SafeElementTree.fromstring(body)
    except Exception:  # any refusal of untrusted XML: shown as it came, not pretty
        return None
    ElementTree.indent(root)
    return masked_text(ElementTree.tostring(root, encoding="unicode"))


def _carries_actionxml(exchange: WebhookExchange) -> bool:
    request, result = exchange.request, exchange.result
    return (
        request.kind is WebhookKind.CALLBACK
        and request.form().get("isActive") != "0"
        and result.ok
        and bool(result.body.strip())
    )


def board_note(at: datetime, text: str) -> View:
    """A line of a call's timeline (an app's URL in it masked)."""
    return {"at": timestamp(at), "text": masked_text(text)}


def board_request(exchange: ApiExchange) -> View:
    """An API request that created or named a call."""
    return {
        "method": exchange.method,
        "path": masked_text(exchange.path),
        "status": exchange.status,
        "username": exchange.username,
        "startedAt": timestamp(exchange.started_at),
    }


def feed_event(entry: FeedEntry) -> tuple[str, View]:
    """A feed entry as an event name and its document (the live feed's wire shape)."""
    item, session_id = entry.item, entry.session_id
    if entry.kind is FeedEntryKind.CALL and isinstance(item, Call):
        return "call", {"call": board_call(item)}
    if entry.kind is FeedEntryKind.WEBHOOK and isinstance(item, WebhookExchange):
        return "webhook", {"sessionId": session_id, "webhook": board_webhook(item)}
    if entry.kind is FeedEntryKind.NOTE and isinstance(item, CallNote):
        return "note", {"sessionId": session_id, "note": board_note(item.at, item.text)}
    if entry.kind is FeedEntryKind.REQUEST and isinstance(item, ApiExchange):
        return "request", {"sessionId": session_id, "request": board_request(item)}
    return "reset", {}


def _masked_or_none(text: str | None) -> str | None:
    return None if text is None else masked_text(text)


def _masked_url_or_none(url: str | None) -> str | None:
    return None if url is None else masked_url(url)
