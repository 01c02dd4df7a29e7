"""``atsim call --interactive`` and ``atsim dial --interactive``: the terminal is the phone.

While the command runs, the terminal holds the phone user's number as a dev phone does (the
simulator's ``/_simulator/phones/{number}/events``), so the call is live and in real time: it
shows each prompt's text as it is spoken, and reads the keys typed, one at a time, as they are
typed (``0``-``9``, ``*``, ``#``; ``a`` answers a ringing call, ``r`` rejects it, ``s`` ends a
recording, ``h`` hangs up). A terminal has no microphone: for a ``Record`` the simulator makes
a voice-like recording as long as the person took. The call's timeline prints as it happens.
No ``register``: not a command itself.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

try:  # POSIX terminals; elsewhere keys are read as the console delivers them
    import termios
    import tty
except ImportError:  # pragma: no cover - not on Linux
    termios = None  # type: ignore[assignment]
    tty = None  # type: ignore[assignment]

from at_voice_kit.simulator.client.feed import KEEPALIVE, LiveTimeline, StreamEvent
from at_voice_kit.simulator.client.remote import (
    SimulatorClient,
    SimulatorRefused,
    SimulatorUnavailable,
)
from at_voice_kit.simulator.client.timeline import call_headline, ending_lines, redact
from at_voice_kit.simulator.commands.call_output import EXIT_FAILED, say, verdict
from at_voice_kit.simulator.untrusted_text import printable

EXIT_USAGE = 2
KEYS = frozenset("0123456789*#")
PROMPT = "  >> "
END_WAIT_SECONDS = 30.0


@dataclass(slots=True)
class _Phone:
    """The terminal phone's view of its call."""

    number: str
    session_id: str | None = None
    ringing: bool = False
    recording_since: float | None = None
    over: threading.Event = field(default_factory=threading.Event)


def add_interactive_option(parser: argparse.ArgumentParser, who: str) -> None:
    """``--interactive``."""
    parser.add_argument(
        "--interactive",
        action="store_true",
        help=f"be {who} yourself: see each prompt as it is spoken and type keys live "
        "(0-9 * #; a answers, r rejects, s ends a recording, h hangs up)",
    )


def run_interactive(
    client: SimulatorClient,
    number: str,
    start_call: Callable[[], str],
    prog: str,
    *,
    strict: bool = False,
) -> int:
    """Hold ``number``, start the call (``start_call`` returns its session id) and drive it
    from the keyboard until it ends; the exit status as for a scripted call."""
    inbox: queue.Queue[tuple[str, Any]] = queue.Queue()
    phone = _Phone(number)
    _pump("phone", lambda: client.phone_events(number), inbox)
    try:
        first = inbox.get(timeout=END_WAIT_SECONDS)
    except queue.Empty:
        first = ("phone", f"the simulator did not answer in {END_WAIT_SECONDS:g} s")
    if not isinstance(first[1], StreamEvent) or first[1].name != "status":
        print(f"{prog}: cannot hold {number}: {first[1]}", file=sys.stderr)
        return EXIT_USAGE
    try:
        position = client.feed_position()
        phone.session_id = start_call()
    except (SimulatorUnavailable, SimulatorRefused) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    session_id = phone.session_id
    printer = LiveTimeline(say, lambda sid: "" if sid == session_id else None)
    _pump("feed", lambda: client.follow_feed(position, session_id), inbox)
    say(f"{PROMPT}you are {number}: keys 0-9 * # are sent as you type them; h hangs up")
    with _keys_from_terminal() as keys:
        _pump("key", lambda: keys, inbox)
        try:
            _drive(client, phone, printer, inbox)
        except KeyboardInterrupt:
            _act(client, phone, "hangup")
            _wait_for_end(phone, printer, inbox)
    call = client.call(session_id)
    say(printable(call_headline(call)))
    for line in ending_lines(call):
        say(line)
    return verdict(call, prog, strict=strict) if call["phase"] == "ended" else EXIT_FAILED


def _drive(
    client: SimulatorClient,
    phone: _Phone,
    printer: LiveTimeline,
    inbox: queue.Queue[tuple[str, Any]],
) -> None:
    assert phone.session_id is not None
    while not (phone.over.is_set() and printer.ended(phone.session_id)):
        try:
            source, item = inbox.get(timeout=1.0)
        except queue.Empty:
            continue
        if source == "feed" and isinstance(item, StreamEvent):
            printer.handle(item)
        elif source == "phone" and isinstance(item, StreamEvent):
            _show(client, phone, item)
        elif source == "key" and isinstance(item, str):
            _typed(client, phone, item)
        elif source in ("feed", "phone") and isinstance(item, Exception):
            say(f"{PROMPT}{item}")
            return


def _wait_for_end(
    phone: _Phone, printer: LiveTimeline, inbox: queue.Queue[tuple[str, Any]]
) -> None:
    deadline = time.monotonic() + END_WAIT_SECONDS
    while time.monotonic() < deadline and phone.session_id and not printer.ended(phone.session_id):
        with contextlib.suppress(queue.Empty):
            source, item = inbox.get(timeout=1.0)
            if source == "feed" and isinstance(item, StreamEvent):
                printer.handle(item)


def _show(client: SimulatorClient, phone: _Phone, event: StreamEvent) -> None:
    """Tell the person what the phone shows."""
    data = event.data
    if event.name in ("status", KEEPALIVE) or data.get("sessionId") != phone.session_id:
        return
    text = _PROMPTS.get(event.name, lambda _: None)(data)
    if text is not None:
        say(PROMPT + redact(text))
    if event.name == "ringing":
        phone.ringing = True
    elif event.name == "connected":
        phone.ringing = False
    elif event.name == "play":
        _act(client, phone, "played")  # nothing to play in a terminal: it is over at once
    elif event.name == "record":
        phone.recording_since = time.monotonic()
    elif event.name == "record-stop":
        _hand_in_recording(client, phone)
    elif event.name == "ended":
        phone.over.set()


_PROMPTS: dict[str, Callable[[Any], str | None]] = {
    "ringing": lambda d: f"ringing: {d['from']} is calling (a answers, r rejects)",
    "connected": lambda d: f"connected to {d['peer']}",
    "say": lambda d: f'Say: "{d["text"]}"',
    "play": lambda d: f"Play {d['url']}",
    "digits": lambda d: (
        f"listening for {d['numDigits'] or 'any number of'} key(s)"
        + (f", finish with {d['finishOnKey']}" if d.get("finishOnKey") else "")
        + f" ({d['timeout']} s per key)"
    ),
    "digits-done": lambda d: f"sent {d['digits']}" if d["digits"] else "no input",
    "record": lambda d: (
        "recording: talk (no microphone here: the simulator records a voice-like sound as "
        "long as you take); "
        + (f"press {d['finishOnKey']} or s to finish" if d.get("finishOnKey") else "s finishes")
    ),
    "recorded": lambda d: f"recorded {float(d['seconds']):.1f} s: {d['url']}",
    "bridged": lambda d: f"talking to {d['number']}",
    "ended": lambda d: f"call ended: {d.get('hangupCause') or 'cancelled'} ({d['reason']})",
}


def _typed(client: SimulatorClient, phone: _Phone, key: str) -> None:
    """What the person typed."""
    if phone.ringing and key in ("a", "\n", "\r"):
        phone.ringing = False
        _act(client, phone, "answer")
    elif phone.ringing and key == "r":
        phone.ringing = False
        _act(client, phone, "reject")
    elif key in ("h", "q"):
        if phone.recording_since is not None:
            _hand_in_recording(client, phone)
        _act(client, phone, "reject" if phone.ringing else "hangup")
    elif phone.recording_since is not None and key in ("s", "\n", "\r"):
        _hand_in_recording(client, phone)
    elif key in KEYS:
        _act(client, phone, "key", key=key)


def _hand_in_recording(client: SimulatorClient, phone: _Phone) -> None:
    if phone.recording_since is None:
        return
    seconds = round(time.monotonic() - phone.recording_since, 1)
    phone.recording_since = None
    _act(client, phone, "recorded", seconds=seconds)


def _act(client: SimulatorClient, phone: _Phone, action: str, **fields: object) -> None:
    if phone.session_id is None:
        return
    try:
        client.phone_action(phone.number, phone.session_id, action, **fields)
    except SimulatorRefused as exc:  # the call ended meanwhile: nothing to act on
        say(f"{PROMPT}{exc}")


def _pump(
    source: str, items: Callable[[], Iterator[Any]], inbox: queue.Queue[tuple[str, Any]]
) -> None:
    """Read ``items`` in a daemon thread into ``inbox`` (an error ends it, and is sent too)."""

    def work() -> None:
        try:
            for item in items():
                inbox.put((source, item))
        except Exception as exc:  # ended: the reader decides what it means
            inbox.put((source, exc))

    threading.Thread(target=work, name=f"atsim-{source}", daemon=True).start()


@contextlib.contextmanager
def _keys_from_terminal() -> Iterator[Iterator[str]]:
    """Each character typed, as soon as it is typed (a terminal is switched to cbreak mode
    for the call and restored after; a pipe is read as it comes)."""
    fd = sys.stdin.fileno()
    saved = None
    if os.isatty(fd) and termios is not None and tty is not None:
        saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)

    def characters() -> Iterator[str]:
        while chunk := os.read(fd, 64):
            yield from chunk.decode("utf-8", "replace").lower()

    try:
        yield characters()
    finally:
        if saved is not None and termios is not None:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
