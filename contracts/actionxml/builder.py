"""A fluent, immutable builder of ActionXML responses, for call flows and tests.

    xml = (
        ResponseBuilder()
        .say("Welcome to Acme.")
        .get_digits(num_digits=1, timeout=10, callback_url=url, prompt="Press 1 for sales.")
        .say("We did not get your choice. Goodbye.")
        .to_xml()
    )

Each method returns a new builder, so a shared prefix can be extended in several ways.
:meth:`ResponseBuilder.build` and :meth:`ResponseBuilder.to_xml` validate: the builder only
ever produces valid documents, and raises
:class:`~at_voice_kit.contracts.actionxml.problems.InvalidActionXML` naming every problem otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from at_voice_kit.contracts.actionxml.model import (
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
    Voice,
)
from at_voice_kit.contracts.actionxml.problems import InvalidActionXML
from at_voice_kit.contracts.actionxml.render import render
from at_voice_kit.contracts.actionxml.rules import validate


def _prompt(prompt: Prompt | str | None) -> Prompt | None:
    return Say(prompt) if isinstance(prompt, str) else prompt


@dataclass(frozen=True, slots=True)
class ResponseBuilder:
    """Accumulates actions in order; ``build()`` gives the :class:`Response`, ``to_xml()`` the text.

    Keyword names are the model's (``num_digits`` for ``numDigits``); ``None`` leaves an
    attribute out so AT's default applies. A ``prompt`` given as a string is a ``Say``.
    """

    actions: tuple[Action, ...] = ()

    def then(self, *actions: Action) -> ResponseBuilder:
        """Append ready-made actions."""
        return ResponseBuilder((*self.actions, *actions))

    def say(
        self, text: str, *, voice: Voice | None = None, play_beep: bool | None = None
    ) -> ResponseBuilder:
        """Speak ``text`` (``<Say>``)."""
        return self.then(Say(text, voice=voice, play_beep=play_beep))

    def play(self, url: str) -> ResponseBuilder:
        """Play the audio file at ``url`` (``<Play>``)."""
        return self.then(Play(url))

    def get_digits(
        self,
        *,
        prompt: Prompt | str | None = None,
        num_digits: int | None = None,
        timeout: int | None = None,
        finish_on_key: str | None = None,
        callback_url: str | None = None,
    ) -> ResponseBuilder:
        """Collect key presses, posted as ``dtmfDigits`` to ``callback_url`` (``<GetDigits>``)."""
        return self.then(
            GetDigits(
                prompt=_prompt(prompt),
                num_digits=num_digits,
                timeout=timeout,
                finish_on_key=finish_on_key,
                callback_url=callback_url,
            )
        )

    def dial(
        self,
        *phone_numbers: str,
        record: bool | None = None,
        sequential: bool | None = None,
        caller_id: str | None = None,
        ring_back_tone: str | None = None,
        max_duration: int | None = None,
    ) -> ResponseBuilder:
        """Ring one or more numbers or SIP addresses, bridging the first to answer (``<Dial>``)."""
        return self.then(
            Dial(
                phone_numbers=phone_numbers,
                record=record,
                sequential=sequential,
                caller_id=caller_id,
                ring_back_tone=ring_back_tone,
                max_duration=max_duration,
            )
        )

    def record(
        self,
        *,
        prompt: Prompt | str | None = None,
        finish_on_key: str | None = None,
        max_length: int | None = None,
        timeout: int | None = None,
        trim_silence: bool | None = None,
        play_beep: bool | None = None,
        callback_url: str | None = None,
    ) -> ResponseBuilder:
        """Record a message, posted as ``recordingUrl`` to ``callback_url`` (partial Record)."""
        return self.then(
            Record(
                prompt=_prompt(prompt),
                finish_on_key=finish_on_key,
                max_length=max_length,
                timeout=timeout,
                trim_silence=trim_silence,
                play_beep=play_beep,
                callback_url=callback_url,
            )
        )

    def record_until_hangup(self) -> ResponseBuilder:
        """Record until the caller hangs up (terminal ``<Record/>``); nothing after it runs."""
        return self.then(Record.until_hangup())

    def enqueue(self, *, name: str | None = None, hold_music: str | None = None) -> ResponseBuilder:
        """Put the caller in the queue ``name``, playing ``hold_music`` (``<Enqueue>``)."""
        return self.then(Enqueue(hold_music=hold_music, name=name))

    def dequeue(self, phone_number: str, *, name: str | None = None) -> ResponseBuilder:
        """Connect the next caller queued on the AT number ``phone_number`` (``<Dequeue>``)."""
        return self.then(Dequeue(phone_number=phone_number, name=name))

    def redirect(self, url: str) -> ResponseBuilder:
        """Continue with the ActionXML ``url`` answers (``<Redirect>``); ends this document."""
        return self.then(Redirect(url))

    def reject(self) -> ResponseBuilder:
        """Refuse the inbound call at no cost (``<Reject/>``). AT documents it alone; after
        other actions it is a ``reject-not-alone`` warning, which the builder refuses too
        (the kit's own answers break no rule at all)."""
        return self.then(Reject())

    def conference(self) -> ResponseBuilder:
        """``<Conference/>`` (AT documents the element but not its behaviour)."""
        return self.then(Conference())

    def build(self) -> Response:
        """The validated :class:`Response`; raises :class:`InvalidActionXML` naming each problem."""
        response = Response(self.actions)
        problems = validate(response)
        if problems:
            raise InvalidActionXML(problems)
        return response

    def to_xml(self) -> str:
        """The ActionXML document; raises :class:`InvalidActionXML` listing every problem."""
        return render(Response(self.actions))
