"""Africa's Talking Voice vocabulary: hangup causes, states, statuses, event types.

The sets here are what AT is *known* to send (see ``at-voice-api.md``). Receivers must still
accept any string: AT documents 14 hangup causes, the service docs name two more, and new
values appear without notice. So these are enums for producers and for reporting, never a
whitelist for input.
"""

from __future__ import annotations

from enum import StrEnum


class HangupCause(StrEnum):
    """The 14 hangup causes AT documents for the Voice API."""

    NORMAL_CLEARING = "NORMAL_CLEARING"
    CALL_REJECTED = "CALL_REJECTED"
    NORMAL_TEMPORARY_FAILURE = "NORMAL_TEMPORARY_FAILURE"
    RECOVERY_ON_TIMER_EXPIRE = "RECOVERY_ON_TIMER_EXPIRE"
    ORIGINATOR_CANCEL = "ORIGINATOR_CANCEL"
    LOSE_RACE = "LOSE_RACE"
    USER_BUSY = "USER_BUSY"
    NO_ANSWER = "NO_ANSWER"
    NO_USER_RESPONSE = "NO_USER_RESPONSE"
    SUBSCRIBER_ABSENT = "SUBSCRIBER_ABSENT"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    USER_NOT_REGISTERED = "USER_NOT_REGISTERED"
    UNALLOCATED_NUMBER = "UNALLOCATED_NUMBER"
    UNSPECIFIED = "UNSPECIFIED"


SERVICE_DOC_HANGUP_CAUSES: frozenset[str] = frozenset({"INVALID_NUMBER", "NETWORK_ERROR"})
"""Causes named only in the service docs; accepted like any other string."""


class Direction(StrEnum):
    """Call direction as AT spells it in callbacks (capitalised)."""

    INBOUND = "Inbound"
    OUTBOUND = "Outbound"


class CallSessionState(StrEnum):
    """``callSessionState`` values seen on the wire."""

    COMPLETED = "Completed"
    NOT_ANSWERED = "NotAnswered"
    RINGING = "Ringing"
    ANSWERED = "Answered"


class CallStatus(StrEnum):
    """``status`` values of the final request."""

    SUCCESS = "Success"
    NOT_ANSWERED = "NotAnswered"
    ABORTED = "Aborted"


class EventType(StrEnum):
    """``eventType`` values the service docs list for the events URL."""

    SESSION_STARTED = "SessionStarted"
    SESSION_RINGING = "SessionRinging"
    SESSION_ANSWERED = "SessionAnswered"
    SESSION_ENDED = "SessionEnded"
    SESSION_FAILED = "SessionFailed"
    SESSION_TRANSFERRED = "SessionTransferred"
    SESSION_QUEUED = "SessionQueued"


TERMINAL_EVENT_TYPES: frozenset[str] = frozenset(
    {EventType.SESSION_ENDED, EventType.SESSION_FAILED}
)


class EntryStatus(StrEnum):
    """Per-number status in a ``/call`` answer."""

    QUEUED = "Queued"
    INVALID_PHONE_NUMBER = "InvalidPhoneNumber"
    DESTINATION_NOT_SUPPORTED = "DestinationNotSupported"
    INSUFFICIENT_CREDIT = "InsufficientCredit"


NONE_STRING = "None"
"""AT writes absent values (``errorMessage``, a failed ``sessionId``, ...) as ``"None"``."""
