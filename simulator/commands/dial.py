"""``atsim dial --from +254... --to <AT number>``: a phone user calls the app (an inbound
call, ``POST /_simulator/calls`` on a running simulator), printing the call's timeline.

``--digits``/``--hangup-after``/``--speech-seconds`` script the caller first
(``PUT /_simulator/callees/{from}``); without, the caller behaves at random.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from at_voice_kit.simulator.client.remote import (
    SimulatorClient,
    SimulatorRefused,
    SimulatorUnavailable,
)
from at_voice_kit.simulator.commands.call_output import wait_and_print
from at_voice_kit.simulator.commands.interactive import add_interactive_option, run_interactive
from at_voice_kit.simulator.commands.remote_options import (
    EXIT_USAGE,
    add_behaviour_options,
    add_connection_options,
    behaviour_script,
    client_for,
    phone_number,
)


def register(subparsers: Any) -> None:
    """Add ``atsim dial`` to the ``atsim`` parser."""
    parser = subparsers.add_parser(
        "dial",
        help="simulate a phone user calling one of the AT numbers (an inbound call)",
        description=(
            "Make the phone user --from call the AT number --to on a running simulator: it "
            "asks the number's callback URL what to do and runs the call. Waits for the call "
            "to end and prints its timeline (unless --no-wait). Exit 1 if the app failed a "
            "webhook."
        ),
    )
    parser.add_argument(
        "--from", dest="caller", required=True, type=phone_number, help="the phone user calling"
    )
    parser.add_argument("--to", required=True, type=phone_number, help="the AT number called")
    add_behaviour_options(parser, "the caller")
    add_interactive_option(parser, "the caller")
    add_connection_options(parser)
    parser.set_defaults(func=run, prog="atsim dial")


def run(args: argparse.Namespace) -> int:
    """Start the inbound call; show it as it happens (or drive it from the keyboard)."""
    with client_for(args) as client:
        try:
            if args.interactive:
                return run_interactive(
                    client, args.caller, lambda: _dial_as_person(client, args), "atsim dial"
                )
            script = behaviour_script(args, None)
            if script is not None:
                client.set_callee(args.caller, script)
            position = client.feed_position()
            call = client.dial_in(args.caller, args.to)
            print(f"calling {call['sessionId']}: {args.caller} -> {args.to}", flush=True)
            return wait_and_print(client, call["sessionId"], args, position)
        except (SimulatorUnavailable, SimulatorRefused) as exc:
            print(f"atsim dial: {exc}", file=sys.stderr)
            return EXIT_USAGE


def _dial_as_person(client: SimulatorClient, args: argparse.Namespace) -> str:
    """The person at ``--from`` calls ``--to``; the session id."""
    call = client.phone_call(args.caller, args.to)
    print(f"calling {call['sessionId']}: {args.caller} -> {args.to}", flush=True)
    session_id: str = call["sessionId"]
    return session_id
