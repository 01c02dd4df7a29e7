"""Other spellings of a protected path, and a client that sends a path exactly as written.

A guard that decides on the path string while the router reads it differently can be walked
around (``//_simulator/accounts`` reached the admin API without its token). These are the
spellings an attacker tries: doubled and dot segments, percent-encoded slashes, dots and
letters, trailing slashes, other cases, ``..`` detours, the absolute form of the request
target. httpx and requests tidy paths before sending them, so :func:`send_raw` uses
``http.client``, which puts the target on the request line untouched.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit


def _percent_encoded(text: str, lower: bool = False) -> str:
    encoded = "".join(f"%{ord(char):02X}" for char in text)
    return encoded.lower() if lower else encoded


def spellings(path: str) -> list[str]:
    """Spellings of ``path`` (``/a/b/c``) a router or server might read as the same path."""
    segments = path.strip("/").split("/")
    first, rest = segments[0], "/".join(segments[1:])
    tail = f"/{rest}" if rest else ""
    variants = [
        "/" + path,
        "//" + path,
        "/." + path,
        "/%2E" + path,
        "/%2F" + path.lstrip("/"),
        "/%2f%2f" + path.lstrip("/"),
        "/" + "/".join(segments).replace("/", "%2F"),
        "/" + "//".join(segments),
        f"/{first}/./{rest}",
        f"/{first}/%2E/{rest}",
        f"/{first}/x/../{rest}",
        f"/{first}/x/%2E%2E/{rest}",
        f"/{_percent_encoded(first)}{tail}",
        f"/{_percent_encoded(first, lower=True)}{tail}",
        f"/{first[:-1]}%{ord(first[-1]):02X}{tail}",
        f"/{first}/{_percent_encoded(rest)}" if rest else f"/{first}%2F",
        path + "/",
        path + "//",
        path + "/.",
        path.upper(),
        f"/{first.upper()}{tail}",
        f"/{first}/{rest.upper()}" if rest else f"/{first.title()}",
        f"/{first.title()}{tail}",
        "/\\" + path.lstrip("/"),
        path + "?x=1",
        path + ";x",
        path + "%00",
        path + "%20",
    ]
    return list(dict.fromkeys(variant for variant in variants if variant != path))


def absolute_form_spellings(path: str, authority: str) -> list[str]:
    """The request target in absolute form (``http://host//path``), which servers accept."""
    return [
        f"http://{authority}{path}",
        f"http://{authority}/{path}",
        f"http://{authority}//{path}",
    ]


@dataclass(frozen=True)
class RawAnswer:
    """What a server answered: status, headers (names lower-cased) and body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        """The body as text."""
        return self.body.decode("utf-8", "replace")


def send_raw(
    base_url: str,
    method: str,
    target: str,
    *,
    headers: Mapping[str, str] | None = None,
    json_body: object = None,
    text_body: str | None = None,
    timeout: float = 10.0,
) -> RawAnswer:
    """Send one request with ``target`` on the request line exactly as given (a JSON body,
    or a text body whose ``Content-Type`` the caller gives)."""
    parts = urlsplit(base_url)
    assert parts.hostname is not None and parts.port is not None
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    sent_headers = dict(headers or {})
    body = None if text_body is None else text_body.encode()
    if json_body is not None:
        body = json.dumps(json_body).encode()
        sent_headers.setdefault("Content-Type", "application/json")
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in sent_headers.items():
            connection.putheader(name, value)
        if body is not None or method in ("POST", "PUT", "PATCH"):
            connection.putheader("Content-Length", str(len(body or b"")))
        connection.endheaders(body)
        response = connection.getresponse()
        answer = RawAnswer(
            response.status,
            {name.lower(): value for name, value in response.getheaders()},
            response.read(),
        )
    finally:
        connection.close()
    return answer
