"""URLs as they may be printed: query values and passwords masked, names kept, never a raise."""

from __future__ import annotations

import time

import pytest

from at_voice_kit.contracts.redaction import masked_text, masked_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://app.example/voice?secret=abc", "https://app.example/voice?secret=***"),
        ("http://h/v?secret=abc&lang=sw&empty=", "http://h/v?secret=***&lang=***&empty="),
        ("http://h/v?sometoken", "http://h/v?***"),  # a bare item may be a token itself
        ("https://hook:pa:ss@h:8443/p?x=1#top", "https://hook:***@h:8443/p?x=***#top"),
        ("http://user@h/p", "http://user@h/p"),  # no password, nothing to hide
        ("http://h/voice", "http://h/voice"),
        ("http://[::1/v?a=b", "http://[::1/v?a=***"),  # malformed: masked all the same
        ("", ""),
    ],
)
def test_every_query_value_and_password_is_masked(url: str, shown: str) -> None:
    assert masked_url(url) == shown


def test_urls_in_text_are_masked_and_the_sentence_around_them_kept() -> None:
    text = (
        "callback URL http://h/i?secret=abc, events URL http://h/e?secret=abc. "
        "curl 'http://h/i?secret=abc' <Redirect>http://a/b?x=1&amp;secret=s</Redirect> "
        "(see https://h/?a=b) token=t0k api_key=k monkey=3"
    )
    assert masked_text(text) == (
        "callback URL http://h/i?secret=***, events URL http://h/e?secret=***. "
        "curl 'http://h/i?secret=***' <Redirect>http://a/b?x=***&amp;secret=***</Redirect> "
        "(see https://h/?a=***) token=*** api_key=*** monkey=3"
    )


@pytest.mark.parametrize(
    "hostile", ["a." * 500_000, "a-" * 500_000, " a-b" * 250_000, "x:" * 500_000]
)
def test_masking_a_long_hostile_text_stays_linear(hostile: str) -> None:
    started = time.perf_counter()
    masked_text(hostile)
    assert time.perf_counter() - started < 10  # generous: it takes well under a second
