"""``atsim serve``: run the AT Voice simulator as an HTTP server (uvicorn, one process)."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path
from typing import Any

from simulator.backend.accounts import Account
from simulator.backend.voice import VoiceBackend
from simulator.config import (
    DEFAULT_API_KEY,
    DEFAULT_HOST,
    DEFAULT_PORT,
    ConfigError,
    SimulatorConfig,
    Speed,
    load_config_file,
    with_options,
)
from simulator.server import bind_socket, is_loopback, serve_forever, url_of
from simulator.settings import is_api_key, is_http_url, is_username

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
    parser.add_argument("--seed", type=int, help="seed for session ids: same seed, same ids")
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
        "--admin-token",
        help="bearer token the admin API requires (default: $ATSIM_ADMIN_TOKEN; made up "
        "when --host is not loopback)",
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


def _url(text: str) -> str:
    if not is_http_url(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an absolute http(s) URL")
    return text


def build_config(args: argparse.Namespace) -> SimulatorConfig:
    """The configuration ``args`` describe: the file first, flags over it."""
    config = load_config_file(args.config) if args.config else SimulatorConfig()
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
    )
    if config.admin_token is None and not is_loopback(config.host):
        # Reachable from other machines: the admin API (which can read every call and set
        # balances) must not be open to whoever finds the port.
        config = with_options(config, admin_token=secrets.token_urlsafe(24))
    return config


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; returns the exit status."""
    try:
        config = build_config(args)
    except ConfigError as exc:
        print(f"atsim serve: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    backend = VoiceBackend(config)
    try:
        sock = bind_socket(config.host, config.port)
    except OSError as exc:
        print(f"atsim serve: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        return EXIT_BIND
    url = url_of(sock)
    serve_forever(backend, sock, on_started=lambda: print(banner(backend.config, url), flush=True))
    return 0


def banner(config: SimulatorConfig, url: str) -> str:
    """What ``atsim serve`` prints on start: where it listens and what it accepts."""
    lines = [
        f"atsim serve: AT Voice simulator listening on {url} (speed {config.speed}, "
        f"seed {config.seed if config.seed is not None else 'random'})",
        f"  SDK: africastalking.Voice._baseUrl = {url!r}",
    ]
    for account in config.accounts:
        key = f", API key {account.api_key}" if account.api_key == DEFAULT_API_KEY else ""
        lines.append(
            f"  account {account.username} (balance {account.currency} {account.balance}{key})"
        )
    for number in config.numbers:
        lines.append(
            f"  number {number.phone_number} of {number.username}: "
            f"callback {number.callback_url or '-'}, events {number.events_url or '-'}"
        )
    admin = f"  admin API: {url}/_simulator/"
    if config.admin_token:
        admin += f" (Authorization: Bearer {config.admin_token})"
    lines.append(admin)
    return "\n".join(lines)
