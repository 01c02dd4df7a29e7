"""The dashboard's data endpoints, under ``/_simulator/``: the call board, the live feed, the
dev phones and the speech they play. Admin resources: the admin token guards them exactly as
it guards the rest of the admin API (decided on the routed resource, never on the path).
"""

from __future__ import annotations

import re

import falcon
import falcon.asgi

from at_voice_kit.contracts.phone import normalise_international
from at_voice_kit.simulator.backend.exceptions import Conflict, FieldError, InvalidSettings
from at_voice_kit.simulator.configuration.fields import check_path_phone_number
from at_voice_kit.simulator.configuration.phone_actions import (
    SESSION_ID,
    read_phone_action,
    read_phone_call,
)
from at_voice_kit.simulator.devphone.lines import DEFAULT_DEV_PHONE, NotOnThisCall, PhoneLine
from at_voice_kit.simulator.devphone.recorded_audio import (
    MAX_RECORDING_BYTES,
    InvalidRecording,
    checked_recording,
)
from at_voice_kit.simulator.engine.line import LineInput
from at_voice_kit.simulator.serving.admin.errors import BodyTooLarge, UnsupportedMediaType
from at_voice_kit.simulator.serving.admin.responses import (
    AdminResource,
    admin_location,
    send,
    send_saved,
)
from at_voice_kit.simulator.serving.admin.views import call_view, timeline_so_far
from at_voice_kit.simulator.serving.dashboard.board_views import (
    board_call,
    board_note,
    board_number,
    board_request,
    board_webhook,
)
from at_voice_kit.simulator.serving.dashboard.streams import feed_stream, phone_stream

BOARD_CALLS = 500
"""The latest calls the board lists when it (re)loads; older ones are found by session id."""
WAV_TYPES = frozenset({"audio/wav", "audio/x-wav", "audio/wave"})
_SPEECH_ID = re.compile(r"^[0-9a-f]{32}\Z")
_POSITION = re.compile(r"^[0-9]{1,18}\Z")


class BoardResource(AdminResource):
    """``GET /_simulator/board``: the latest calls and the feed's position, to (re)load the
    board before following the feed from there."""

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Position first, then the calls: an entry published in between is sent twice at
        worst, never lost."""
        backend = self._backend
        position = backend.feed.position
        calls = backend.calls.all()
        send(
            resp,
            {
                "position": position,
                "total": len(calls),
                "calls": [board_call(call) for call in calls[-BOARD_CALLS:]],
                "speech": backend.phones.speech.available,
                "devPhone": DEFAULT_DEV_PHONE,
            },
        )


class BoardNumbersResource(AdminResource):
    """``GET /_simulator/board/numbers``: the AT numbers with their URLs' secrets masked, for
    the dashboard to show."""

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Every AT number."""
        send(resp, {"numbers": [board_number(n) for n in self._backend.numbers.all()]})


class BoardCallResource(AdminResource):
    """``GET /_simulator/board/calls/{sessionId}``: one call's whole timeline so far, as the
    board shows it (the feed's entries after ``position`` continue it)."""

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, session_id: str
    ) -> None:
        """The call, its API requests, webhooks and timeline lines, secrets masked."""
        backend = self._backend
        position = backend.feed.position
        call = backend.calls.get(session_id)
        journal = backend.journal
        send(
            resp,
            {
                "position": position,
                "call": board_call(call),
                "requests": [board_request(x) for x in journal.api_requests_for(session_id)],
                "webhooks": [board_webhook(x) for x in journal.webhooks_for(session_id)],
                "notes": [board_note(at, text) for at, text in timeline_so_far(call, journal)],
                "leftOut": dict(
                    zip(("requests", "webhooks"), journal.left_out_for(session_id), strict=True)
                ),
            },
        )


class FeedResource(AdminResource):
    """``GET /_simulator/feed``: the live feed, as server-sent events (``after``: resume after
    this entry, default now; ``session``: one call's entries only; ``follow=false``: send what
    is there and end)."""

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """The event stream."""
        after = _position(req, self._backend.feed.position)
        session_id = req.get_param("session")
        if session_id is not None and not SESSION_ID.match(session_id):
            raise InvalidSettings([FieldError("session", "must be a sessionId")])
        resp.set_header("Cache-Control", "no-cache")
        resp.sse = feed_stream(self._backend.feed, after, session_id, follow=_follow(req))


def _position(req: falcon.asgi.Request, now: int) -> int:
    text = req.get_param("after") or req.get_header("Last-Event-ID")
    if text is None:
        return now
    if not _POSITION.match(text):
        raise InvalidSettings([FieldError("after", "must be a feed position (0 or more)")])
    return int(text)


def _follow(req: falcon.asgi.Request) -> bool:
    text = req.get_param("follow")
    if text is None or text == "true":
        return True
    if text == "false":
        return False
    raise InvalidSettings([FieldError("follow", "must be true or false")])


class PhonesResource(AdminResource):
    """``GET /_simulator/phones``: the numbers people hold now, with their lines' status."""

    async def on_get(self, req: falcon.asgi.Request, resp: falcon.asgi.Response) -> None:
        """Every live line."""
        send(resp, {"phones": [line.status for line in self._backend.phones.live_lines()]})


class PhoneResource(AdminResource):
    """A dev phone's number from the path: a valid number that is not one of the AT numbers
    (those are the apps'; a person holds a phone user's number)."""

    def line(self, number: str) -> PhoneLine:
        """The line of the number in the path."""
        check_path_phone_number(number)
        canonical = normalise_international(number)
        if self._backend.numbers.find(canonical) is not None:
            raise Conflict(f"{canonical} is an AT number of the simulator, not a phone's")
        return self._backend.phones.line(canonical)


class PhoneEventsResource(PhoneResource):
    """``GET /_simulator/phones/{number}/events``: hold the number and hear what happens on
    it, as server-sent events, for as long as the stream is open."""

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, number: str
    ) -> None:
        """The line's event stream, starting with its status."""
        line = self.line(number)
        resp.set_header("Cache-Control", "no-cache")
        resp.sse = phone_stream(line)


class PhoneActionsResource(PhoneResource):
    """``POST /_simulator/phones/{number}/actions``: what the person does on their call."""

    async def on_post(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, number: str
    ) -> None:
        """Answer, reject, hang up, press a key, say a Play ended, or hand in a recording's
        length; 409 when the phone is not on that call."""
        line = self.line(number)
        action = read_phone_action(await self.json_body(req))
        _act(line, action.session_id, action.item)
        resp.status = falcon.HTTP_204


class PhoneRecordingResource(PhoneResource):
    """``POST /_simulator/phones/{number}/recording?sessionId=...``: what the person said
    into a ``Record``, as a 16-bit PCM WAV file (``audio/wav``)."""

    async def on_post(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, number: str
    ) -> None:
        """Check the WAV file and hand it to the call."""
        line = self.line(number)
        session_id = req.get_param("sessionId")
        if session_id is None or not SESSION_ID.match(session_id):
            raise InvalidSettings([FieldError("sessionId", "must be the call's sessionId")])
        _act(line, session_id, None)  # on that call? (409 before reading a body for nothing)
        body = await _wav_body(req)
        try:
            audio = checked_recording(body)
        except InvalidRecording as exc:
            raise InvalidSettings([FieldError("(body)", str(exc))]) from None
        _act(line, session_id, audio)
        resp.status = falcon.HTTP_204


async def _wav_body(req: falcon.asgi.Request) -> bytes:
    media_type = (req.content_type or "").partition(";")[0].strip().lower()
    if media_type not in WAV_TYPES:
        raise UnsupportedMediaType(f"the body must be audio/wav, not {req.content_type}")
    if req.content_length is not None and req.content_length > MAX_RECORDING_BYTES:
        raise BodyTooLarge(f"the body is over {MAX_RECORDING_BYTES} bytes")
    body = await req.stream.read(MAX_RECORDING_BYTES + 1)
    if len(body) > MAX_RECORDING_BYTES:
        raise BodyTooLarge(f"the body is over {MAX_RECORDING_BYTES} bytes")
    return body


def _act(line: PhoneLine, session_id: str, item: LineInput | None) -> None:
    """Hand ``item`` to the person's call (``None``: only check they are on it); 409 if not."""
    try:
        line.act(session_id, item)
    except NotOnThisCall as exc:
        raise Conflict(str(exc)) from None


class PhoneCallsResource(PhoneResource):
    """``POST /_simulator/phones/{number}/calls``: the person calls an AT number (an inbound
    call they are on); the phone must be listening and free."""

    async def on_post(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, number: str
    ) -> None:
        """Start the call; 201 with it."""
        line = self.line(number)
        to = read_phone_call(await self.json_body(req))
        if not line.live:
            raise Conflict(f"no dev phone listens on {line.number}: open its event stream first")
        if line.session_id is not None:
            raise Conflict(f"{line.number} is on a call already ({line.session_id})")
        call = self._backend.receive_call(line.number, to)
        send_saved(resp, call_view(call), True, admin_location("calls", call.session_id))


class SpeechResource(AdminResource):
    """``GET /_simulator/speech/{speechId}.wav``: a ``Say`` rendered for a dev phone."""

    async def on_get(
        self, req: falcon.asgi.Request, resp: falcon.asgi.Response, speech_id: str
    ) -> None:
        """The WAV file, while the cache keeps it."""
        key = speech_id.removesuffix(".wav")
        speech = self._backend.phones.speech.get(key) if _SPEECH_ID.match(key) else None
        if speech is None:
            raise falcon.HTTPNotFound()
        resp.content_type = "audio/wav"
        resp.data = speech.wav
