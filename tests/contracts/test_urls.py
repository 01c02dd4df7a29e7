"""The one rule for "a usable http(s) URL": what an HTTP client can send a request to."""

from __future__ import annotations

import httpx
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from at_voice_kit.contracts.urls import (
    ABSOLUTE_RULE,
    HOST_RULE,
    PORT_RULE,
    host_and_port,
    http_url_problem,
    media_url_problem,
    with_path,
)

USABLE = [
    "http://127.0.0.1:5001/voice?x=1",
    "https://voice.example.com.",  # a fully qualified name
    "http://[::1]:8080/x",
    "http://u:p@h/",
    "http://a_b.c/",
    "http://bücher.de/cb",  # IDNA 2008 encodes it
    "http://h/ü",  # clients percent-encode paths
    "http://h:/",  # an empty port is the default one
    "HTTP://Example.com/x",  # schemes are case-insensitive
    "http://example.com:08080/",
]

UNUSABLE = [
    ("ftp://h/x", ABSOLUTE_RULE),
    ("http:///x", ABSOLUTE_RULE),
    ("//h/x", ABSOLUTE_RULE),
    ("http://a b/", "must not contain spaces or control characters"),
    ("http://h/a\tb", "must not contain spaces or control characters"),
    ("http://[::1]x/", "must be a well-formed URL"),
    ("http://[::1/", "must be a well-formed URL (Invalid IPv6 URL)"),
    ("http://a..b/", HOST_RULE),
    ("http://-/", HOST_RULE),
    ("http://xn--/next", HOST_RULE),
    ("http://256.256.256.256/", HOST_RULE),  # no address, and no name either
    ("http://\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com/", HOST_RULE),  # full-width
    ("http://exa\u00admple.com/", HOST_RULE),  # a soft hyphen IDNA 2003 would drop
    ("http://h:0/", PORT_RULE),
    ("http://h:99999/", PORT_RULE),
    ("http://h:port/", PORT_RULE),
]


@pytest.mark.parametrize("url", USABLE)
def test_usable_urls_pass_and_clients_can_build_a_request_to_them(url: str) -> None:
    assert http_url_problem(url) is None
    httpx.Request("GET", url)
    requests.Request("GET", url).prepare()


@pytest.mark.parametrize(("url", "problem"), UNUSABLE)
def test_unusable_urls_are_refused_with_the_reason(url: str, problem: str) -> None:
    assert http_url_problem(url) == problem


def test_media_urls_name_an_mp3_or_wav_file() -> None:
    assert media_url_problem("https://cdn.example.com/hold.MP3?v=2") is None
    assert media_url_problem("https://cdn.example.com/hold.ogg") is not None
    assert media_url_problem("https://cdn.example.com:0/hold.mp3") == PORT_RULE


def test_host_and_port_default_by_scheme() -> None:
    assert host_and_port("HTTPS://Example.com/x") == ("example.com", 443)
    assert host_and_port("http://[::1]:8080/") == ("::1", 8080)
    with pytest.raises(ValueError, match="must have a port"):
        host_and_port("http://h:0/")


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_every_url_the_rule_accepts_is_one_httpx_can_send_to(tail: str) -> None:
    url = f"http://{tail}"
    if http_url_problem(url) is None:
        request = httpx.Request("GET", url)
        assert request.url.host


@pytest.mark.parametrize(
    ("base", "path", "joined"),
    [
        ("http://host/voice?secret=S", "/instruct", "http://host/voice/instruct?secret=S"),
        ("http://host/voice/?a=1&b=2", "/events", "http://host/voice/events?a=1&b=2"),
        ("http://host:8000", "/voice/instruct", "http://host:8000/voice/instruct"),
        ("http://host:8000?k=%2B1", "_simulator/calls", "http://host:8000/_simulator/calls?k=%2B1"),
        ("https://u:p@host/x#top", "/y", "https://u:p@host/x/y"),  # no client sends a fragment
        ("http://host/voice?secret=S", "", "http://host/voice?secret=S"),
        ("http://host/voice/", "/", "http://host/voice/"),
    ],
)
def test_a_path_goes_on_the_path_and_the_query_stays(base: str, path: str, joined: str) -> None:
    assert with_path(base, path) == joined
