"""Session ids, hence recording URLs, cannot be predicted on an unseeded run; a seeded run
says it is a test setting, and the open health answer keeps its seed to itself.

Issue 14: unseeded runs drew session ids from ``random.Random()`` (Mersenne Twister). Its
624-word state comes back from 624 outputs, i.e. 156 ids of one's own calls, and then every
later id is known: another account's call, and its recording at ``/recordings/<id>-1.wav``
(served without credentials, like AT's). The attack is run here as written, over HTTP.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from at_voice_kit.simulator.backend.platform_config import SimulatorConfig
from at_voice_kit.simulator.engine import CallEngine, EnginePorts
from at_voice_kit.simulator.engine.memory import (
    InMemoryCallees,
    InMemoryJournal,
    InMemoryQueues,
    InProcessApps,
)
from at_voice_kit.simulator.engine.recordings import RecordingStore
from at_voice_kit.simulator.testing.wsgi_server import serve_wsgi_app
from at_voice_kit.simulator.verify.recordings import RecordingServer
from tests.simulator.atsim_process import atsim_serve
from tests.simulator.simulator_client import InProcessSimulator

MT_WORDS = 624
SESSION_ID = re.compile(r"ATVId_[0-9a-f]{32}")
RECORD = (
    '<?xml version="1.0" encoding="UTF-8"?><Response>'
    '<Record maxLength="5" trimSilence="false"><Say>Speak</Say></Record></Response>'
)
VICTIM_NUMBER = "+254711082000"
VICTIM_CALLEE = "+254722000001"
MALLORY_NUMBER = "+254711082999"
TOKEN = "health-seed-admin-token-0123"

StartResponse = Callable[[str, list[tuple[str, str]]], object]


def _undo_right_shift(value: int, shift: int) -> int:
    result = value
    for _ in range(32 // shift + 1):
        result = value ^ (result >> shift)
    return result


def _undo_left_shift(value: int, shift: int, mask: int) -> int:
    result = value
    for _ in range(32 // shift + 1):
        result = value ^ ((result << shift) & mask & 0xFFFFFFFF)
    return result


def untempered(output: int) -> int:
    """The Mersenne Twister state word behind one 32-bit output (its tempering undone)."""
    value = _undo_right_shift(output, 18)
    value = _undo_left_shift(value, 15, 0xEFC60000)
    value = _undo_left_shift(value, 7, 0x9D2C5680)
    return _undo_right_shift(value, 11)


def predicted_next_id(observed: list[str]) -> str:
    """The id a Mersenne Twister that produced ``observed`` (128 bits each) draws next."""
    words: list[int] = []
    for session_id in observed:
        value = int(session_id.removeprefix("ATVId_"), 16)
        words.extend((value >> (32 * index)) & 0xFFFFFFFF for index in range(4))
    state = [untempered(word) for word in words[-MT_WORDS:]]
    twister = random.Random()
    twister.setstate((3, (*state, MT_WORDS), None))
    return f"ATVId_{twister.getrandbits(128):032x}"


def test_the_prediction_works_on_a_mersenne_twister() -> None:
    """The attack itself is sound: on ``random.Random()`` ids it predicts the next one."""
    twister = random.Random()
    ids = [f"ATVId_{twister.getrandbits(128):032x}" for _ in range(MT_WORDS // 4 + 1)]
    assert predicted_next_id(ids[:-1]) == ids[-1]


class RecordingApp:
    """Answers every live callback with a Record, events and the final request with OK."""

    def __call__(self, environ: dict[str, Any], start: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = dict(parse_qsl(environ["wsgi.input"].read(length).decode()))
        start("200 OK", [("Content-Type", "text/plain")])
        if environ["PATH_INFO"] == "/events" or form.get("isActive") == "0":
            return [b"OK"]
        return [b"" if "recordingUrl" in form else RECORD.encode()]


@pytest.fixture
def recording_app() -> Iterator[str]:
    with serve_wsgi_app(RecordingApp()) as url:
        yield url


def place_calls(
    client: httpx.Client, username: str, key: str, caller: str, to: list[str]
) -> list[str]:
    answer = client.post(
        "/call",
        data={"username": username, "from": caller, "to": ",".join(to)},
        headers={"apiKey": key, "Accept": "application/json"},
    )
    assert answer.status_code == 200, answer.text
    return [entry["sessionId"] for entry in answer.json()["entries"]]


def wait_for_recording(client: httpx.Client, session_id: str) -> list[str]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        call = client.get(f"/_simulator/calls/{session_id}").json()
        if call["outcome"] is not None:
            urls: list[str] = call["outcome"]["recordingUrls"]
            return urls
        time.sleep(0.1)
    raise AssertionError(f"call {session_id} did not end")


@pytest.mark.e2e
def test_another_accounts_next_session_id_and_recording_cannot_be_predicted(
    recording_app: str,
) -> None:
    with (
        atsim_serve(
            "--speed", "fast", "--callback-url", f"{recording_app}/voice",
            "--events-url", f"{recording_app}/events",
            "--account", "sandbox:victim-key-0123", "--account", "mallory:mallory-key-0123",
        ) as atsim,
        httpx.Client(base_url=atsim.url, timeout=30) as client,
    ):  # fmt: skip
        assert client.put(f"/_simulator/numbers/{MALLORY_NUMBER}", json={"username": "mallory"})
        script = {"answer": "answered", "speechSeconds": 2}
        assert client.put(f"/_simulator/callees/{VICTIM_CALLEE}", json=script).is_success
        # Mallory observes the ids of 156 calls of her own (placed nowhere: no callback URL).
        observed: list[str] = []
        for batch, size in enumerate([20] * 7 + [16]):
            to = [f"+2547330{batch:02d}{index:03d}" for index in range(size)]
            observed += place_calls(client, "mallory", "mallory-key-0123", MALLORY_NUMBER, to)
        assert len(observed) == MT_WORDS // 4
        guess = predicted_next_id(observed)
        # The victim (another account) places a call that records.
        (victim_id,) = place_calls(
            client, "sandbox", "victim-key-0123", VICTIM_NUMBER, [VICTIM_CALLEE]
        )
        recordings = wait_for_recording(client, victim_id)
        assert recordings == [f"{atsim.url}/recordings/{victim_id}-1.wav"]
        assert client.get(f"/recordings/{victim_id}-1.wav").status_code == 200
        # Mallory's guess is not the victim's id (it was, with random.Random()), and the
        # recording her guess names does not exist.
        assert SESSION_ID.fullmatch(guess)
        assert guess != victim_id
        assert client.get(f"/recordings/{guess}-1.wav").status_code == 404


def test_an_unseeded_engine_draws_its_session_ids_from_secrets() -> None:
    """The call engine's own ids (``atsim call``, ``atsim verify`` use them) of an unseeded
    run are not derived from its run seed."""
    ports = EnginePorts(
        InProcessApps(), InMemoryJournal(), InMemoryQueues(), InMemoryCallees(), RecordingStore()
    )
    engine = CallEngine(ports)
    replayed = CallEngine(ports, seed=engine.seed)
    ids = [engine.session_ids.next() for _ in range(3)]
    assert ids != [replayed.session_ids.next() for _ in range(3)]
    assert len(set(ids)) == 3 and all(SESSION_ID.fullmatch(i) for i in ids)


def test_health_shows_the_seed_only_to_whom_the_admin_api_is_open() -> None:
    sim = InProcessSimulator(SimulatorConfig(seed=42, admin_token=TOKEN))
    warning = "seeded: session ids and recordings are predictable, for tests only"
    stranger = sim.admin("GET", "health").json
    assert stranger["seeded"] is True and stranger["warning"] == warning
    assert "seed" not in stranger and "42" not in sim.admin("GET", "health").text
    holder = sim.admin("GET", "health", headers={"Authorization": f"Bearer {TOKEN}"}).json
    assert holder["seed"] == 42
    unseeded = InProcessSimulator(SimulatorConfig(admin_token=TOKEN)).admin("GET", "health").json
    assert unseeded["seeded"] is False and "warning" not in unseeded


@pytest.mark.e2e
def test_a_seeded_atsim_serve_says_it_is_for_tests() -> None:
    with atsim_serve("--seed", "42", "--admin-token", TOKEN) as atsim:
        assert "seeded: session ids and recordings are predictable, for tests only" in atsim.banner
        health = httpx.get(f"{atsim.url}/_simulator/health", timeout=10).json()
        assert health["seeded"] is True and "seed" not in health


def test_verify_serves_recordings_only_at_the_url_it_handed_out() -> None:
    """``atsim verify`` prints its seed, from which its session ids follow: the recordings'
    URL carries a secret of the run's own, so the id alone fetches nothing."""
    with RecordingServer() as store:
        recording = store.add("ATVId_" + "0" * 32, speech_seconds=1.0, silence_seconds=0.0)
        assert httpx.get(recording.url, timeout=10).status_code == 200
        guessed = f"{store.public_base_url}/recordings/{recording.recording_id}.wav"
        assert guessed != recording.url
        assert httpx.get(guessed, timeout=10).status_code == 404
