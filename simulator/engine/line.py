"""A live line: a person on a call (the dev phone in a browser, ``atsim call --interactive``),
as the engine sees them.

Simulated phone users follow a script or the seeded distribution, decided in advance. A person
decides as the call goes: they answer or not, listen to a prompt and then press keys, talk
into a ``Record`` for as long as they like, and hang up whenever they want. The engine talks to
them through two small seams defined here, so it stays free of I/O:

- :class:`LiveLine` (implemented outside the engine, by the dev phone): what the person sees
  and hears, as :class:`LineEvent` values, and the speech a ``Say`` is rendered to;
- :class:`LineInputs` (implemented by the engine's
  :class:`~at_voice_kit.simulator.engine.live_caller.LiveCaller`): what the person does, as
  :class:`LineInput` values the line hands in as they happen.

:class:`LiveLines` is the directory the engine asks, when a call starts, whether a person holds
the phone user's number; nobody does for most numbers, and those calls are simulated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class LineEventKind(StrEnum):
    """What the person is shown or hears."""

    RINGING = "ringing"
    """Their phone rings (an outbound call): ``from`` is the AT number calling."""
    CONNECTED = "connected"
    """The call is up: ``peer`` is the AT number, ``direction`` the call's."""
    SAY = "say"
    """Speech: ``text``, ``voice``, ``audio`` (a URL of the rendered WAV, or null), ``seconds``."""
    PLAY = "play"
    """An audio file to play: ``url``. The person's phone answers ``played`` when it ends."""
    DIGITS = "digits"
    """A ``GetDigits`` listens for keys: ``numDigits``, ``finishOnKey``, ``timeout``."""
    DIGITS_DONE = "digits-done"
    """The ``GetDigits`` stopped listening: ``digits`` collected (``""``: no input)."""
    PROMPT_STOPPED = "prompt-stopped"
    """A key pressed during a prompt stops it (barge-in)."""
    RECORD = "record"
    """Recording starts: ``finishOnKey``, ``maxLength``, ``terminal``, ``beep``."""
    RECORD_STOP = "record-stop"
    """The platform ends the recording (``finishOnKey`` or ``maxLength``): send it now."""
    RECORDED = "recorded"
    """The recording was stored: ``url`` (the ``recordingUrl`` the app gets), ``seconds``."""
    BRIDGED = "bridged"
    """Talking to another party: ``number``."""
    ENDED = "ended"
    """The call is over: ``reason``, ``hangupCause`` (null when the call was cancelled)."""


EventValue = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class LineEvent:
    """One thing shown to the person on ``session_id``'s call."""

    kind: LineEventKind
    session_id: str
    details: Mapping[str, EventValue] = field(default_factory=dict)


class LineAction(StrEnum):
    """What the person does, other than pressing a key or handing in a recording."""

    ANSWER = "answer"
    REJECT = "reject"
    HANGUP = "hangup"
    PLAYED = "played"
    """The audio of a ``Play`` ended (or could not be fetched)."""


@dataclass(frozen=True, slots=True)
class KeyPress:
    """One key of the keypad: ``0``-``9``, ``*`` or ``#``."""

    key: str


@dataclass(frozen=True, slots=True)
class RecordedAudio:
    """What the person said into a ``Record``.

    ``wav`` is a checked PCM WAV file (the dev phone's microphone), ``seconds`` its length;
    without ``wav`` (a phone with no microphone, ``atsim dial --interactive``) the platform
    makes a voice-like recording of ``seconds``. ``seconds`` 0: nothing was said.
    """

    seconds: float
    wav: bytes | None = None


LineInput = LineAction | KeyPress | RecordedAudio


class LineInputs(Protocol):
    """The engine's end of a live line: takes what the person does, as they do it."""

    def receive(self, item: LineInput) -> None:
        """Hand in one thing the person did (called on the calls' event loop)."""
        ...


class LiveLine(Protocol):
    """A person's phone, as the engine reaches it."""

    def attach(self, session_id: str, inputs: LineInputs) -> bool:
        """Put the call ``session_id`` through to the person; False if they are on another
        call already (the phone is busy)."""
        ...

    def detach(self, session_id: str) -> None:
        """The call ``session_id`` is over (or was cancelled): free the phone."""
        ...

    def show(self, event: LineEvent) -> None:
        """Show or play something to the person."""
        ...

    async def speak(self, session_id: str, text: str, voice: str) -> float | None:
        """Render ``text`` as speech, play it to the person (with a caption), and return how
        many seconds it lasts; ``None`` when no speech could be rendered (the caption is
        shown, and the platform's own estimate of the length is used)."""
        ...


class LiveLines(Protocol):
    """Which numbers a person holds right now."""

    def line_for(self, number: str) -> LiveLine | None:
        """The live line of ``number``, or ``None``: nobody holds it, the call is simulated."""
        ...
