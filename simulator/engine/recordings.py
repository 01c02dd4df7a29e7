"""Recordings: real, downloadable WAV files of a recorded call, made on demand.

A ``Record`` (or ``Dial record="true"``) registers a :class:`Recording` with its length and a
seed; the WAV bytes are generated only when someone fetches ``recordingUrl``, so thousands of
recorded calls cost a few dozen bytes each. The audio is 8 kHz mono 16-bit PCM (telephone
quality): a voice-like murmur (two tones with seeded noise, rising and falling like syllables)
for the seconds the user spoke, then silence for the seconds they did not.
"""

from __future__ import annotations

import io
import math
import random
import re
import sys
import wave
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, replace

SAMPLE_RATE = 8000
MAX_RECORDING_SECONDS = 4 * 3600
"""Longer recordings are cut: AT's own cap is ``maxLength``/``timeout`` (default 3600 s)."""

_RECORDING_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


@dataclass(frozen=True, slots=True)
class Recording:
    """One recording: ``speech_seconds`` of voice followed by ``silence_seconds`` of silence."""

    recording_id: str
    session_id: str
    speech_seconds: float
    silence_seconds: float
    url: str
    audio: bytes | None = None
    """The WAV file a person recorded (the dev phone); ``None``: made up when fetched."""

    @property
    def seconds(self) -> float:
        """The recording's total length."""
        return self.speech_seconds + self.silence_seconds


class RecordingStore:
    """The recordings of every call, served by the simulator at ``recordingUrl``.

    URLs are ``{public_base_url}{path_prefix}/{recording_id}.wav``; ids are derived from the
    session id, so a seeded run produces the same URLs (given the same base URL).
    """

    def __init__(
        self, public_base_url: str = "http://127.0.0.1:8765", path_prefix: str = "/recordings"
    ) -> None:
        self.public_base_url = public_base_url.rstrip("/")
        self.path_prefix = "/" + path_prefix.strip("/")
        self._recordings: dict[str, Recording] = {}
        self._per_session: dict[str, int] = {}

    def add(self, session_id: str, speech_seconds: float, silence_seconds: float) -> Recording:
        """Register a new recording of call ``session_id`` and return it with its URL."""
        index = self._per_session.get(session_id, 0) + 1
        self._per_session[session_id] = index
        recording_id = f"{session_id}-{index}"
        recording = Recording(
            recording_id=recording_id,
            session_id=session_id,
            speech_seconds=max(round(speech_seconds, 3), 0.0),
            silence_seconds=max(round(silence_seconds, 3), 0.0),
            url=f"{self.public_base_url}{self.path_prefix}/{recording_id}.wav",
        )
        self._recordings[recording_id] = recording
        return recording

    def add_audio(self, session_id: str, wav: bytes, seconds: float) -> Recording:
        """Register what a person recorded (a checked WAV file of ``seconds``) for the call
        ``session_id``; served as it came."""
        recording = self.add(session_id, seconds, 0.0)
        recording = replace(recording, audio=wav)
        self._recordings[recording.recording_id] = recording
        return recording

    def get(self, recording_id: str) -> Recording | None:
        """The recording with this id (``.wav`` suffix allowed), or None."""
        recording_id = recording_id.removesuffix(".wav")
        if not _RECORDING_ID.match(recording_id):
            return None
        return self._recordings.get(recording_id)

    def for_path(self, path: str) -> Recording | None:
        """The recording a request path such as ``/recordings/ATVId_x-1.wav`` names, or None."""
        prefix = self.path_prefix + "/"
        if not path.startswith(prefix):
            return None
        return self.get(path[len(prefix) :])

    def for_session(self, session_id: str) -> list[Recording]:
        """Every recording of one call, in order."""
        return [r for r in self._recordings.values() if r.session_id == session_id]

    def wav(self, recording_id: str) -> bytes | None:
        """The WAV file of a recording, or None if there is no such recording."""
        recording = self.get(recording_id)
        return None if recording is None else wav_bytes(recording)


def wav_bytes(recording: Recording) -> bytes:
    """A valid PCM WAV file of the recording's length (same recording, same bytes): the
    person's own, or a voice-like murmur."""
    if recording.audio is not None:
        return recording.audio
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        for chunk in _pcm_chunks(recording):
            out.writeframes(chunk)
    return buffer.getvalue()


def _pcm_chunks(recording: Recording) -> Iterator[bytes]:
    total = min(recording.seconds, MAX_RECORDING_SECONDS)
    speech_frames = int(min(recording.speech_seconds, total) * SAMPLE_RATE)
    silence_frames = int(total * SAMPLE_RATE) - speech_frames
    # One second of "voice" is computed once and repeated: long recordings stay cheap.
    voice = _voice_second(random.Random(recording.recording_id))
    whole, rest = divmod(speech_frames, SAMPLE_RATE)
    for _ in range(whole):
        yield voice
    yield voice[: rest * 2]
    silence = bytes(2 * SAMPLE_RATE)
    whole, rest = divmod(silence_frames, SAMPLE_RATE)
    for _ in range(whole):
        yield silence
    yield silence[: rest * 2]


def _voice_second(rng: random.Random) -> bytes:
    low, high = rng.uniform(110.0, 220.0), rng.uniform(400.0, 900.0)
    samples = array("h")
    for n in range(SAMPLE_RATE):
        t = n / SAMPLE_RATE
        syllable = 0.5 * (1 - math.cos(2 * math.pi * 4 * t))  # four "syllables" a second
        tone = 0.6 * math.sin(2 * math.pi * low * t) + 0.3 * math.sin(2 * math.pi * high * t)
        value = syllable * (tone + rng.uniform(-0.1, 0.1)) * 9000
        samples.append(int(value))
    if sys.byteorder == "big":  # WAV samples are little-endian
        samples.byteswap()
    return samples.tobytes()
