"""``atsim calls``: every call on a running simulator, one line each; ``--follow`` streams
each call's timeline lines as they happen (the live feed: calls placed by any SDK, dialled
in, placed by ``atsim call``), until interrupted."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from at_voice_kit.simulator.client.feed import LiveTimeline, StreamEvent
from at_voice_kit.simulator.client.remote import (
    CallDocument,
    SimulatorClient,
    SimulatorRefused,
    SimulatorUnavailable,
)
from at_voice_kit.simulator.client.timeline import call_headline
from at_voice_kit.simulator.commands.call_output import say
from at_voice_kit.simulator.commands.remote_options import (
    EXIT_OK,
    EXIT_USAGE,
    add_server_options,
    client_for,
)
from at_voice_kit.simulator.untrusted_text import printable


def register(subparsers: Any) -> None:
    """Add ``atsim calls`` to the ``atsim`` parser."""
    parser = subparsers.add_parser(
        "calls",
        help="list the calls of a running simulator (--follow: stream them as they happen)",
        description=(
            "List every call on a running simulator, oldest first: session id, direction, "
            "parties, and how it ended (or its phase, while live). With --follow, then print "
            "each call's timeline lines as they happen, each after its session id, until "
            "interrupted. `atsim show SESSION_ID` prints one call's whole timeline."
        ),
    )
    parser.add_argument(
        "--follow", action="store_true", help="stream new timeline lines as they happen"
    )
    add_server_options(parser)
    parser.set_defaults(func=run, prog="atsim calls")


def run(args: argparse.Namespace) -> int:
    """List the calls, then follow the feed if asked."""
    with client_for(args) as client:
        try:
            position = client.feed_position()
            for call in client.calls():
                say(printable(call_headline(call)))
            if args.follow:
                _follow(client, position)
        except (SimulatorUnavailable, SimulatorRefused) as exc:
            print(f"atsim calls: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt:
            return EXIT_OK
    return EXIT_OK


def _follow(client: SimulatorClient, position: int) -> None:
    say("-- following: each call's lines as they happen (Ctrl-C stops)")
    printer = LiveTimeline(say, lambda session_id: f"{session_id} ")
    for event in client.follow_feed(position):
        _announce(event)
        printer.handle(event)


def _announce(event: StreamEvent) -> None:
    """A line when a call appears and when it is settled; notes of a reset and of lost lines."""
    if event.name == "call":
        call: CallDocument = dict(event.data["call"])
        if call["phase"] == "queued" and call.get("clockStart") is None:
            say(printable(f"new  {call_headline(call)}"))
        elif call.get("outcome") is not None and call.get("cost") is not None:
            say(printable(f"end  {call_headline(call)}"))
    elif event.name == "reset":
        say("-- the simulator was reset: every call is gone")
    elif event.name == "missed":
        say("-- the feed went on without us: some lines were not printed (atsim show has them)")
