"""The recordings a dev phone sends: checked, then rewritten as a clean WAV file.

The browser captures the microphone with Web Audio and encodes 16-bit PCM WAV itself; what
arrives is still untrusted bytes, and becomes the ``recordingUrl`` an app downloads. It is
accepted only as PCM WAV (8 to 48 kHz, mono or stereo, 16-bit) of at most
:data:`MAX_RECORDING_BYTES`, its samples are read in full (a header claiming more than the
file holds is refused), and a fresh file is written from them, so what the app gets is a
well-formed WAV whatever was sent.
"""

from __future__ import annotations

import io
import struct
import wave

from at_voice_kit.simulator.engine.line import RecordedAudio

MAX_RECORDING_BYTES = 16 * 1024 * 1024
"""About 17 minutes of 8 kHz speech: more than any Record a caller makes by hand."""
SAMPLE_RATES = (8000, 48000)
SAMPLE_WIDTH = 2


class InvalidRecording(ValueError):
    """A recording that is not one the platform accepts; the message says which rule."""


def checked_recording(body: bytes) -> RecordedAudio:
    """The recording ``body`` holds, as a clean WAV file; :class:`InvalidRecording` if it is
    not a 16-bit PCM WAV file of 8 to 48 kHz and at most 16 MiB."""
    if len(body) > MAX_RECORDING_BYTES:
        raise InvalidRecording(f"a recording must be at most {MAX_RECORDING_BYTES} bytes")
    try:
        with wave.open(io.BytesIO(body)) as audio:
            channels, width, rate = (
                audio.getnchannels(),
                audio.getsampwidth(),
                audio.getframerate(),
            )
            declared = audio.getnframes()
            frames = audio.readframes(declared)
    except (wave.Error, EOFError, ValueError, struct.error) as exc:
        raise InvalidRecording(f"a recording must be a PCM WAV file ({exc})") from None
    low, high = SAMPLE_RATES
    if width != SAMPLE_WIDTH or channels not in (1, 2) or not low <= rate <= high:
        raise InvalidRecording(
            f"a recording must be 16-bit PCM, mono or stereo, {low} to {high} Hz "
            f"(got {8 * width}-bit, {channels} channels, {rate} Hz)"
        )
    frame_count = len(frames) // (channels * width)
    if frame_count < declared:
        raise InvalidRecording(
            f"the file holds {frame_count} samples where its header says {declared}"
        )
    clean = io.BytesIO()
    with wave.open(clean, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(frames[: frame_count * channels * width])
    return RecordedAudio(round(frame_count / rate, 3), clean.getvalue())
