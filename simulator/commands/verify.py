"""``atsim verify``: check a running webhook service against AT's contract.

``atsim verify BASE_URL`` verifies a service laid out like ours (``BASE/instruct`` and
``BASE/events``); ``--callback-url``/``--events-url`` name any other layout. The readable
report goes to standard output (``--json`` prints JSON instead), a JUnit XML report to
``--report FILE``, and a live progress line to standard error on a terminal. Exit status:
0 when every check holds, 1 when anything fails, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from at_voice_kit.contracts.redaction import masked_url
from at_voice_kit.simulator.engine.options import DEFAULT_WEBHOOK_TIMEOUT

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def register(subparsers: Any) -> None:
    """Add the ``verify`` subcommand to ``atsim``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "verify",
        help="contract-test a voice webhook service (any language) the way AT calls it",
        description=(
            "Play simulated calls, AT's failure modes, events in every order and contract-"
            "generated requests against a running webhook service, and report every way it "
            "breaks the contract. Exit 0 if all holds, 1 if anything fails, 2 on usage errors."
        ),
    )
    parser.add_argument(
        "base_url", nargs="?", metavar="BASE_URL",
        help="a service laid out like ours: BASE_URL/instruct and BASE_URL/events",
    )  # fmt: skip
    _add_target_arguments(parser.add_argument_group("target"))
    _add_run_arguments(parser.add_argument_group("run"))
    _add_output_arguments(parser.add_argument_group("output"))
    parser.set_defaults(func=run_verify)


def _add_target_arguments(group: Any) -> None:
    """Where the service is and how to reach it."""
    group.add_argument("--callback-url", metavar="URL", help="the app's callback URL")
    group.add_argument("--events-url", metavar="URL", help="the app's events URL (optional)")
    group.add_argument("--no-events", action="store_true", help="do not test an events URL")
    group.add_argument(
        "--header", action="append", default=[], metavar="'NAME: VALUE'",
        help="an HTTP header for every request (repeatable), e.g. for authentication",
    )  # fmt: skip
    group.add_argument(
        "--wait", type=_seconds, default=0.0, metavar="SECONDS",
        help="wait up to this long for the service to accept connections (CI start-up)",
    )  # fmt: skip


def _add_run_arguments(group: Any) -> None:
    """What to play and how."""
    from at_voice_kit.simulator.verify.scenarios import (
        DEFAULT_AT_NUMBER,
        DEFAULT_PHONE_NUMBER,
        Category,
    )

    group.add_argument("--seed", type=_whole, help="repeat a run exactly (default: a fresh seed)")
    group.add_argument(
        "--timeout", type=_seconds, default=DEFAULT_WEBHOOK_TIMEOUT, metavar="SECONDS",
        help=f"AT's webhook timeout (default {DEFAULT_WEBHOOK_TIMEOUT:g})",
    )  # fmt: skip
    group.add_argument("--at-number", default=DEFAULT_AT_NUMBER, help="the app's AT number")
    group.add_argument("--phone-number", default=DEFAULT_PHONE_NUMBER, help="the phone user")
    group.add_argument("--quick", action="store_true", help="a smaller, faster run")
    group.add_argument("--max-scenarios", type=_positive, metavar="N", help="run at most N")
    group.add_argument(
        "--crawl-calls",
        type=_positive,
        metavar="N",
        help="crawl budget: calls per direction (default 40, --quick 16)",
    )
    group.add_argument(
        "--crawl-depth",
        type=_positive,
        default=6,
        metavar="N",
        help="GetDigits deep the crawl goes (default 6)",
    )
    group.add_argument(
        "--generated",
        type=_positive,
        metavar="N",
        help="schemathesis forms per webhook (default 40, --quick 10)",
    )
    group.add_argument("--concurrency", type=_positive, default=8, metavar="N",
                     help="scenarios at the same time (default 8)")  # fmt: skip
    choices = ", ".join(category.value for category in Category)
    group.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="CATEGORY",
        help=f"run only these categories (repeatable): {choices}",
    )
    group.add_argument("--skip", action="append", default=[], metavar="CATEGORY",
                     help="leave these categories out (repeatable)")  # fmt: skip
    group.add_argument(
        "--max-time", type=_max_time, metavar="SECONDS",
        help="stop the whole run after this long and report what was not run (default: none)",
    )  # fmt: skip
    group.add_argument(
        "--strict", action="store_true",
        help="warnings fail the run too (robustness probes included)",
    )  # fmt: skip


def _add_output_arguments(group: Any) -> None:
    """What to print and write."""
    group.add_argument("--json", action="store_true", help="print the report as JSON")
    group.add_argument("--report", type=Path, metavar="FILE", help="write JUnit XML to FILE")
    progress = group.add_mutually_exclusive_group()
    progress.add_argument(
        "--progress",
        action="store_true",
        default=None,
        help="show the progress line even when stderr is not a terminal",
    )
    progress.add_argument("--no-progress", dest="progress", action="store_false",
                          help="never show the progress line")  # fmt: skip
    group.add_argument(
        "--show-secrets",
        action="store_true",
        help="show the query values and passwords of the URLs in reports (default: ***)",
    )


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None


def _positive(text: str) -> int:
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, not {text!r}") from None
    if not 0 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"must be between 0 and 3600 seconds, not {text}")
    return value


def _max_time(text: str) -> float:
    value = _seconds(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return value


class UsageError(ValueError):
    """A combination of arguments that cannot run; the message says why."""


def build_target(args: argparse.Namespace) -> Any:
    """The :class:`~at_voice_kit.simulator.verify.Target` the arguments name."""
    from at_voice_kit.simulator.verify import InvalidTarget, Target

    if args.base_url and args.callback_url:
        raise UsageError("give either BASE_URL or --callback-url, not both")
    if not args.base_url and not args.callback_url:
        raise UsageError("give the service's BASE_URL or its --callback-url")
    if args.no_events and args.events_url:
        raise UsageError("--no-events and --events-url contradict each other")
    try:
        if args.base_url:
            target = Target.from_base_url(args.base_url, events=not args.no_events)
            if args.events_url:
                target = Target(target.callback_url, args.events_url)
            return target
        return Target(args.callback_url, None if args.no_events else args.events_url)
    except InvalidTarget as exc:
        raise UsageError(str(exc)) from None


def build_options(args: argparse.Namespace) -> Any:
    """The :class:`~at_voice_kit.simulator.verify.VerifyOptions` the arguments ask for."""
    from at_voice_kit.simulator.verify import InvalidOptions, VerifyOptions
    from at_voice_kit.simulator.verify.scenarios import Category

    def categories(names: list[str]) -> set[Category]:
        chosen: set[Category] = set()
        for name in (part.strip() for text in names for part in text.split(",")):
            try:
                chosen.add(Category(name))
            except ValueError:
                allowed = ", ".join(category.value for category in Category)
                raise UsageError(f"unknown category {name!r} (one of: {allowed})") from None
        return chosen

    selected = categories(args.only) or set(Category)
    selected -= categories(args.skip)
    try:
        return VerifyOptions(
            seed=args.seed,
            timeout=args.timeout,
            at_number=args.at_number,
            phone_number=args.phone_number,
            quick=args.quick,
            max_scenarios=args.max_scenarios,
            crawl_calls=args.crawl_calls,
            crawl_depth=args.crawl_depth,
            generated_examples=args.generated,
            concurrency=args.concurrency,
            headers=tuple(_header(text) for text in args.header),
            categories=frozenset(selected),
            strict=args.strict,
            show_secrets=args.show_secrets,
            max_time=args.max_time,
        )
    except (InvalidOptions, ValueError) as exc:
        raise UsageError(str(exc)) from None


def _header(text: str) -> tuple[str, str]:
    # The text stays out of the messages: it may be all value, and values are secrets.
    name, separator, value = text.partition(":")
    if not separator:
        raise UsageError("--header must look like 'Name: value' (this one has no ':')")
    if not name.strip() or any(c in name for c in " \t\r\n"):
        raise UsageError("--header must look like 'Name: value' (a name without spaces)")
    if any(c in value for c in "\r\n"):
        raise UsageError("--header values cannot contain line breaks")
    return name.strip(), value.strip()


def run_verify(args: argparse.Namespace) -> int:
    """Run ``atsim verify`` with parsed ``args``; the exit status."""
    from at_voice_kit.simulator.verify import verify
    from at_voice_kit.simulator.verify.progress import NoProgress, ProgressLine

    try:
        target = build_target(args)
        options = build_options(args)
    except UsageError as exc:
        print(f"atsim verify: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.wait > 0 and not asyncio.run(_wait_for_server(target.callback_url, args.wait)):
        url = target.callback_url if args.show_secrets else masked_url(target.callback_url)
        print(
            f"atsim verify: nothing accepted connections at {url} within {args.wait:g} s",
            file=sys.stderr,
        )
    show_progress = sys.stderr.isatty() if args.progress is None else args.progress
    progress = ProgressLine(sys.stderr) if show_progress else NoProgress()
    report = verify(target, options, progress=progress)
    if args.report is not None:
        try:
            args.report.parent.mkdir(parents=True, exist_ok=True)
            args.report.write_text(report.to_junit(), encoding="utf-8")
        except OSError as exc:
            print(f"atsim verify: cannot write {args.report}: {exc.strerror}", file=sys.stderr)
            return EXIT_USAGE
    if args.json:
        json.dump(report.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(report.summary())
    return EXIT_OK if report.ok else EXIT_FAILED


async def _wait_for_server(url: str, seconds: float) -> bool:
    """Poll until the URL's host accepts a TCP connection, for at most ``seconds``."""
    from at_voice_kit.contracts.urls import host_and_port

    host, port = host_and_port(url)
    deadline = time.monotonic() + seconds
    while True:
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 2)
        except (OSError, TimeoutError):
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.2)
            continue
        writer.close()
        await writer.wait_closed()
        return True
