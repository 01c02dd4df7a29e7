"""ActionXML as typed Python values: one class per element of AT's grammar.

These are the values the builder renders, the parser returns, the service's call flows are
made of, and the simulator's call engine executes. Field names are the Pythonic spelling of
AT's camelCase attributes; ``None`` means "attribute absent, AT's default applies".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

TTS_VOICE_NAME = re.compile(r"[a-z]{2,3}-[A-Z]{2}(?:-[A-Za-z0-9]+)+")
"""A named text-to-speech voice, ``en-US-Standard-C``, ``en-US-Wavenet-C``, ``sw-KE-...``:
language, region, then the voice's name. AT documents only ``man`` and ``woman``, but AT's
official Node.js SDK takes any string for ``voice`` (its ``saySchema``: ``Joi.string()``),
the Laravel SDK's README says ``voice: 'en-US-Standard-C'``, and production apps on AT answer
such names beside AT-only actions: they work on AT."""


class Voice(StrEnum):
    """Text-to-speech voice of ``<Say>``: ``man``, ``woman``, or a named voice
    (``Voice("en-US-Standard-C")``, see :data:`TTS_VOICE_NAME`)."""

    MAN = "man"
    WOMAN = "woman"

    @classmethod
    def _missing_(cls, value: object) -> Voice | None:
        """A named voice is a voice too (a member made for it, its value the name)."""
        if not isinstance(value, str) or not TTS_VOICE_NAME.fullmatch(value):
            return None
        named = str.__new__(cls, value)
        named._name_ = value
        named._value_ = value
        return named

    @property
    def is_named(self) -> bool:
        """True for a named text-to-speech voice, not AT's ``man`` or ``woman``."""
        return self not in (Voice.MAN, Voice.WOMAN)


@dataclass(frozen=True, slots=True)
class Say:
    """``<Say>``: text-to-speech. ``voice`` defaults to ``woman`` on AT."""

    text: str
    voice: Voice | None = None
    play_beep: bool | None = None

    DEFAULT_VOICE: ClassVar[Voice] = Voice.WOMAN

    @property
    def effective_voice(self) -> Voice:
        """The voice AT speaks with: ``voice``, or ``woman`` when absent."""
        return self.DEFAULT_VOICE if self.voice is None else Voice(self.voice)

    @property
    def effective_play_beep(self) -> bool:
        """Whether a beep plays after the text (absent means no beep)."""
        return bool(self.play_beep)


@dataclass(frozen=True, slots=True)
class Play:
    """``<Play url="...">``: play an audio file (``.mp3`` or ``.wav``)."""

    url: str


Prompt = Say | Play
"""The only children ``GetDigits`` and partial ``Record`` take: one ``Say`` or ``Play``."""


@dataclass(frozen=True, slots=True)
class GetDigits:
    """``<GetDigits>``: collect DTMF input, then post ``dtmfDigits`` to ``callback_url``.

    With no input before ``timeout`` (AT default 30 s) no request is sent and the next
    action runs (or the call hangs up when there is none).
    """

    prompt: Prompt | None = None
    num_digits: int | None = None
    timeout: int | None = None
    finish_on_key: str | None = None
    callback_url: str | None = None

    DEFAULT_TIMEOUT: ClassVar[int] = 30

    @property
    def effective_timeout(self) -> int:
        """Seconds AT waits for input: ``timeout``, or 30 when absent."""
        return self.DEFAULT_TIMEOUT if self.timeout is None else self.timeout


@dataclass(frozen=True, slots=True)
class Dial:
    """``<Dial phoneNumbers="...">``: ring one or more numbers and bridge the first to answer.

    ``sequential`` false (AT default) rings all at once; the others get ``LOSE_RACE``.
    Terminal when a leg picks up; otherwise the next action runs.
    """

    phone_numbers: tuple[str, ...]
    record: bool | None = None
    sequential: bool | None = None
    caller_id: str | None = None
    ring_back_tone: str | None = None
    max_duration: int | None = None

    DEFAULT_SEQUENTIAL: ClassVar[bool] = False

    @property
    def effective_sequential(self) -> bool:
        """Whether the numbers ring one after another (absent: all at once)."""
        return self.DEFAULT_SEQUENTIAL if self.sequential is None else self.sequential

    @property
    def effective_record(self) -> bool:
        """Whether the bridged call is recorded (absent means not recorded)."""
        return bool(self.record)


@dataclass(frozen=True, slots=True)
class Record:
    """``<Record>``, partial or terminal.

    Partial (``terminal=False``): record until ``finish_on_key``, ``max_length`` or
    ``timeout``, then post ``recordingUrl`` to ``callback_url`` and continue with the XML
    answered to it. Terminal (``terminal=True``, written ``<Record/>`` with no attributes and
    no prompt): record until hang-up; nothing after it runs; ``recordingUrl`` arrives in the
    final request.
    """

    prompt: Prompt | None = None
    finish_on_key: str | None = None
    max_length: int | None = None
    timeout: int | None = None
    trim_silence: bool | None = None
    play_beep: bool | None = None
    callback_url: str | None = None
    terminal: bool = False

    DEFAULT_TIMEOUT: ClassVar[int] = 3600

    @classmethod
    def until_hangup(cls) -> Record:
        """The terminal ``<Record/>``: record until the caller hangs up; nothing after it runs."""
        return cls(terminal=True)

    @property
    def effective_timeout(self) -> int:
        """Seconds of silence that end a partial recording: ``timeout``, or 3600 when absent."""
        return self.DEFAULT_TIMEOUT if self.timeout is None else self.timeout

    @property
    def effective_trim_silence(self) -> bool:
        """Whether leading and trailing silence is trimmed (absent means not trimmed)."""
        return bool(self.trim_silence)

    @property
    def effective_play_beep(self) -> bool:
        """Whether a beep marks the start of recording (absent means no beep)."""
        return bool(self.play_beep)


@dataclass(frozen=True, slots=True)
class Enqueue:
    """``<Enqueue>``: put the caller in the named queue, playing ``hold_music``."""

    hold_music: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Dequeue:
    """``<Dequeue phoneNumber="...">``: connect the next caller queued on that AT number."""

    phone_number: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Redirect:
    """``<Redirect>URL</Redirect>``: the URL becomes the callback for the rest of the call."""

    url: str


@dataclass(frozen=True, slots=True)
class Reject:
    """``<Reject/>``: refuse an inbound call at no cost. Must be the only action."""


@dataclass(frozen=True, slots=True)
class Conference:
    """``<Conference/>``: AT documents the element but not its behaviour."""


Action = Say | Play | GetDigits | Dial | Record | Enqueue | Dequeue | Redirect | Reject | Conference
"""Any top-level ActionXML action."""


@dataclass(frozen=True, slots=True)
class Response:
    """``<Response>``: the document root; actions run in order."""

    actions: tuple[Action, ...] = field(default_factory=tuple)
