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
    EXIT_FAILED,
    EXIT_USAGE,
    add_behaviour_options,
    add_connection_options,
    add_verdict_options,
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
            "to end and prints its timeline (unless --no-wait). Exit 1 if the call was not "
            "placed, if the app failed it (an error status, a timeout, an answer that is not "
            "ActionXML, a failed webhook), or if an answer had ActionXML errors (warnings too "
            "with --strict)."
        ),
    )
    parser.add_argument(
        "--from", dest="caller", required=True, type=phone_number, help="the phone user calling"
    )
    parser.add_argument("--to", required=True, type=phone_number, help="the AT number called")
    add_behaviour_options(parser, "the caller")
    add_verdict_options(parser)
    add_interactive_option(parser, "the caller")
    add_connection_options(parser)
    parser.set_defaults(func=run, prog="atsim dial")


HTTP_CONFLICT = 409
"""The admin API's answer to an inbound call it cannot place (the number has no callback URL)."""


def run(args: argparse.Namespace) -> int:
    """Start the inbound call; show it as it happens (or drive it from the keyboard).

    Exit 2 when the simulator cannot be reached or refuses the options (the caller's script,
    an AT number it does not have: usage errors), 1 when it refuses the call itself (409: not
    placed, as the AT number has no callback URL).
    """
    with client_for(args) as client:
        try:
            if args.interactive:
                return run_interactive(
                    client,
                    args.caller,
                    lambda: _dial_as_person(client, args),
                    "atsim dial",
                    strict=args.strict,
                )
            script = behaviour_script(args, None)
            if script is not None:
                client.set_callee(args.caller, script)
            position = client.feed_position()
        except (SimulatorUnavailable, SimulatorRefused) as exc:
            print(f"atsim dial: {exc}", file=sys.stderr)
            return EXIT_USAGE
        try:
            call = client.dial_in(args.caller, args.to)
        except SimulatorRefused as exc:
            if exc.status == HTTP_CONFLICT:  # the number exists but cannot take the call
                print(f"atsim dial: the call was not placed: {exc}", file=sys.stderr)
                return EXIT_FAILED
            print(f"atsim dial: {exc}", file=sys.stderr)  # a bad --from/--to
            return EXIT_USAGE
        except SimulatorUnavailable as exc:
            print(f"atsim dial: {exc}", file=sys.stderr)
            return EXIT_USAGE
        print(f"calling {call['sessionId']}: {args.caller} -> {args.to}", flush=True)
        try:
            return wait_and_print(client, call["sessionId"], args, position)
        except (SimulatorUnavailable, SimulatorRefused) as exc:
            print(f"atsim dial: {exc}", file=sys.stderr)
            return EXIT_FAILED


def _dial_as_person(client: SimulatorClient, args: argparse.Namespace) -> str:
    """The person at ``--from`` calls ``--to``; the session id."""
    call = client.phone_call(args.caller, args.to)
    print(f"calling {call['sessionId']}: {args.caller} -> {args.to}", flush=True)
    session_id: str = call["sessionId"]
    return session_id
