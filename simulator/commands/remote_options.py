"""Options shared by the commands that talk to a running simulator (``atsim call``,
``atsim dial``): where it is, how to authenticate, how to wait. No ``register``: not a
command itself."""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Mapping
from typing import Any

from at_voice_kit.contracts.redaction import masked_url
from at_voice_kit.contracts.urls import http_url_problem
from at_voice_kit.contracts.vocabulary import HangupCause
from at_voice_kit.simulator.backend.platform_config import (
    DEFAULT_API_KEY,
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_USERNAME,
)
from at_voice_kit.simulator.client.remote import SimulatorClient
from at_voice_kit.simulator.configuration.fields import (
    DIGITS,
    phone_number_problem,
)
from at_voice_kit.simulator.engine.callee import (
    MAX_SECONDS,
    CalleeAnswer,
    answer_for,
    cause_problem,
    hangup_cause_named,
)

DEFAULT_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
DEFAULT_WAIT_SECONDS = 900.0
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def phone_number(text: str) -> str:
    """An argparse type: a valid international number."""
    problem = phone_number_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"{masked_url(text)!r} {problem}")
    return text


def digits(text: str) -> str:
    """An argparse type: the keys pressed at one prompt."""
    if not DIGITS.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} must be up to 32 of the keys 0-9, * and #")
    return text


def _seconds_in_range(text: str, rule: str, *, zero: bool = False, most: float = math.inf) -> float:
    """``text`` as a number of seconds over 0 (from 0 with ``zero``) and at most ``most``, or
    an argparse error saying ``rule``. Never ``inf`` or ``nan``: no duration, and JSON (which
    carries a callee script to the simulator) has no spelling for them."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero) or value > most:
        raise argparse.ArgumentTypeError(f"{text!r} must be {rule}")
    return value


def seconds(text: str) -> float:
    """An argparse type: a positive (finite) number of seconds."""
    return _seconds_in_range(text, "a positive number of seconds")


def scripted_seconds(text: str) -> float:
    """An argparse type: when a scripted phone user hangs up, over 0 and at most a day (what
    the simulator accepts in a callee script)."""
    rule = f"a positive number of seconds, at most {MAX_SECONDS:g}"
    return _seconds_in_range(text, rule, most=MAX_SECONDS)


def speech_seconds(text: str) -> float:
    """An argparse type: how long a phone user talks into a Record, from 0 (nothing is
    recorded) to a day."""
    rule = f"a number of seconds from 0 to {MAX_SECONDS:g}"
    return _seconds_in_range(text, rule, zero=True, most=MAX_SECONDS)


def simulator_url(text: str) -> str:
    """An argparse type: an http(s) URL with a host and a port from 1 to 65535."""
    problem = http_url_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"{masked_url(text)!r} {problem}")
    return text


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """``--url``, ``--admin-token``, ``--username``, ``--api-key``, ``--no-wait``,
    ``--timeout``."""
    add_server_options(parser)
    # Their defaults are add_server_options' account.
    parser.add_argument(
        "--username",
        help=f"the account calls are placed as (default $ATSIM_USERNAME or {DEFAULT_USERNAME})",
    )
    parser.add_argument(
        "--api-key",
        help="the account's API key (default $ATSIM_API_KEY or the sandbox account's)",
    )
    parser.add_argument(
        "--no-wait", action="store_true", help="print the session id and return at once"
    )
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=DEFAULT_WAIT_SECONDS,
        help=f"how long to wait for the call to end (default {DEFAULT_WAIT_SECONDS:g} s)",
    )


def add_server_options(parser: argparse.ArgumentParser) -> None:
    """``--url``, ``--admin-token``: where the simulator is, and its admin token; and the
    account :func:`client_for` uses (``$ATSIM_USERNAME``/``$ATSIM_API_KEY`` or the default
    account), which ``--username``/``--api-key`` change where a command takes them."""
    parser.set_defaults(
        username=os.environ.get("ATSIM_USERNAME", DEFAULT_USERNAME),
        api_key=os.environ.get("ATSIM_API_KEY", DEFAULT_API_KEY),
    )
    parser.add_argument(
        "--url",
        type=simulator_url,  # applied to the default too: a bad $ATSIM_URL is refused alike
        default=os.environ.get("ATSIM_URL", DEFAULT_URL),
        help=f"the simulator's base URL (default $ATSIM_URL or {DEFAULT_URL})",
    )
    parser.add_argument(
        "--admin-token",
        default=os.environ.get("ATSIM_ADMIN_TOKEN"),
        help="the simulator's admin token, if it has one (default $ATSIM_ADMIN_TOKEN)",
    )


def add_behaviour_options(parser: argparse.ArgumentParser, who: str) -> None:
    """``--digits`` (repeatable), ``--hangup-after``, ``--speech-seconds``."""
    parser.add_argument(
        "--digits",
        action="append",
        type=digits,
        default=[],
        metavar="KEYS",
        help=f"keys {who} presses at each GetDigits, in order (repeatable; '' presses nothing)",
    )
    parser.add_argument(
        "--hangup-after",
        type=scripted_seconds,
        metavar="SECONDS",
        help=f"{who} hangs up this many seconds after the call connects",
    )
    parser.add_argument(
        "--speech-seconds",
        type=speech_seconds,
        metavar="SECONDS",
        help=f"how long {who} talks into a Record (0: nothing is recorded)",
    )


def hangup_cause(text: str) -> str:
    """An argparse type: one of AT's 14 hangup causes that a script can force."""
    cause = hangup_cause_named(text)
    if not isinstance(cause, HangupCause):  # a rule: HangupCause is a str too
        raise argparse.ArgumentTypeError(f"{text!r} {cause}")
    problem = cause_problem(None, cause)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return cause.value


def scripted_cause_problem(answer: str | None, cause: str | None) -> str | None:
    """Why ``--answer`` and ``--hangup-cause`` cannot go together, or ``None``."""
    if answer is None or cause is None:
        return None
    return cause_problem(CalleeAnswer(answer), HangupCause(cause))


def behaviour_script(args: argparse.Namespace, answer: str | None) -> dict[str, object] | None:
    """The callee script the options describe, or ``None`` when none was given."""
    script: dict[str, object] = {}
    if args.digits:
        script["digits"] = list(args.digits)
    if args.hangup_after is not None:
        script["hangupAfter"] = args.hangup_after
    if args.speech_seconds is not None:
        script["speechSeconds"] = args.speech_seconds
    cause = getattr(args, "hangup_cause", None)
    if cause is not None:
        script["hangupCause"] = cause
    if answer is not None:
        script["answer"] = answer
    if not script:
        return None
    script.setdefault("answer", answer_for(cause))
    return script


def client_for(args: argparse.Namespace) -> SimulatorClient:
    """A client for the simulator the options name, as the account they name."""
    return SimulatorClient(
        args.url, username=args.username, api_key=args.api_key, admin_token=args.admin_token
    )


def add_verdict_options(parser: argparse.ArgumentParser) -> None:
    """``--strict``: ActionXML warnings fail the command too."""
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 on ActionXML warnings too (by default only errors and app failures fail)",
    )


def entry_problem(entry: Mapping[str, Any]) -> str | None:
    """Why a ``/call`` entry was not queued, or ``None``."""
    if entry.get("status") == "Queued":
        return None
    return f"{entry.get('phoneNumber')}: {entry.get('status')}"
