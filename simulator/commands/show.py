"""``atsim show SESSION_ID``: one call's timeline, whoever placed it (an SDK's ``/call``, an
inbound call, ``atsim call``), live or ended, from a running simulator's journal."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from at_voice_kit.simulator.client.remote import SimulatorRefused, SimulatorUnavailable
from at_voice_kit.simulator.client.timeline import render_call
from at_voice_kit.simulator.commands.call_output import say
from at_voice_kit.simulator.commands.remote_options import (
    EXIT_OK,
    EXIT_USAGE,
    add_server_options,
    client_for,
)


def register(subparsers: Any) -> None:
    """Add ``atsim show`` to the ``atsim`` parser."""
    parser = subparsers.add_parser(
        "show",
        help="print one call's timeline (any call: SDK-placed, inbound, atsim call)",
        description=(
            "Print a call's headline and timeline: every webhook with the app's answer, the "
            "keys pressed, recordings, Dial legs and why it ended (so far, for a live call)."
        ),
    )
    parser.add_argument("session_id", metavar="SESSION_ID", help="the call's sessionId")
    add_server_options(parser)
    parser.set_defaults(func=run, prog="atsim show")


def run(args: argparse.Namespace) -> int:
    """Print the call."""
    with client_for(args) as client:
        try:
            call = client.call(args.session_id)
        except (SimulatorUnavailable, SimulatorRefused) as exc:
            print(f"atsim show: {exc}", file=sys.stderr)
            return EXIT_USAGE
    say(render_call(call))
    return EXIT_OK
