"""A person on the line: calls to a held number wait for what the person does, in real time,
whatever the engine's clock, with the same ActionXML rules as a simulated user."""

from __future__ import annotations

import asyncio
import io
import time
import wave
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from at_voice_kit.contracts.vocabulary import HangupCause
from at_voice_kit.simulator.engine import (
    CalleeAnswer,
    CalleeScript,
    CallEngine,
    EnginePorts,
    VirtualClock,
)
from at_voice_kit.simulator.engine.line import (
    KeyPress,
    LineAction,
    LineEvent,
    LineEventKind,
    LineInputs,
    RecordedAudio,
)
from at_voice_kit.simulator.engine.records import CallRecord
from tests.simulator.engine.harness import APP, AT_NUMBER, EVENTS, USER, EngineHarness, xml

PERSON = "+254722000100"
MENU = xml(
    '<GetDigits numDigits="1" timeout="5"><Say>Press 1</Say></GetDigits>', "<Say>Nothing?</Say>"
)
RECORD = xml('<Record finishOnKey="#" maxLength="30" playBeep="true"><Say>Speak</Say></Record>')
THANKS = xml("<Say>Thanks</Say>")

Input = KeyPress | LineAction | RecordedAudio
Plan = Mapping[str, Sequence[tuple[Input, float]]]
"""What a person does on seeing an event: the event's kind (``"say:<text>"`` for one Say in
particular) -> ``(input, after how many real seconds)``, in order."""


@dataclass
class Person:
    """A fake live line: keeps what it is shown, reacts to events as a person would."""

    number: str = PERSON
    plan: Plan = field(default_factory=dict)
    seconds_per_say: float | None = 0.05
    events: list[LineEvent] = field(default_factory=list)
    inputs: LineInputs | None = None
    session_id: str | None = None
    attached: list[str] = field(default_factory=list)
    detached: list[str] = field(default_factory=list)

    def attach(self, session_id: str, inputs: LineInputs) -> bool:
        if self.inputs is not None:
            return False
        self.session_id, self.inputs = session_id, inputs
        self.attached.append(session_id)
        return True

    def detach(self, session_id: str) -> None:
        self.detached.append(session_id)
        if session_id == self.session_id:
            self.session_id, self.inputs = None, None

    def show(self, event: LineEvent) -> None:
        self.events.append(event)
        key = event.kind.value
        if event.kind is LineEventKind.SAY and f"say:{event.details['text']}" in self.plan:
            key = f"say:{event.details['text']}"
        for item, after in self.plan.get(key, ()):
            self.does(item, after)

    async def speak(self, session_id: str, text: str, voice: str) -> float | None:
        self.show(LineEvent(LineEventKind.SAY, session_id, {"text": text, "voice": voice}))
        return self.seconds_per_say

    def does(self, item: Input, after: float = 0.0) -> None:
        """Do something now, or ``after`` real seconds (the engine waits on its own)."""
        inputs = self.inputs
        assert inputs is not None
        if after <= 0:
            inputs.receive(item)
        else:
            asyncio.get_running_loop().call_later(after, inputs.receive, item)

    def kinds(self) -> list[LineEventKind]:
        return [event.kind for event in self.events]

    def said(self) -> list[str]:
        return [str(e.details["text"]) for e in self.events if e.kind is LineEventKind.SAY]


@dataclass
class Lines:
    """The engine's directory of held numbers."""

    people: Mapping[str, Person]

    def line_for(self, number: str) -> Person | None:
        return self.people.get(number)


def live_engine(harness: EngineHarness, *people: Person) -> CallEngine:
    """The harness's engine (a virtual clock), with these people holding their numbers."""
    ports = EnginePorts(
        harness.apps,
        harness.journal,
        harness.queues,
        harness.callees,
        harness.recordings,
        on_call_end=harness.records.append,
        lines=Lines({person.number: person for person in people}),
    )
    return CallEngine(
        ports, clock=VirtualClock(harness.epoch), seed=harness.seed, options=harness.options
    )


def menu_app(harness: EngineHarness) -> list[Mapping[str, str]]:
    posted: list[Mapping[str, str]] = []

    def app(form: Mapping[str, str]) -> str:
        posted.append(dict(form))
        if form.get("isActive") == "0":
            return ""
        if form.get("dtmfDigits") == "1":
            return RECORD
        if "recordingUrl" in form:
            return THANKS
        return MENU

    harness.app(app)
    return posted


def place(engine: CallEngine, number: str = PERSON) -> CallRecord:
    async def call() -> CallRecord:
        return await engine.place_call(number, AT_NUMBER, APP, events_url=EVENTS).result()

    record = asyncio.run(call())
    assert isinstance(record, CallRecord)
    return record


def answers_and_presses(key: str, after: float = 0.1) -> Plan:
    return {
        "ringing": [(LineAction.ANSWER, after)],
        "digits": [(KeyPress(key), after)],
        "record": [(RecordedAudio(1.5, wav_of(1.5)), after)],
    }


def wav_of(seconds: float, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x10\x20" * int(seconds * rate))
    return buffer.getvalue()


def test_a_person_answers_hears_the_prompt_presses_a_key_and_records() -> None:
    harness = EngineHarness()
    posted = menu_app(harness)
    person = Person(plan=answers_and_presses("1"))
    record = place(live_engine(harness, person))
    assert record.ending.cause is HangupCause.NORMAL_CLEARING
    callbacks = [form for form in posted if form.get("isActive") == "1"]
    assert callbacks[1]["dtmfDigits"] == "1"
    recording_url = callbacks[2]["recordingUrl"]
    recording_id = recording_url.rsplit("/", 1)[1]
    assert harness.recordings.wav(recording_id) == wav_of(1.5)  # the person's own audio
    assert person.said() == ["Press 1", "Speak", "Thanks"]
    kinds = person.kinds()
    assert kinds[:2] == [LineEventKind.RINGING, LineEventKind.CONNECTED]
    assert kinds.index(LineEventKind.DIGITS) < kinds.index(LineEventKind.DIGITS_DONE)
    assert LineEventKind.RECORDED in kinds and kinds[-1] is LineEventKind.ENDED
    assert person.detached == person.attached == [record.session_id]


def test_a_live_call_runs_in_real_time_while_other_calls_run_on_virtual_time() -> None:
    harness = EngineHarness()
    menu_app(harness)
    harness.callees.scripts[USER] = CalleeScript(CalleeAnswer.ANSWERED, digits=("",))
    person = Person(plan=answers_and_presses("1", after=0.4))
    engine = live_engine(harness, person)

    async def both() -> tuple[CallRecord, CallRecord, float]:
        live = engine.place_call(PERSON, AT_NUMBER, APP, events_url=EVENTS)
        simulated = engine.place_call(USER, AT_NUMBER, APP, events_url=EVENTS)
        started = time.monotonic()
        other = await simulated.result()
        other_took = time.monotonic() - started
        return await live.result(), other, other_took

    live, other, other_took = asyncio.run(both())  # type: ignore[misc]
    # The person pressed 2 after 0.6 s of real time: the live call took that long at least,
    # while the simulated call, minutes long on its virtual clock, did not wait for it.
    assert (live.ended_at - live.queued_at).total_seconds() >= 1.2
    assert (other.ended_at - other.queued_at).total_seconds() > 5  # rang, then a 5 s timeout
    assert other_took < (live.ended_at - live.queued_at).total_seconds()


def test_hanging_up_in_the_middle_of_a_long_say_ends_the_call_at_once() -> None:
    harness = EngineHarness()
    posted: list[Mapping[str, str]] = []

    def app(form: Mapping[str, str]) -> str:
        posted.append(dict(form))
        return "" if form.get("isActive") == "0" else xml("<Say>Long</Say>", "<Say>Never</Say>")

    harness.app(app)

    plan: Plan = {"ringing": [(LineAction.ANSWER, 0)], "say": [(LineAction.HANGUP, 0.2)]}
    person = Person(plan=plan, seconds_per_say=600.0)
    started = time.monotonic()
    record = place(live_engine(harness, person))
    assert time.monotonic() - started < 60  # not the Say's ten minutes
    assert record.ending.cause is HangupCause.NORMAL_CLEARING
    assert record.end_reason == "the phone user hung up"
    assert person.said() == ["Long"]  # the second Say never started
    assert [form["isActive"] for form in posted] == ["1", "0"]


def test_rejecting_the_ringing_phone_and_letting_it_ring_out() -> None:
    harness = EngineHarness()
    menu_app(harness)
    rejecting = Person(plan={"ringing": [(LineAction.REJECT, 0)]})
    assert place(live_engine(harness, rejecting)).ending.cause is HangupCause.CALL_REJECTED

    harness = EngineHarness(options=replace(EngineHarness().options, live_ring_seconds=0.3))
    menu_app(harness)
    away = Person()
    record = place(live_engine(harness, away))
    assert record.ending.cause in (
        HangupCause.NO_ANSWER,
        HangupCause.NO_USER_RESPONSE,
        HangupCause.RECOVERY_ON_TIMER_EXPIRE,
    )
    assert away.kinds()[0] is LineEventKind.RINGING


def test_a_person_already_on_a_call_is_busy() -> None:
    harness = EngineHarness()
    menu_app(harness)
    person = Person()
    person.inputs = _Nobody()  # on another call
    record = place(live_engine(harness, person))
    assert record.ending.cause is HangupCause.USER_BUSY
    assert person.events == []


def test_a_busy_person_is_busy_whatever_a_script_for_their_number_says() -> None:
    # A script's cause goes with its own answer: it was used for the busy line as well, so
    # a held number scripted to reject ended a busy call with CALL_REJECTED.
    harness = EngineHarness()
    menu_app(harness)
    harness.callees.scripts[PERSON] = CalleeScript(
        CalleeAnswer.REJECTED, hangup_cause=HangupCause.CALL_REJECTED
    )
    person = Person()
    person.inputs = _Nobody()  # on another call
    record = place(live_engine(harness, person))
    assert record.ending.cause is HangupCause.USER_BUSY


class _Nobody:
    def receive(self, item: object) -> None:
        raise AssertionError("a busy person's other call got an input")


def test_keys_count_from_the_get_digits_on_and_a_key_during_the_prompt_stops_it() -> None:
    harness = EngineHarness()
    posted = menu_app(harness)

    plan: Plan = {
        "ringing": [(LineAction.ANSWER, 0)],
        "connected": [(KeyPress("9"), 0)],  # before any GetDigits: dropped
        "say:Press 1": [(KeyPress("1"), 0.05)],  # during the prompt: barge-in
        "say:Speak": [(LineAction.HANGUP, 0.05)],  # during the Record's prompt
    }
    person = Person(plan=plan, seconds_per_say=30.0)
    started = time.monotonic()
    record = place(live_engine(harness, person))
    assert time.monotonic() - started < 25  # neither 30 s prompt played to its end
    digits = [form["dtmfDigits"] for form in posted if "dtmfDigits" in form]
    assert digits == ["1"]
    assert LineEventKind.PROMPT_STOPPED in person.kinds()
    assert record.end_reason == "the phone user hung up"


def test_finish_on_key_stops_the_recording_and_the_phone_sends_it() -> None:
    harness = EngineHarness()
    posted = menu_app(harness)

    person = Person(
        plan={
            "ringing": [(LineAction.ANSWER, 0)],
            "digits": [(KeyPress("1"), 0)],
            "record": [(KeyPress("#"), 0.3)],
            "record-stop": [(RecordedAudio(0.3, wav_of(0.3)), 0)],
        }
    )
    place(live_engine(harness, person))
    assert LineEventKind.RECORD_STOP in person.kinds()
    urls = [form["recordingUrl"] for form in posted if "recordingUrl" in form]
    assert len(urls) == 1 and urls[0].endswith("-1.wav")


def test_hanging_up_while_recording_puts_the_recording_in_the_final_request() -> None:
    harness = EngineHarness()
    posted = menu_app(harness)

    plan: Plan = {
        "ringing": [(LineAction.ANSWER, 0)],
        "digits": [(KeyPress("1"), 0)],
        # The phone hands in what it recorded, then hangs up: both before the engine runs.
        "record": [(RecordedAudio(0.8, wav_of(0.8)), 0.2), (LineAction.HANGUP, 0.2)],
    }
    record = place(live_engine(harness, Person(plan=plan)))
    final = next(form for form in posted if form.get("isActive") == "0")
    assert final["recordingUrl"] == record.recording_urls[0]
    assert not any("recordingUrl" in form for form in posted if form.get("isActive") == "1")


def test_a_person_calling_in_who_hangs_up_before_the_app_answers_cancels_the_call() -> None:
    harness = EngineHarness()
    person = Person()

    async def slow_app(form: Mapping[str, str]) -> str:
        if form.get("isActive") == "1":
            person.does(LineAction.HANGUP)
            await asyncio.sleep(0.1)
        return MENU

    harness.app(slow_app)
    engine = live_engine(harness, person)

    async def call() -> CallRecord:
        return await engine.dial_in(PERSON, AT_NUMBER, APP, events_url=EVENTS).result()

    record = asyncio.run(call())
    assert record.ending.cause is HangupCause.ORIGINATOR_CANCEL
    assert person.detached == [record.session_id]
