"""``Say`` as speech, offline: espeak-ng renders the app's text to a WAV file, kept for reuse.

The dev phone plays every ``Say`` to the person on the line. AT speaks with its own voices;
the simulator has no network and no AT account, so it speaks with espeak-ng (the Debian
package ``espeak-ng``), ``man`` and ``woman`` as two of its English voices. What is rendered
is cached by voice and text, so a menu heard twice is rendered once; the cache is bounded in
entries and bytes. Without espeak-ng nothing is rendered: the phone shows the caption alone.

The text is the app's, so it reaches espeak-ng only on its standard input (never as an
argument, where a leading ``-`` would read as an option), and only its first
:data:`MAX_SPOKEN_CHARACTERS` characters (about three minutes of speech) are spoken.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import shutil
import tempfile
import wave
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ESPEAK = "espeak-ng"
VOICES = {"man": "en+m3", "woman": "en+f3"}
"""espeak-ng's voice for each of AT's ``voice`` values."""
MAX_SPOKEN_CHARACTERS = 2000
RENDER_TIMEOUT_SECONDS = 30.0
DEFAULT_MAX_ENTRIES = 256
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Speech:
    """A rendered ``Say``: its id (for its URL), its WAV file and how long it lasts."""

    speech_id: str
    wav: bytes
    seconds: float


class SpeechStore:
    """Renders text to speech with espeak-ng and keeps the latest renderings."""

    def __init__(
        self,
        command: str = ESPEAK,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self._executable = shutil.which(command)
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._cache: OrderedDict[str, Speech] = OrderedDict()
        self._bytes = 0
        self._rendering: dict[str, asyncio.Future[Speech | None]] = {}

    @property
    def available(self) -> bool:
        """Whether espeak-ng is installed (without it, phones show captions only)."""
        return self._executable is not None

    def get(self, speech_id: str) -> Speech | None:
        """A rendering still in the cache."""
        return self._cache.get(speech_id)

    async def render(self, text: str, voice: str) -> Speech | None:
        """``text`` spoken in AT's ``voice``; ``None`` if it cannot be rendered."""
        spoken = text.strip()[:MAX_SPOKEN_CHARACTERS]
        if not spoken or self._executable is None:
            return None
        espeak_voice = VOICES.get(voice, VOICES["woman"])
        speech_id = hashlib.sha256(f"{espeak_voice}\0{spoken}".encode()).hexdigest()[:32]
        cached = self._cache.get(speech_id)
        if cached is not None:
            self._cache.move_to_end(speech_id)
            return cached
        pending = self._rendering.get(speech_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Speech | None] = asyncio.get_running_loop().create_future()
        self._rendering[speech_id] = future
        try:
            speech = await self._render(speech_id, spoken, espeak_voice)
            future.set_result(speech)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # marked as retrieved: nobody else may be waiting
            raise
        finally:
            del self._rendering[speech_id]
        if speech is not None:
            self._keep(speech)
        return speech

    async def _render(self, speech_id: str, text: str, voice: str) -> Speech | None:
        assert self._executable is not None
        with tempfile.TemporaryDirectory(prefix="atsim-speech-") as folder:
            path = Path(folder) / "say.wav"
            process = await asyncio.create_subprocess_exec(
                self._executable, "-v", voice, "-w", str(path), "--stdin",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            spoken = process.communicate(text.encode("utf-8"))
            try:
                await asyncio.wait_for(spoken, RENDER_TIMEOUT_SECONDS)
            except TimeoutError:
                process.kill()
                await process.wait()
                log.warning("espeak-ng took too long; the caption is shown alone")
                return None
            if process.returncode != 0 or not path.is_file():
                log.warning("espeak-ng failed (%s); the caption is shown alone", process.returncode)
                return None
            wav = path.read_bytes()
        return Speech(speech_id, wav, wav_seconds(wav))

    def _keep(self, speech: Speech) -> None:
        self._cache[speech.speech_id] = speech
        self._bytes += len(speech.wav)
        while len(self._cache) > self._max_entries or self._bytes > self._max_bytes:
            _, dropped = self._cache.popitem(last=False)
            self._bytes -= len(dropped.wav)


def wav_seconds(wav: bytes) -> float:
    """How long a WAV file espeak-ng wrote lasts."""
    with wave.open(io.BytesIO(wav), "rb") as audio:
        frames: int = audio.getnframes()
        rate: int = audio.getframerate()
    return round(frames / rate, 3)
