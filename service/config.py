"""The service's configuration: one object, read from the environment in its constructor.

Every setting is checked when the app is built, so a bad deployment fails at start-up with a
message naming the variable, never at the first call. Tests build a :class:`Config` directly.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from at_voice_kit.contracts.phone import InvalidPhoneNumber, normalise_international
from at_voice_kit.contracts.urls import http_url_problem
from at_voice_kit.service.store.database import UnsupportedDatabase, check_database_url

_BEARER_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
"""RFC 6750's ``b64token``: what ``Authorization: Bearer <token>`` may carry."""


class ConfigError(ValueError):
    """Settings are missing or invalid: every problem found, each naming its variable.

    ``variable`` and ``problem`` are the first; ``problems`` holds every ``(variable,
    problem)`` pair, so a start-up reports them all at once instead of one per attempt.
    """

    def __init__(self, variable: str, problem: str, *more: tuple[str, str]) -> None:
        self.problems: tuple[tuple[str, str], ...] = ((variable, problem), *more)
        super().__init__("\n".join(f"{name}: {text}" for name, text in self.problems))
        self.variable = variable
        self.problem = problem

    @classmethod
    def of(cls, problems: list[tuple[str, str]]) -> ConfigError:
        """One error holding ``problems`` (at least one)."""
        return cls(*problems[0], *problems[1:])


def _real_at_host(url: str | None) -> bool:
    """True when ``url`` is unset (the SDK's default host) or points at africastalking.com."""
    if url is None:
        return True
    # A final dot names the same host (a fully qualified name): it must not pass for another.
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:  # not a URL at all: AT_VOICE_URL's own check reports it
        return False
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
    MAX_THREADS = 256
    """Each is a thread per worker: more only spend memory (every blocking call of a worker
    waits on AT or the database)."""
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
        problems: list[tuple[str, str]] = []
        checks: tuple[Callable[[], None], ...] = (
            lambda: self._check_credential("AT_USERNAME", self.at_username, "username"),
            lambda: self._check_credential("AT_API_KEY", self.at_api_key, "API key"),
            self._check_voice_number,
            self._check_at_voice_url,
            self._check_public_url,
            self._check_database_url,
            self._check_api_token,
            self._check_webhook_secret,
            lambda: _positive(
                "AT_TIMEOUT_SECONDS", self.at_timeout_seconds, self.MAX_AT_TIMEOUT_SECONDS
            ),
            lambda: _positive("VOICE_MAX_BODY_BYTES", self.max_body_bytes),
            lambda: _positive("DATABASE_POOL_SIZE", self.pool_size),
            lambda: _positive("VOICE_THREADS", self.threads, self.MAX_THREADS),
            lambda: _positive("VOICE_MAX_WAIT", self.max_wait_seconds, self.MAX_MAX_WAIT_SECONDS),
            lambda: _positive(
                "DATABASE_STATEMENT_TIMEOUT_MS",
                self.statement_timeout_ms,
                self.MAX_STATEMENT_TIMEOUT_MS,
            ),
        )
        for check in checks:
            try:
                check()
            except ConfigError as exc:
                problems.extend(exc.problems)
        if problems:
            raise ConfigError.of(problems)

    @staticmethod
    def _check_credential(variable: str, value: str, what: str) -> None:
        # Both travel in HTTP requests to AT (a form field, a header): whitespace or control
        # characters inside would fail every call, so they fail the start instead.
        if not value.strip():
            raise ConfigError(variable, f"must be set to your Africa's Talking {what}")
        if not (value.isascii() and value.isprintable()) or " " in value:
            raise ConfigError(variable, "must be printable ASCII without spaces")

    def _check_voice_number(self) -> None:
        try:
            number = normalise_international(self.at_voice_number)
        except InvalidPhoneNumber as exc:
            raise ConfigError("AT_VOICE_NUMBER", f"{exc.value!r} {exc.rule}") from exc
        object.__setattr__(self, "at_voice_number", number)

    def _check_database_url(self) -> None:
        try:
            check_database_url(self.database_url)
        except UnsupportedDatabase as exc:
            raise ConfigError("DATABASE_URL", str(exc)) from exc

    def _check_at_voice_url(self) -> None:
        if self.at_voice_url is not None:
            # The SDK appends its paths (/call) to it: a query would swallow them.
            problem = http_url_problem(self.at_voice_url)
            if problem is None and ("?" in self.at_voice_url or "#" in self.at_voice_url):
                problem = "must have no query or fragment"
            if problem is not None:
                raise ConfigError(
                    "AT_VOICE_URL", f"{problem}, such as http://127.0.0.1:5001 (the simulator)"
                )
            object.__setattr__(self, "at_voice_url", self.at_voice_url.rstrip("/"))

    def _check_public_url(self) -> None:
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
        """Read every setting from ``environ`` (default: ``os.environ``), validating each.

        Raises one :class:`ConfigError` listing every problem, each naming its variable.
        """
        env = EnvironmentReader(os.environ if environ is None else environ)
        try:
            config = cls(
                at_username=env.required("AT_USERNAME", placeholder="sandbox"),
                at_api_key=env.required("AT_API_KEY", placeholder="unset"),
                at_voice_number=env.required("AT_VOICE_NUMBER", placeholder="+254711082000"),
                at_voice_url=env.text("AT_VOICE_URL"),
                database_url=env.text("DATABASE_URL") or cls.DEFAULT_DATABASE_URL,
                api_token=env.text("VOICE_API_TOKEN"),
                webhook_secret=env.text("VOICE_WEBHOOK_SECRET"),
                at_timeout_seconds=env.number("AT_TIMEOUT_SECONDS", cls.DEFAULT_AT_TIMEOUT_SECONDS),
                max_body_bytes=int(env.number("VOICE_MAX_BODY_BYTES", cls.DEFAULT_MAX_BODY_BYTES)),
                strict_fields=env.boolean("VOICE_STRICT_FIELDS", default=False),
                pool_size=int(env.number("DATABASE_POOL_SIZE", cls.DEFAULT_POOL_SIZE)),
                statement_timeout_ms=int(
                    env.number("DATABASE_STATEMENT_TIMEOUT_MS", cls.DEFAULT_STATEMENT_TIMEOUT_MS)
                ),
                flow_file=env.text("VOICE_FLOW_FILE"),
                public_url=env.text("VOICE_PUBLIC_URL"),
                threads=int(env.number("VOICE_THREADS", cls.DEFAULT_THREADS)),
                max_wait_seconds=env.number("VOICE_MAX_WAIT", cls.DEFAULT_MAX_WAIT_SECONDS),
            )
        except ConfigError as exc:
            # A value that could not be read was replaced by a placeholder: its own problem
            # is the one to report, not what the placeholder led to.
            env.problems.extend(p for p in exc.problems if p[0] not in env.unreadable)
        if env.problems:
            raise ConfigError.of(env.problems)
        return config


class EnvironmentReader:
    """Reads settings from the environment, collecting every problem instead of stopping at
    the first; a value that cannot be read is replaced by a placeholder so the rest can
    still be checked."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self.problems: list[tuple[str, str]] = []
        self.unreadable: set[str] = set()

    def _fail(self, name: str, problem: str) -> None:
        self.problems.append((name, problem))
        self.unreadable.add(name)

    def text(self, name: str) -> str | None:
        """The stripped value of ``name``, or ``None`` when unset or blank."""
        value = self._environ.get(name)
        return None if value is None or value.strip() == "" else value.strip()

    def required(self, name: str, *, placeholder: str) -> str:
        """The value of ``name``, which must be set."""
        value = self.text(name)
        if value is None:
            self._fail(name, "is required but not set")
            return placeholder
        return value

    def number(self, name: str, default: float) -> float:
        """The finite number in ``name``, or ``default`` when unset."""
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = float(raw) if "." in raw or "e" in raw.lower() else int(raw)
        except ValueError:
            self._fail(name, f"must be a number, got {raw!r}")
            return default
        if not math.isfinite(value):  # "1.0e999" reads as infinity
            self._fail(name, f"must be a finite number, got {raw!r}")
            return default
        return value

    def boolean(self, name: str, *, default: bool) -> bool:
        """``true``/``false`` (also 1/0, yes/no, on/off) in ``name``, or ``default``."""
        raw = (self.text(name) or "").lower()
        if not raw:
            return default
        if raw in ("1", "true", "yes", "on"):
            return True
        if raw in ("0", "false", "no", "off"):
            return False
        self._fail(name, f"must be true or false, got {raw!r}")
        return default


def _positive(name: str, value: float, most: float | None = None) -> None:
    if not value > 0:  # also refuses NaN
        raise ConfigError(name, f"must be greater than zero, got {value}")
    if most is not None and not value <= most:
        raise ConfigError(name, f"must be at most {most:g}, got {value}")
