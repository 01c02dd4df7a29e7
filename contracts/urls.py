"""The one rule for "a usable http(s) URL", shared by every place that takes one.

AT calls the URLs an app gives it (the number's callback and events URLs, a ``Redirect``, a
``GetDigits`` or ``Record`` ``callbackUrl``, ``Play`` and hold music) and the simulator and
the service do the same; a URL no HTTP client can send a request to breaks the call the
moment it is used. So the rule is what a client needs, not what a regular expression of
"http://something" lets through:

- an absolute ``http://`` or ``https://`` URL (the scheme in any case, as RFC 3986 says);
- no whitespace or control character anywhere (non-ASCII letters are allowed: clients encode
  them);
- a host: a name whose labels are 1 to 63 letters, digits, ``_`` or
  ``-`` (not first or last), non-ASCII letters allowed as IDNA encodes them (``a..b``, ``-``
  and ``a b`` cannot be looked up); an IPv4 address; or an IPv6 address in brackets with
  nothing after the bracket but a port;
- a port, when one is written, from 1 to 65535 (``:0`` and ``:99999`` reach nothing).

Before this module the rule lived in six places with four different answers (port 0 and
99999 passed some). Every side calls :func:`http_url_problem`; the JSON Schema patterns of
the contracts express the same rule as far as a pattern can, and tests hold them to it.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import SplitResult, urlsplit, urlunsplit

import idna

HTTP_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_PORT = 65_535
ABSOLUTE_RULE = "must be an absolute http:// or https:// URL"
PORT_RULE = f"must have a port from 1 to {MAX_PORT}"
HOST_RULE = "must name a host a client can look up (labels of letters, digits, '_' and '-')"
MEDIA_RULE = "must be an http(s) URL of an .mp3 or .wav file"

_FORBIDDEN = re.compile(r"[\x00-\x20\x7f]")
_SCHEME = re.compile(r"^https?://", re.IGNORECASE)  # schemes are case-insensitive (RFC 3986)
_DOTTED_NUMBERS = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+\Z")
_NETLOC_TAIL = re.compile(r"^(?:[^@]*@)?\[[0-9A-Fa-f:.]+\](?::[0-9]*)?\Z")
_MEDIA_PATH = re.compile(r"\.(?:mp3|wav)\Z", re.IGNORECASE)
_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\Z")


def http_url_problem(url: str) -> str | None:
    """Why no request can be sent to ``url`` (a phrase such as ``"must have a port from 1 to
    65535"``, to follow the field's name), or ``None`` when it is a usable http(s) URL."""
    if not _SCHEME.match(url):
        return ABSOLUTE_RULE
    if _FORBIDDEN.search(url):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # "Invalid IPv6 URL"
        return f"must be a well-formed URL ({exc})"
    if not parts.hostname:
        return ABSOLUTE_RULE
    return _host_problem(parts) or _port_problem(parts)


def is_http_url(url: str) -> bool:
    """Whether ``url`` is a usable http(s) URL (see :func:`http_url_problem`)."""
    return http_url_problem(url) is None


def media_url_problem(url: str) -> str | None:
    """Why ``url`` is not an http(s) URL of an ``.mp3`` or ``.wav`` file (``/mediaUpload``;
    a query or fragment may follow the file name), or ``None``."""
    problem = http_url_problem(url)
    if problem is not None:
        return problem
    return None if _MEDIA_PATH.search(urlsplit(url).path) else MEDIA_RULE


def is_media_url(url: str) -> bool:
    """Whether ``url`` is an http(s) URL of an ``.mp3`` or ``.wav`` file."""
    return media_url_problem(url) is None


def host_and_port(url: str) -> tuple[str, int]:
    """The host and port a connection to ``url`` goes to (the scheme's default port when the
    URL names none); ``ValueError`` when ``url`` is not a usable http(s) URL."""
    problem = http_url_problem(url)
    if problem is not None:
        raise ValueError(f"no connection can be made to {url!r}: it {problem}")
    parts = urlsplit(url)
    assert parts.hostname is not None  # http_url_problem requires a host
    return parts.hostname, parts.port or DEFAULT_PORTS[parts.scheme]


def _host_problem(parts: SplitResult) -> str | None:
    host = parts.hostname or ""
    if "[" in parts.netloc:
        # urlsplit accepts text after the closing bracket ("[::1]x"): no client does.
        return None if _NETLOC_TAIL.match(parts.netloc) else "must be a well-formed URL"
    name = host[:-1] if host.endswith(".") else host  # a fully qualified name's final dot
    if _DOTTED_NUMBERS.match(name):
        try:
            ipaddress.IPv4Address(name)  # 256.256.256.256 is no address and no name
        except ValueError:
            return HOST_RULE
        return None
    try:
        # IDNA 2008, as HTTP clients encode names (httpx, requests): Python's own "idna"
        # codec is IDNA 2003, which maps full-width letters and soft hyphens they refuse.
        ascii_name = name if name.isascii() else idna.encode(name.lower()).decode("ascii")
    except (idna.IDNAError, UnicodeError):  # a label that is empty, too long or not allowed
        return HOST_RULE
    if not all(_LABEL.match(label) for label in ascii_name.split(".")):
        return HOST_RULE
    return None


def _port_problem(parts: SplitResult) -> str | None:
    try:
        port = parts.port  # ValueError when not a number or over 65535
    except ValueError:
        return PORT_RULE
    return PORT_RULE if port == 0 else None


def with_path(base_url: str, path: str) -> str:
    """``base_url`` with ``path`` appended to its path, its query string kept where it
    belongs: apps put their secrets in the query of the base URL they hand out, and
    ``https://app/voice?secret=S`` with ``/instruct`` is ``https://app/voice/instruct?secret=S``,
    not ``.../voice?secret=S/instruct``. The fragment is dropped (no client sends one)."""
    parts = urlsplit(base_url)
    joined = parts.path.rstrip("/") + "/" + path.lstrip("/") if path.strip("/") else parts.path
    return urlunsplit((parts.scheme, parts.netloc, joined, parts.query, ""))
