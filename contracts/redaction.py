"""URLs as they may be printed: every query value and every password masked.

A webhook's URLs carry its secrets: the service's ``?secret=``, other apps' tokens and
signatures, credentials in ``user:password@``. Whatever prints or logs a URL it did not make
up itself (``atsim verify``'s reports, the timelines of ``atsim call``, ``atsim serve``'s
banner and log, the service's start-up log) shows it through :func:`masked_url` or
:func:`masked_text`: every query value becomes ``***`` (names kept, so the reader still sees
*which* parameters were sent), and so does a password. Nothing here raises, whatever the text.
"""

from __future__ import annotations

import re

MASK = "***"
_URL = r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,31}://[^\s'\"<>`]+"
_CONFIDENTIAL_PAIR = (
    r"(?<![a-z0-9_-])(?P<name>[a-z0-9_-]{0,32}"
    r"(?:secret|token|password|passwd|signature|api[_-]?key)|key)=[^&\s'\"<>]+"
)
"""A ``name=value`` pair outside any URL whose name says it holds a secret. (Both patterns
start only where a name can, and bound how far they look from there: masking a long
hostile text stays linear.)"""
_MASKED = re.compile(f"(?P<url>{_URL})|{_CONFIDENTIAL_PAIR}", re.IGNORECASE)
_TRAILING_PUNCTUATION = ".,;:!?)]}"
"""Characters a sentence puts after a URL (``see http://x/a?b=c.``), not part of it."""


def masked_url(url: str) -> str:
    """``url`` with every query value and the userinfo's password replaced by ``***``:
    ``https://u:***@app/voice?secret=***&lang=***``. A query item without ``=`` may be a
    token itself and is masked whole; empty values stay empty (nothing to hide)."""
    rest, hash_mark, fragment = url.partition("#")
    rest, question_mark, query = rest.partition("?")
    masked = _without_password(rest)
    if question_mark:
        masked += "?" + "&".join(_masked_item(item) for item in query.split("&"))
    return masked + hash_mark + fragment


def masked_text(text: str) -> str:
    """``text`` with every URL in it masked (:func:`masked_url`), and the value of every
    ``name=value`` pair outside a URL whose name says it is a secret (``token=``)."""
    return _MASKED.sub(_masked_match, text)


def _masked_match(match: re.Match[str]) -> str:
    url = match.group("url")
    if url is None:
        return f"{match.group('name')}={MASK}"
    kept = len(url.rstrip(_TRAILING_PUNCTUATION))
    return masked_url(url[:kept]) + url[kept:]


def _masked_item(item: str) -> str:
    name, equals, value = item.partition("=")
    if not equals:
        return MASK if name else name
    return f"{name}={MASK}" if value else item


def _without_password(url: str) -> str:
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    authority, slash, path = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    if not (at and colon):
        return url
    return f"{scheme}://{user}:{MASK}@{host}{slash}{path}"
