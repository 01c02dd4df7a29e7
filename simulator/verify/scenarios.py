"""Scenarios as data: each is one simulated call, or one short series of direct requests.

A :class:`CallScenario` is run by the call engine: a phone user (a callee script) calls or
is called, and AT's requests follow from what the app answers, exactly as in ``atsim serve``.
A :class:`RequestScenario` is a fixed list of requests built from AT's payloads (optional
fields left out, events in another order, duplicates) or generated from the contract.

The planning modules (:mod:`.catalogue`, :mod:`.crawl`, :mod:`.event_orders`,
:mod:`.variants`, :mod:`.generated`) only build these values; :mod:`.runner` runs them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from at_voice_kit.contracts.vocabulary import Direction, HangupCause
from at_voice_kit.simulator.engine.callee import CalleeScript
from at_voice_kit.simulator.engine.events import NO_FAULTS, EventFaults
from at_voice_kit.simulator.verify.exchanges import Origin, Role

DEFAULT_AT_NUMBER = "+254711082000"
"""The app's AT number in simulated calls (``destinationNumber``); ``--at-number``."""
DEFAULT_PHONE_NUMBER = "+254711082369"
"""The phone user (``callerNumber``): a Safaricom number; ``--phone-number``."""


class Category(StrEnum):
    """What a group of scenarios explores; ``--only`` and ``--skip`` take these names."""

    CRAWL = "crawl"
    OUTCOMES = "outcomes"
    HANGUPS = "hangups"
    MARKETS = "markets"
    EVENT_DELIVERY = "event-delivery"
    EVENT_ORDERS = "event-orders"
    OPTIONAL_FIELDS = "optional-fields"
    GENERATED = "generated"

    @property
    def needs_events_url(self) -> bool:
        """True for categories that only exercise the events URL."""
        return self in (Category.EVENT_DELIVERY, Category.EVENT_ORDERS)


CATEGORY_DESCRIPTIONS: dict[Category, str] = {
    Category.CRAWL: "answered calls through the app's own flow, every GetDigits/Record/Dial branch",
    Category.OUTCOMES: "every way a call ends: AT's 14 hangup causes, unanswered calls",
    Category.HANGUPS: "the caller hangs up part-way through the flow",
    Category.MARKETS: "callers from each of AT's markets (country codes, carriers, currencies)",
    Category.EVENT_DELIVERY: "real calls whose events arrive duplicated, reordered and late",
    Category.EVENT_ORDERS: "every eventType in every order AT could deliver it, and redeliveries",
    Category.OPTIONAL_FIELDS: "AT's requests with optional fields absent and other spellings",
    Category.GENERATED: "schemathesis-generated forms from contracts/service.yaml",
}


@dataclass(frozen=True, slots=True)
class CallScenario:
    """One simulated call.

    ``caller`` scripts the phone user (its ``digits`` are the keys pressed at each GetDigits,
    in order). ``legs_answer`` says whether the numbers a ``Dial`` rings pick up. A
    ``forced_cause`` makes an unanswered outbound call end with exactly that hangup cause.
    """

    id: str
    title: str
    category: Category
    direction: Direction
    phone_number: str
    caller: CalleeScript
    legs_answer: bool = False
    forced_cause: HangupCause | None = None
    event_faults: EventFaults = NO_FAULTS
    client_request_id: str | None = None


@dataclass(frozen=True, slots=True)
class PlannedRequest:
    """One request of a :class:`RequestScenario`; ``with_previous`` sends it at the same
    moment as the request before it (a redelivery racing the original)."""

    role: Role
    fields: tuple[tuple[str, str], ...]
    with_previous: bool = False


@dataclass(frozen=True, slots=True)
class RequestScenario:
    """A fixed series of requests, sent one after another (or together, see above)."""

    id: str
    title: str
    category: Category
    origin: Origin
    requests: tuple[PlannedRequest, ...]


Scenario = CallScenario | RequestScenario


@dataclass(frozen=True, slots=True)
class Unreached:
    """A part of the app's call tree the run did not explore, and why (``where``: a crawl
    scenario id, or an element of an answer)."""

    where: str
    reason: str


def session_id_for(seed: int | str, scenario_id: str, call: int = 1) -> str:
    """The ``sessionId`` of a scenario's call: derived from the seed, as AT's look."""
    digest = hashlib.sha256(f"{seed}/verify/{scenario_id}/{call}".encode())
    return "ATVId_" + digest.hexdigest()[:32]


def without(fields: tuple[tuple[str, str], ...], *names: str) -> tuple[tuple[str, str], ...]:
    """``fields`` minus the named ones."""
    return tuple((key, value) for key, value in fields if key not in names)


def replaced(fields: tuple[tuple[str, str], ...], **values: str) -> tuple[tuple[str, str], ...]:
    """``fields`` with some values replaced (or appended when absent), order kept."""
    out = [(key, values.get(key, value)) for key, value in fields]
    present = {key for key, _ in fields}
    out.extend((key, value) for key, value in values.items() if key not in present)
    return tuple(out)
