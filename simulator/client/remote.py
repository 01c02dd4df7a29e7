"""A client for a running simulator, over HTTP: what ``atsim call``, ``atsim dial`` and
``atsim demo`` use, so they work against any ``atsim serve`` (or the fixture's server).

REST calls carry the account's API key; admin calls the admin token, when there is one.
Errors are :class:`SimulatorUnavailable` (nothing answers) or :class:`SimulatorRefused`
(an answer that is not what was asked for), each with a message fit for the terminal; a URL
no request can be sent to is refused at once, with :class:`InvalidSimulatorURL`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from at_voice_kit.contracts.charsets import charset_parameter, decode_leniently
from at_voice_kit.contracts.redaction import masked_url
from at_voice_kit.contracts.urls import http_url_problem, with_path
from at_voice_kit.simulator.backend.platform_config import DEFAULT_API_KEY, DEFAULT_USERNAME
from at_voice_kit.simulator.client.feed import StreamEvent, read_events
from at_voice_kit.simulator.untrusted_text import printable

REQUEST_TIMEOUT_SECONDS = 30.0
STREAM_READ_TIMEOUT_SECONDS = 45.0
"""A stream sends a keep-alive every 10 s: this long without a byte, the server is gone."""

CallDocument = dict[str, Any]


class SimulatorUnavailable(RuntimeError):
    """Nothing answers at the simulator's URL."""


class SimulatorRefused(RuntimeError):
    """The simulator answered with an error (the message carries its detail); ``status`` is
    the HTTP status when there was one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class CallTimedOut(RuntimeError):
    """A call did not end within the time allowed."""


class InvalidSimulatorURL(ValueError):
    """The simulator's URL is not one a request can be sent to (a port that is no number or
    out of range, a malformed IPv6 address, no http(s) scheme); the message says why."""


class SimulatorClient:
    """Talks to the simulator at ``url`` as the account ``username``/``api_key``."""

    def __init__(
        self,
        url: str,
        *,
        username: str = DEFAULT_USERNAME,
        api_key: str = DEFAULT_API_KEY,
        admin_token: str | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        # Checked here, not left to the first request: httpx raises InvalidURL for some of
        # these (not an HTTPError), others fail only as it connects.
        problem = http_url_problem(url)
        if problem is not None:
            raise InvalidSimulatorURL(f"the simulator's URL {problem}, not {masked_url(url)!r}")
        self.url = url.rstrip("/")
        self.username = username
        self.api_key = api_key
        headers = {"Authorization": f"Bearer {admin_token}"} if admin_token else {}
        self._http = client or httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS, headers=headers)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> SimulatorClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- plumbing -------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, with_path(self.url, path), **kwargs)
        except httpx.HTTPError as exc:
            raise self._unavailable(exc) from None

    def _unavailable(self, exc: httpx.HTTPError) -> SimulatorUnavailable:
        return SimulatorUnavailable(
            f"no simulator answers at {masked_url(self.url)} ({type(exc).__name__}: {exc}); "
            "start one with `atsim serve`"
        )

    def admin(self, method: str, path: str, body: object | None = None) -> Any:
        """An admin API request (``path`` under ``/_simulator/``); the decoded JSON answer."""
        kwargs: dict[str, Any] = {} if body is None else {"json": body}
        response = self._request(method, f"/_simulator/{path}", **kwargs)
        if response.status_code >= 400:
            raise SimulatorRefused(_problem_text(response), response.status_code)
        return response.json() if response.content else None

    # -- the REST API ---------------------------------------------------------------------

    def place_call(self, caller: str, recipients: Sequence[str]) -> dict[str, Any]:
        """``/call`` from the AT number ``caller``; AT's JSON answer."""
        response = self._request(
            "POST",
            "/call",
            data={"username": self.username, "from": caller, "to": ",".join(recipients)},
            headers={"apiKey": self.api_key, "Accept": "application/json"},
        )
        if response.status_code != 200:
            raise SimulatorRefused(
                f"/call answered {response.status_code}: {answer_text(response)}"
            )
        answer: dict[str, Any] = response.json()
        return answer

    # -- the admin API --------------------------------------------------------------------

    def numbers(self) -> list[dict[str, Any]]:
        """Every AT number."""
        numbers: list[dict[str, Any]] = self.admin("GET", "numbers")["numbers"]
        return numbers

    def first_number(self) -> str:
        """The account's first AT number (what calls are placed from by default)."""
        for number in self.numbers():
            if number["username"] == self.username:
                return str(number["phoneNumber"])
        owners = sorted({str(number["username"]) for number in self.numbers()})
        hint = f" (numbers belong to: {', '.join(owners)})" if owners else ""
        raise SimulatorRefused(
            f"account {self.username!r} has no AT number on the simulator{hint}: choose the "
            "account with --username/--api-key or $ATSIM_USERNAME/$ATSIM_API_KEY, or give --from"
        )

    def set_number(self, number: str, settings: Mapping[str, object]) -> None:
        """``PUT numbers/{number}``."""
        self.admin("PUT", f"numbers/{quote(number)}", dict(settings))

    def set_callee(self, number: str, script: Mapping[str, object]) -> None:
        """``PUT callees/{number}``: script what the phone user at ``number`` does."""
        self.admin("PUT", f"callees/{quote(number)}", dict(script))

    def dial_in(self, caller: str, at_number: str) -> CallDocument:
        """``POST calls``: the phone user ``caller`` calls ``at_number``."""
        call: CallDocument = self.admin("POST", "calls", {"from": caller, "to": at_number})
        return call

    def call(self, session_id: str) -> CallDocument:
        """``GET calls/{sessionId}``: the call with its journal."""
        call: CallDocument = self.admin("GET", f"calls/{quote(session_id)}")
        return call

    def health(self) -> dict[str, Any]:
        """``GET health``."""
        health: dict[str, Any] = self.admin("GET", "health")
        return health

    def calls(self) -> list[CallDocument]:
        """``GET calls``: every call, oldest first."""
        calls: list[CallDocument] = self.admin("GET", "calls")["calls"]
        return calls

    def wait_for_end(self, session_id: str, timeout: float) -> CallDocument:
        """Wait until the call has ended (its final request and events sent): the live feed
        says when, nothing is polled."""
        deadline = time.monotonic() + timeout
        position = self.feed_position()
        call = self.call(session_id)
        if call["phase"] == "ended":
            return call
        for event in self.follow_feed(position, session_id):
            if event.name in ("missed", "reset") or _ended(event, session_id):
                call = self.call(session_id)
                if call["phase"] == "ended":
                    return call
            if time.monotonic() >= deadline:
                break
        call = self.call(session_id)
        if call["phase"] == "ended":
            return call
        raise CallTimedOut(
            f"call {session_id} had not ended after {timeout:g} s (phase {call['phase']})"
        )

    # -- the live streams -----------------------------------------------------------------

    def feed_position(self) -> int:
        """The live feed's latest position (follow the feed after it to miss nothing)."""
        for event in self._stream("feed", {"follow": "false"}):
            if event.name == "hello":
                return int(event.data["position"])
        raise SimulatorRefused("the simulator's feed did not say where it is")

    def follow_feed(self, after: int, session_id: str | None = None) -> Iterator[StreamEvent]:
        """The live feed's events after ``after`` (one call's, with ``session_id``), as they
        happen, keep-alives included; stop iterating to close the stream."""
        params = {"after": str(after)}
        if session_id is not None:
            params["session"] = session_id
        yield from self._stream("feed", params)

    def phone_events(self, number: str) -> Iterator[StreamEvent]:
        """Hold ``number`` as a person (a dev phone) and hear what happens on it, as it
        happens; the number is theirs until the iteration stops."""
        yield from self._stream(f"phones/{quote(number)}/events", {})

    def phone_action(self, number: str, session_id: str, action: str, **fields: object) -> None:
        """What the person on ``number`` does on the call ``session_id``."""
        body = {"sessionId": session_id, "action": action, **fields}
        self.admin("POST", f"phones/{quote(number)}/actions", body)

    def phone_call(self, number: str, at_number: str) -> CallDocument:
        """The person on ``number`` calls ``at_number`` (an inbound call they are on)."""
        call: CallDocument = self.admin("POST", f"phones/{quote(number)}/calls", {"to": at_number})
        return call

    def _stream(self, path: str, params: Mapping[str, str]) -> Iterator[StreamEvent]:
        timeout = httpx.Timeout(REQUEST_TIMEOUT_SECONDS, read=STREAM_READ_TIMEOUT_SECONDS)
        url = f"{self.url}/_simulator/{path}"
        with contextlib.ExitStack() as open_stream:
            try:
                stream = self._http.stream("GET", url, params=params, timeout=timeout)
                response = open_stream.enter_context(stream)
            except httpx.HTTPError as exc:  # nothing answers there
                raise self._unavailable(exc) from None
            try:
                if response.status_code >= 400:
                    response.read()
                    raise SimulatorRefused(_problem_text(response))
                yield from read_events(response.iter_lines())
            except httpx.HTTPError as exc:  # it answered, then went away
                raise SimulatorUnavailable(
                    f"the simulator at {masked_url(self.url)} stopped answering "
                    f"({type(exc).__name__}: {exc})"
                ) from None


def _ended(event: StreamEvent, session_id: str) -> bool:
    if event.name != "call":
        return False
    call = event.data["call"]
    return bool(call["sessionId"] == session_id and call["phase"] == "ended")


ANSWER_PREVIEW_BYTES = 4096
"""How much of an unexpected answer a message quotes."""


def answer_text(response: httpx.Response) -> str:
    """What a server answered, fit for a terminal: the first bytes read in an allowed charset
    (never the codec the server names: ``httpx.Response.text`` would apply any), control
    characters escaped. The server is the one the user named, but it is still not trusted."""
    label = charset_parameter(response.headers.get("content-type"))
    return printable(decode_leniently(response.content[:ANSWER_PREVIEW_BYTES], label))


def _problem_text(response: httpx.Response) -> str:
    try:
        problem = response.json()
    except ValueError:
        return f"{response.status_code}: {answer_text(response)}"
    if isinstance(problem, dict) and "detail" in problem:
        title, detail = str(problem.get("title", "")), str(problem["detail"])
        return f"{response.status_code} {printable(title)}: {printable(detail)}"
    return f"{response.status_code}: {answer_text(response)}"
