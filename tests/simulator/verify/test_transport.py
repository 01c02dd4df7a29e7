"""Reaching the app: URLs and headers no request can carry are refused before the run, and a
request verify could not send is never dropped: it is reported as a failure."""

from __future__ import annotations

import asyncio
import re

import h11
import httpx
import pytest

from at_voice_kit.contracts.urls import http_url_problem
from at_voice_kit.simulator.testing.verify_fixture import run_verify
from at_voice_kit.simulator.verify import (
    Check,
    InvalidOptions,
    InvalidTarget,
    Role,
    SentRequest,
    Target,
    VerifyOptions,
    judge,
    verify,
)
from at_voice_kit.simulator.verify.recorder import ScenarioRecorder
from at_voice_kit.simulator.verify.run_guard import RunGuard
from at_voice_kit.simulator.verify.transport import Poster
from tests.simulator.verify.servers import serve_wsgi
from tests.simulator.verify.webhook_apps import (
    CALL,
    IvrApp,
    RedirectToImpossiblePort,
    Reply,
    Request,
)

CALLBACK = "http://127.0.0.1:8000/voice/instruct"
IMPOSSIBLE = (
    ("http://127.0.0.1:99999/x", "must have a port from 1 to 65535"),
    ("http://127.0.0.1:0/x", "must have a port from 1 to 65535"),
    ("http://127.0.0.1:abc/x", "must have a port from 1 to 65535"),
    ("http://[::1", "must be a well-formed URL (Invalid IPv6 URL)"),
    ("http://a..b/x", "must name a host a client can look up"),
    ("ftp://127.0.0.1/x", "must be an absolute http:// or https:// URL"),
)


@pytest.mark.parametrize(("url", "problem"), IMPOSSIBLE)
def test_urls_no_request_can_be_sent_to_are_named_with_the_reason(url: str, problem: str) -> None:
    found = http_url_problem(url)
    assert found is not None and found.startswith(problem)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:1/x", "https://[::1]:65535/", "http://testserver/voice", "http://h:/"]
)
def test_urls_a_request_can_be_sent_to_pass(url: str) -> None:
    assert http_url_problem(url) is None


@pytest.mark.parametrize(("url", "problem"), IMPOSSIBLE)
def test_a_target_with_such_a_url_is_refused_whichever_url_it_is(url: str, problem: str) -> None:
    with pytest.raises(InvalidTarget, match=re.escape(f"the callback URL {problem}")):
        Target(url)
    with pytest.raises(InvalidTarget, match=re.escape(f"the events URL {problem}")):
        Target(CALLBACK, url)
    with pytest.raises(InvalidTarget, match=re.escape(f"the base URL {problem}")):
        Target.from_base_url(url)


def test_a_redirect_to_a_port_that_cannot_exist_is_invalid_actionxml_over_http() -> None:
    with serve_wsgi(RedirectToImpossiblePort()) as url:
        report = verify(
            Target.from_base_url(url + "/voice"),
            VerifyOptions(seed=5, quick=True, categories=CALL),
        )
    assert not report.ok, report.summary()
    assert {group.check for group in report.problems()} == {Check.ACTIONXML_VALID}
    assert "must have a port from 1 to 65535" in report.summary()
    assert not any(
        exchange.request.url.startswith("http://127.0.0.1:99999/")
        for result in report.results
        for exchange in result.exchanges
    ), "a Redirect the grammar refused must not be followed"


def _raising(exc: Exception) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    "exc",
    [
        httpx.InvalidURL("Invalid port: 'x'"),
        UnicodeEncodeError("ascii", "café", 3, 4, "ordinal not in range(128)"),
        h11.LocalProtocolError("Too little data for declared Content-Length"),
        ExceptionGroup("unhandled errors in a TaskGroup", [OverflowError("port out of range")]),
        RuntimeError("anything else"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_a_request_that_could_not_be_sent_is_recorded_as_unreachable(exc: Exception) -> None:
    async def send() -> ScenarioRecorder:
        async with httpx.AsyncClient(transport=_raising(exc)) as client:
            guard = RunGuard(Target(CALLBACK), timeout=5)
            recorder = ScenarioRecorder(Poster(client, timeout=5), guard, "a-scenario")
            await recorder.send(Role.FIRST, SentRequest(CALLBACK, (("isActive", "1"),)))
            return recorder

    (exchange,) = asyncio.run(send()).ordered()
    assert exchange.answer.status is None
    assert exchange.answer.error is not None
    assert exchange.answer.error.startswith(type(exc).__name__)
    (finding,) = judge(exchange, timeout=5)
    assert finding.check is Check.REACHABLE


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (("X-Token", "café"), "header 'X-Token' must have a value of printable ASCII"),
        (("X-Token", "a\x00b"), "header 'X-Token' must have a value of printable ASCII"),
        (("Content-Length", "5"), "header 'Content-Length' cannot be set"),
        (("transfer-encoding", "chunked"), "header 'transfer-encoding' cannot be set"),
        (("Host", "example.com"), "header 'Host' cannot be set"),
        (("X Token", "1"), "header 'X Token' is not a valid HTTP header name"),
        (("X-Tökén", "1"), "header 'X-Tökén' is not a valid HTTP header name"),
    ],
)
def test_headers_no_request_can_carry_are_refused_naming_the_header(
    header: tuple[str, str], problem: str
) -> None:
    with pytest.raises(InvalidOptions, match=re.escape(problem)):
        VerifyOptions(headers=(header,))


def test_a_refused_header_value_is_not_repeated_in_the_message() -> None:
    with pytest.raises(InvalidOptions) as refused:
        VerifyOptions(headers=(("Authorization", "Bearer sécret"),))
    assert "Authorization" in str(refused.value)
    assert "sécret" not in str(refused.value)  # header values are often secrets


def test_ordinary_headers_are_accepted() -> None:
    headers = (("Authorization", "Bearer a.b-c_d~e+f/g="), ("X-Api-Key", "s3cret\tx"))
    assert VerifyOptions(headers=headers).headers == headers


def test_a_base_url_keeps_its_query_string_on_both_urls() -> None:
    target = Target.from_base_url("http://127.0.0.1:8000/voice?secret=S3cr3t-value")
    assert target.callback_url == "http://127.0.0.1:8000/voice/instruct?secret=S3cr3t-value"
    assert target.events_url == "http://127.0.0.1:8000/voice/events?secret=S3cr3t-value"


class SecretInTheQuery(IvrApp):
    """Answers only requests that carry its secret (its own step URLs aside)."""

    def route(self, request: Request) -> Reply:
        if "step" not in request.query and request.query.get("secret") != "S3cr3t-value":
            return Reply("forbidden", 403)
        return super().route(request)


def test_verify_reaches_an_app_whose_secret_is_in_the_base_urls_query() -> None:
    with serve_wsgi(SecretInTheQuery()) as url:
        base = url + "/voice?secret=S3cr3t-value"
        report = verify(
            Target.from_base_url(base), VerifyOptions(seed=5, quick=True, categories=CALL)
        )
        assert report.ok, report.summary()
        assert "S3cr3t-value" not in report.summary()  # and it stays masked
        fixture_report = run_verify(url, "/voice?secret=S3cr3t-value", quick=True,
                                    categories=CALL)  # fmt: skip
        assert fixture_report.ok, fixture_report.summary()
