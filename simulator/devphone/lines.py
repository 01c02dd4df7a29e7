"""The numbers people hold, and their calls put through to them: the engine's live lines.

A person holds a number while a dev phone listens on it: a browser tab with the dashboard's
softphone, or ``atsim call``/``dial --interactive`` in a terminal (each is a *listener*, a
stream of what the phone shows). While one does, calls to that number (``/call``, a ``Dial``
is not put through) ring the person, and calls from it are theirs; when none does, the
number is an ordinary simulated phone user again, scripted or random. A person on a call who
rings again gets a busy signal.

What the engine shows the person goes to every listener as a JSON-ready dict
(``{"type": "say", "sessionId": ..., "text": ...}``); what they do comes back through
:meth:`PhoneLine.act`, checked against the call they are on. A listener joining late (a
reloaded page) first gets the line's status. If every listener goes away during a call, the
person is taken to have hung up after :data:`AWAY_GRACE_SECONDS` (long enough to reload).

Everything here runs on the calls' event loop: the engine, and the HTTP handlers that feed
the listeners and take the person's actions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from at_voice_kit.simulator.devphone.speech import SpeechStore
from at_voice_kit.simulator.engine.line import (
    LineAction,
    LineEvent,
    LineEventKind,
    LineInput,
    LineInputs,
)

DEFAULT_DEV_PHONE = "+254722000100"
"""The number the dashboard's phone holds unless its user picks another."""
AWAY_GRACE_SECONDS = 20.0
LISTENER_BACKLOG = 256
"""Events a listener may fall behind by; one further behind is ended (it reconnects)."""

PhoneMessage = dict[str, Any]
"""One message to a listener: ``type`` names it, the rest are its fields."""

_ACTIVITY = {
    LineEventKind.DIGITS: "listening for keys",
    LineEventKind.RECORD: "recording",
    LineEventKind.BRIDGED: "bridged",
}


class NotOnThisCall(Exception):
    """An action for a call the phone is not on (it ended, or another one is up)."""


class PhoneLine:
    """One number a person holds: its listeners, and the call put through to it, if any."""

    def __init__(
        self, number: str, speech: SpeechStore, away_grace: float = AWAY_GRACE_SECONDS
    ) -> None:
        self.number = number
        self._speech = speech
        self._away_grace = away_grace
        self._listeners: set[asyncio.Queue[PhoneMessage | None]] = set()
        self._session_id: str | None = None
        self._inputs: LineInputs | None = None
        self._status: PhoneMessage = self._idle_status()
        self._away: asyncio.TimerHandle | None = None

    # -- listeners (the person's phones) --------------------------------------------------

    @property
    def live(self) -> bool:
        """Whether a phone listens on this number (a person holds it)."""
        return bool(self._listeners)

    @property
    def session_id(self) -> str | None:
        """The call the person is on, if any."""
        return self._session_id

    @property
    def status(self) -> PhoneMessage:
        """Where the line is: ``idle``, ``ringing``, ``in-call``; with the call's details."""
        return dict(self._status)

    def listen(self) -> asyncio.Queue[PhoneMessage | None]:
        """A new listener: a queue of messages, starting with the line's status (``None``
        ends it)."""
        listener: asyncio.Queue[PhoneMessage | None] = asyncio.Queue(LISTENER_BACKLOG)
        listener.put_nowait(self.status)
        self._listeners.add(listener)
        if self._away is not None:
            self._away.cancel()
            self._away = None
        return listener

    def stop_listening(self, listener: asyncio.Queue[PhoneMessage | None]) -> None:
        """A listener went away; with none left during a call, the person may have gone."""
        self._listeners.discard(listener)
        if not self._listeners and self._inputs is not None and self._away is None:
            loop = asyncio.get_running_loop()
            self._away = loop.call_later(self._away_grace, self._abandoned)

    def end_listeners(self) -> None:
        """End every listener's stream (the server is stopping)."""
        for listener in list(self._listeners):
            _offer(listener, None)

    def _abandoned(self) -> None:
        self._away = None
        if not self._listeners and self._inputs is not None:
            self._inputs.receive(LineAction.HANGUP)

    def _send(self, message: PhoneMessage) -> None:
        for listener in list(self._listeners):
            if not _offer(listener, message):
                self._listeners.discard(listener)  # too far behind: ended, it reconnects

    # -- the person's actions -------------------------------------------------------------

    def act(self, session_id: str, item: LineInput | None) -> None:
        """What the person did on their call ``session_id`` (``None``: nothing yet; only
        check that they are on it)."""
        if self._inputs is None or session_id != self._session_id:
            raise NotOnThisCall(f"{self.number} is not on call {session_id}")
        if item is not None:
            self._inputs.receive(item)

    # -- the engine's side (LiveLine) -----------------------------------------------------

    def attach(self, session_id: str, inputs: LineInputs) -> bool:
        """Put a call through; False when the person is on another call (busy)."""
        if self._inputs is not None:
            return False
        self._session_id, self._inputs = session_id, inputs
        self._status = {**self._idle_status(), "state": "connecting", "sessionId": session_id}
        return True

    def detach(self, session_id: str) -> None:
        """The call is over: the line is free again."""
        if self._session_id != session_id:
            return
        self._session_id, self._inputs = None, None
        self._status = self._idle_status()
        self._send({"type": "status", **self._status})
        if self._away is not None:
            self._away.cancel()
            self._away = None

    def show(self, event: LineEvent) -> None:
        """Send what the engine shows to every listener, and keep the line's status."""
        message: PhoneMessage = {"type": event.kind.value, "sessionId": event.session_id}
        message.update(event.details)
        self._track(event.kind, event.details)
        self._send(message)

    async def speak(self, session_id: str, text: str, voice: str) -> float | None:
        """Render the speech, send it with its caption; how long it lasts (None: no audio)."""
        speech = await self._speech.render(text, voice)
        seconds = None if speech is None else speech.seconds
        self.show(
            LineEvent(
                LineEventKind.SAY,
                session_id,
                {
                    "text": text,
                    "voice": voice,
                    "speechId": None if speech is None else speech.speech_id,
                    "seconds": seconds,
                },
            )
        )
        return seconds

    def _track(self, kind: LineEventKind, details: Mapping[str, object]) -> None:
        status = self._status
        if kind is LineEventKind.RINGING:
            status.update(state="ringing", peer=details.get("from"), direction="Outbound")
        elif kind is LineEventKind.CONNECTED:
            status.update(
                state="in-call", peer=details.get("peer"), direction=details.get("direction")
            )
        elif kind in _ACTIVITY:
            status["activity"] = _ACTIVITY[kind]
        elif kind in (LineEventKind.DIGITS_DONE, LineEventKind.RECORDED):
            status["activity"] = None

    def _idle_status(self) -> PhoneMessage:
        return {
            "type": "status",
            "number": self.number,
            "state": "idle",
            "sessionId": None,
            "peer": None,
            "direction": None,
            "activity": None,
        }


def _offer(listener: asyncio.Queue[PhoneMessage | None], message: PhoneMessage | None) -> bool:
    """Queue ``message``; a listener too far behind is ended instead (False): it reconnects
    and starts again from the line's status."""
    try:
        listener.put_nowait(message)
    except asyncio.QueueFull:
        while not listener.empty():
            listener.get_nowait()
        listener.put_nowait(None)
        return False
    return True


class DevPhones:
    """Every number a person holds (or held), by number: the engine's
    :class:`~at_voice_kit.simulator.engine.line.LiveLines`."""

    def __init__(
        self, speech: SpeechStore | None = None, away_grace: float = AWAY_GRACE_SECONDS
    ) -> None:
        self.speech = speech or SpeechStore()
        self.away_grace = away_grace
        self._lines: dict[str, PhoneLine] = {}

    def line_for(self, number: str) -> PhoneLine | None:
        """The line of ``number`` if a person holds it now."""
        line = self._lines.get(number)
        return line if line is not None and line.live else None

    def line(self, number: str) -> PhoneLine:
        """The line of ``number``, made when first asked for."""
        line = self._lines.get(number)
        if line is None:
            self._forget_unheld()
            line = self._lines[number] = PhoneLine(number, self.speech, self.away_grace)
        return line

    def _forget_unheld(self) -> None:
        """Drop the lines nobody holds and no call uses (a number tried once, say)."""
        for number, line in list(self._lines.items()):
            if not line.live and line.session_id is None:
                del self._lines[number]

    def live_lines(self) -> list[PhoneLine]:
        """The lines a person holds now."""
        return [line for line in self._lines.values() if line.live]

    def end_listeners(self) -> None:
        """End every phone's stream (the server is stopping)."""
        for line in self._lines.values():
            line.end_listeners()
