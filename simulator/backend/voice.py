"""The simulated AT platform: state and logic behind the REST surface and the admin API.

No HTTP here (house principle 1). The REST resources call one method each
(:meth:`VoiceBackend.place_calls`, :meth:`~VoiceBackend.queue_status`,
:meth:`~VoiceBackend.upload_media`, :meth:`~VoiceBackend.transfer_call`); the admin resources
call the ``put_*``/``delete_*`` methods and read the registries.

Seams for the call engine, all small and typed (:mod:`at_voice_kit.simulator.network` plugs the
engine in):

- ``launcher``: a :class:`~at_voice_kit.simulator.backend.calls.CallLauncher`; every call ``/call``
  queues and every inbound call :meth:`VoiceBackend.receive_call` creates is handed to
  ``launcher.launch(call)``, accepted transfers to ``launcher.transfer``, and
  :meth:`VoiceBackend.reset` calls ``launcher.reset()``.
- ``calls``: :meth:`~at_voice_kit.simulator.backend.calls.CallRegistry.set_phase`, ``bridge``,
  ``add``, ``set_record`` and :meth:`VoiceBackend.settle_call` (final cost against the reservation).
- ``queues``: ``enqueue(at_number, queue_name, session_id)``, ``dequeue(at_number,
  queue_name) -> session_id | None``, ``sizes(at_number)``, ``remove(session_id)``.
- ``journal``: the engine's journal port, ``record_webhook(session_id, exchange)``.
- ``callees``: the engine's callee directory, ``script_for(number)`` (``None``: random).
- ``numbers.find(at_number)`` (callback/events URLs), ``event_faults`` (settable at run time).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from at_voice_kit.contracts.at_voice_contract import component_pattern
from at_voice_kit.contracts.phone import InvalidPhoneNumber, normalise_international
from at_voice_kit.contracts.urls import is_http_url, is_media_url
from at_voice_kit.contracts.vocabulary import Direction, EntryStatus
from at_voice_kit.simulator.backend.accounts import Account, AccountRegistry
from at_voice_kit.simulator.backend.callees import CalleeRegistry, CalleeScript
from at_voice_kit.simulator.backend.calls import (
    Call,
    CallLauncher,
    CallLeg,
    CallPhase,
    CallRegistry,
    RecordingLauncher,
    SeededSessionIds,
    SessionIdSource,
    TransferRequest,
)
from at_voice_kit.simulator.backend.changes import AccountChanges, NumberChanges, Omitted
from at_voice_kit.simulator.backend.destinations import DestinationPlan
from at_voice_kit.simulator.backend.exceptions import (
    Conflict,
    InvalidMediaUrl,
    UnknownAccount,
    UnknownNumber,
)
from at_voice_kit.simulator.backend.feed import CallFeed, FeedEntryKind
from at_voice_kit.simulator.backend.journal import Journal
from at_voice_kit.simulator.backend.numbers import AtNumber, NumberRegistry
from at_voice_kit.simulator.backend.queues import QueueRegistry
from at_voice_kit.simulator.devphone.lines import DevPhones
from at_voice_kit.simulator.engine.events import EventFaults

if TYPE_CHECKING:
    from at_voice_kit.simulator.backend.platform_config import SimulatorConfig

_MEDIA_URL = component_pattern("MediaUploadForm", "properties", "url")
"""The contract's pattern for a ``/mediaUpload`` URL; the contracts' URL rule applies too."""


def utc_now() -> datetime:
    """The wall clock the journal stamps exchanges with (injectable for tests)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Credentials:
    """Who is calling the REST API: the form's ``username`` and the ``apiKey`` header."""

    username: str
    api_key: str | None


@dataclass(frozen=True, slots=True)
class CallEntry:
    """One entry of a ``/call`` answer; ``session_id`` is ``None`` on a failed entry."""

    phone_number: str
    status: EntryStatus
    session_id: str | None = None


@dataclass(frozen=True, slots=True)
class CallPlacement:
    """A ``/call`` answer: the entries, or an error refusing the whole request.

    ``queue_size`` becomes the ``X-Current-Queue-Size`` header: how many of the account's
    calls are still queued (not yet ringing) once this request is done.
    """

    entries: tuple[CallEntry, ...]
    error_message: str | None
    queue_size: int


@dataclass(frozen=True, slots=True)
class QueueStatusEntry:
    """One queue in a ``/queueStatus`` answer."""

    phone_number: str
    queue_name: str
    num_calls: int


@dataclass(frozen=True, slots=True)
class QueueStatus:
    """A ``/queueStatus`` answer; ``error_message`` set means status ``Failed``."""

    entries: tuple[QueueStatusEntry, ...]
    error_message: str | None = None


@dataclass(frozen=True, slots=True)
class TransferOutcome:
    """A ``/callTransfer`` answer: ``Success``, or ``Aborted`` with ``error_message``."""

    error_message: str | None = None


class VoiceBackend:
    """One simulated AT platform, built from a
    :class:`~at_voice_kit.simulator.configuration.simulator_config.SimulatorConfig`.

    Thread-safe: one re-entrant lock guards every registry, so the server's event loop and a
    test thread (the pytest plugin) share the state. ``session_ids`` defaults to a source
    seeded with ``config.seed``; ``wall_clock`` stamps journal entries and calls.
    """

    def __init__(
        self,
        config: SimulatorConfig,
        *,
        launcher: CallLauncher | None = None,
        session_ids: SessionIdSource | None = None,
        wall_clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.config = config.resolved()
        self._lock = threading.RLock()
        self.now = wall_clock
        self.feed = CallFeed()
        self.accounts = AccountRegistry(self._lock)
        self.numbers = NumberRegistry(self._lock)
        self.callees = CalleeRegistry(self._lock)
        session_ids = session_ids or SeededSessionIds(self.config.seed)
        self.calls = CallRegistry(self._lock, session_ids, self.feed)
        self.queues = QueueRegistry(self._lock)
        self.journal = Journal(self._lock, feed=self.feed)
        self.phones = DevPhones()
        self.destinations = DestinationPlan(self.config.tariffs, self.config.tariff_currency)
        self.launcher: CallLauncher = launcher or RecordingLauncher()
        self.event_faults = self.config.event_faults
        self.reset()

    def reset(self) -> None:
        """Return to the configured start: accounts, numbers and callees as configured; no
        calls, queues or journal; the session id sequence restarted from the seed."""
        with self._lock:
            self.accounts.load(self.config.accounts)
            self.numbers.load(self.config.numbers)
            self.callees.load(dict(self.config.callees), self.config.default_callee)
            self.calls.clear()
            self.queues.clear()
            self.journal.clear()
            self.event_faults = self.config.event_faults
        self.launcher.reset()
        self.feed.publish(FeedEntryKind.RESET, None, None)

    # -- the REST surface --------------------------------------------------------------------

    def place_calls(
        self,
        credentials: Credentials,
        caller: str,
        recipients: Sequence[str],
        client_request_id: str | None = None,
    ) -> CallPlacement:
        """``/call``: queue one call per recipient, each paying a minute's reservation."""
        account = self.accounts.authenticate(credentials.username, credentials.api_key)
        queued: list[Call] = []
        with self._lock:
            at_number = self.numbers.find(_international_or_raw(caller))
            if at_number is None or at_number.username != account.username:
                return self._refused_placement(account, f"Invalid callerId: {caller}")
            if not recipients:
                return self._refused_placement(account, "Invalid phoneNumber: no number to call")
            entries: list[CallEntry] = []
            for recipient in recipients:
                entry, call = self._queue_call(account, at_number, recipient, client_request_id)
                entries.append(entry)
                if call is not None:
                    queued.append(call)
        for call in queued:
            self.launcher.launch(call)
        queue_size = self.calls.count_in_phase(account.username, CallPhase.QUEUED)
        return CallPlacement(tuple(entries), None, queue_size)

    def _refused_placement(self, account: Account, message: str) -> CallPlacement:
        queue_size = self.calls.count_in_phase(account.username, CallPhase.QUEUED)
        return CallPlacement((), message, queue_size)

    def _queue_call(
        self, account: Account, at_number: AtNumber, recipient: str, client_request_id: str | None
    ) -> tuple[CallEntry, Call | None]:
        try:
            phone_number = normalise_international(recipient)
        except InvalidPhoneNumber:
            return CallEntry(recipient.strip(), EntryStatus.INVALID_PHONE_NUMBER), None
        tariff = self.destinations.tariff_for(phone_number, account.currency)
        if tariff is None:
            return CallEntry(phone_number, EntryStatus.DESTINATION_NOT_SUPPORTED), None
        if not self.accounts.reserve(account.username, tariff.per_minute):
            return CallEntry(phone_number, EntryStatus.INSUFFICIENT_CREDIT), None
        call = Call(
            session_id=self.calls.new_session_id(),
            username=account.username,
            direction=Direction.OUTBOUND,
            at_number=at_number.phone_number,
            phone_number=phone_number,
            created_at=self.now(),
            client_request_id=client_request_id,
            reserved=tariff.per_minute,
            currency=account.currency,
        )
        self.calls.add(call)
        return CallEntry(phone_number, EntryStatus.QUEUED, call.session_id), call

    def queue_status(self, credentials: Credentials, phone_numbers: Sequence[str]) -> QueueStatus:
        """``/queueStatus``: every known queue of each number (the unnamed one, empty, if
        the number has none yet). Numbers the account does not own fail the request."""
        account = self.accounts.authenticate(credentials.username, credentials.api_key)
        if not phone_numbers:
            return QueueStatus((), "Invalid phoneNumbers: no number given")
        numbers = list(dict.fromkeys(_international_or_raw(number) for number in phone_numbers))
        foreign = [
            number
            for number in numbers
            if (owned := self.numbers.find(number)) is None or owned.username != account.username
        ]
        if foreign:
            return QueueStatus((), f"Invalid phoneNumbers: {', '.join(foreign)}")
        entries: list[QueueStatusEntry] = []
        for number in numbers:
            sizes = self.queues.sizes(number) or {"": 0}
            entries.extend(QueueStatusEntry(number, name, size) for name, size in sizes.items())
        return QueueStatus(tuple(entries))

    def upload_media(self, credentials: Credentials, phone_number: str, url: str) -> None:
        """``/mediaUpload``: remember a media file for one of the account's numbers."""
        account = self.accounts.authenticate(credentials.username, credentials.api_key)
        if not _MEDIA_URL.match(url) or not is_media_url(url):
            raise InvalidMediaUrl(url)
        number = self.numbers.owned(account.username, _international_or_raw(phone_number))
        self.numbers.add_media(number.phone_number, url)

    def transfer_call(
        self,
        credentials: Credentials,
        session_id: str,
        phone_number: str,
        call_leg: str | None = None,
        hold_music_url: str | None = None,
    ) -> TransferOutcome:
        """``/callTransfer``: accepted only for an active call of the account with two legs."""
        account = self.accounts.authenticate(credentials.username, credentials.api_key)
        leg_text = CallLeg.CALLEE.value if call_leg is None else call_leg
        if leg_text not in CallLeg._value2member_map_:
            return TransferOutcome(f"Invalid callLeg: {call_leg} (expected caller or callee)")
        try:
            target = normalise_international(phone_number)
        except InvalidPhoneNumber as exc:
            return TransferOutcome(f"Invalid phoneNumber: {phone_number} ({exc.rule})")
        if hold_music_url is not None and not is_http_url(hold_music_url):
            return TransferOutcome(f"Invalid holdMusicUrl: {hold_music_url}")
        with self._lock:
            call = self.calls.find(session_id)
            # Another account's call answers like an unknown one: ids must not leak.
            if call is None or call.username != account.username:
                return TransferOutcome(f"Invalid sessionId: {session_id}")
            if call.phase is not CallPhase.ACTIVE:
                return TransferOutcome(f"Call is not active (it is {call.phase.value})")
            if call.bridged_with is None:
                return TransferOutcome("Call is not bridged: a transfer needs a call with two legs")
            request = TransferRequest(target, CallLeg(leg_text), hold_music_url, self.now())
        # The engine has the last word: a call still ringing the target of an earlier
        # transfer, or ending, cannot be transferred, and must not be answered Success.
        refused = self.launcher.transfer(call, request)
        if refused is not None:
            return TransferOutcome(f"Call cannot be transferred now: {refused}")
        self.calls.add_transfer(session_id, request)
        return TransferOutcome()

    # -- the engine's side -------------------------------------------------------------------

    def receive_call(self, caller: str, at_number: str) -> Call:
        """A phone user calls one of the platform's AT numbers (a simulated inbound call).

        The call belongs to the number's account; it is handed to the launcher, which asks
        the number's callback URL what to do. The number must exist and have a callback URL.
        """
        phone_number = normalise_international(caller)
        with self._lock:
            number = self.numbers.find(_international_or_raw(at_number))
            if number is None:
                raise UnknownNumber(at_number)
            if number.callback_url is None:
                raise Conflict(
                    f"AT number {number.phone_number} has no callback URL: set one with "
                    f"PUT /_simulator/numbers/{number.phone_number}"
                )
            account = self.accounts.get(number.username)
            call = Call(
                session_id=self.calls.new_session_id(),
                username=account.username,
                direction=Direction.INBOUND,
                at_number=number.phone_number,
                phone_number=phone_number,
                created_at=self.now(),
                currency=account.currency,
            )
            self.calls.add(call)
        self.launcher.launch(call)
        return self.calls.get(call.session_id)

    def set_event_faults(self, faults: EventFaults) -> None:
        """Make events URL deliveries misbehave (delay, duplicate, reorder) from now on."""
        with self._lock:
            self.event_faults = faults

    def settle_call(self, session_id: str, cost: Decimal) -> Call:
        """Charge a call's final cost against what was reserved when it was queued."""
        with self._lock:
            call = self.calls.get(session_id)
            if call.cost is not None:
                raise Conflict(f"call {session_id} is already settled")
            self.accounts.adjust(call.username, call.reserved - cost)
            return self.calls.set_cost(session_id, cost)

    # -- the admin API -----------------------------------------------------------------------

    def put_account(self, username: str, changes: AccountChanges) -> tuple[Account, bool]:
        """Create or update an account; omitted fields keep their value."""
        with self._lock:
            try:
                account = self.accounts.get(username)
            except UnknownAccount:
                if isinstance(changes.api_key, Omitted):
                    raise Conflict(
                        f"account {username!r} does not exist: give apiKey to create it"
                    ) from None
                account = Account(username, changes.api_key)
            if not isinstance(changes.api_key, Omitted):
                account = replace(account, api_key=changes.api_key)
            if not isinstance(changes.balance, Omitted):
                account = replace(account, balance=changes.balance)
            if not isinstance(changes.currency, Omitted):
                account = replace(account, currency=changes.currency)
            created = self.accounts.put(account)
            return account, created

    def put_number(self, phone_number: str, changes: NumberChanges) -> tuple[AtNumber, bool]:
        """Create or update an AT number; omitted fields keep their value, null clears a URL.

        A new number without ``username`` goes to the only account; with several accounts
        the owner must be named.
        """
        with self._lock:
            existing = self.numbers.find(phone_number)
            owner = self._owner_for(phone_number, existing, changes.username)
            number = existing or AtNumber(phone_number, owner)
            number = replace(
                number,
                username=owner,
                callback_url=_kept(changes.callback_url, number.callback_url),
                events_url=_kept(changes.events_url, number.events_url),
            )
            created = self.numbers.put(number)
            return number, created

    def _owner_for(
        self, phone_number: str, existing: AtNumber | None, username: str | Omitted
    ) -> str:
        if isinstance(username, str):
            if not self.accounts.exists(username):
                raise Conflict(f"no account is named {username!r}")
            return username
        if existing is not None:
            return existing.username
        accounts = self.accounts.all()
        if len(accounts) != 1:
            raise Conflict(
                f"number {phone_number} is new and {len(accounts)} accounts exist: give username"
            )
        return accounts[0].username

    def put_callee(self, phone_number: str, script: CalleeScript) -> bool:
        """Set what a phone user does; True if the number had no script of its own."""
        return self.callees.put(phone_number, script)


def _kept(value: str | Omitted | None, current: str | None) -> str | None:
    return current if isinstance(value, Omitted) else value


def _international_or_raw(value: str) -> str:
    """``value`` as E.164 if it is a valid number (``254...`` gains its ``+``), else as given."""
    try:
        return normalise_international(value)
    except InvalidPhoneNumber:
        return value.strip()
