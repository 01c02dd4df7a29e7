"""Debian's Chromium, driven by Playwright for Python, for the dashboard's tests and
screenshots. Playwright's own browser downloads are never used: the system's
``/usr/bin/chromium`` is (``.ci/run`` installs it), with fake media devices standing in for a
microphone (a beep every half second) and audio allowed to play without a click."""

from __future__ import annotations

import array
import io
import os
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",  # the tests run as root
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Chromium from Debian."""
    assert os.path.exists(CHROMIUM), "the dashboard's tests need Debian's chromium package"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass(frozen=True)
class Heard:
    """What a recording holds: its length, and the fake microphone's beeps in it."""

    seconds: float
    beeps: list[float]
    """When each beep (a burst of loud samples) starts, in seconds."""


def beeps_in(wav: bytes) -> Heard:
    """Find the fake microphone's beeps in a 16-bit mono WAV file."""
    with wave.open(io.BytesIO(wav)) as audio:
        assert (audio.getnchannels(), audio.getsampwidth()) == (1, 2)
        rate = audio.getframerate()
        samples = array.array("h", audio.readframes(audio.getnframes()))
    starts: list[float] = []
    last_loud = -rate
    for index, sample in enumerate(samples):
        if abs(sample) > 3000:
            if index - last_loud > rate // 10:
                starts.append(index / rate)
            last_loud = index
    return Heard(len(samples) / rate, starts)
