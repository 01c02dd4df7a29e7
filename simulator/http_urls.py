"""Whether an HTTP client can send a request to a URL at all, checked before it tries.

``urlsplit`` raises on a malformed IPv6 address and only on reading ``.port`` for a port that
is no number or out of range; httpx accepts port 0 and 99999 and fails only when it connects
(with an ``ExceptionGroup`` or ``OverflowError``, not an ``httpx.HTTPError``), and raises
``InvalidURL`` or an ``idna`` error for some hosts. One check up front turns all of those into
a sentence: a usage error for a URL given on the command line, an unreachable URL for one an
app handed over. ``atsim verify`` and the simulator's client (``atsim call``/``dial``) share it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

HTTP_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_PORT = 65_535
ABSOLUTE_RULE = "must be an absolute http:// or https:// URL"
PORT_RULE = f"must have a port from 1 to {MAX_PORT}"


def http_url_problem(url: str) -> str | None:
    """Why no request can be sent to ``url`` (a phrase such as ``"must have a port from 1 to
    65535"``), or ``None`` when it is an absolute http(s) URL with a host and a usable port."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # "Invalid IPv6 URL"
        return f"must be a well-formed URL ({exc})"
    if parts.scheme not in HTTP_SCHEMES or not parts.hostname:
        return ABSOLUTE_RULE
    try:
        port = parts.port
    except ValueError:  # not a number, or over 65535
        return PORT_RULE
    if port == 0:
        return PORT_RULE
    try:
        # What the connection needs: a host the resolver can encode (``a..b`` cannot) and a
        # URL httpx can build a request for (``[::1]x``, a non-printable character).
        parts.hostname.encode("idna")
        httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:  # idna's errors are UnicodeErrors
        return f"must be a URL an HTTP client can send to ({exc})"
    return None


def host_and_port(url: str) -> tuple[str, int]:
    """The host and port a connection to ``url`` goes to (the scheme's default port when the
    URL names none); ``url`` must have passed :func:`http_url_problem`."""
    problem = http_url_problem(url)
    if problem is not None:
        raise ValueError(f"no connection can be made to {url!r}: it {problem}")
    parts = urlsplit(url)
    assert parts.hostname is not None  # http_url_problem requires a host
    return parts.hostname, parts.port or DEFAULT_PORTS[parts.scheme]
