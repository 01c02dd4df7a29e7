"""The events URL: every eventType, in every order AT could deliver it, and redeliveries.

AT posts events independently of the call, over the network, so they can arrive in any
order and more than once. Each lifecycle below is a call's events in the order they happen;
the scenarios deliver them in every order (every permutation for up to four events; for
longer lifecycles the natural order, the reverse, and every way of moving one event to
another place), each event twice in a row, and each event twice at the same moment.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from at_voice_kit.contracts.vocabulary import Direction, EventType, HangupCause
from at_voice_kit.simulator.verify.catalogue import Parties
from at_voice_kit.simulator.verify.exchanges import Origin, Role
from at_voice_kit.simulator.verify.payloads import CallPayloads
from at_voice_kit.simulator.verify.scenarios import (
    Category,
    PlannedRequest,
    RequestScenario,
    session_id_for,
)

E = EventType
ALL_ORDERS_UP_TO = 4
"""Lifecycles this long or shorter are delivered in every permutation."""


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """A call's events as they happen; ``cause`` is set for calls never answered."""

    name: str
    direction: Direction
    events: tuple[EventType, ...]
    cause: HangupCause | None = None
    transferred: bool = False


LIFECYCLES: tuple[Lifecycle, ...] = (
    Lifecycle("answered", Direction.OUTBOUND, (E.SESSION_STARTED, E.SESSION_RINGING,
              E.SESSION_ANSWERED, E.SESSION_ENDED)),
    Lifecycle("not-answered", Direction.OUTBOUND,
              (E.SESSION_STARTED, E.SESSION_RINGING, E.SESSION_FAILED), HangupCause.NO_ANSWER),
    Lifecycle("unreachable", Direction.OUTBOUND, (E.SESSION_STARTED, E.SESSION_FAILED),
              HangupCause.SUBSCRIBER_ABSENT),
    Lifecycle("inbound", Direction.INBOUND, (E.SESSION_STARTED, E.SESSION_RINGING,
              E.SESSION_ANSWERED, E.SESSION_ENDED)),
    Lifecycle("queued", Direction.INBOUND, (E.SESSION_STARTED, E.SESSION_RINGING,
              E.SESSION_ANSWERED, E.SESSION_QUEUED, E.SESSION_ENDED)),
    Lifecycle("transferred", Direction.OUTBOUND, (E.SESSION_STARTED, E.SESSION_RINGING,
              E.SESSION_ANSWERED, E.SESSION_TRANSFERRED, E.SESSION_ENDED), transferred=True),
)  # fmt: skip
"""Between them, every ``eventType`` the service docs list."""


def orders(count: int, *, quick: bool = False) -> Iterator[tuple[int, ...]]:
    """Delivery orders of ``count`` events (indices), the natural order first, no repeats."""
    natural = tuple(range(count))
    if quick:
        candidates: Iterator[tuple[int, ...]] = iter(
            (natural, natural[::-1], (natural[-1], *natural[:-1]))
        )
    elif count <= ALL_ORDERS_UP_TO:
        candidates = itertools.permutations(natural)
    else:
        candidates = itertools.chain((natural, natural[::-1]), _one_moved(natural))
    seen: set[tuple[int, ...]] = set()
    for order in candidates:
        if order not in seen:
            seen.add(order)
            yield order


def _one_moved(natural: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
    for source in natural:
        rest = [index for index in natural if index != source]
        for target in range(len(natural)):
            yield (*rest[:target], source, *rest[target:])


def _request(fields: tuple[tuple[str, str], ...], with_previous: bool = False) -> PlannedRequest:
    return PlannedRequest(Role.EVENT, fields, with_previous)


def _payloads(seed: int | str, scenario_id: str, life: Lifecycle, parties: Parties) -> CallPayloads:
    return CallPayloads(
        session_id_for(seed, scenario_id), life.direction, parties.phone_number, parties.at_number
    )


def _events(payloads: CallPayloads, life: Lifecycle) -> list[tuple[tuple[str, str], ...]]:
    return [
        payloads.event(event, life.cause, transferred=life.transferred) for event in life.events
    ]


def _names(events: Sequence[EventType], order: Sequence[int]) -> str:
    return ", ".join(events[index].value for index in order)


def event_order_scenarios(
    seed: int | str, parties: Parties, *, quick: bool = False
) -> list[RequestScenario]:
    """Every lifecycle in every order, then each with duplicated and racing redeliveries."""
    scenarios: list[RequestScenario] = []
    for life in LIFECYCLES:
        for number, order in enumerate(orders(len(life.events), quick=quick), start=1):
            scenario_id = f"event-orders/{life.name}/order-{number:02d}"
            events = _events(_payloads(seed, scenario_id, life, parties), life)
            scenarios.append(
                RequestScenario(
                    scenario_id,
                    f"{life.name} call's events in the order {_names(life.events, order)}",
                    Category.EVENT_ORDERS,
                    Origin.REPLAYED,
                    tuple(_request(events[index]) for index in order),
                )
            )
        scenarios.extend(_redeliveries(seed, life, parties))
    return scenarios


def _redeliveries(seed: int | str, life: Lifecycle, parties: Parties) -> list[RequestScenario]:
    twice_id = f"event-orders/{life.name}/each-twice"
    twice = _events(_payloads(seed, twice_id, life, parties), life)
    racing_id = f"event-orders/{life.name}/each-twice-at-once"
    racing = _events(_payloads(seed, racing_id, life, parties), life)
    return [
        RequestScenario(
            twice_id,
            f"{life.name} call's events, each delivered twice in a row",
            Category.EVENT_ORDERS,
            Origin.REPLAYED,
            tuple(request for fields in twice for request in (_request(fields), _request(fields))),
        ),
        RequestScenario(
            racing_id,
            f"{life.name} call's events, each delivered twice at the same moment",
            Category.EVENT_ORDERS,
            Origin.REPLAYED,
            tuple(
                request
                for fields in racing
                for request in (_request(fields), _request(fields, with_previous=True))
            ),
        ),
    ]
