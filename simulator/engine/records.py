"""The engine's inputs and outputs as values: a call to run, and the record of a finished call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from at_voice_kit.contracts.actionxml.problems import Severity
from at_voice_kit.contracts.vocabulary import Direction, HangupCause
from at_voice_kit.simulator.engine.callee import CalleeScript
from at_voice_kit.simulator.engine.outcomes import Ending
from at_voice_kit.simulator.engine.rates import RateTable
from at_voice_kit.simulator.engine.states import CallState


@dataclass(frozen=True, slots=True)
class CallRequest:
    """One call for the engine to run.

    ``phone_number`` is the phone user (called by ``/call``, or calling in), ``at_number``
    the app's AT number: they become ``callerNumber`` and ``destinationNumber`` in both
    directions. ``callback_url`` and ``events_url`` are the AT number's URLs.

    ``rates`` is the price list of the account the call belongs to (the engine's own table
    when ``None``); ``script`` is how this one phone user behaves, overriding the callee
    directory (an inbound caller described by the request that simulates them).
    """

    session_id: str
    direction: Direction
    phone_number: str
    at_number: str
    callback_url: str
    events_url: str | None = None
    client_request_id: str | None = None
    rates: RateTable | None = None
    script: CalleeScript | None = None


@dataclass(frozen=True, slots=True)
class StateChange:
    """A call moved to ``state`` at ``at`` (clock time): what the platform shows of a live call.

    When the call is bridged, ``peer_session_id`` names the other call it talks to (Dequeue
    and Enqueue connect two sessions) or ``peer_number`` the party a Dial or a transfer
    connected (a leg with no session of its own in the engine).
    """

    session_id: str
    state: CallState
    at: datetime
    peer_session_id: str | None = None
    peer_number: str | None = None


@dataclass(frozen=True, slots=True)
class LegRecord:
    """One leg a Dial or a transfer rang: whom, for how long, and how it ended.

    ``cause`` is ``None`` for the leg that connected; the others carry their hangup cause
    (``LOSE_RACE`` for the losers of a parallel Dial, ``ORIGINATOR_CANCEL`` when the caller
    hung up while it rang).
    """

    number: str
    ring_seconds: float
    cause: HangupCause | None

    @property
    def connected(self) -> bool:
        """True for the leg that was picked up."""
        return self.cause is None


@dataclass(frozen=True, slots=True)
class AppProblem:
    """A problem in one of the app's answers, and what it means on AT.

    ``severity`` is ``error`` (the app does not work on AT as written, though the call went on
    where AT would) or ``warning`` (it works, but relies on something fragile); ``rule`` is
    the grammar's identifier; ``text`` the problem as ``atsim lint`` prints it.
    """

    at: datetime
    severity: Severity
    rule: str
    text: str


@dataclass(frozen=True, slots=True)
class CallRecord:
    """A finished call: outcome, times, cost, legs, recordings, and a readable timeline.

    What the app did wrong: ``app_failure`` says why the call ended as an app failure (a
    non-2xx answer, a timeout, an answer that is not ActionXML, ...), ``None`` if it did not;
    ``problems`` are the ActionXML problems of its answers (the first :data:`PROBLEMS_KEPT`),
    ``errors`` and ``warnings`` count them all. ``placed`` is False for a call the platform
    could not place at all (its AT number has no callback URL).
    """

    session_id: str
    direction: Direction
    phone_number: str
    at_number: str
    ending: Ending
    end_reason: str
    queued_at: datetime
    call_start: datetime | None
    ended_at: datetime
    duration_seconds: int
    currency: str
    amount: str
    legs: tuple[LegRecord, ...]
    recording_urls: tuple[str, ...]
    timeline: tuple[tuple[datetime, str], ...]
    problems: tuple[AppProblem, ...] = ()
    errors: int = 0
    warnings: int = 0
    app_failure: str | None = None
    placed: bool = True

    @property
    def app_failed(self) -> bool:
        """True if the app failed the call: it ended as an app failure, or an answer had an
        error (the call went on past it as AT would, but the app does not work on AT)."""
        return self.app_failure is not None or self.errors > 0


PROBLEMS_KEPT = 100
"""The problems a call record keeps (a Redirect loop may repeat one for ever); counts go on."""
