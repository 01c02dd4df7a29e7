"""Calls the simulated platform knows, and the launcher seam the call engine plugs into.

A call enters as :class:`Call` in phase ``queued`` when ``/call`` accepts a number. The
backend then hands it to the injected :class:`CallLauncher`; the default
:class:`RecordingLauncher` only remembers it (REST-only unit tests), so calls stay queued.
:class:`at_voice_kit.simulator.network.SimulatedNetwork` is the launcher that runs them with the
call engine: it advances ``phase`` with :meth:`CallRegistry.set_phase`, links two legs with
:meth:`CallRegistry.bridge`, stores the finished call's record with :meth:`CallRegistry.set_record`,
and receives ``/callTransfer`` requests through :meth:`CallLauncher.transfer`; a reset of the
simulator calls :meth:`CallLauncher.reset`.
"""

from __future__ import annotations

import random
import secrets
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from at_voice_kit.contracts.vocabulary import Direction
from at_voice_kit.simulator.backend.exceptions import UnknownCall
from at_voice_kit.simulator.backend.feed import CallFeed, FeedEntryKind
from at_voice_kit.simulator.engine.records import CallRecord

SESSION_ID_PREFIX = "ATVId_"


class CallPhase(StrEnum):
    """Where a call is in its life."""

    QUEUED = "queued"
    RINGING = "ringing"
    ACTIVE = "active"
    ENDED = "ended"


class CallLeg(StrEnum):
    """Which leg of a bridged call ``/callTransfer`` moves (AT's ``callLeg``)."""

    CALLER = "caller"
    CALLEE = "callee"


@dataclass(frozen=True, slots=True)
class TransferRequest:
    """A ``/callTransfer`` the platform accepted: move ``call_leg`` to ``phone_number``."""

    phone_number: str
    call_leg: CallLeg
    hold_music_url: str | None
    requested_at: datetime


@dataclass(frozen=True, slots=True)
class Call:
    """One call session (one leg), as the platform records it.

    ``at_number`` is the account's AT number and ``phone_number`` the phone user, whatever the
    direction. ``reserved`` is the credit taken when the call was queued; the engine settles
    it against the real cost with :meth:`at_voice_kit.simulator.backend.VoiceBackend.settle_call`.
    ``record`` is the engine's record of the call once it has ended (outcome, times, cost,
    legs, recordings, timeline); ``None`` while it is live.
    """

    session_id: str
    username: str
    direction: Direction
    at_number: str
    phone_number: str
    created_at: datetime
    client_request_id: str | None = None
    phase: CallPhase = CallPhase.QUEUED
    reserved: Decimal = Decimal(0)
    currency: str = "KES"
    bridged_with: str | None = None
    transfers: tuple[TransferRequest, ...] = ()
    cost: Decimal | None = None
    record: CallRecord | None = None
    clock_start: datetime | None = None
    """When the call began on its own clock (virtual under ``--speed fast``): its webhooks'
    and timeline's times count from it. ``None`` until the engine starts the call."""


class CallLauncher(Protocol):
    """Where accepted calls go: the call engine implements this (part 2).

    Both methods are called without the backend lock held, on the thread that served the
    API request (the server's event loop thread in ``atsim serve``); they must not block,
    only schedule work.
    """

    def launch(self, call: Call) -> None:
        """Start placing a call that ``/call`` queued."""

    def transfer(self, call: Call, request: TransferRequest) -> str | None:
        """Carry out a transfer ``/callTransfer`` asked for on a bridged call; return why
        the call cannot be transferred now (it is still ringing a transfer target, say), or
        ``None`` once the transfer is under way."""

    def reset(self) -> None:
        """Drop (cancel) every call handed over so far: the simulator is being reset."""


@dataclass(slots=True)
class RecordingLauncher:
    """The launcher used until the engine is wired in: records what it was given."""

    launched: list[Call] = field(default_factory=list)
    transfers: list[tuple[Call, TransferRequest]] = field(default_factory=list)

    def launch(self, call: Call) -> None:
        """Remember the call; it stays queued."""
        self.launched.append(call)

    def transfer(self, call: Call, request: TransferRequest) -> str | None:
        """Remember the transfer, and accept it."""
        self.transfers.append((call, request))
        return None

    def reset(self) -> None:
        """Forget everything recorded."""
        self.launched.clear()
        self.transfers.clear()


class SessionIdSource(Protocol):
    """Makes AT session ids; injected so tests and ``--seed`` runs are deterministic."""

    def next_id(self) -> str:
        """A new ``ATVId_`` + 32 lowercase hex id."""

    def reset(self) -> None:
        """Start the sequence again (a seeded source repeats its ids after a reset)."""


class SeededSessionIds:
    """``ATVId_`` + 32 lowercase hex: from a ``random.Random`` seeded with ``seed``, or, with
    ``seed=None``, from :mod:`secrets`.

    A seeded run repeats its ids (a test setting: anyone who knows the seed, or sees enough
    ids, knows the next ones). An unseeded run must not: a session id is all it takes to
    fetch a call's recordings, and the Mersenne Twister behind ``random.Random()`` gives its
    future draws away once 624 of its 32-bit outputs have been seen (156 ids).
    """

    def __init__(self, seed: int | None = None) -> None:
        self._seed = seed
        self._random = random.Random(seed) if seed is not None else None

    def next_id(self) -> str:
        """The next id of the sequence (an unpredictable one when unseeded)."""
        if self._random is None:
            return SESSION_ID_PREFIX + secrets.token_hex(16)
        return f"{SESSION_ID_PREFIX}{self._random.getrandbits(128):032x}"

    def reset(self) -> None:
        """Restart the sequence from the seed (nothing to restart when unseeded)."""
        if self._seed is not None:
            self._random = random.Random(self._seed)


class CallRegistry:
    """Every call of this simulator run, by session id, in creation order."""

    def __init__(
        self, lock: threading.RLock, session_ids: SessionIdSource, feed: CallFeed | None = None
    ) -> None:
        self._lock = lock
        self._session_ids = session_ids
        self._calls: dict[str, Call] = {}
        self._feed = feed or CallFeed()

    def clear(self) -> None:
        """Forget every call and restart the session id sequence."""
        with self._lock:
            self._calls.clear()
            self._session_ids.reset()

    def new_session_id(self) -> str:
        """A session id no call of this run has."""
        with self._lock:
            session_id = self._session_ids.next_id()
            while session_id in self._calls:  # a repeat after reset, or a 2**-128 fluke
                session_id = self._session_ids.next_id()
            return session_id

    def add(self, call: Call) -> None:
        """Record a new call (outbound from ``/call``; the engine adds inbound ones)."""
        with self._lock:
            self._calls[call.session_id] = call
        self._feed.publish(FeedEntryKind.CALL, call.session_id, call)

    def get(self, session_id: str) -> Call:
        """The call, or :class:`UnknownCall`."""
        with self._lock:
            call = self._calls.get(session_id)
        if call is None:
            raise UnknownCall(session_id)
        return call

    def find(self, session_id: str) -> Call | None:
        """The call, or ``None``."""
        with self._lock:
            return self._calls.get(session_id)

    def all(self) -> tuple[Call, ...]:
        """Every call, oldest first."""
        with self._lock:
            return tuple(self._calls.values())

    def count_live(self) -> int:
        """How many calls have not ended yet (over every account)."""
        with self._lock:
            return sum(1 for call in self._calls.values() if call.phase is not CallPhase.ENDED)

    def count_in_phase(self, username: str, phase: CallPhase) -> int:
        """How many of the account's calls are in ``phase``."""
        with self._lock:
            calls = self._calls.values()
            return sum(1 for call in calls if call.username == username and call.phase == phase)

    def set_phase(self, session_id: str, phase: CallPhase) -> Call:
        """Move a call to ``phase``; returns the updated call."""
        return self._update(session_id, phase=phase)

    def bridge(self, session_id: str, other_session_id: str) -> None:
        """Link two legs: each becomes ``bridged_with`` the other (what ``/callTransfer`` needs)."""
        with self._lock:
            self._update(session_id, bridged_with=other_session_id)
            self._update(other_session_id, bridged_with=session_id)

    def unbridge(self, session_id: str) -> None:
        """Unlink a call and its peer, if any."""
        with self._lock:
            call = self.get(session_id)
            if call.bridged_with is not None and call.bridged_with in self._calls:
                self._update(call.bridged_with, bridged_with=None)
            self._update(session_id, bridged_with=None)

    def add_transfer(self, session_id: str, request: TransferRequest) -> Call:
        """Record an accepted transfer on the call."""
        with self._lock:
            call = self.get(session_id)
            return self._update(session_id, transfers=(*call.transfers, request))

    def set_clock_start(self, session_id: str, at: datetime) -> Call:
        """Note when the call began on its own clock."""
        return self._update(session_id, clock_start=at)

    def set_record(self, session_id: str, record: CallRecord) -> Call:
        """Store the finished call's record and mark it ended."""
        return self._update(session_id, record=record, phase=CallPhase.ENDED)

    def set_cost(self, session_id: str, cost: Decimal) -> Call:
        """Record what the call finally cost."""
        return self._update(session_id, cost=cost)

    def _update(self, session_id: str, **changes: object) -> Call:
        with self._lock:
            call = replace(self.get(session_id), **changes)  # type: ignore[arg-type]
            self._calls[session_id] = call
        self._feed.publish(FeedEntryKind.CALL, session_id, call)
        return call
