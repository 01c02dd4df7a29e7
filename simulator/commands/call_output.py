"""How ``atsim call`` and ``atsim dial`` show the call they started: each timeline line as it
happens, read from the simulator's live feed (no polling).

Under ``--speed fast`` a call takes milliseconds of wall time: its timeline is printed whole,
sorted, once it ends, so a seeded run prints the same text every time. At any other speed the
lines come as the call goes, and the headline with the outcome closes them. No ``register``:
not a command itself.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping
from typing import Any

from at_voice_kit.simulator.client.feed import LiveTimeline
from at_voice_kit.simulator.client.remote import CallDocument, CallTimedOut, SimulatorClient
from at_voice_kit.simulator.client.timeline import (
    call_headline,
    ending_lines,
    redact,
    render_call,
    webhook_failed,
)
from at_voice_kit.simulator.demo.report import counted
from at_voice_kit.simulator.untrusted_text import printable

EXIT_OK = 0
EXIT_FAILED = 1


def say(line: str) -> None:
    """Print one line at once (the output is a live view, often piped)."""
    print(line, flush=True)


def wait_and_print(
    client: SimulatorClient, session_id: str, args: argparse.Namespace, position: int
) -> int:
    """Show the call until it ends (the feed from ``position``, taken before the call was
    started, so no line is missed); 1 if the app failed a webhook or the call did not end."""
    if args.no_wait:
        return EXIT_OK
    try:
        if client.health()["speed"] == "fast":
            call = client.wait_for_end(session_id, args.timeout)
            say(render_call(call))
        else:
            call = follow_call(client, session_id, position, args.timeout)
    except CallTimedOut as exc:
        print(f"{args.prog}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return verdict(call, args.prog, strict=args.strict)


def follow_call(
    client: SimulatorClient, session_id: str, position: int, timeout: float
) -> CallDocument:
    """Print the call's timeline lines as they happen, then its headline; the ended call."""
    deadline = time.monotonic() + timeout
    printer = LiveTimeline(say, lambda sid: "" if sid == session_id else None)
    missed = False
    for event in client.follow_feed(position, session_id):
        missed = missed or event.name == "missed" or bool(event.data.get("missed"))
        printer.handle(event)
        if printer.ended(session_id) or time.monotonic() >= deadline:
            break
    call = client.call(session_id)
    if call["phase"] != "ended":
        raise CallTimedOut(
            f"call {session_id} had not ended after {timeout:g} s (phase {call['phase']})"
        )
    if missed:  # the feed dropped some lines before they were read: the whole timeline
        say(render_call(call))
    else:
        say(printable(call_headline(call)))
        for line in ending_lines(call):
            say(line)
    return call


def verdict(call: CallDocument, prog: str, *, strict: bool = False) -> int:
    """1 (and why, on standard error, one reason a line) when the call fails a CI run (see
    :func:`call_verdict`)."""
    reasons = call_verdict(call, strict=strict)
    for reason in reasons:
        print(f"{prog}: {reason}", file=sys.stderr)
    return EXIT_FAILED if reasons else EXIT_OK


def call_verdict(call: Mapping[str, Any], *, strict: bool = False) -> list[str]:
    """Why a finished call fails a CI run, one reason a line; empty when it passes.

    It fails when the call was never placed, when it ended as an app failure (a non-2xx
    answer, a timeout, an answer that is not ActionXML, ...), when an answer had ActionXML
    errors (the call went on past them as AT would, but the app does not work on AT as
    written), when any webhook failed (the events URL and the final request included), and,
    with ``strict``, when an answer had ActionXML warnings.
    """
    outcome: Mapping[str, Any] = call.get("outcome") or {}
    if outcome.get("placed") is False:
        return [f"the call was not placed: {redact(str(outcome.get('reason')))}"]
    reasons = []
    if outcome.get("appFailure"):
        reasons.append(f"the app failed the call: {redact(str(outcome['appFailure']))}")
    errors, warnings = int(outcome.get("errors") or 0), int(outcome.get("warnings") or 0)
    if errors:
        reasons.append(f"the app's ActionXML has {counted(errors, 'error')} (it fails on AT)")
    if warnings and strict:
        reasons.append(f"the app's ActionXML has {counted(warnings, 'warning')} (--strict)")
    failed = [w for w in call.get("webhooks", []) if webhook_failed(w)]
    if failed:
        reasons.append(f"the app failed {counted(len(failed), 'webhook')}")
    return reasons
