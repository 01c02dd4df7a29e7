"""The service's configuration: one object, read from the environment in its constructor.

Every setting is checked when the app is built, so a bad deployment fails at start-up with a
message naming the variable, never at the first call. Tests build a :class:`Config` directly.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from at_voice_kit.contracts.phone import InvalidPhoneNumber, normalise_international
from at_voice_kit.contracts.urls import http_url_problem
from at_voice_kit.service.store.database import UnsupportedDatabase, check_database_url

_BEARER_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
"""RFC 6750's ``b64token``: what ``Authorization: Bearer <token>`` may carry."""


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names the variable."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


def _real_at_host(url: str | None) -> bool:
    """True when ``url`` is unset (the SDK's default host) or points at africastalking.com."""
    if url is None:
        return True
    # A final dot names the same host (a fully qualified name): it must not pass for another.
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return host == "africastalking.com" or host.endswith(".africastalking.com")


@dataclass(frozen=True, slots=True)
class Config:
    """Validated settings of the webhook service.

    Construct with :meth:`from_env` in production; tests pass values directly. The constructor
    validates, so an invalid ``Config`` cannot exist.
    """

    DEFAULT_DATABASE_URL = "sqlite:///voice-events.db"
    DEFAULT_AT_TIMEOUT_SECONDS = 10.0
    DEFAULT_MAX_BODY_BYTES = 64 * 1024
    DEFAULT_POOL_SIZE = 5
    DEFAULT_STATEMENT_TIMEOUT_MS = 5000
    DEFAULT_THREADS = 16
    DEFAULT_MAX_WAIT_SECONDS = 1.0
    MAX_MAX_WAIT_SECONDS = 8.0
    """AT gives up on a webhook after 10 s: a request must be answered before then."""
    MAX_AT_TIMEOUT_SECONDS = 300.0
    MAX_STATEMENT_TIMEOUT_MS = 2_147_483_647
    """PostgreSQL's own limit for ``statement_timeout``."""
    MAX_WEBHOOK_SECRET_LENGTH = 256
    """The longest ``?secret=`` the webhooks take (``at_voice_kit.service.middleware``)."""

    at_username: str
    at_api_key: str = field(repr=False)
    at_voice_number: str
    at_voice_url: str | None = None
    database_url: str = DEFAULT_DATABASE_URL
    api_token: str | None = field(default=None, repr=False)
    webhook_secret: str | None = field(default=None, repr=False)
    at_timeout_seconds: float = DEFAULT_AT_TIMEOUT_SECONDS
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    strict_fields: bool = False
    pool_size: int = DEFAULT_POOL_SIZE
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS
    flow_file: str | None = None
    public_url: str | None = None
    threads: int = DEFAULT_THREADS
    max_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS

    def __post_init__(self) -> None:
        self._check_account()
        self._check_urls()
        try:
            check_database_url(self.database_url)
        except UnsupportedDatabase as exc:
            raise ConfigError("DATABASE_URL", str(exc)) from exc
        self._check_api_token()
        self._check_webhook_secret()
        _positive("AT_TIMEOUT_SECONDS", self.at_timeout_seconds, self.MAX_AT_TIMEOUT_SECONDS)
        _positive("VOICE_MAX_BODY_BYTES", self.max_body_bytes)
        _positive("DATABASE_POOL_SIZE", self.pool_size)
        _positive("VOICE_THREADS", self.threads)
        _positive("VOICE_MAX_WAIT", self.max_wait_seconds, self.MAX_MAX_WAIT_SECONDS)
        _positive(
            "DATABASE_STATEMENT_TIMEOUT_MS",
            self.statement_timeout_ms,
            self.MAX_STATEMENT_TIMEOUT_MS,
        )

    def _check_account(self) -> None:
        # Both travel in HTTP requests to AT (a form field, a header): whitespace or control
        # characters inside would fail every call, so they fail the start instead.
        for variable, value, what in (
            ("AT_USERNAME", self.at_username, "username"),
            ("AT_API_KEY", self.at_api_key, "API key"),
        ):
            if not value.strip():
                raise ConfigError(variable, f"must be set to your Africa's Talking {what}")
            if not (value.isascii() and value.isprintable()) or " " in value:
                raise ConfigError(variable, "must be printable ASCII without spaces")
        try:
            number = normalise_international(self.at_voice_number)
        except InvalidPhoneNumber as exc:
            raise ConfigError("AT_VOICE_NUMBER", f"{exc.value!r} {exc.rule}") from exc
        object.__setattr__(self, "at_voice_number", number)

    def _check_urls(self) -> None:
        if self.at_voice_url is not None:
            problem = http_url_problem(self.at_voice_url)
            if problem is not None:
                raise ConfigError(
                    "AT_VOICE_URL", f"{problem}, such as http://127.0.0.1:5001 (the simulator)"
                )
            object.__setattr__(self, "at_voice_url", self.at_voice_url.rstrip("/"))
        if self.public_url is not None:
            # The flow's callback URLs are built on it: it must make URLs AT can call (the
            # one URL rule of the contracts). A "?" or "#" even with nothing after it would
            # swallow the path appended to it.
            problem = http_url_problem(self.public_url)
            if problem is None and ("?" in self.public_url or "#" in self.public_url):
                problem = "must have no query or fragment"
            if problem is not None:
                raise ConfigError(
                    "VOICE_PUBLIC_URL",
                    f"{problem}: it is the service's public base URL, such as "
                    "https://voice.example.com",
                )
            object.__setattr__(self, "public_url", self.public_url.rstrip("/"))

    def _check_api_token(self) -> None:
        if self.talks_to_real_at and not self.api_token:
            raise ConfigError(
                "VOICE_API_TOKEN",
                "must be set when the service talks to the real Africa's Talking "
                "(AT_VOICE_URL unset and AT_USERNAME is not 'sandbox'): invoke-call spends money",
            )
        if self.api_token is None:
            return
        if len(self.api_token) < 16:
            raise ConfigError("VOICE_API_TOKEN", "must be at least 16 characters long")
        # A client can only send what a header can carry (RFC 6750's token characters):
        # any other token could never be matched, locking everyone out.
        if not _BEARER_TOKEN.fullmatch(self.api_token):
            raise ConfigError(
                "VOICE_API_TOKEN",
                "must be letters, digits and - . _ ~ + / (then any '='), as a bearer token",
            )

    def _check_webhook_secret(self) -> None:
        # Anyone who guesses it can write events and walk the call flow: as strong as the token.
        if self.webhook_secret is None:
            return
        if not 16 <= len(self.webhook_secret) <= self.MAX_WEBHOOK_SECRET_LENGTH:
            raise ConfigError(
                "VOICE_WEBHOOK_SECRET",
                f"must be 16 to {self.MAX_WEBHOOK_SECRET_LENGTH} characters long",
            )

    @property
    def talks_to_real_at(self) -> bool:
        """True when calls placed by this service reach the real AT platform and cost money."""
        return _real_at_host(self.at_voice_url) and self.at_username != "sandbox"

    @property
    def is_open(self) -> bool:
        """True when no API token protects invoke-call and the call history."""
        return self.api_token is None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        """Read every setting from ``environ`` (default: ``os.environ``), validating each."""
        env = os.environ if environ is None else environ

        def text(name: str, default: str | None = None) -> str | None:
            value = env.get(name)
            return default if value is None or value.strip() == "" else value.strip()

        return cls(
            at_username=_required(env, "AT_USERNAME"),
            at_api_key=_required(env, "AT_API_KEY"),
            at_voice_number=_required(env, "AT_VOICE_NUMBER"),
            at_voice_url=text("AT_VOICE_URL"),
            database_url=text("DATABASE_URL", cls.DEFAULT_DATABASE_URL) or "",
            api_token=text("VOICE_API_TOKEN"),
            webhook_secret=text("VOICE_WEBHOOK_SECRET"),
            at_timeout_seconds=_number(env, "AT_TIMEOUT_SECONDS", cls.DEFAULT_AT_TIMEOUT_SECONDS),
            max_body_bytes=int(_number(env, "VOICE_MAX_BODY_BYTES", cls.DEFAULT_MAX_BODY_BYTES)),
            strict_fields=_boolean(env, "VOICE_STRICT_FIELDS", default=False),
            pool_size=int(_number(env, "DATABASE_POOL_SIZE", cls.DEFAULT_POOL_SIZE)),
            statement_timeout_ms=int(
                _number(env, "DATABASE_STATEMENT_TIMEOUT_MS", cls.DEFAULT_STATEMENT_TIMEOUT_MS)
            ),
            flow_file=text("VOICE_FLOW_FILE"),
            public_url=text("VOICE_PUBLIC_URL"),
            threads=int(_number(env, "VOICE_THREADS", cls.DEFAULT_THREADS)),
            max_wait_seconds=_number(env, "VOICE_MAX_WAIT", cls.DEFAULT_MAX_WAIT_SECONDS),
        )


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(name, "is required but not set")
    return value


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw) if "." in raw else int(raw)
    except ValueError as exc:
        raise ConfigError(name, f"must be a number, got {raw!r}") from exc
    if not math.isfinite(value):  # "1.0e999" reads as infinity
        raise ConfigError(name, f"must be a finite number, got {raw!r}")
    return value


def _boolean(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(name, f"must be true or false, got {raw!r}")


def _positive(name: str, value: float, most: float | None = None) -> None:
    if not value > 0:  # also refuses NaN
        raise ConfigError(name, f"must be greater than zero, got {value}")
    if most is not None and not value <= most:
        raise ConfigError(name, f"must be at most {most:g}, got {value}")
