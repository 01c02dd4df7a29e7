"""How a verification runs: the knobs of ``atsim verify`` as one checked value."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from at_voice_kit.contracts.phone import InvalidPhoneNumber, normalise_international
from at_voice_kit.simulator.engine.options import DEFAULT_WEBHOOK_TIMEOUT
from at_voice_kit.simulator.verify.scenarios import (
    DEFAULT_AT_NUMBER,
    DEFAULT_PHONE_NUMBER,
    Category,
)

DEFAULT_CONCURRENCY = 8
DEFAULT_CRAWL_DEPTH = 6
CRAWL_CALLS = 40
QUICK_CRAWL_CALLS = 16
GENERATED_EXAMPLES = 40
QUICK_GENERATED_EXAMPLES = 10
FRAMING_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "host", "connection", "keep-alive", "te", "trailer",
     "upgrade"}
)  # fmt: skip
"""Headers verify's HTTP client writes itself: how the body is framed, which host the request
is for, what becomes of the connection. Given again they contradict the client's own (two
Content-Lengths), make the client refuse to send, or route the request elsewhere."""
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
"""An HTTP field name (RFC 9110's ``token``)."""
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*\Z")
"""What httpx can send as a field value: printable ASCII and tabs (it encodes values as
ASCII, and h11 refuses control characters)."""


class InvalidOptions(ValueError):
    """An option out of range; the message names the option and the rule."""


@dataclass(frozen=True, slots=True)
class VerifyOptions:
    """Everything that shapes a run.

    - ``seed``: fixes every scenario, session id and generated form (None: a fresh one,
      reported so the run can be repeated).
    - ``timeout``: how long AT waits for an answer (seconds).
    - ``at_number`` / ``phone_number``: the app's AT number and the default phone user.
    - ``quick``: a smaller run (fewer crawl calls, orders, markets and generated forms).
    - ``max_scenarios``: stop planning after this many scenarios.
    - ``crawl_calls`` / ``crawl_depth``: the crawl's budget per direction, and how many
      GetDigits deep it goes.
    - ``generated_examples``: schemathesis forms per webhook.
    - ``concurrency``: scenarios run at the same time.
    - ``headers``: extra HTTP headers on every request (authentication); printable ASCII,
      and none of the :data:`FRAMING_HEADERS` the HTTP client writes itself.
    - ``categories``: which kinds of scenario to run.
    - ``max_time``: seconds the whole run may take (None: no bound); at the bound, verify
      stops and reports what it found and what it did not run.
    - ``strict``: warnings fail the run too.
    - ``show_secrets``: reports show the target's secrets (query values, passwords in its
      URLs; :mod:`at_voice_kit.simulator.verify.report_secrets`) instead of ``***``.
    """

    seed: int | None = None
    timeout: float = DEFAULT_WEBHOOK_TIMEOUT
    at_number: str = DEFAULT_AT_NUMBER
    phone_number: str = DEFAULT_PHONE_NUMBER
    quick: bool = False
    max_scenarios: int | None = None
    crawl_calls: int | None = None
    crawl_depth: int = DEFAULT_CRAWL_DEPTH
    generated_examples: int | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    headers: tuple[tuple[str, str], ...] = ()
    categories: frozenset[Category] = field(default_factory=lambda: frozenset(Category))
    strict: bool = False
    show_secrets: bool = False
    max_time: float | None = None

    def __post_init__(self) -> None:
        if not self.timeout > 0:
            raise InvalidOptions("timeout must be a positive number of seconds")
        if self.max_time is not None and not self.max_time > 0:
            raise InvalidOptions("max-time must be a positive number of seconds")
        for name in ("at_number", "phone_number"):
            try:
                object.__setattr__(self, name, normalise_international(getattr(self, name)))
            except InvalidPhoneNumber as exc:
                raise InvalidOptions(f"{name.replace('_', '-')} {exc.value!r} {exc.rule}") from None
        positive = {
            "max_scenarios": self.max_scenarios,
            "crawl_calls": self.crawl_calls,
            "generated_examples": self.generated_examples,
        }
        for name, value in positive.items():
            if value is not None and value < 1:
                raise InvalidOptions(f"{name.replace('_', '-')} must be at least 1")
        if self.crawl_depth < 1:
            raise InvalidOptions("crawl-depth must be at least 1")
        if not 1 <= self.concurrency <= 64:
            raise InvalidOptions("concurrency must be between 1 and 64")
        try:  # names are fine too: categories=frozenset({"crawl", "outcomes"})
            object.__setattr__(self, "categories", frozenset(map(Category, self.categories)))
        except ValueError as exc:
            raise InvalidOptions(f"unknown category: {exc}") from None
        if not self.categories:
            raise InvalidOptions("at least one category of scenarios must run")
        _check_headers(self.headers)

    @property
    def crawl_budget(self) -> int:
        """Calls the crawl may make per direction."""
        if self.crawl_calls is not None:
            return self.crawl_calls
        return QUICK_CRAWL_CALLS if self.quick else CRAWL_CALLS

    @property
    def generated_count(self) -> int:
        """Generated forms per webhook."""
        if self.generated_examples is not None:
            return self.generated_examples
        return QUICK_GENERATED_EXAMPLES if self.quick else GENERATED_EXAMPLES


def _check_headers(headers: Iterable[tuple[str, str]]) -> None:
    """Refuse, naming it, a header no request could carry: checked before the run, since a
    request that cannot be sent is one the report could only call unreachable."""
    for name, value in headers:
        if not _HEADER_NAME.match(name):
            raise InvalidOptions(f"header {name!r} is not a valid HTTP header name")
        if name.lower() in FRAMING_HEADERS:
            raise InvalidOptions(f"header {name!r} cannot be set: verify's HTTP client sets it")
        # The value stays out of the message: it is often a secret (a token, a password).
        if not _HEADER_VALUE.match(value):
            raise InvalidOptions(
                f"header {name!r} must have a value of printable ASCII characters "
                "(HTTP clients cannot send others)"
            )
