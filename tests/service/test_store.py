"""The event store on both databases: durable appends, redelivery, order-free outcomes."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from at_voice_kit.service.store import (
    AppendResult,
    CallEvent,
    EventSource,
    EventStore,
    create_database_engine,
    derive_outcome,
)
from at_voice_kit.service.store.batch_write import event_view
from at_voice_kit.service.store.database import read_connection
from at_voice_kit.service.store.outcome import OutcomeDerivation, content_digest
from at_voice_kit.service.store.schema import LATEST_VERSION, RANK_COLUMNS, calls, schema_version
from at_voice_kit.service.webhook_forms import parse_callback, parse_event
from tests.service.test_commit_queue import eventually

SESSION = "ATVId_" + "a" * 32


@pytest.fixture
def store(database_url: str) -> Iterator[EventStore]:
    engine = create_database_engine(database_url)
    store = EventStore(engine)
    store.migrate()
    yield store
    engine.dispose()


def final_event(session: str = SESSION, **overrides: str) -> CallEvent:
    fields = {
        "sessionId": session,
        "eventType": "SessionEnded",
        "callerNumber": "+254711082369",
        "destinationNumber": "+254711082000",
        "hangupCause": "NORMAL_CLEARING",
        "direction": "outbound",
        "callStartTime": "2025-09-29 10:30:00",
        "durationInSeconds": "45",
        "currencyCode": "KES",
        "amount": "5.00",
        **overrides,
    }
    return parse_event(fields)


def count_events(store: EventStore) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT count(*) FROM call_events")).scalar_one())


def test_append_then_read_back(store: EventStore) -> None:
    assert store.append(final_event()).stored
    history = store.get_call(SESSION)
    assert history is not None
    assert [e.kind for e in history.events] == ["SessionEnded"]
    assert history.events[0].fields["amount"] == "5.00"
    outcome = history.summary.outcome
    assert (outcome.status, outcome.hangup_cause, outcome.duration_seconds) == (
        "Success",
        "NORMAL_CLEARING",
        45,
    )
    assert outcome.direction == "Outbound"
    assert outcome.call_start_time == datetime(2025, 9, 29, 10, 30)
    assert (outcome.currency_code, outcome.amount, outcome.ended) == ("KES", "5.00", True)


def test_redelivery_is_stored_once(store: EventStore) -> None:
    assert store.append(final_event()).stored
    assert not store.append(final_event()).stored
    assert count_events(store) == 1
    assert store.append(final_event(amount="6.00")).stored
    assert count_events(store) == 2


def test_live_callbacks_are_all_stored_even_when_identical(store: EventStore) -> None:
    form = {
        "sessionId": SESSION,
        "isActive": "1",
        "callerNumber": "+254711082369",
        "destinationNumber": "+254711082000",
        "dtmfDigits": "1",
    }
    for _ in range(2):
        assert store.append(parse_callback(form).to_event("menu")).stored
    final = parse_callback({**form, "isActive": "0", "status": "Success"}).to_event("")
    assert store.append(final).stored
    assert not store.append(final).stored
    assert count_events(store) == 3


def test_final_callback_outranks_events_whatever_the_order(store: EventStore) -> None:
    final = parse_callback(
        {
            "sessionId": SESSION,
            "isActive": "0",
            "callerNumber": "+254711082369",
            "destinationNumber": "+254711082000",
            "status": "NotAnswered",
            "callSessionState": "NotAnswered",
            "hangupCause": "USER_BUSY",
            "durationInSeconds": "0",
            "amount": "0",
            "callStartTime": "None",
        }
    ).to_event("")
    store.append(final)
    store.append(final_event(eventType="SessionRinging", hangupCause="", durationInSeconds="0"))
    outcome = store.get_call(SESSION).summary.outcome  # type: ignore[union-attr]
    assert (outcome.status, outcome.hangup_cause, outcome.call_start_time) == (
        "NotAnswered",
        "USER_BUSY",
        None,
    )


def test_list_calls_newest_first_paginated_and_filtered(store: EventStore) -> None:
    moments = iter(datetime(2026, 1, 1, 12, minute).astimezone() for minute in range(10))
    store._now = lambda: next(moments)
    for index in range(5):
        cause = "NORMAL_CLEARING" if index % 2 == 0 else "USER_BUSY"
        duration = "30" if index % 2 == 0 else "0"
        caller = "+254711082369" if index < 3 else "+256772123456"
        store.append(
            final_event(
                f"ATVId_{index:032d}",
                hangupCause=cause,
                durationInSeconds=duration,
                callerNumber=caller,
            )
        )
    first = store.list_calls(limit=2)
    assert [c.session_id[-1] for c in first.calls] == ["4", "3"]
    assert first.next_cursor is not None
    second = store.list_calls(limit=2, cursor=first.next_cursor)
    assert [c.session_id[-1] for c in second.calls] == ["2", "1"]
    third = store.list_calls(limit=2, cursor=second.next_cursor)
    assert [c.session_id[-1] for c in third.calls] == ["0"]
    assert third.next_cursor is None
    by_number = store.list_calls(limit=10, number="+256772123456")
    assert sorted(c.session_id[-1] for c in by_number.calls) == ["3", "4"]
    not_answered = store.list_calls(limit=10, status="NotAnswered")
    assert sorted(c.session_id[-1] for c in not_answered.calls) == ["1", "3"]


def test_migration_is_idempotent_and_refuses_newer_schemas(store: EventStore) -> None:
    assert store.migrate() == LATEST_VERSION
    assert store.migrate() == LATEST_VERSION
    with store.engine.begin() as connection:
        rows = connection.execute(sa.select(schema_version.c.version)).scalars().all()
        assert rows == list(range(1, LATEST_VERSION + 1))
        connection.execute(
            schema_version.insert().values(version=LATEST_VERSION + 1, applied_at=datetime.now())
        )
    with pytest.raises(RuntimeError, match="newer than this release"):
        store.migrate()


def test_concurrent_appends_lose_nothing_and_duplicate_nothing(store: EventStore) -> None:
    """Eight threads append overlapping events (every event twice) to a few calls."""
    events = [
        final_event(f"ATVId_{n % 4:032d}", eventType=f"Event{n}", durationInSeconds=str(n))
        for n in range(40)
    ]
    errors: list[BaseException] = []

    def worker(offset: int) -> None:
        try:
            for index in range(offset, len(events) + offset):
                store.append(events[index % len(events)])
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k * 5,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert count_events(store) == 40
    for session in range(4):
        history = store.get_call(f"ATVId_{session:032d}")
        assert history is not None
        assert history.summary.event_count == 10
        assert len(history.events) == 10


EVENT_TYPES = [
    "SessionStarted",
    "SessionRinging",
    "SessionAnswered",
    "SessionEnded",
    "SessionFailed",
    "Other",
]
CAUSES = ["NORMAL_CLEARING", "NO_ANSWER", "BRAND_NEW"]


def final_callback(draw: st.DrawFn) -> CallEvent:
    """AT's final request to the callback URL, with its own verdict."""
    form = {
        "sessionId": SESSION,
        "isActive": "0",
        "callerNumber": "+254711082369",
        "destinationNumber": "+254711082000",
        "status": draw(st.sampled_from(["Success", "NotAnswered", "Aborted"])),
        "hangupCause": draw(st.sampled_from(CAUSES)),
        "durationInSeconds": str(draw(st.integers(0, 600))),
        "callStartTime": draw(st.sampled_from(["None", "2025-09-29+10:30:00"])),
    }
    return parse_callback(form).to_event(draw(st.sampled_from(["", "menu"])))


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[CallEvent], list[CallEvent]]:
    """A set of distinct events for one call, and a delivery of it: shuffled, some twice.

    Notifications of any kind, then perhaps one or two final callbacks (AT's verdict) and
    this service's own record of placing the call: every source the outcome ranks.
    """
    kinds = draw(st.lists(st.sampled_from(EVENT_TYPES), min_size=1, max_size=6, unique=True))
    events = [
        final_event(
            eventType=kind,
            durationInSeconds=str(draw(st.integers(0, 600))),
            hangupCause=draw(st.sampled_from(CAUSES)),
        )
        for kind in kinds
    ]
    for _ in range(draw(st.integers(0, 2))):
        callback = final_callback(draw)
        if callback.dedup_key() not in {event.dedup_key() for event in events}:
            events.append(callback)
    if draw(st.booleans()):
        events.append(
            CallEvent(
                session_id=SESSION,
                source=EventSource.API,
                kind="CallRequested",
                fields={"sessionId": SESSION, "callerNumber": "+254711082369"},
                caller_number="+254711082369",
            )
        )
    duplicated = events + draw(st.lists(st.sampled_from(events), max_size=4))
    return events, draw(st.permutations(duplicated))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(delivery=deliveries())
def test_outcome_depends_on_the_set_of_events_not_their_order(
    tmp_path_factory: pytest.TempPathFactory,
    delivery: tuple[list[CallEvent], list[CallEvent]],
) -> None:
    events, shuffled = delivery
    outcomes = []
    for order in (events, shuffled):
        path = tmp_path_factory.mktemp("order") / "events.db"
        engine = create_database_engine(f"sqlite:///{path}")
        store = EventStore(engine)
        store.migrate()
        for event in order:
            store.append(event)
        history = store.get_call(SESSION)
        assert history is not None
        assert len(history.events) == len(events)
        outcomes.append(history.summary.outcome)
        engine.dispose()
    assert outcomes[0] == outcomes[1]
    assert outcomes[0] == derive_outcome(event_view(event) for event in events)


@settings(max_examples=50, deadline=None)
@given(
    fields=st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=12), max_size=6),
    extra_key=st.text(max_size=8),
)
def test_dedup_keys_and_rank_digests_keep_the_canonical_text_of_earlier_releases(
    fields: dict[str, str], extra_key: str
) -> None:
    """Stored rows carry both digests: a redelivery of an event an earlier release stored
    must get the same key, and its rank the same tie-breaker, whatever the fields hold
    (quotes, non-ASCII, any order), so the canonical text is that of ``json.dumps``."""
    event = CallEvent(SESSION, EventSource.CALLBACK, "Callback", fields, extra_key=extra_key)
    canonical = json.dumps(
        [event.source.value, extra_key, sorted(fields.items())], separators=(",", ":")
    )
    assert event.dedup_key() == hashlib.sha256(canonical.encode()).hexdigest()
    ranked = json.dumps(
        ["callback", "Callback", fields], sort_keys=True, separators=(",", ":"), default=str
    )
    expected = hashlib.sha256(ranked.encode()).hexdigest()[:32]
    assert content_digest("callback", "Callback", fields) == expected


def test_api_events_do_not_end_a_call(store: EventStore) -> None:
    store.append(
        CallEvent(
            session_id=SESSION,
            source=EventSource.API,
            kind="CallRequested",
            fields={"phoneNumber": "+254711082369"},
        )
    )
    outcome = store.get_call(SESSION).summary.outcome  # type: ignore[union-attr]
    assert (outcome.status, outcome.ended) == ("Requested", False)


def test_calls_written_before_ranks_in_columns_get_them_from_their_events(
    store: EventStore,
) -> None:
    """A ``calls`` row from schema version 1 has no ranks: migrating to version 3 derives them
    from the call's events, and the next event merges into the outcome they give."""
    ringing = final_event(eventType="SessionRinging", hangupCause="", durationInSeconds="0")
    store.append(ringing)
    with store.engine.begin() as connection:
        blank = dict.fromkeys(RANK_COLUMNS)
        connection.execute(calls.update().values(derivation=None, **blank))
        connection.execute(schema_version.delete().where(schema_version.c.version >= 2))
    assert store.migrate() == LATEST_VERSION
    store.append(final_event())
    history = store.get_call(SESSION)
    assert history is not None
    assert history.summary.event_count == 2
    assert history.summary.outcome == derive_outcome(
        event_view(event) for event in (ringing, final_event())
    )


def test_calls_of_schema_version_2_keep_their_outcome_through_the_migration(
    store: EventStore,
) -> None:
    """Version 2 kept the ranks as JSON: version 3 copies them into their columns."""
    final = final_event()
    store.append(final)
    derivation = OutcomeDerivation()
    derivation.merge(event_view(final) | {"received_at": None})
    with store.engine.begin() as connection:
        blank = dict.fromkeys(RANK_COLUMNS)
        connection.execute(calls.update().values(derivation=derivation.state_json(), **blank))
        connection.execute(schema_version.delete().where(schema_version.c.version == 3))
    store.migrate()
    ringing = final_event(eventType="SessionRinging", hangupCause="", durationInSeconds="0")
    store.append(ringing)
    outcome = store.get_call(SESSION).summary.outcome  # type: ignore[union-attr]
    assert outcome == derive_outcome(event_view(event) for event in (final, ringing))
    assert (outcome.status, outcome.hangup_cause) == ("Success", "NORMAL_CLEARING")


def test_migration_from_version_1_adds_the_derivation_column(store: EventStore) -> None:
    with store.engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE calls DROP COLUMN derivation"))
        connection.execute(schema_version.delete().where(schema_version.c.version >= 2))
    assert store.migrate() == LATEST_VERSION
    store.append(final_event())
    assert store.get_call(SESSION) is not None


def test_batches_with_redeliveries_inside_them_store_each_event_once(store: EventStore) -> None:
    events = [final_event(f"ATVId_{n % 3:032d}", eventType=f"E{n % 5}") for n in range(30)]
    results = store.append_many(events)
    assert sum(result.stored for result in results) == 15
    assert [result.stored for result in results[:15]] == [True] * 15
    assert count_events(store) == 15
    for session in range(3):
        history = store.get_call(f"ATVId_{session:032d}")
        assert history is not None
        assert history.summary.event_count == 5


def test_database_errors_do_not_carry_call_data(database_url: str) -> None:
    """Errors are logged (a 503's cause): their messages must not carry statement values."""
    engine = create_database_engine(database_url)
    try:
        EventStore(engine).migrate()  # creates the SQLite file: connections never do
        with engine.connect() as connection, pytest.raises(sa.exc.DBAPIError) as excinfo:
            connection.execute(
                sa.text("SELECT * FROM no_such_table WHERE number = :number"),
                {"number": "+254711082369"},
            )
    finally:
        engine.dispose()
    assert "no_such_table" in str(excinfo.value)
    assert "254711082369" not in str(excinfo.value)


@pytest.mark.parametrize(
    ("sabotage", "error"),
    [
        (
            "CREATE TRIGGER refuse BEFORE INSERT ON call_events "
            "BEGIN SELECT RAISE(ABORT, 'refused by the operator'); END",
            sa.exc.IntegrityError,
        ),
        (
            "CREATE TRIGGER refuse BEFORE UPDATE ON calls BEGIN SELECT no_such(); END",
            sa.exc.OperationalError,
        ),
        ("ALTER TABLE calls RENAME TO calls_elsewhere", sa.exc.OperationalError),
    ],
)
def test_sqlite_write_failures_are_sqlalchemy_errors_and_store_nothing(
    tmp_path: Path, sabotage: str, error: type[Exception]
) -> None:
    """The SQLite writer runs its statements on the driver's cursor: a failure there must
    still be SQLAlchemy's error (the service answers 503 for database errors, and the group
    commit tells whole-batch failures by them), carry no call data, and roll back the batch."""
    engine = create_database_engine(f"sqlite:///{tmp_path / 'events.db'}")
    try:
        store = EventStore(engine)
        store.migrate()
        store.append(final_event(f"ATVId_{1:032d}"))  # the call exists: the next one updates it
        with engine.begin() as connection:
            connection.exec_driver_sql(sabotage)
        events = [final_event(f"ATVId_{1:032d}", eventType="SessionFailed"), final_event()]
        with pytest.raises(error) as excinfo:
            store.append_many(events)
        assert "254711082369" not in str(excinfo.value)
        assert count_events(store) == 1
    finally:
        engine.dispose()


def test_each_event_keeps_its_own_arrival_time_and_the_call_its_first_and_last(
    tmp_path: Path,
) -> None:
    """Events are timed as they arrive, before queueing for the writer: one batch may hold
    events that arrived in any order. (SQLite: the writer lock, held here, gathers all three
    into one batch.)"""
    database_url = f"sqlite:///{tmp_path / 'events.db'}"
    arrivals = iter(
        [
            datetime(2026, 1, 18, 20, 4, 5, tzinfo=UTC),
            datetime(2026, 1, 18, 20, 4, 1, tzinfo=UTC),
            datetime(2026, 1, 18, 20, 4, 3, tzinfo=UTC),
        ]
    )
    lock = threading.Lock()

    def clock() -> datetime:
        with lock:
            return next(arrivals)

    engine = create_database_engine(database_url)
    try:
        store = EventStore(engine, now=clock)
        store.migrate()
        events = [
            final_event(),
            final_event(eventType="SessionRinging", hangupCause="None"),
            final_event(eventType="SessionAnswered", hangupCause="None"),
        ]

        async def append_while_the_lock_is_held() -> list[AppendResult]:
            with store._dialect.writer_lock():
                futures = [asyncio.ensure_future(store.append_async(event)) for event in events]
                await eventually(lambda: store._queue.waiting == 3, "not queued")
            return await asyncio.gather(*futures)

        assert all(result.stored for result in asyncio.run(append_while_the_lock_is_held()))
        history = store.get_call(SESSION)
        assert history is not None
        # Listed in arrival order, whatever order the batch inserted them in.
        assert [(event.received_at.second, event.kind) for event in history.events] == [
            (1, "SessionRinging"),
            (3, "SessionAnswered"),
            (5, "SessionEnded"),
        ]
        assert history.summary.first_seen_at == datetime(2026, 1, 18, 20, 4, 1, tzinfo=UTC)
        assert history.summary.last_event_at == datetime(2026, 1, 18, 20, 4, 5, tzinfo=UTC)
        assert history.summary.event_count == 3
    finally:
        engine.dispose()


def test_a_calls_first_seen_time_never_moves_back_once_listed(store: EventStore) -> None:
    """An event timed earlier but committed later (it waited for the writer) leaves the call
    where the call list's cursor already put it."""
    times = iter([datetime(2026, 1, 18, 20, 4, 5, tzinfo=UTC)])
    store._now = lambda: next(times)
    assert store.append(final_event()).stored
    late = store._dialect.prepare(
        final_event(eventType="SessionRinging", hangupCause="None"),
        datetime(2026, 1, 18, 20, 4, 1, tzinfo=UTC),
    )
    assert asyncio.run(store._queue.submit(late)).stored
    history = store.get_call(SESSION)
    assert history is not None
    assert history.summary.first_seen_at == datetime(2026, 1, 18, 20, 4, 5, tzinfo=UTC)
    assert [event.kind for event in history.events] == ["SessionRinging", "SessionEnded"]


def _session_of(connection: sa.Connection) -> tuple[int, int | None]:
    """Which DBAPI connection this is (its object, as copied into a forked child) and, on
    PostgreSQL, which server session it talks to."""
    backend = None
    if connection.dialect.name == "postgresql":
        backend = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    return id(connection.connection.dbapi_connection), backend


def test_a_forked_child_opens_its_own_connections_and_leaves_the_parents_alone(
    store: EventStore,
) -> None:
    """gunicorn --preload: the master builds the app and migrates, then forks the workers."""
    with read_connection(store.engine) as connection:
        parent = _session_of(connection)
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, and leave without running anything of pytest's
        status = 1
        try:
            os.close(reader)
            with read_connection(store.engine) as connection:
                child = _session_of(connection)
            stored = store.append(final_event()).stored
            os.write(writer, json.dumps({"child": child, "stored": stored}).encode())
            status = 0
        except BaseException as exc:
            os.write(writer, json.dumps({"error": repr(exc)}).encode())
        finally:
            os._exit(status)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        report = json.loads(pipe.read() or b"{}")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, report
    child_object, child_backend = report["child"]
    assert child_object != parent[0], "the child used the parent's pooled connection"
    if parent[1] is not None:
        assert child_backend != parent[1]
    assert report["stored"] is True
    # The parent's connection still works, with its session intact, and sees the child's write.
    with read_connection(store.engine) as connection:
        assert _session_of(connection) == parent
    assert count_events(store) == 1


def test_a_home_relative_sqlite_path_is_the_file_in_the_home_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    engine = create_database_engine("sqlite:///~/voice/events.db")
    try:
        store = EventStore(engine)
        store.migrate()
        store.append(parse_event({"sessionId": "ATVId_home", "eventType": "SessionStarted"}))
    finally:
        engine.dispose()
    assert (tmp_path / "home" / "voice" / "events.db").is_file()
    assert (tmp_path / "home" / "voice" / "events.db-writer.lock").is_file()
    assert not (tmp_path / "~").exists()
