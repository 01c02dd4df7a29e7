"""Realistic data: the Faker provider's numbers, and recordings as real WAV files."""

from __future__ import annotations

import io
import wave

import phonenumbers
import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st

from at_voice_kit.contracts.phone import carrier_name, normalise_international
from at_voice_kit.simulator.engine.fakedata import MARKETS, AfricasTalkingPhoneProvider
from at_voice_kit.simulator.engine.recordings import RecordingStore


@pytest.fixture(scope="module")
def fake() -> Faker:
    faker = Faker()
    faker.add_provider(AfricasTalkingPhoneProvider)
    return faker


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32), region=st.sampled_from([m.region for m in MARKETS]))
def test_numbers_are_valid_mobiles_of_their_carrier(fake: Faker, seed: int, region: str) -> None:
    fake.seed_instance(seed)
    number, carrier = fake.at_phone_user(region)
    parsed = phonenumbers.parse(number, None)
    assert phonenumbers.is_valid_number(parsed)
    assert phonenumbers.region_code_for_number(parsed) == region
    assert phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE
    assert normalise_international(number) == number
    assert carrier_name(number) == carrier


def test_seeded_faker_repeats(fake: Faker) -> None:
    fake.seed_instance(3)
    first = [fake.at_phone_number() for _ in range(5)]
    fake.seed_instance(3)
    assert [fake.at_phone_number() for _ in range(5)] == first
    assert len({phonenumbers.region_code_for_number(phonenumbers.parse(n)) for n in first}) > 1


def test_markets_cover_at_countries() -> None:
    assert {"KE", "UG", "TZ", "NG", "RW", "MW", "ZM", "ET"} <= {m.region for m in MARKETS}


def test_unknown_region_is_a_clear_error(fake: Faker) -> None:
    with pytest.raises(ValueError, match="region must be one of KE"):
        fake.at_phone_number("XX")


def test_recordings_are_valid_wav_of_their_length() -> None:
    store = RecordingStore("http://sim.test/", path_prefix="audio/")
    recording = store.add("ATVId_abc", speech_seconds=2.5, silence_seconds=1.25)
    assert recording.url == "http://sim.test/audio/ATVId_abc-1.wav"
    assert store.for_path("/audio/ATVId_abc-1.wav") == recording
    wav = store.wav(recording.recording_id)
    assert wav is not None and wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    with wave.open(io.BytesIO(wav)) as audio:
        assert audio.getnframes() == int(3.75 * 8000)
        frames = audio.readframes(audio.getnframes())
    speech, silence = frames[: 2 * 20000], frames[2 * 20000 :]
    assert any(speech) and not any(silence)
    assert store.wav(recording.recording_id) == wav  # generated the same way every time
    assert store.add("ATVId_abc", 1, 0).recording_id == "ATVId_abc-2"


@pytest.mark.parametrize(
    "path", ["/audio/../secret.wav", "/audio/", "/other/ATVId_abc-1.wav", "/audio/a b.wav"]
)
def test_recording_lookup_rejects_other_paths(path: str) -> None:
    store = RecordingStore("http://sim.test", path_prefix="/audio")
    store.add("ATVId_abc", 1, 0)
    assert store.for_path(path) is None
