"""The engine's configuration and its wiring to the outside world, as two plain values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from at_voice_kit.contracts.actionxml import parse
from at_voice_kit.contracts.vocabulary import HangupCause
from at_voice_kit.contracts.wire import CallStartTimeSeparator
from at_voice_kit.simulator.engine.events import NO_FAULTS, EventFaults
from at_voice_kit.simulator.engine.line import LiveLines
from at_voice_kit.simulator.engine.outcomes import (
    APP_ERROR_ENDING,
    DEFAULT_OUTCOMES,
    Ending,
    OutcomeDistribution,
)
from at_voice_kit.simulator.engine.ports import (
    ActionXmlParser,
    CalleeDirectory,
    JournalSink,
    ParsedActionXml,
    QueueRegistry,
    WebhookDelivery,
)
from at_voice_kit.simulator.engine.rates import DEFAULT_RATE_TABLE, RateTable
from at_voice_kit.simulator.engine.recordings import RecordingStore
from at_voice_kit.simulator.engine.records import CallRecord, StateChange
from at_voice_kit.simulator.engine.timing import DEFAULT_TIMING, TimingModel

DEFAULT_WEBHOOK_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """Everything about *how* calls behave; the defaults are the documented choices.

    - ``webhook_timeout``: how long AT waits for the app (virtual time charged for a timeout;
      give the same value to
      :class:`~at_voice_kit.simulator.delivery.http_delivery.HttpxWebhookDelivery`).
    - ``separator``: how ``callStartTime``/``dialStartTime`` join date and time. Default
      ``+``: what real AT payloads carry after form decoding, and the spelling that breaks
      apps which assume the service docs' space, which is what a simulator should reveal.
    - ``default_finish_on_key``: the finishOnKey of a GetDigits that sets none. AT documents
      none ("the first digit the user presses" is sent); set ``"#"`` to end on hash instead.
    - ``user_hangup_cause``: the cause when the phone user hangs up mid-flow (a normal
      clearing from the user's side, so ``NORMAL_CLEARING`` by default).
    - ``app_error_ending``: how a call ends when the app fails (see outcomes.APP_ERROR_ENDING).
    - ``hangup_cause_when_answered``: also put ``hangupCause`` (``NORMAL_CLEARING``) in the
      final request of a call that was answered. Off by default: recorded finals of answered
      calls carry none, and AT's help page says the field explains "why an outbound call did
      not go through"; on for apps written to the older reading.
    - ``strict``: any problem in an answer (an error or a warning of the verdict model) ends
      the call as an app failure. Off by default: the call is carried on the way AT most
      plausibly would (the known actions in order, unknown elements skipped), and ends as an
      app failure only where AT certainly would (not XML, no ``<Response>``, too large, or an
      HTTP failure); every problem is journaled with its severity either way.
    - ``live_ring_seconds``: how long the phone of a person on a live line (the dev phone)
      rings before the call counts as not answered.
    """

    webhook_timeout: float = DEFAULT_WEBHOOK_TIMEOUT
    separator: CallStartTimeSeparator = CallStartTimeSeparator.PLUS
    timing: TimingModel = DEFAULT_TIMING
    outcomes: OutcomeDistribution = DEFAULT_OUTCOMES
    rates: RateTable = DEFAULT_RATE_TABLE
    event_faults: EventFaults = NO_FAULTS
    default_finish_on_key: str | None = None
    user_hangup_cause: HangupCause = HangupCause.NORMAL_CLEARING
    app_error_ending: Ending = APP_ERROR_ENDING
    strict: bool = False
    hangup_cause_when_answered: bool = False
    live_ring_seconds: float = 45.0

    def __post_init__(self) -> None:
        if not self.webhook_timeout > 0:
            raise ValueError("webhook_timeout must be a positive number of seconds")


def parse_actionxml(document: str) -> ParsedActionXml:
    """The shared grammar's parser (``at_voice_kit.contracts.actionxml.parse``): what the engine
    reads with."""
    return parse(document)


@dataclass(frozen=True, slots=True)
class EnginePorts:
    """The engine's connections: webhook delivery, journal, queues, callees, recordings."""

    delivery: WebhookDelivery
    journal: JournalSink
    queues: QueueRegistry
    callees: CalleeDirectory
    recordings: RecordingStore
    parse: ActionXmlParser = parse_actionxml
    on_call_end: Callable[[CallRecord], None] | None = None
    """Called with each finished call's record, once its final request and events are sent."""
    on_state_change: Callable[[StateChange], None] | None = None
    """Called on every state a call enters (the server shows phases and bridges from it)."""
    on_note: Callable[[str, datetime, str], None] | None = None
    """Called with ``(session_id, at, text)`` for each line of a call's readable timeline, as
    it happens (the server's live feed shows calls growing)."""
    lines: LiveLines | None = None
    """Which numbers a person holds (the dev phone); their calls are live, not simulated."""
