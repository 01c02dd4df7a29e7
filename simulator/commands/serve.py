"""``atsim serve``: run the AT Voice simulator as an HTTP server (uvicorn, one process).

Calls queued by ``/call`` (or simulated inbound with ``POST /_simulator/calls``) really
happen: they ring, and the numbers' callback and events URLs are driven through them.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path
from typing import Any

from at_voice_kit.contracts.redaction import masked_url
from at_voice_kit.simulator.backend.accounts import Account
from at_voice_kit.simulator.backend.exceptions import InvalidSettings
from at_voice_kit.simulator.backend.platform_config import (
    DEFAULT_API_KEY,
    DEFAULT_HOST,
    DEFAULT_PORT,
    ConfigError,
    SimulatorConfig,
    Speed,
)
from at_voice_kit.simulator.backend.voice import VoiceBackend
from at_voice_kit.simulator.commands.serve_log import log_calls
from at_voice_kit.simulator.configuration.fields import is_api_key, is_username, url_problem
from at_voice_kit.simulator.configuration.readers import faults_from_flags, webhook_timeout_problem
from at_voice_kit.simulator.configuration.sources import (
    load_config_file,
    strict_from_environment,
    with_options,
)
from at_voice_kit.simulator.engine.session_ids import SEEDED_WARNING
from at_voice_kit.simulator.network import SimulatedNetwork
from at_voice_kit.simulator.serving.server import bind_socket, is_loopback, serve_forever, url_of
from at_voice_kit.simulator.untrusted_text import printable

EXIT_CONFIG = 2
EXIT_BIND = 1


def register(subparsers: Any) -> None:
    """Add ``atsim serve`` to the ``atsim`` parser."""
    parser = subparsers.add_parser(
        "serve",
        help="run the AT Voice API simulator",
        description=(
            "Serve a fake of Africa's Talking's Voice REST API (/call, /queueStatus, "
            "/mediaUpload, /callTransfer) and the admin API under /_simulator/. Point the "
            "official SDK at it with africastalking.Voice._baseUrl = 'http://HOST:PORT'."
        ),
    )
    parser.add_argument("--host", help=f"interface to bind (default {DEFAULT_HOST})")
    parser.add_argument(
        "--port", type=_port, help=f"TCP port, 0 for any free one (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--seed",
        type=int,
        help="seed for session ids: same seed, same ids (for tests: ids and recording URLs "
        "become predictable)",
    )
    parser.add_argument(
        "--speed", type=_speed, help="'real' (default), 'fast' (virtual clock) or a multiplier"
    )
    parser.add_argument("--config", type=Path, metavar="FILE", help="YAML configuration file")
    parser.add_argument(
        "--account",
        action="append",
        type=_account,
        default=[],
        metavar="USER:KEY",
        help="an account the simulator accepts (repeatable; default sandbox:atsim-sandbox-key)",
    )
    parser.add_argument("--callback-url", type=_url, help="callback URL of the default AT number")
    parser.add_argument("--events-url", type=_url, help="events URL of the default AT number")
    parser.add_argument(
        "--webhook-timeout",
        type=_timeout,
        metavar="SECONDS",
        help="how long the platform waits for the app's answer (default 10, as AT)",
    )
    for flag, what in (
        ("--event-delay", "delayed (later events overtake it)"),
        ("--event-duplicate", "posted twice"),
        ("--event-reorder", "swapped with the next one"),
    ):
        parser.add_argument(
            flag, type=_probability, metavar="P", help=f"probability that an event is {what}"
        )
    parser.add_argument(
        "--public-url",
        type=_url,
        help="base URL apps reach the simulator at, for recordingUrl (default: where it listens)",
    )
    parser.add_argument(
        "--admin-token",
        help="bearer token the admin API requires (default: $ATSIM_ADMIN_TOKEN; made up "
        "when --host is not loopback)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        default=None,
        help="end a call as an app failure on any ActionXML problem, warnings included "
        "(default: $ATSIM_STRICT, else carry the call on as AT most plausibly would)",
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="also log every HTTP request (uvicorn's access log; off by default)",
    )
    parser.add_argument(
        "--call-log",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="log one line per call start and end and per webhook exchange (default: on)",
    )
    parser.set_defaults(func=run)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port from 0 to 65535")
    return port


def _speed(text: str) -> Speed:
    try:
        return Speed.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _account(text: str) -> Account:
    username, separator, api_key = text.partition(":")
    if not separator or not is_username(username) or not is_api_key(api_key):
        raise argparse.ArgumentTypeError(
            f"{text!r} must be USER:KEY: a username of letters, digits, '_', '.', '@' or '-', "
            "and a key of printable ASCII without spaces"
        )
    return Account(username, api_key)


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    problem = webhook_timeout_problem(value)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"{text!r} {problem}")
    return value


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be a probability from 0 to 1")
    return value


def _url(text: str) -> str:
    problem = url_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"{masked_url(text)!r} {problem}")
    return text


def build_config(args: argparse.Namespace) -> SimulatorConfig:
    """The configuration ``args`` describe: the file first, flags over it; an admin token
    made up when the simulator is reachable from other machines and none was given."""
    return _with_admin_token(_given_config(args))


def _given_config(args: argparse.Namespace) -> SimulatorConfig:
    """The configuration as the user gave it (file, flags, environment)."""
    config = load_config_file(args.config) if args.config else SimulatorConfig()
    try:
        faults = faults_from_flags(
            config.event_faults,
            delay=args.event_delay,
            duplicate=args.event_duplicate,
            reorder=args.event_reorder,
        )
    except InvalidSettings as exc:
        raise ConfigError(str(exc)) from None
    config = with_options(
        config,
        host=args.host,
        port=args.port,
        seed=args.seed,
        speed=args.speed,
        accounts=args.account,
        callback_url=args.callback_url,
        events_url=args.events_url,
        admin_token=args.admin_token or os.environ.get("ATSIM_ADMIN_TOKEN") or None,
        webhook_timeout=args.webhook_timeout,
        event_faults=faults,
        public_url=args.public_url,
        strict=args.strict or strict_from_environment(os.environ),
    )
    return config


def _with_admin_token(config: SimulatorConfig) -> SimulatorConfig:
    if config.admin_token is None and not is_loopback(config.host):
        # Reachable from other machines: the admin API (which can read every call and set
        # balances) must not be open to whoever finds the port.
        config = with_options(config, admin_token=secrets.token_urlsafe(24))
    return config


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; returns the exit status."""
    try:
        given = _given_config(args)
    except ConfigError as exc:
        print(f"atsim serve: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    config = _with_admin_token(given)
    made_up = config.admin_token != given.admin_token
    backend = VoiceBackend(config)
    network = SimulatedNetwork.attach(backend)
    try:
        sock = bind_socket(config.host, config.port)
    except OSError as exc:
        print(f"atsim serve: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        return EXIT_BIND
    url = url_of(sock)
    network.set_public_url(url)
    text = banner(backend.config, url, show_admin_token=made_up)

    async def call_log() -> None:
        await log_calls(backend.feed, lambda line: print(printable(line), flush=True))

    serve_forever(
        backend,
        sock,
        on_started=lambda: print(text, flush=True),
        access_log=args.access_log,
        background=call_log if args.call_log else None,
    )
    return 0


def banner(config: SimulatorConfig, url: str, *, show_admin_token: bool = False) -> str:
    """What ``atsim serve`` prints on start: where it listens and what it accepts.

    Secrets stay out of it (it ends up in logs): the query values of the numbers' URLs are
    masked, and the admin token is printed only when ``show_admin_token`` (it was made up
    here, so nobody else knows it).
    """
    lines = [
        f"atsim serve: AT Voice simulator listening on {url} (speed {config.speed}, "
        f"seed {config.seed if config.seed is not None else 'random'})",
        f"  SDK: africastalking.Voice._baseUrl = {url!r}",
        f"  webhooks: timeout {config.webhook_timeout:g} s; events faults: " + _faults_text(config),
        "  ActionXML: "
        + (
            "strict (any problem ends the call as an app failure)"
            if config.strict
            else "carried on as AT would (errors and warnings journaled)"
        ),
    ]
    if config.seed is not None:
        lines.append(f"  {SEEDED_WARNING}")
    for account in config.accounts:
        key = f", API key {account.api_key}" if account.api_key == DEFAULT_API_KEY else ""
        lines.append(
            f"  account {account.username} (balance {account.currency} {account.balance}{key})"
        )
    for number in config.numbers:
        lines.append(
            f"  number {number.phone_number} of {number.username}: "
            f"callback {_shown_url(number.callback_url)}, events {_shown_url(number.events_url)}"
        )
    lines.append(f"  dashboard: {url}/ (the live call board, the dev phone, the controls)")
    admin = f"  admin API: {url}/_simulator/"
    if config.admin_token and show_admin_token:
        admin += f" (Authorization: Bearer {config.admin_token})"
    elif config.admin_token:
        admin += " (Authorization: Bearer <the admin token you set>)"
    lines.append(admin)
    return "\n".join(lines)


def _shown_url(url: str | None) -> str:
    return masked_url(url) if url else "-"


def _faults_text(config: SimulatorConfig) -> str:
    faults = config.event_faults
    if not faults.active:
        return "none"
    return (
        f"delay {faults.delay_probability:g}, duplicate {faults.duplicate_probability:g}, "
        f"reorder {faults.reorder_probability:g}"
    )
