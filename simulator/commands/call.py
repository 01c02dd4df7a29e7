"""``atsim call --to NUMBER [--answer busy]``: one outbound call through a running simulator's
REST API (``/call``, as an app would place it), printing the call's timeline.

With ``--answer``/``--hangup-cause``/``--digits``/``--hangup-after``/``--speech-seconds`` the
called phone is scripted first (``PUT /_simulator/callees/{number}``); without, it behaves at
random.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from at_voice_kit.simulator.backend.callees import CalleeAnswer
from at_voice_kit.simulator.client.remote import (
    SimulatorClient,
    SimulatorRefused,
    SimulatorUnavailable,
)
from at_voice_kit.simulator.commands.call_output import wait_and_print
from at_voice_kit.simulator.commands.interactive import add_interactive_option, run_interactive
from at_voice_kit.simulator.commands.remote_options import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    add_behaviour_options,
    add_connection_options,
    add_verdict_options,
    behaviour_script,
    client_for,
    entry_problem,
    hangup_cause,
    phone_number,
    scripted_cause_problem,
)


def register(subparsers: Any) -> None:
    """Add ``atsim call`` to the ``atsim`` parser."""
    parser = subparsers.add_parser(
        "call",
        help="place one call through a running simulator and print its timeline",
        description=(
            "Place one outbound call with the simulator's /call (from the account's first AT "
            "number unless --from says), wait for it to end, and print its timeline: every "
            "webhook sent to the number's callback and events URLs and what the app answered. "
            "Exit 1 if the call was not queued or not placed, if the app failed it (an error "
            "status, a timeout, an answer that is not ActionXML, a failed webhook), or if an "
            "answer had ActionXML errors (warnings too with --strict)."
        ),
    )
    parser.add_argument("--to", required=True, type=phone_number, help="the number to call")
    parser.add_argument(
        "--from", dest="caller", type=phone_number, help="the AT number to call from"
    )
    parser.add_argument(
        "--answer",
        choices=[answer.value for answer in CalleeAnswer],
        help="what the called phone does (default: drawn at random, mostly answered)",
    )
    parser.add_argument(
        "--hangup-cause",
        type=hangup_cause,
        metavar="CAUSE",
        help="the exact hangupCause the outcome ends with, one of the --answer's own (e.g. "
        "NO_USER_RESPONSE for no-answer); --answer defaults to the one it goes with",
    )
    add_behaviour_options(parser, "the called phone user")
    add_verdict_options(parser)
    add_interactive_option(parser, "the called phone user")
    add_connection_options(parser)
    parser.set_defaults(func=run, prog="atsim call")


class NotQueued(Exception):
    """``/call`` did not queue the call; the message says why."""


def run(args: argparse.Namespace) -> int:
    """Place the call; show it as it happens (or drive it from the keyboard)."""
    problem = scripted_cause_problem(args.answer, args.hangup_cause)
    if problem is not None:
        print(f"atsim call: argument --hangup-cause: {problem}", file=sys.stderr)
        return EXIT_USAGE
    with client_for(args) as client:
        try:
            caller = args.caller or client.first_number()
            if args.interactive:
                return run_interactive(
                    client,
                    args.to,
                    lambda: _place(client, caller, args.to),
                    "atsim call",
                    strict=args.strict,
                )
            script = behaviour_script(args, args.answer)
            if script is not None:
                client.set_callee(args.to, script)
            position = client.feed_position()
            session_id = _place(client, caller, args.to)
        except (SimulatorUnavailable, SimulatorRefused) as exc:
            print(f"atsim call: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except NotQueued as exc:
            print(f"atsim call: {exc}", file=sys.stderr)
            return EXIT_FAILED
        try:
            return wait_and_print(client, session_id, args, position)
        except (SimulatorUnavailable, SimulatorRefused) as exc:
            print(f"atsim call: {exc}", file=sys.stderr)
            return EXIT_FAILED
    return EXIT_OK


def _place(client: SimulatorClient, caller: str, to: str) -> str:
    """``/call`` from ``caller`` to ``to``; the session id, or :class:`NotQueued`."""
    answer = client.place_call(caller, [to])
    entries = answer.get("entries") or []
    if not entries:
        raise NotQueued(f"refused: {answer.get('errorMessage')}")
    problem = entry_problem(entries[0])
    if problem is not None:
        raise NotQueued(f"not queued: {problem}")
    session_id: str = entries[0]["sessionId"]
    print(f"queued {session_id}: {caller} -> {to}", flush=True)
    return session_id
