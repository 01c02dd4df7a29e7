"""The live feed: entries in order as they are published, bounded, waking listeners on any
thread's loop, telling a listener that fell behind that it missed some."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import africastalking

from at_voice_kit.simulator.backend.feed import CallFeed, CallNote, FeedEntryKind
from at_voice_kit.simulator.backend.platform_config import SimulatorConfig
from at_voice_kit.simulator.backend.voice import Credentials, VoiceBackend
from at_voice_kit.simulator.testing.harness import AtSimulator
from at_voice_kit.simulator.testing.wsgi_server import serve_wsgi_app

USER = "+254711082369"
XML = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hello there</Say></Response>'
StartResponse = Callable[[str, list[tuple[str, str]]], object]


def test_entries_come_in_order_after_any_position_and_a_slow_reader_is_told_it_missed_some() -> (
    None
):
    feed = CallFeed(capacity=3)
    assert feed.position == 0 and feed.after(0).entries == ()
    for n in range(5):
        feed.publish(FeedEntryKind.NOTE, "ATVId_x", n)
    assert feed.position == 5
    recent = feed.after(3)
    assert [e.item for e in recent.entries] == [3, 4] and not recent.missed
    behind = feed.after(0)
    assert [e.sequence for e in behind.entries] == [3, 4, 5] and behind.missed
    assert feed.after(5).entries == () and not feed.after(5).missed


def test_a_listener_wakes_when_another_thread_publishes_and_when_the_feed_closes() -> None:
    feed = CallFeed()

    async def listen() -> tuple[float, float]:
        started = time.monotonic()
        threading.Timer(0.2, feed.publish, (FeedEntryKind.RESET, None, None)).start()
        await feed.wait(0, 30)
        woken = time.monotonic() - started
        threading.Timer(0.2, feed.close).start()
        await feed.wait(feed.position, 30)
        return woken, time.monotonic() - started

    woken, closed = asyncio.run(listen())
    assert woken < 10 and closed < 20  # far from the 30 s timeout: woken, not timed out
    assert feed.closed
    feed.reopen()
    assert not feed.closed


def test_the_backend_publishes_calls_webhooks_notes_requests_and_resets() -> None:
    backend = VoiceBackend(SimulatorConfig(seed=3))
    start = backend.feed.position
    placement = backend.place_calls(
        Credentials("sandbox", "atsim-sandbox-key"), "+254711082000", ["+254711082001"]
    )
    session_id = placement.entries[0].session_id
    assert session_id is not None
    backend.journal.record_note(session_id, CallNote(backend.now(), "ringing"))
    backend.calls.set_clock_start(session_id, backend.now())
    backend.reset()
    kinds = [(e.kind, e.session_id) for e in backend.feed.after(start).entries]
    assert kinds == [
        (FeedEntryKind.CALL, session_id),
        (FeedEntryKind.NOTE, session_id),
        (FeedEntryKind.CALL, session_id),
        (FeedEntryKind.RESET, None),
    ]
    assert backend.journal.notes_for(session_id) == ()  # the reset forgot them


def test_a_calls_lines_are_journaled_live_and_kept_once_when_it_ends(
    at_simulator: AtSimulator,
) -> None:
    """While a call runs its timeline lines are in the journal (the admin API's ``notes``);
    once it ends they are its record's, and the journal no longer keeps a second copy."""
    seen_live: list[int] = []

    def app(environ: dict[str, Any], start: StartResponse) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = dict(parse_qsl(environ["wsgi.input"].read(length).decode()))
        if form.get("isActive") == "1":
            seen_live.append(len(at_simulator.backend.journal.notes_for(form["sessionId"])))
        start("200 OK", [("Content-Type", "text/plain")])
        return [b"" if form.get("isActive") == "0" else XML.encode()]

    with serve_wsgi_app(app) as url:
        at_simulator.set_number(at_simulator.phone_number, callback_url=url)
        at_simulator.set_callee(USER, answer="answered")
        answer = africastalking.Voice.call(at_simulator.phone_number, [USER])
        session_id = answer["entries"][0]["sessionId"]
        call = at_simulator.wait_for_call(session_id)
    assert seen_live and seen_live[0] > 0  # "ringing", "answered", ... while the call ran
    assert at_simulator.backend.journal.notes_for(session_id) == ()
    assert call.record is not None and len(call.record.timeline) > seen_live[0]
