"""Appending a path to a base URL keeps its query string where it belongs."""

from __future__ import annotations

import pytest

from at_voice_kit.contracts.urls import with_path


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
def test_the_path_goes_on_the_path_and_the_query_stays(base: str, path: str, joined: str) -> None:
    assert with_path(base, path) == joined
