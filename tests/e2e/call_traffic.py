"""AT's webhook traffic for end-to-end tests: calls made of deliveries, sent over HTTP, checked.

A call is a set of distinct webhook requests (notifications to ``/voice/events``, callback
requests to ``/voice/instruct``), each identified by (sessionId, source, kind). Tests deliver
them concurrently, out of order, some more than once and to several workers or instances,
then read the database and check that every acknowledged request is stored exactly once and
that each call's derived outcome is the one its distinct events give.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import requests
import sqlalchemy as sa

from at_voice_kit.service.store import (
    CallOutcome,
    EventStore,
    create_database_engine,
    derive_outcome,
)
from at_voice_kit.service.store.batch_write import event_view
from at_voice_kit.service.store.records import CallEvent
from at_voice_kit.service.webhook_forms import parse_callback, parse_event

AT_NUMBER = "+254711082000"
HANGUP_CAUSES = ["NORMAL_CLEARING", "NO_ANSWER", "USER_BUSY", "ORIGINATOR_CANCEL"]

DeliveryKey = tuple[str, str, str]
"""(sessionId, source, kind): unique among one call's deliveries."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One distinct webhook request of a call."""

    path: str
    form: dict[str, str]
    deduplicated: bool
    """True when a redelivery must be stored once (notifications, the final callback)."""

    @property
    def event(self) -> CallEvent:
        """What the service stores for it."""
        if self.path == "/voice/events":
            return parse_event(self.form)
        return parse_callback(self.form).to_event("")

    @property
    def key(self) -> DeliveryKey:
        """Its identity in the ``call_events`` table."""
        event = self.event
        return (event.session_id, event.source.value, event.kind)


@dataclass(frozen=True, slots=True)
class Call:
    """A call's session id and its distinct deliveries."""

    session_id: str
    deliveries: tuple[Delivery, ...]

    def expected_outcome(self) -> CallOutcome:
        """The outcome its distinct events give, derived in-process as a reference."""
        return derive_outcome(event_view(delivery.event) for delivery in self.deliveries)


def make_call(rng: random.Random, prefix: str = "ATVId_") -> Call:
    """A random realistic call: answered or not, with notifications and callbacks."""
    session = prefix + uuid.UUID(int=rng.getrandbits(128)).hex
    base = {
        "sessionId": session,
        "direction": rng.choice(["Outbound", "Inbound"]),
        "callerNumber": f"+2547{rng.randrange(10**8):08d}",
        "destinationNumber": AT_NUMBER,
        "callerCountryCode": "254",
    }
    answered = rng.random() < 0.7
    start = f"2026-01-{rng.randrange(1, 29):02d} {rng.randrange(24):02d}:{rng.randrange(60):02d}:00"
    duration = str(rng.randrange(1, 900)) if answered else "0"
    cause = "NORMAL_CLEARING" if answered else rng.choice(HANGUP_CAUSES[1:])
    final = {
        **base,
        "isActive": "0",
        "status": "Success" if answered else "NotAnswered",
        "callSessionState": "Completed" if answered else "NotAnswered",
        "hangupCause": cause,
        "durationInSeconds": duration,
        "currencyCode": "KES",
        "amount": f"{int(duration) * 0.04:.2f}" if answered else "0",
        "callStartTime": start if answered else "None",
    }
    deliveries = [
        Delivery("/voice/events", {**base, "eventType": "SessionRinging"}, True),
        Delivery(
            "/voice/events",
            {
                **base,
                "eventType": "SessionEnded",
                "hangupCause": rng.choice(HANGUP_CAUSES) if rng.random() < 0.2 else cause,
                "durationInSeconds": duration,
                "callSessionState": "Completed" if answered else "NotAnswered",
            },
            True,
        ),
    ]
    if answered:
        deliveries.append(
            Delivery(
                "/voice/events",
                {**base, "eventType": "SessionAnswered", "callStartTime": start},
                True,
            )
        )
        live = {**base, "isActive": "1", "callStartTime": start}
        deliveries.append(Delivery("/voice/instruct", live, False))
        deliveries.append(
            Delivery("/voice/instruct", {**live, "dtmfDigits": str(rng.randrange(10))}, False)
        )
    if rng.random() < 0.9:  # now and then the final callback is lost: events decide alone
        deliveries.append(Delivery("/voice/instruct", final, True))
    return Call(session, tuple(deliveries))


def redelivery_schedule(
    calls: Sequence[Call], rng: random.Random, *, max_copies: int = 3
) -> list[Delivery]:
    """Every delivery of every call, deduplicated ones 1 to ``max_copies`` times, shuffled."""
    schedule = [
        delivery
        for call in calls
        for delivery in call.deliveries
        for _ in range(rng.randint(1, max_copies) if delivery.deduplicated else 1)
    ]
    rng.shuffle(schedule)
    return schedule


@dataclass
class DeliveryLog:
    """What the clients saw: which deliveries were acknowledged, and by which URL."""

    acked: Counter[DeliveryKey] = field(default_factory=Counter)
    acked_by_url: Counter[str] = field(default_factory=Counter)
    refused: list[str] = field(default_factory=list)
    """Answers that were neither success nor a retryable failure (must stay empty)."""
    failed_attempts: int = 0
    """Attempts that got no answer or a retryable error (a crash or an outage shows here)."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acked_total(self) -> int:
        """Acknowledgements so far."""
        with self.lock:
            return sum(self.acked.values())

    def record(self, delivery: Delivery, url: str) -> None:
        """Count an acknowledgement."""
        with self.lock:
            self.acked[delivery.key] += 1
            self.acked_by_url[url] += 1


def is_acknowledged(delivery: Delivery, response: requests.Response) -> bool:
    """The service's success answer for this kind of request."""
    if response.status_code != 200:
        return False
    if delivery.path == "/voice/events":
        return response.text == "OK"
    if delivery.form.get("isActive") == "0":
        return response.text == ""
    return response.text.startswith("<?xml")


RETRYABLE_STATUSES = frozenset({502, 503, 504})


def post_until_acknowledged(
    session: requests.Session,
    url: str,
    delivery: Delivery,
    log: DeliveryLog,
    *,
    deadline: float,
    retry: bool,
    headers: dict[str, str] | None = None,
) -> bool:
    """POST like AT: retry on connection errors and 5xx until acknowledged or the deadline."""
    while time.monotonic() < deadline:
        try:
            response = session.post(
                url + delivery.path, data=delivery.form, headers=headers, timeout=15
            )
        except requests.RequestException:
            response = None
        if response is not None and is_acknowledged(delivery, response):
            log.record(delivery, url)
            return True
        if response is not None and response.status_code not in RETRYABLE_STATUSES:
            with log.lock:
                log.refused.append(f"{delivery.key}: {response.status_code} {response.text!r}")
            return False
        with log.lock:
            log.failed_attempts += 1
        if not retry:
            return False
        time.sleep(0.05)
    return False


def deliver_concurrently(
    schedule: Sequence[Delivery],
    urls: Sequence[str],
    *,
    threads: int,
    deadline_seconds: float = 120.0,
    new_connection_each: bool = True,
    retry: Callable[[Delivery], bool] = lambda delivery: delivery.deduplicated,
    log: DeliveryLog | None = None,
) -> DeliveryLog:
    """Send ``schedule`` from ``threads`` clients, spreading requests over ``urls``.

    With ``new_connection_each`` every request opens a new connection, so the kernel hands
    consecutive requests to different gunicorn workers. Live callback requests are not
    retried (by default): a second identical request is a second turn of the call, not a
    redelivery, and is stored as such.
    """
    log = log if log is not None else DeliveryLog()
    deadline = time.monotonic() + deadline_seconds
    headers = {"Connection": "close"} if new_connection_each else None

    def client(index: int) -> None:
        with requests.Session() as session:
            for position in range(index, len(schedule), threads):
                delivery = schedule[position]
                url = urls[position % len(urls)]
                post_until_acknowledged(
                    session,
                    url,
                    delivery,
                    log,
                    deadline=deadline,
                    retry=retry(delivery),
                    headers=headers,
                )

    workers = [threading.Thread(target=client, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=deadline_seconds + 30)
    assert not any(worker.is_alive() for worker in workers), "a client did not finish in time"
    return log


@dataclass(frozen=True, slots=True)
class StoreReport:
    """What the database holds for some calls, compared with what was sent and acknowledged."""

    stored: Counter[DeliveryKey]
    event_counts: dict[str, int]
    outcomes: dict[str, CallOutcome]
    rederived: dict[str, CallOutcome]
    """Each call's outcome derived again from its stored events, from scratch."""


def read_store(database_url: str, session_ids: Iterable[str]) -> StoreReport:
    """Read the stored events and calls rows of ``session_ids``."""
    sessions = sorted(session_ids)
    engine = create_database_engine(database_url)
    try:
        store = EventStore(engine)
        stored: Counter[DeliveryKey] = Counter()
        event_counts: dict[str, int] = {}
        outcomes: dict[str, CallOutcome] = {}
        rederived: dict[str, CallOutcome] = {}
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT session_id, source, kind FROM call_events WHERE session_id IN :sessions"
                ).bindparams(sa.bindparam("sessions", expanding=True)),
                {"sessions": sessions},
            ).all()
        stored.update((row.session_id, row.source, row.kind) for row in rows)
        for session_id in sessions:
            history = store.get_call(session_id)
            if history is None:
                continue
            event_counts[session_id] = history.summary.event_count
            outcomes[session_id] = history.summary.outcome
        rederived.update(_rederive(engine, sessions))
        return StoreReport(stored, event_counts, outcomes, rederived)
    finally:
        engine.dispose()


def _rederive(engine: sa.Engine, sessions: Sequence[str]) -> dict[str, CallOutcome]:
    from at_voice_kit.service.store.schema import call_events

    found: dict[str, list[dict[str, object]]] = {}
    with engine.connect() as connection:
        query = sa.select(call_events).where(call_events.c.session_id.in_(sessions))
        for row in connection.execute(query).mappings():
            found.setdefault(row["session_id"], []).append(dict(row))
    return {session: derive_outcome(rows) for session, rows in found.items()}


def assert_stored_exactly_once(
    calls: Sequence[Call], log: DeliveryLog, report: StoreReport, *, all_acked: bool = True
) -> None:
    """Every acknowledged delivery stored once, nothing else stored, outcomes as derived.

    With ``all_acked`` every delivery must have been acknowledged at least once; otherwise
    an unacknowledged delivery may be stored at most once (it was in flight at a crash).
    """
    sent = {delivery.key for call in calls for delivery in call.deliveries}
    assert log.refused == []
    unexpected = set(report.stored) - sent
    assert unexpected == set(), f"stored but never sent: {sorted(unexpected)[:5]}"
    duplicated = {key: n for key, n in report.stored.items() if n > 1}
    assert duplicated == {}, f"stored more than once: {sorted(duplicated.items())[:5]}"
    lost = {key for key in log.acked if report.stored[key] != 1}
    assert lost == set(), f"acknowledged but not stored: {sorted(lost)[:5]}"
    if all_acked:
        unacked = sent - set(log.acked)
        assert unacked == set(), f"never acknowledged: {sorted(unacked)[:5]}"
    for call in calls:
        stored_here = sum(n for key, n in report.stored.items() if key[0] == call.session_id)
        if stored_here == 0:
            assert call.session_id not in report.event_counts
            continue
        # The calls row was written in the same transactions as the events: never half-stored.
        assert report.event_counts.get(call.session_id) == stored_here, call.session_id
        assert report.outcomes[call.session_id] == report.rederived[call.session_id]
        if all(delivery.key in log.acked for delivery in call.deliveries):
            assert report.outcomes[call.session_id] == call.expected_outcome(), call.session_id
