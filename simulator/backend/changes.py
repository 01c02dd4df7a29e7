"""Changes to an account or a number, as the admin API and the config file ask for them:
each field set, or left out (:data:`OMITTED`) to keep its value, or ``None`` to clear it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum


class Omitted(Enum):
    """Marks a field left out of a settings object (as opposed to set to ``null``)."""

    OMITTED = "omitted"


OMITTED = Omitted.OMITTED


@dataclass(frozen=True, slots=True)
class AccountChanges:
    """An account's settings from ``PUT accounts/{username}``; omitted fields keep their value."""

    api_key: str | Omitted = OMITTED
    balance: Decimal | Omitted = OMITTED
    currency: str | Omitted = OMITTED


@dataclass(frozen=True, slots=True)
class NumberChanges:
    """A number's settings from ``PUT numbers/{number}``; omitted fields keep their value."""

    username: str | Omitted = OMITTED
    callback_url: str | Omitted | None = OMITTED
    events_url: str | Omitted | None = OMITTED
