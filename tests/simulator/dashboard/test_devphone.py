"""The dev phone's parts: lines held by listeners, speech rendered offline, the recordings a
browser sends, and the actions a phone posts."""

from __future__ import annotations

import asyncio
import io
import shutil
import struct
import wave
from collections.abc import Iterator

import pytest

from at_voice_kit.simulator.backend.exceptions import InvalidSettings
from at_voice_kit.simulator.configuration.phone_actions import SIGNALS, read_phone_action
from at_voice_kit.simulator.devphone.lines import DevPhones, NotOnThisCall
from at_voice_kit.simulator.devphone.recorded_audio import (
    MAX_RECORDING_BYTES,
    InvalidRecording,
    checked_recording,
)
from at_voice_kit.simulator.devphone.speech import SpeechStore
from at_voice_kit.simulator.engine.line import (
    KeyPress,
    LineAction,
    LineEvent,
    LineEventKind,
    LineInput,
    RecordedAudio,
)

NUMBER = "+254722000100"


class Inputs:
    def __init__(self) -> None:
        self.received: list[LineInput] = []

    def receive(self, item: LineInput) -> None:
        self.received.append(item)


def test_a_number_is_live_while_a_phone_listens_and_busy_while_on_a_call() -> None:
    async def scenario() -> None:
        phones = DevPhones(SpeechStore("no-such-espeak"))
        line = phones.line(NUMBER)
        assert phones.line_for(NUMBER) is None  # nobody listens: a simulated phone user
        listener = line.listen()
        assert (await listener.get()) == {**line.status, "state": "idle"}
        assert phones.line_for(NUMBER) is line
        inputs = Inputs()
        assert line.attach("ATVId_a", inputs)
        assert not line.attach("ATVId_b", Inputs())  # busy
        line.show(LineEvent(LineEventKind.RINGING, "ATVId_a", {"from": "+254711082000"}))
        ringing = await listener.get()
        assert ringing == {"type": "ringing", "sessionId": "ATVId_a", "from": "+254711082000"}
        assert line.status["state"] == "ringing"
        line.act("ATVId_a", KeyPress("5"))
        with pytest.raises(NotOnThisCall):
            line.act("ATVId_other", LineAction.ANSWER)
        assert inputs.received == [KeyPress("5")]
        line.detach("ATVId_a")
        assert (await listener.get())["state"] == "idle"
        line.stop_listening(listener)
        assert phones.line_for(NUMBER) is None

    asyncio.run(scenario())


def test_a_person_whose_every_phone_went_away_hangs_up_after_the_grace() -> None:
    async def scenario() -> list[LineInput]:
        phones = DevPhones(SpeechStore("no-such-espeak"), away_grace=0.2)
        line = phones.line(NUMBER)
        inputs = Inputs()
        listener = line.listen()
        line.attach("ATVId_a", inputs)
        line.stop_listening(listener)
        await asyncio.sleep(0.05)
        again = line.listen()  # a reload within the grace keeps the call
        await asyncio.sleep(0.4)
        assert inputs.received == []
        line.stop_listening(again)
        await asyncio.sleep(0.5)
        return inputs.received

    assert asyncio.run(scenario()) == [LineAction.HANGUP]


def test_a_listener_too_far_behind_is_ended_so_that_it_reconnects() -> None:
    async def scenario() -> list[object]:
        line = DevPhones(SpeechStore("no-such-espeak")).line(NUMBER)
        listener = line.listen()
        line.attach("ATVId_a", Inputs())
        for _ in range(400):
            line.show(LineEvent(LineEventKind.DIGITS_DONE, "ATVId_a", {"digits": "1"}))
        drained = []
        while not listener.empty():
            drained.append(listener.get_nowait())
        return drained

    assert asyncio.run(scenario()) == [None]  # ended: everything queued was dropped


@pytest.fixture(scope="module")
def espeak() -> Iterator[SpeechStore]:
    store = SpeechStore()
    assert store.available, "espeak-ng is needed (apt-get install espeak-ng)"
    yield store


def test_say_is_rendered_offline_cached_and_voiced(espeak: SpeechStore) -> None:
    async def scenario() -> None:
        woman = await espeak.render("Welcome to the service.", "woman")
        again = await espeak.render("Welcome to the service.", "woman")
        man = await espeak.render("Welcome to the service.", "man")
        assert woman is not None and again is woman and man is not None
        assert man.speech_id != woman.speech_id
        with wave.open(io.BytesIO(woman.wav)) as audio:
            assert audio.getnframes() / audio.getframerate() == pytest.approx(
                woman.seconds, abs=0.001
            )
        assert 0.8 < woman.seconds < 5
        assert espeak.get(woman.speech_id) is woman
        dashes = await espeak.render("--help -w /tmp/x.wav", "woman")  # text, never options
        assert dashes is not None and dashes.seconds > 0.5
        long = await espeak.render("word " * 3000, "woman")
        assert long is not None and long.seconds < 400  # the first 2000 characters only

    asyncio.run(scenario())


def test_without_espeak_there_is_no_speech_and_no_error() -> None:
    store = SpeechStore("no-such-espeak")
    assert not store.available
    assert asyncio.run(store.render("Hello", "woman")) is None


def wav(frames: bytes, rate: int = 8000, channels: int = 1, width: int = 2) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(frames)
    return buffer.getvalue()


def test_a_recording_is_checked_and_written_anew() -> None:
    sound = wav(b"\x01\x02" * 16000)
    audio = checked_recording(sound + b"trailing junk")
    assert audio.seconds == 2.0 and audio.wav == sound
    stereo = checked_recording(wav(b"\x00\x01" * 2 * 44100, rate=44100, channels=2))
    assert stereo.seconds == 1.0


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        (b"", "PCM WAV"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "PCM WAV"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "PCM WAV"),
        (wav(b"\x01" * 8000, width=1), "16-bit"),
        (wav(b"\x01\x02" * 100, rate=4000), "8000 to 48000 Hz"),
        (wav(b"\x01\x02" * 100, rate=96000), "8000 to 48000 Hz"),
        (wav(b"\x01\x02" * 8000)[:-4000], "header says"),
    ],
)
def test_what_is_not_a_16_bit_pcm_wav_file_is_refused(body: bytes, rule: str) -> None:
    with pytest.raises(InvalidRecording, match=rule):
        checked_recording(body)


def test_a_recording_over_16_mib_is_refused_before_it_is_read() -> None:
    header = wav(b"")[:40] + struct.pack("<I", MAX_RECORDING_BYTES)
    with pytest.raises(InvalidRecording, match="at most"):
        checked_recording(header + bytes(MAX_RECORDING_BYTES))


@pytest.mark.parametrize(
    ("body", "item"),
    [
        ({"sessionId": "ATVId_a", "action": "answer"}, LineAction.ANSWER),
        ({"sessionId": "ATVId_a", "action": "hangup"}, LineAction.HANGUP),
        ({"sessionId": "ATVId_a", "action": "key", "key": "#"}, KeyPress("#")),
        ({"sessionId": "ATVId_a", "action": "recorded", "seconds": 2.5}, RecordedAudio(2.5)),
    ],
)
def test_the_actions_a_phone_posts(body: dict[str, object], item: LineInput) -> None:
    assert read_phone_action(body).item == item


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "answer"}, "sessionId"),
        ({"sessionId": "ATVId a", "action": "answer"}, "sessionId"),
        ({"sessionId": "ATVId_a", "action": "dance"}, "action"),
        ({"sessionId": "ATVId_a", "action": "key"}, "key"),
        ({"sessionId": "ATVId_a", "action": "key", "key": "12"}, "key"),
        ({"sessionId": "ATVId_a", "action": "answer", "key": "1"}, "key"),
        ({"sessionId": "ATVId_a", "action": "recorded"}, "seconds"),
        ({"sessionId": "ATVId_a", "action": "recorded", "seconds": -1}, "seconds"),
        ({"sessionId": "ATVId_a", "action": "recorded", "seconds": None}, "seconds"),
        ({"sessionId": "ATVId_a", "action": "recorded", "seconds": True}, "seconds"),
        ({"sessionId": "ATVId_a", "action": "answer", "extra": 1}, "extra"),
        (["answer"], ""),
    ],
)
def test_a_bad_action_names_the_field(body: object, field: str) -> None:
    with pytest.raises(InvalidSettings) as caught:
        read_phone_action(body)
    assert field in {error.field for error in caught.value.errors}


def test_espeak_is_the_debian_package() -> None:
    assert shutil.which("espeak-ng") is not None, "apt-get install espeak-ng"


def test_the_contracts_actions_are_the_engines() -> None:
    assert set(SIGNALS) == {action.value for action in LineAction}
