"""Small voice webhook apps for the verify tests: one correct IVR, and a catalogue of copies
that each make one realistic mistake (schemathesis keeps ``test/apps/catalog/`` the same way).

:class:`IvrApp` is a WSGI app answering ``/voice/instruct`` and ``/voice/events``: a menu
(1: sales, a Dial; 2: voicemail, a Record; 9: hear the menu again; anything else: "sorry"
and the menu), recordings downloaded from ``recordingUrl`` and checked to be WAV files,
events kept per call. Each mistake overrides one method. :func:`as_asgi` serves the same
logic as an ASGI app.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape, quoteattr

from at_voice_kit.contracts.actionxml import Rule
from at_voice_kit.simulator.verify import Category, Check, Severity

XML = '<?xml version="1.0" encoding="UTF-8"?>'
AGENTS = "+254711082001,+254711082002"


def response(*actions: str) -> str:
    """An ActionXML document of the given action elements."""
    return f"{XML}<Response>{''.join(actions)}</Response>"


def say(text: str) -> str:
    return f"<Say>{escape(text)}</Say>"


@dataclass(frozen=True)
class Reply:
    """What an app answers."""

    body: str = ""
    status: int = 200
    content_type: str = "text/plain"
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Request:
    """One webhook request as the app sees it."""

    path: str
    query: dict[str, str]
    form: dict[str, str]
    base: str

    def url(self, step: str) -> str:
        return f"{self.base}/voice/instruct?step={step}"


class IvrApp:
    """A correct voice app (WSGI). Subclasses each break one thing."""

    def __init__(self) -> None:
        self.events: dict[str, list[str]] = {}
        self.finals: list[dict[str, str]] = []
        self.lock = threading.Lock()

    # -- WSGI --------------------------------------------------------------------------

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length).decode("utf-8")
        host = environ.get("HTTP_HOST", "localhost")
        request = Request(
            environ.get("PATH_INFO", "/"),
            dict(parse_qsl(environ.get("QUERY_STRING", ""))),
            dict(parse_qsl(raw, keep_blank_values=True)),
            f"{environ.get('wsgi.url_scheme', 'http')}://{host}",
        )
        reply = self.route(request)
        headers = [("Content-Type", reply.content_type), *reply.headers]
        start_response(f"{reply.status} {_REASONS.get(reply.status, 'Status')}", headers)
        return [reply.body.encode("utf-8")]

    def route(self, request: Request) -> Reply:
        if request.path == "/voice/instruct":
            return self.instruct(request)
        if request.path == "/voice/events":
            return self.event(request)
        return Reply("not found", 404)

    # -- the call flow -----------------------------------------------------------------

    def instruct(self, request: Request) -> Reply:
        form = request.form
        if form.get("isActive") == "0":
            return self.final(request)
        step = request.query.get("step")
        if step == "menu" and form.get("dtmfDigits"):
            return self.choice(request, form["dtmfDigits"])
        if step == "recorded" and "recordingUrl" in form:
            return self.recorded(request, form["recordingUrl"])
        return self.welcome(request)

    def welcome(self, request: Request) -> Reply:
        return Reply(
            response(
                f'<GetDigits numDigits="1" timeout="10" finishOnKey="#" '
                f"callbackUrl={quoteattr(request.url('menu'))}>"
                + say("Welcome. Press 1 for sales, 2 to leave a message, 9 to hear this again.")
                + "</GetDigits>",
                say("We did not hear your choice. Goodbye."),
            )
        )

    def choice(self, request: Request, digits: str) -> Reply:
        if digits == "1":
            return Reply(
                response(
                    say("Connecting you to sales."),
                    f'<Dial phoneNumbers="{AGENTS}" record="true" maxDuration="300"/>',
                    say("Nobody is free. Goodbye."),
                )
            )
        if digits == "2":
            return Reply(
                response(
                    '<Record finishOnKey="#" maxLength="30" timeout="5" playBeep="true" '
                    f"callbackUrl={quoteattr(request.url('recorded'))}>"
                    + say("Leave a message after the beep, then press hash.")
                    + "</Record>"
                )
            )
        if digits == "9":
            return Reply(response(f"<Redirect>{escape(request.url('start'))}</Redirect>"))
        return self.unknown_choice(request, digits)

    def unknown_choice(self, request: Request, digits: str) -> Reply:
        return Reply(
            response(
                say("Sorry, that is not an option."),
                f"<Redirect>{escape(request.url('start'))}</Redirect>",
            )
        )

    def recorded(self, request: Request, recording_url: str) -> Reply:
        if recording_url:
            with urllib.request.urlopen(recording_url, timeout=5) as download:
                if download.read(4) != b"RIFF":
                    raise ValueError("the recording is not a WAV file")
        return Reply(response(say("Thank you. Goodbye.")))

    def final(self, request: Request) -> Reply:
        with self.lock:
            self.finals.append(request.form)
        return Reply("")

    def event(self, request: Request) -> Reply:
        session = request.form.get("sessionId", "")
        with self.lock:
            self.events.setdefault(session, []).append(request.form.get("eventType", ""))
        return Reply("OK")


_REASONS = {200: "OK", 301: "Moved Permanently", 404: "Not Found", 500: "Internal Server Error"}


def as_asgi(app: IvrApp) -> Callable[..., Awaitable[None]]:
    """The same app's logic served as an ASGI app."""

    async def asgi(
        scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]
    ) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = dict(scope["headers"])
        request = Request(
            scope["path"],
            dict(parse_qsl(scope.get("query_string", b"").decode())),
            dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True)),
            f"{scope['scheme']}://{headers.get(b'host', b'localhost').decode()}",
        )
        reply = app.route(request)
        await send({
            "type": "http.response.start",
            "status": reply.status,
            "headers": [(b"content-type", reply.content_type.encode())],
        })  # fmt: skip
        await send({"type": "http.response.body", "body": reply.body.encode("utf-8")})

    return asgi


# -- the catalogue of mistakes ---------------------------------------------------------


class MalformedXml(IvrApp):
    def welcome(self, request: Request) -> Reply:
        # The second Say is never closed.
        return Reply(f"{XML}<Response><Say>Welcome to Acme.</Say><Say>Goodbye.</Response>")


class UnescapedAmpersand(IvrApp):
    def welcome(self, request: Request) -> Reply:
        return Reply(f"{XML}<Response><Say>Welcome to Smith & Sons.</Say></Response>")


class DialInsideGetDigits(IvrApp):
    def welcome(self, request: Request) -> Reply:
        return Reply(
            response(
                f'<GetDigits numDigits="1" callbackUrl={quoteattr(request.url("menu"))}>'
                f'<Say>Press 1 for sales.</Say><Dial phoneNumbers="{AGENTS}"/></GetDigits>'
            )
        )


class WrongVoice(IvrApp):
    def welcome(self, request: Request) -> Reply:
        return Reply(response('<Say voice="male">Welcome to Acme.</Say>'))


class HangupElement(IvrApp):
    """Ends the call with an element AT does not have (other platforms' ``<Hangup/>``)."""

    def unknown_choice(self, request: Request, digits: str) -> Reply:
        return Reply(response(say("Sorry, that is not an option."), "<Hangup/>"))


class RelativeCallbackUrl(IvrApp):
    def welcome(self, request: Request) -> Reply:
        return Reply(
            response(
                '<GetDigits numDigits="1" callbackUrl="/voice/instruct?step=menu">'
                + say("Press 1 for sales.")
                + "</GetDigits>"
            )
        )


class ActionAfterRedirect(IvrApp):
    def unknown_choice(self, request: Request, digits: str) -> Reply:
        return Reply(
            response(
                f"<Redirect>{escape(request.url('start'))}</Redirect>",
                say("Sorry, that is not an option."),
            )
        )


class EmptyFirstAnswer(IvrApp):
    def welcome(self, request: Request) -> Reply:
        return Reply("")


class JsonInsteadOfXml(IvrApp):
    def welcome(self, request: Request) -> Reply:
        body = json.dumps({"actions": [{"say": "Welcome to Acme."}]})
        return Reply(body, content_type="application/json")


class HtmlTemplate(IvrApp):
    def welcome(self, request: Request) -> Reply:
        page = "<!DOCTYPE html><html><head><title>Acme</title></head><body>Welcome</body></html>"
        return Reply(page, content_type="text/html")


class CrashOnFinal(IvrApp):
    def final(self, request: Request) -> Reply:
        raise RuntimeError("the final notification was never expected")


SERVICE_DOC_CAUSES = {
    "NORMAL_CLEARING": "ended normally",
    "USER_BUSY": "busy",
    "NO_ANSWER": "no answer",
    "CALL_REJECTED": "rejected",
    "INVALID_NUMBER": "invalid number",
    "NETWORK_ERROR": "network error",
}


class CrashOnUnknownCause(IvrApp):
    """Knows only the service docs' six causes."""

    def final(self, request: Request) -> Reply:
        self.finals.append({"outcome": SERVICE_DOC_CAUSES[request.form["hangupCause"]]})
        return Reply("")


class TooSlow(IvrApp):
    def welcome(self, request: Request) -> Reply:
        time.sleep(1.5)
        return super().welcome(request)


class UnhandledDigit(IvrApp):
    """Routes digits through a dict without a default: any other key is a KeyError."""

    def choice(self, request: Request, digits: str) -> Reply:
        routes = {"1": super().choice, "2": super().choice, "9": super().choice}
        return routes[digits](request, digits)


class DigitsAsNumber(IvrApp):
    """Treats the digits as a number: `*` and `#` crash it."""

    def choice(self, request: Request, digits: str) -> Reply:
        return super().choice(request, str(int(digits)))


class DuplicateEventCrash(IvrApp):
    """Inserts events with a unique key and lets the duplicate-key error escape."""

    def event(self, request: Request) -> Reply:
        key = f"{request.form.get('sessionId')}/{request.form.get('eventType')}"
        with self.lock:
            if key in self.events:
                raise RuntimeError(f"UNIQUE constraint failed: events.key ({key})")
            self.events[key] = []
        return Reply("OK")


class EventsNotRouted(IvrApp):
    def event(self, request: Request) -> Reply:
        return Reply("<html><body>Cannot POST /voice/events</body></html>", 404, "text/html")


class SpaceSeparatorOnly(IvrApp):
    """Parses callStartTime the way the service docs write it (a space), not AT's '+'."""

    def final(self, request: Request) -> Reply:
        started = request.form.get("callStartTime", "None")
        if started != "None":
            datetime.strptime(started, "%Y-%m-%d %H:%M:%S")
        return Reply("")


class RequiresCarrier(IvrApp):
    """Reads an optional field as if AT always sent it."""

    def welcome(self, request: Request) -> Reply:
        carrier = request.form["callerCarrierName"]
        return Reply(response(say(f"Welcome, {carrier} customer.")))


class RedirectLoop(IvrApp):
    def welcome(self, request: Request) -> Reply:
        return Reply(response(f"<Redirect>{escape(request.url('again'))}</Redirect>"))


class RedirectToImpossiblePort(IvrApp):
    """Redirects to port 99999, which no request can reach: the one URL rule
    (contracts/urls.py) makes it a bad value of the ActionXML (once the request vanished and
    the app passed; then it failed only when verify tried to send it)."""

    def welcome(self, request: Request) -> Reply:
        url = "http://127.0.0.1:99999/voice/instruct?step=start"
        return Reply(response(f"<Redirect>{escape(url)}</Redirect>"))


class TrailingSlashRedirect(IvrApp):
    """A framework that redirects /voice/instruct to /voice/instruct/."""

    def instruct(self, request: Request) -> Reply:
        location = f"{request.base}/voice/instruct/"
        return Reply("", 301, headers=(("Location", location),))


class AssumesRecording(IvrApp):
    """Expects every Record to produce a file (an empty recordingUrl is normal on AT)."""

    def recorded(self, request: Request, recording_url: str) -> Reply:
        if not recording_url:
            raise ValueError("no recording")
        return super().recorded(request, recording_url)


class RejectThenSay(IvrApp):
    def welcome(self, request: Request) -> Reply:
        if request.form.get("direction") == "Inbound":
            return Reply(response("<Reject/>", say("We are closed.")))
        return super().welcome(request)


class XmlLabelledJson(IvrApp):
    """Valid ActionXML labelled application/json: a warning, not an error."""

    def welcome(self, request: Request) -> Reply:
        reply = super().welcome(request)
        return Reply(reply.body, content_type="application/json")


@dataclass(frozen=True)
class Mistake:
    """One broken app and the problem verify must report for it.

    ``scenario`` is a prefix of a scenario id the problem must show up in; ``also`` are
    checks that may fail as a consequence (anything else failing is a false alarm);
    ``categories`` keeps the run to what exercises the mistake.
    """

    name: str
    app: type[IvrApp]
    check: Check
    rule: Rule | None = None
    path: str | None = None
    attribute: str | None = None
    scenario: str = ""
    also: frozenset[Check] = frozenset()
    categories: frozenset[Category] = frozenset({Category.CRAWL, Category.OUTCOMES})
    timeout: float = 10.0
    severity: Severity = Severity.ERROR


CALL = frozenset({Category.CRAWL})
EVENTS = frozenset({Category.EVENT_ORDERS})

CATALOGUE: tuple[Mistake, ...] = (
    Mistake("malformed-xml", MalformedXml, Check.ACTIONXML_VALID, Rule.NOT_XML,
            "(document)", scenario="crawl/"),
    Mistake("unescaped-ampersand", UnescapedAmpersand, Check.ACTIONXML_VALID, Rule.NOT_XML,
            "(document)", scenario="crawl/"),
    Mistake("wrong-nesting", DialInsideGetDigits, Check.ACTIONXML_VALID, Rule.WRONG_NESTING,
            "Response/GetDigits[1]/Dial[1]", scenario="crawl/"),
    Mistake("odd-voice-value", WrongVoice, Check.ACTIONXML_VALID, Rule.BAD_VALUE,
            "Response/Say[1]", "voice", scenario="crawl/", severity=Severity.WARNING),
    Mistake("element-at-does-not-have", HangupElement, Check.ACTIONXML_VALID,
            Rule.UNKNOWN_ELEMENT, "Response/Hangup[1]", scenario="crawl/", categories=CALL),
    Mistake("relative-callback-url", RelativeCallbackUrl, Check.ACTIONXML_VALID, Rule.BAD_VALUE,
            "Response/GetDigits[1]", "callbackUrl", scenario="crawl/"),
    Mistake("action-after-redirect", ActionAfterRedirect, Check.NOTHING_AFTER_TERMINAL,
            Rule.AFTER_TERMINAL, "Response/Say[1]", scenario="crawl/outbound/3", categories=CALL,
            severity=Severity.WARNING),
    Mistake("reject-not-alone", RejectThenSay, Check.NOTHING_AFTER_TERMINAL,
            Rule.REJECT_NOT_ALONE, "Response/Reject[1]", scenario="crawl/inbound/start",
            categories=CALL, severity=Severity.WARNING),
    Mistake("empty-first-answer", EmptyFirstAnswer, Check.FIRST_ANSWER_ACTIONABLE,
            scenario="crawl/"),
    Mistake("json-instead-of-xml", JsonInsteadOfXml, Check.ACTIONXML_VALID, Rule.NOT_XML,
            scenario="crawl/"),
    Mistake("html-template", HtmlTemplate, Check.ACTIONXML_VALID, Rule.DTD_FORBIDDEN,
            scenario="crawl/"),
    Mistake("crash-on-final-notification", CrashOnFinal, Check.FINAL_NOTIFICATION_2XX,
            scenario="outcomes/outbound/USER_BUSY"),
    Mistake("crash-on-unknown-hangup-cause", CrashOnUnknownCause, Check.FINAL_NOTIFICATION_2XX,
            scenario="outcomes/outbound/SUBSCRIBER_ABSENT"),
    Mistake("too-slow", TooSlow, Check.ANSWERED_IN_TIME, scenario="crawl/", categories=CALL,
            timeout=0.5, also=frozenset({Check.ANSWERED_QUICKLY})),  # a busy machine: 0.25 s
    Mistake("digit-without-a-branch", UnhandledDigit, Check.STATUS_2XX,
            scenario="crawl/outbound/3", categories=CALL),
    Mistake("digits-as-a-number", DigitsAsNumber, Check.STATUS_2XX, scenario="crawl/outbound/*",
            categories=CALL),
    Mistake("events-crash-on-duplicate", DuplicateEventCrash, Check.EVENTS_2XX,
            scenario="event-orders/answered/each-twice", categories=EVENTS),
    Mistake("events-url-not-routed", EventsNotRouted, Check.EVENTS_2XX,
            scenario="event-orders/", categories=EVENTS),
    Mistake("plus-in-call-start-time", SpaceSeparatorOnly, Check.FINAL_NOTIFICATION_2XX,
            scenario="crawl/", categories=CALL),
    Mistake("optional-field-required", RequiresCarrier, Check.STATUS_2XX,
            scenario="optional-fields/without-callerCarrierName",
            categories=frozenset({Category.OPTIONAL_FIELDS})),
    Mistake("redirect-loop", RedirectLoop, Check.CALL_PROGRESSES, scenario="crawl/",
            categories=CALL),
    Mistake("redirect-to-impossible-port", RedirectToImpossiblePort, Check.ACTIONXML_VALID,
            scenario="crawl/", categories=CALL),
    Mistake("trailing-slash-redirect", TrailingSlashRedirect, Check.STATUS_2XX,
            scenario="crawl/", also=frozenset({Check.FINAL_NOTIFICATION_2XX}), categories=CALL),
    Mistake("assumes-a-recording", AssumesRecording, Check.STATUS_2XX,
            scenario="crawl/outbound/2/silent", categories=CALL),
    Mistake("xml-labelled-json", XmlLabelledJson, Check.CONTENT_TYPE, scenario="crawl/",
            categories=CALL, severity=Severity.WARNING),
)  # fmt: skip
"""Each realistic mistake and how verify must report it."""
