"""The grammar as data: every element, its attributes, their value types and aliases.

This table is the one definition the renderer, the parser, the validator and the docs
(docs/actionxml.md) all follow (the XSD mirrors it, and a test holds the two together). It is
transcribed from section 3 of AT's voice documentation (``at-voice-api.md``).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import at_voice_kit.contracts.actionxml.model as model
from at_voice_kit.contracts.actionxml.values import (
    Boolean,
    DialTargets,
    FinishOnKey,
    HttpUrl,
    InternationalNumber,
    QueueName,
    RedirectUrl,
    SpokenText,
    ValueType,
    VoiceName,
    WholeNumber,
)

ROOT = "Response"
XSD_PATH = Path(__file__).resolve().parent.parent / "actionxml.xsd"
"""The published XML Schema 1.0 of the grammar (installed with the package)."""
XSI_NAMESPACE = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION_ATTRIBUTES = frozenset(
    {f"{{{XSI_NAMESPACE}}}schemaLocation", f"{{{XSI_NAMESPACE}}}noNamespaceSchemaLocation"}
)
"""Schema location hints (``xsi:noNamespaceSchemaLocation="actionxml.xsd"``), allowed on any
element and ignored, so editors can validate against the published schema. Any other
attribute in a namespace (``xml:lang``, ``xsi:type``) is unknown."""


@dataclass(frozen=True, slots=True)
class AttributeSpec:
    """One attribute: its canonical XML name, the model field, its type and AT's aliases."""

    name: str
    field: str
    value_type: ValueType
    required: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TextSpec:
    """The text content of an element that takes one (``Say``, ``Redirect``): always required."""

    field: str
    value_type: ValueType


@dataclass(frozen=True, slots=True)
class ElementSpec:
    """One element: attributes in canonical order, its text if any, whether it takes a prompt."""

    name: str
    model: type[model.Action]
    attributes: tuple[AttributeSpec, ...] = ()
    text: TextSpec | None = None
    takes_prompt: bool = False
    terminal: bool = False
    """Nothing after it ever runs (Redirect; terminal Record is decided per element)."""

    def attribute(self, name: str) -> AttributeSpec | None:
        """The attribute spelled ``name`` (canonical or alias), case-sensitively."""
        for spec in self.attributes:
            if name == spec.name or name in spec.aliases:
                return spec
        return None


_CALLBACK_URL = AttributeSpec("callbackUrl", "callback_url", HttpUrl(), aliases=("callBackUrl",))
_FINISH_ON_KEY = AttributeSpec("finishOnKey", "finish_on_key", FinishOnKey())
_PLAY_BEEP = AttributeSpec("playBeep", "play_beep", Boolean())
_SECONDS = WholeNumber("seconds")
_QUEUE_NAME = AttributeSpec("name", "name", QueueName())

SAY = ElementSpec(
    "Say",
    model.Say,
    (AttributeSpec("voice", "voice", VoiceName()), _PLAY_BEEP),
    text=TextSpec("text", SpokenText()),
)
PLAY = ElementSpec("Play", model.Play, (AttributeSpec("url", "url", HttpUrl(), required=True),))
GET_DIGITS = ElementSpec(
    "GetDigits",
    model.GetDigits,
    (
        AttributeSpec("numDigits", "num_digits", WholeNumber("digits")),
        AttributeSpec("timeout", "timeout", _SECONDS),
        _FINISH_ON_KEY,
        _CALLBACK_URL,
    ),
    takes_prompt=True,
)
DIAL = ElementSpec(
    "Dial",
    model.Dial,
    (
        AttributeSpec("phoneNumbers", "phone_numbers", DialTargets(), required=True),
        AttributeSpec("record", "record", Boolean()),
        AttributeSpec("sequential", "sequential", Boolean()),
        AttributeSpec("callerId", "caller_id", InternationalNumber()),
        AttributeSpec("ringBackTone", "ring_back_tone", HttpUrl(), aliases=("ringbackTone",)),
        AttributeSpec("maxDuration", "max_duration", _SECONDS),
    ),
)
RECORD = ElementSpec(
    "Record",
    model.Record,
    (
        _FINISH_ON_KEY,
        AttributeSpec("maxLength", "max_length", _SECONDS),
        AttributeSpec("timeout", "timeout", _SECONDS),
        AttributeSpec("trimSilence", "trim_silence", Boolean()),
        _PLAY_BEEP,
        _CALLBACK_URL,
    ),
    takes_prompt=True,
)
ENQUEUE = ElementSpec(
    "Enqueue",
    model.Enqueue,
    (AttributeSpec("holdMusic", "hold_music", HttpUrl()), _QUEUE_NAME),
)
DEQUEUE = ElementSpec(
    "Dequeue",
    model.Dequeue,
    (
        AttributeSpec("phoneNumber", "phone_number", InternationalNumber(), required=True),
        _QUEUE_NAME,
    ),
)
REDIRECT = ElementSpec(
    "Redirect", model.Redirect, text=TextSpec("url", RedirectUrl()), terminal=True
)
REJECT = ElementSpec("Reject", model.Reject)
CONFERENCE = ElementSpec("Conference", model.Conference)

ELEMENTS: dict[str, ElementSpec] = {
    spec.name: spec
    for spec in (
        SAY,
        PLAY,
        GET_DIGITS,
        DIAL,
        RECORD,
        ENQUEUE,
        DEQUEUE,
        REDIRECT,
        REJECT,
        CONFERENCE,
    )
}
"""Every action element by its (case-sensitive) name, in the order of AT's table."""

SPEC_OF_MODEL: dict[type, ElementSpec] = {spec.model: spec for spec in ELEMENTS.values()}

PROMPTS = frozenset({"Say", "Play"})
"""The elements ``GetDigits`` and ``Record`` take as their one child."""

SSML_ELEMENTS = frozenset(
    {
        # W3C SSML 1.1 (https://www.w3.org/TR/speech-synthesis11/).
        "speak",
        "lexicon",
        "lookup",
        "meta",
        "metadata",
        "p",
        "s",
        "token",
        "w",
        "say-as",
        "phoneme",
        "sub",
        "lang",
        "voice",
        "emphasis",
        "break",
        "prosody",
        "audio",
        "desc",
        "mark",
        # Google Cloud Text-to-Speech's additions (AT's voices such as en-US-Wavenet-C).
        "par",
        "seq",
        "media",
    }
)
"""The SSML elements a ``Say`` may hold as markup around its text (:func:`is_ssml_markup`).

AT documents ``Say`` as "text", but its voices speak SSML (``<Say><speak>..<break
time="200ms"/>..</speak></Say>``, as the africastalking-laravel SDK writes and tests), so an
element of this list inside ``Say`` is speech markup, not a misplaced ActionXML element."""


def is_ssml_markup(name: str) -> bool:
    """Whether an element named ``name``, a child of ``Say``, is SSML markup: an SSML element,
    or any element in a namespace (``amazon:effect``; ActionXML itself has no namespace)."""
    return name in SSML_ELEMENTS or name.startswith("{")


def suggest(name: str, known: list[str]) -> str | None:
    """The known name ``name`` most likely meant: same letters in another case, or a near miss."""
    for candidate in known:
        if candidate.lower() == name.lower():
            return candidate
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    return close[0] if close else None
