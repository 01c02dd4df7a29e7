"""Each ActionXML element, executed on a call the way AT executes it."""

from __future__ import annotations

import io
import wave
from collections.abc import Mapping

import pytest

from at_voice_kit.contracts.wire import parse_call_start_time
from at_voice_kit.simulator.engine import EngineOptions, TimingModel
from at_voice_kit.simulator.engine.memory import AppAnswer
from tests.simulator.engine.harness import APP, USER, EngineHarness, answering, xml

MENU = '<GetDigits numDigits="1" timeout="10"><Say>Press 1 or 2</Say></GetDigits>'


def scripted(**script: object) -> EngineHarness:
    h = EngineHarness()
    h.script(USER, answer="answered", **script)
    return h


def test_say_takes_time_in_proportion_to_its_text() -> None:
    def duration(text: str) -> float:
        h = scripted()
        h.app(answering(xml(f"<Say>{text}</Say>")))
        record = h.call(events=False)
        request_sent = h.callbacks(record.session_id)[0].sent_at
        return (record.ended_at - request_sent).total_seconds()

    short, long = duration("Hi"), duration("Hello " * 50)
    timing = TimingModel()
    assert long - short == pytest.approx(
        timing.say_seconds("Hello " * 50) - timing.say_seconds("Hi"), abs=0.001
    )
    assert long > 20 > short


def test_play_takes_a_plausible_time_without_fetching() -> None:
    h = scripted()
    h.app(answering(xml('<Play url="http://media.test/jingle.mp3"/>')))
    record = h.call(events=False)
    assert [r.url for r in h.apps.delivered] == [APP, APP]  # nothing fetched from media.test
    assert 4 <= record.duration_seconds <= 17


def test_get_digits_posts_dtmf_and_continues_with_the_answer() -> None:
    h = scripted(digits=["2"])
    seen: list[Mapping[str, str]] = []

    def app(form: Mapping[str, str]) -> str:
        seen.append(dict(form))
        if "dtmfDigits" in form:
            return xml(f"<Say>You chose {form['dtmfDigits']}</Say>")
        return xml(MENU, "<Say>not reached when there is input</Say>")

    h.app(app)
    record = h.call(events=False)
    first, digits, final = seen
    assert "dtmfDigits" not in first
    assert list(digits)[-1] == "dtmfDigits" and digits["dtmfDigits"] == "2"
    assert digits["isActive"] == "1"
    assert "dtmfDigits" not in final and final["isActive"] == "0"
    assert all("not reached" not in line for _, line in record.timeline)


def test_get_digits_without_input_sends_nothing_and_runs_the_next_action() -> None:
    h = scripted(digits=[""])
    h.app(answering(xml(MENU, "<Say>We did not get your choice. Goodbye</Say>")))
    record = h.call(events=False)
    forms = h.forms(record.session_id)
    assert len(forms) == 2  # first and final only
    assert any("GetDigits: no input" in line for _, line in record.timeline)
    # prompt + 10 s timeout + goodbye
    assert record.duration_seconds >= 10


@pytest.mark.parametrize(
    ("attributes", "keys", "expected"),
    [
        ('finishOnKey="#"', "1234#", "1234"),
        ('finishOnKey="*"', "12*9", "12"),
        ('numDigits="3"', "98765", "987"),
        ('numDigits="4" finishOnKey="#"', "12#", "12"),
        ("", "57#", "5"),  # AT: no finishOnKey and no numDigits sends the first key
        ('finishOnKey="#"', "42", "42"),  # timed out after some keys: what was typed is sent
    ],
)
def test_get_digits_rules(attributes: str, keys: str, expected: str) -> None:
    h = scripted(digits=[keys])
    got: list[str] = []

    def app(form: Mapping[str, str]) -> str:
        if "dtmfDigits" in form:
            got.append(form["dtmfDigits"])
            return ""
        return xml(f'<GetDigits timeout="5" {attributes}><Say>Enter</Say></GetDigits>')

    h.app(app)
    h.call(events=False)
    assert got == [expected]


def test_default_finish_on_key_is_configurable() -> None:
    h = EngineHarness(options=EngineOptions(default_finish_on_key="#"))
    h.script(USER, answer="answered", digits=["1234#"])
    got: list[str] = []

    def app(form: Mapping[str, str]) -> str:
        if "dtmfDigits" in form:
            got.append(form["dtmfDigits"])
            return ""
        return xml("<GetDigits><Say>Account number</Say></GetDigits>")

    h.app(app)
    h.call(events=False)
    assert got == ["1234"]


def test_get_digits_callback_url_gets_the_digits_only() -> None:
    h = scripted(digits=["1"])
    menu_url = "http://app.test/menu"
    h.app(
        answering(
            xml(f'<GetDigits numDigits="1" callbackUrl="{menu_url}"><Say>Pick</Say></GetDigits>')
        )
    )
    h.app(answering(xml("<Say>Sales</Say>")), menu_url)
    record = h.call(events=False)
    urls = [e.request.url for e in h.callbacks(record.session_id)]
    assert urls == [APP, menu_url, APP]  # not sticky: the final goes to the number's URL


def test_scripted_digits_are_consumed_one_entry_per_get_digits() -> None:
    h = scripted(digits=["1", "2#", "3"])
    got: list[str] = []

    def app(form: Mapping[str, str]) -> str:
        if "dtmfDigits" in form:
            got.append(form["dtmfDigits"])
        return xml('<GetDigits finishOnKey="#" timeout="3"><Say>Again</Say></GetDigits>')

    h.app(app)
    h.call(events=False)
    assert got == ["1", "2", "3"]  # then no input: the call ends


def test_partial_record_posts_a_downloadable_wav() -> None:
    h = scripted(speechSeconds=7)
    h.app(
        answering(
            xml('<Record finishOnKey="#" maxLength="30" trimSilence="true" playBeep="true">'
                "<Say>Leave a message after the beep</Say></Record>"),
            xml("<Say>Thank you</Say>"),
        )
    )  # fmt: skip
    record = h.call(events=False)
    _, recorded, final = h.forms(record.session_id)
    url = recorded["recordingUrl"]
    assert url.startswith("http://sim.test/recordings/") and url.endswith(".wav")
    assert "recordingUrl" not in final  # a partial recording is not repeated at the end
    recording = h.recordings.for_path(url.removeprefix("http://sim.test"))
    assert recording is not None
    wav = h.recordings.wav(recording.recording_id)
    assert wav is not None
    with wave.open(io.BytesIO(wav)) as audio:
        assert (audio.getnchannels(), audio.getsampwidth(), audio.getframerate()) == (1, 2, 8000)
        assert audio.getnframes() == 7 * 8000  # trimSilence: only the speech
    assert record.recording_urls == (url,)


def test_the_timeline_gives_the_recordings_length_and_the_speech_in_it() -> None:
    # A 5 s message ended by "#" 1 to 3.5 s later is kept with that silence: the timeline
    # said "Record: 7.9 s" for what the caller knew as a 5 s message.
    h = scripted(speechSeconds=5)
    h.app(answering(xml('<Record finishOnKey="#"><Say>Speak</Say></Record>')))
    record = h.call(events=False)
    recording = h.recordings.for_session(record.session_id)[0]
    kept = recording.speech_seconds + recording.silence_seconds
    notes = [line for _, line in record.timeline if line.startswith("Record:")]
    assert notes == [f"Record: {kept:.1f} s, 5.0 s of speech -> {record.recording_urls[0]}"]


def test_record_max_length_cuts_the_recording() -> None:
    h = scripted(speechSeconds=40)
    h.app(answering(xml('<Record finishOnKey="#" maxLength="10"><Say>Speak</Say></Record>')))
    record = h.call(events=False)
    recording = h.recordings.for_session(record.session_id)[0]
    assert recording.seconds == 10


def test_record_with_nothing_said_sends_an_empty_recording_url() -> None:
    h = scripted(speechSeconds=0)
    h.app(answering(xml('<Record finishOnKey="#"><Say>Speak</Say></Record>')))
    record = h.call(events=False)
    assert h.forms(record.session_id)[1]["recordingUrl"] == ""
    assert h.recordings.for_session(record.session_id) == []


def test_record_without_finish_key_ends_when_the_user_hangs_up() -> None:
    h = scripted(speechSeconds=5)
    h.app(answering(xml("<Record><Say>Speak</Say></Record>"), xml("<Say>unreachable</Say>")))
    record = h.call(events=False)
    forms = h.forms(record.session_id)
    assert len(forms) == 2  # no recording request: the user left; the URL is in the final
    assert forms[-1]["recordingUrl"].endswith(".wav")
    assert record.end_reason == "the phone user hung up during a recording"


def test_terminal_record_reports_the_url_in_the_final_request() -> None:
    h = scripted(speechSeconds=12)
    h.app(answering(xml("<Say>Recording this call</Say>", "<Record/>")))
    record = h.call(events=False)
    _, final = h.forms(record.session_id)
    assert final["recordingUrl"] == record.recording_urls[0]
    recording = h.recordings.for_session(record.session_id)[0]
    assert recording.speech_seconds == 12 and recording.silence_seconds > 0


def test_record_callback_url_becomes_the_call_callback() -> None:
    h = scripted(speechSeconds=3)
    rec_url = "http://app.test/recorded"
    h.app(answering(xml(f'<Record finishOnKey="#" callbackUrl="{rec_url}"><Say>Hi</Say></Record>')))
    h.app(answering(xml("<Say>Saved</Say>")), rec_url)
    record = h.call(events=False)
    assert [e.request.url for e in h.callbacks(record.session_id)] == [APP, rec_url, rec_url]


def test_redirect_moves_the_callback_url_for_the_rest_of_the_call() -> None:
    h = scripted(digits=["5"])
    other = "http://app.test/other"
    h.app(answering(xml(f"<Redirect>{other}</Redirect>")))
    h.app(answering(xml('<GetDigits numDigits="1"><Say>Press</Say></GetDigits>'), ""), other)
    record = h.call(events=False)
    assert [e.request.url for e in h.callbacks(record.session_id)] == [APP, other, other, other]


def test_reject_on_an_answered_call_hangs_up() -> None:
    h = scripted()
    h.app(answering(xml("<Reject/>")))
    record = h.call(events=False)
    final = h.forms(record.session_id)[-1]
    assert record.ending.cause.value == "CALL_REJECTED" and "hangupCause" not in final
    assert final["callSessionState"] == "Completed"


def test_conference_holds_the_line_until_the_user_leaves() -> None:
    h = scripted(hangupAfter=90)
    h.app(answering(xml("<Conference/>")))
    record = h.call(events=False)
    assert record.ending.cause.value == "NORMAL_CLEARING"
    assert record.duration_seconds <= 90


def test_empty_answer_means_no_more_actions() -> None:
    h = scripted()
    h.app(lambda form: AppAnswer(200, "  \n"))
    record = h.call(events=False)
    assert record.ending.status.value == "Success"
    assert record.end_reason == "no more actions: AT hung up"


def test_call_start_time_uses_the_configured_separator() -> None:
    from at_voice_kit.contracts.wire import CallStartTimeSeparator

    for separator, expected in (
        (CallStartTimeSeparator.PLUS, "+"),
        (CallStartTimeSeparator.SPACE, " "),
    ):
        h = EngineHarness(options=EngineOptions(separator=separator))
        h.script(USER, answer="answered")
        h.app(answering(xml("<Say>Hi</Say>")))
        record = h.call(events=False)
        value = h.forms(record.session_id)[0]["callStartTime"]
        assert value[10] == expected
        assert parse_call_start_time(value) == record.call_start.replace(microsecond=0)


def test_record_silence_timeout_ends_the_recording() -> None:
    patient = TimingModel(silence_patience=(20.0, 20.0))
    h = EngineHarness(options=EngineOptions(timing=patient))
    h.script(USER, answer="answered", speechSeconds=3)
    h.app(answering(xml('<Record timeout="5"><Say>Speak</Say></Record>'), xml("<Say>Got it</Say>")))
    record = h.call(events=False)
    assert "recordingUrl" in h.forms(record.session_id)[1]
    recording = h.recordings.for_session(record.session_id)[0]
    assert (recording.speech_seconds, recording.silence_seconds) == (3, 5)


def test_the_final_request_of_an_answered_call_names_no_cause_unless_configured() -> None:
    # Recorded finals of answered calls carry no hangupCause; AT's help page is ambiguous,
    # so EngineOptions(hangup_cause_when_answered=True) serves apps written the other way.
    for when_answered, expected in ((False, None), (True, "NORMAL_CLEARING")):
        h = EngineHarness(options=EngineOptions(hangup_cause_when_answered=when_answered))
        h.script(USER, answer="answered")
        h.app(answering(xml("<Say>Hi</Say>")))
        record = h.call(events=False)
        final = h.forms(record.session_id)[-1]
        assert (final["isActive"], final.get("hangupCause")) == ("0", expected)
    h = EngineHarness(options=EngineOptions(hangup_cause_when_answered=False))
    h.script(USER, answer="busy")
    record = h.call(events=False)
    assert h.forms(record.session_id)[-1]["hangupCause"] == "USER_BUSY"
