"""AT's wire quirks, parsed once at the edge into typed values and written once on the way out.

- ``callStartTime`` arrives as ``2025-09-29 10:30:00`` (service docs), ``2025-09-29+10:30:00``
  (real AT dumps, after form decoding), or the string ``None`` (unanswered call).
- Absent values are the string ``"None"`` rather than empty or null.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from at_voice_kit.contracts.vocabulary import NONE_STRING

_CALL_START_TIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[ +T](?P<time>\d{2}:\d{2}:\d{2})(?:\.\d{1,6})?$"
)


class CallStartTimeSeparator(StrEnum):
    """How the date and time of ``callStartTime`` are joined when written."""

    SPACE = " "
    PLUS = "+"


class InvalidCallStartTime(ValueError):
    """A ``callStartTime`` that is none of the accepted spellings."""

    rule = "must be 'YYYY-MM-DD HH:MM:SS', 'YYYY-MM-DD+HH:MM:SS' or 'None'"

    def __init__(self, value: str) -> None:
        super().__init__(f"callStartTime {value!r} {self.rule}")
        self.value = value


def parse_call_start_time(value: str | None) -> datetime | None:
    """Parse any accepted ``callStartTime`` spelling; ``None``/``"None"``/``""`` give ``None``.

    The result is naive: AT does not say which time zone it means (see the fidelity
    table, docs/fidelity.md).
    """
    if value is None:
        return None
    text = value.strip()
    if text in ("", NONE_STRING):
        return None
    match = _CALL_START_TIME.match(text)
    if match is None:
        raise InvalidCallStartTime(value)
    try:
        # The pattern fixed the shape; fromisoformat checks the calendar (as strptime did,
        # at a tenth of the cost: this runs on every webhook).
        return datetime.fromisoformat(f"{match['date']} {match['time']}")
    except ValueError as exc:  # e.g. month 13: the shape was right, the calendar is not
        raise InvalidCallStartTime(value) from exc


def format_call_start_time(
    value: datetime | None, separator: CallStartTimeSeparator = CallStartTimeSeparator.SPACE
) -> str:
    """Write a ``callStartTime`` as AT does: ``None`` for a call that never started."""
    if value is None:
        return NONE_STRING
    return value.strftime(f"%Y-%m-%d{separator.value}%H:%M:%S")


def none_if_none_string(value: str | None) -> str | None:
    """Map AT's ``"None"`` (and empty) to ``None``; keep every other string as is."""
    if value is None or value in ("", NONE_STRING):
        return None
    return value


def none_string(value: object | None) -> str:
    """Write ``None`` the way AT does, as the string ``"None"``."""
    return NONE_STRING if value is None else str(value)
