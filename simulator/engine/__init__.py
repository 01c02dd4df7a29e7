"""The call engine: simulated calls that drive an app's webhooks exactly as AT does.

Design
======

**Functional core, imperative shell.** The call's states and legal transitions are data
(:mod:`.states`), as are outcomes (:mod:`.outcomes`), rates (:mod:`.rates`) and timings
(:mod:`.timing`); payloads are pure functions of a call's facts (:mod:`.payloads`), and
dialling is planned without a clock (:mod:`.dial_plan`). A :class:`~.runner.CallRun` is the
shell: it waits on an injected :class:`~.clock.Clock`, draws from an injected seeded
``random.Random`` and talks to the world only through ports (:mod:`.ports`): webhook
delivery, journal, queue registry, callee directory, ActionXML parser.

**Imports run one way**: ``engine -> runner -> flow -> bridging -> call_line``. The run owns
its call's state (its webhooks in :mod:`.app_link`, its side of a bridge in
:mod:`.bridge_state`); the ActionXML flow and the bridging code see the call only through the
Protocols of :mod:`.call_line` and speak through the values of :mod:`.signals`.

**States.** ``queued -> ringing -> answered -> in-flow -> (bridged | enqueued -> bridged)
-> ended``, or ``queued/ringing -> not-answered -> ended``. Events: ``SessionStarted`` on
creation, ``SessionRinging``, ``SessionAnswered``, ``SessionQueued``, ``SessionTransferred``
from the transition table, then exactly one of ``SessionEnded`` (the call was answered) or
``SessionFailed`` (it never connected).

**Timing model.** Outbound: dial-out delay, ringing (length depends on the outcome), pick-up
(``callStartTime``). Say lasts ``len(text) / 14 chars/s + 0.4 s``; Play 4-15 s; keys come
1-3.5 s after a prompt, then every 0.3-0.9 s; a recorded user talks 3-20 s. Under a virtual
clock each webhook round trip costs 0.05-0.4 s of virtual time (the configured timeout when
it times out). Durations are whole seconds, every started second counted.

**Cost model.** ``amount = rate per minute x billed seconds / 60`` in the phone user's
market currency, billed per second by default (per minute optional), 3 decimals, ``0`` for
calls never answered and for rejected inbound calls.

**Outcomes.** Unscripted outbound calls: 72 % answered, 11 % no answer, 7 % busy, 4 %
rejected, 4 % unreachable, 2 % network failure, each mapped to AT's hangup causes; see
:data:`.outcomes.DEFAULT_RULES`. Answered calls end ``Completed/Success/NORMAL_CLEARING``;
never-answered ones send the single ``NotAnswered`` final request.

**Where AT is silent, the choices** (each configurable, listed in the fidelity table,
docs/fidelity.md): the phone user hanging up mid-flow is ``NORMAL_CLEARING``; a failing app
(non-2xx, unreachable, timeout, an answer that is not ActionXML) makes AT play an error for 4 s and
hang up with ``Completed/Aborted/NORMAL_CLEARING``, and the final request is still sent; an answer
with problems is carried out as AT most plausibly would (:mod:`.answers`; ``strict`` refuses it); an
empty 2xx body means "no more actions"; GetDigits without finishOnKey sends the first key (AT's
docs); ``callStartTime`` uses ``+`` between date and time (real payloads); an inbound call's
``callStartTime`` is its arrival, and ``<Reject/>`` leaves it unanswered and free; ``callLeg`` of
``/callTransfer`` names the leg that is replaced.
"""

from __future__ import annotations

from at_voice_kit.simulator.engine.bridging import TransferOutcome
from at_voice_kit.simulator.engine.callee import CalleeAnswer, CalleeScript, InvalidCalleeScript
from at_voice_kit.simulator.engine.clock import (
    DEFAULT_EPOCH,
    Clock,
    RealClock,
    VirtualClock,
    clock_for_speed,
)
from at_voice_kit.simulator.engine.engine import CallEngine, InvalidCallRequest, LiveCall
from at_voice_kit.simulator.engine.events import EventFaults
from at_voice_kit.simulator.engine.options import EngineOptions, EnginePorts
from at_voice_kit.simulator.engine.outcomes import DEFAULT_OUTCOMES, Ending, OutcomeDistribution
from at_voice_kit.simulator.engine.ports import (
    CalleeDirectory,
    JournalSink,
    QueueRegistry,
    WebhookDelivery,
    WebhookExchange,
    WebhookKind,
    WebhookRequest,
    WebhookResult,
)
from at_voice_kit.simulator.engine.rates import DEFAULT_RATE_TABLE, BillingMode, RateTable
from at_voice_kit.simulator.engine.recordings import Recording, RecordingStore
from at_voice_kit.simulator.engine.records import CallRecord, CallRequest, LegRecord, StateChange
from at_voice_kit.simulator.engine.session_ids import SessionIds
from at_voice_kit.simulator.engine.states import CallState
from at_voice_kit.simulator.engine.timing import DEFAULT_TIMING, TimingModel

__all__ = [
    "DEFAULT_EPOCH",
    "DEFAULT_OUTCOMES",
    "DEFAULT_RATE_TABLE",
    "DEFAULT_TIMING",
    "BillingMode",
    "CallEngine",
    "CallRecord",
    "CallRequest",
    "CallState",
    "CalleeAnswer",
    "CalleeDirectory",
    "CalleeScript",
    "Clock",
    "Ending",
    "EngineOptions",
    "EnginePorts",
    "EventFaults",
    "InvalidCallRequest",
    "InvalidCalleeScript",
    "JournalSink",
    "LegRecord",
    "LiveCall",
    "OutcomeDistribution",
    "QueueRegistry",
    "RateTable",
    "RealClock",
    "Recording",
    "RecordingStore",
    "SessionIds",
    "StateChange",
    "TimingModel",
    "TransferOutcome",
    "VirtualClock",
    "WebhookDelivery",
    "WebhookExchange",
    "WebhookKind",
    "WebhookRequest",
    "WebhookResult",
    "clock_for_speed",
]
