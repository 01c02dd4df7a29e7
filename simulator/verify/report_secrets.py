"""What a report of ``atsim verify`` hides: the secrets of the app under test.

Reports end up in CI logs and JUnit artifacts that many people can read, so unless
``show_secrets`` is asked for (``--show-secrets``), every output hides:

- every query value of every URL it shows (the target's URLs, the URLs requests were sent
  to, URLs an app handed back in a Redirect or ``callbackUrl``): an app's own URLs carry its
  secrets, so all values are masked and the names kept (``?secret=***``);
- the password in a URL's userinfo;
- the values given with ``--header`` (those are never printed at all: ``<redacted>``), and
  each of these values, and the target's query values and passwords, wherever else they
  show up (an answer echoing them), when they are long enough to be secrets
  (:data:`MIN_SCRUBBED_LENGTH` characters).

The text is also made printable and real Unicode here
(:mod:`at_voice_kit.simulator.untrusted_text`), since the same strings come from the app.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from at_voice_kit.contracts.redaction import MASK, masked_text
from at_voice_kit.simulator.untrusted_text import real_text

MIN_SCRUBBED_LENGTH = 6
"""Known secret values at least this long are masked anywhere in a report; shorter ones
(``?v=2``, ``?lang=en``) only inside URLs, where every value is masked anyway."""


@dataclass(frozen=True, slots=True)
class SecretMask:
    """Hides secrets in the strings of a report; ``shown`` turns it off."""

    known: tuple[str, ...] = ()
    """Secret values to mask wherever they appear, longest first."""
    shown: bool = False

    @classmethod
    def for_target(
        cls,
        urls: Iterable[str | None],
        headers: Sequence[tuple[str, str]] = (),
        *,
        shown: bool = False,
    ) -> SecretMask:
        """The mask for a run against ``urls`` with ``headers``."""
        values: set[str] = set()
        for url in urls:
            if url:
                values.update(_url_secrets(url))
        for _, value in headers:
            values.add(value)
            values.update(value.split())  # the token of "Bearer <token>"
        known = sorted((v for v in values if len(v) >= MIN_SCRUBBED_LENGTH), key=len, reverse=True)
        return cls(tuple(known), shown)

    def text(self, text: str) -> str:
        """``text`` with the secrets masked (unless shown) and no lone surrogates."""
        text = real_text(text)
        if self.shown:
            return text
        for value in self.known:
            text = text.replace(value, MASK)
        return masked_text(text)

    def data(self, value: Any) -> Any:
        """JSON-ready ``value`` with :meth:`text` applied to every string in it (not keys)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self.data(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(item) for item in value]
        return value


def _url_secrets(url: str) -> set[str]:
    """The query values and the password of ``url`` (none if it cannot be read as a URL)."""
    try:
        parts = urlsplit(url)
        found = {value for _, value in parse_qsl(parts.query, keep_blank_values=True)}
        for item in parts.query.split("&"):  # as written, percent-escapes and all
            name, equals, value = item.partition("=")
            found.add(value if equals else name)
        if parts.password:
            found.add(parts.password)
    except ValueError:
        return set()
    return found
