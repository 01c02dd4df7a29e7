"""Call flows: checked at start-up, routed statelessly through the callback URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from at_voice_kit.contracts import actionxml as ax
from at_voice_kit.service.flows import (
    CallFlow,
    FlowError,
    StepUrls,
    load_flow,
    parse_flow,
    resolve_flow_path,
)
from at_voice_kit.service.flows.runner import RENDERED_CACHE_SIZE
from at_voice_kit.service.webhook_forms import CallbackRequest, parse_callback

BASE_URL = "https://voice.example.com/voice/instruct"
URLS = StepUrls(BASE_URL)
SHIPPED = sorted(p.stem for p in resolve_flow_path(None).parent.glob("*.yaml"))


def request(**fields: str) -> CallbackRequest:
    return parse_callback(
        {
            "sessionId": "ATVId_flow",
            "isActive": "1",
            "callerNumber": "+254711082369",
            "destinationNumber": "+254711082000",
            **fields,
        }
    )


def answer(flow: CallFlow, position: str | None, **fields: str) -> ax.Response:
    result = ax.parse(flow.respond(request(**fields), position, URLS))
    assert result.ok, result.problems
    assert result.response is not None
    return result.response


def step_of(url: str | None) -> str:
    assert url is not None and url.startswith(BASE_URL)
    return parse_qs(urlsplit(url).query)["step"][0]


def test_shipped_flows_include_welcome_and_menu() -> None:
    assert {"welcome", "menu"} <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_step_of_every_shipped_flow_answers_every_request_kind_validly(name: str) -> None:
    """The real AT sequence at every step: first request, digits, recording, redirect."""
    flow = CallFlow(load_flow(resolve_flow_path(name)))
    kinds: list[dict[str, str]] = [
        {},
        {"dtmfDigits": "1"},
        {"dtmfDigits": "9"},
        {"dtmfDigits": "2#"},
        {"recordingUrl": "https://sim.example/recordings/1.wav"},
        {"recordingUrl": ""},
    ]
    for step in [None, *flow.definition.steps]:
        for fields in kinds:
            answer(flow, step, **fields)


def test_menu_flow_routes_by_digits_recording_and_silence() -> None:
    flow = CallFlow(load_flow(resolve_flow_path("menu")))
    first = answer(flow, None)
    (get_digits, no_input) = first.actions
    assert isinstance(get_digits, ax.GetDigits)
    assert isinstance(get_digits.prompt, ax.Say)
    assert get_digits.num_digits == 1
    assert step_of(get_digits.callback_url) == "menu"
    assert isinstance(no_input, ax.Redirect) and step_of(no_input.url) == "goodbye"

    message = answer(flow, "menu", dtmfDigits="1")
    record = message.actions[0]
    assert isinstance(record, ax.Record) and not record.terminal
    assert step_of(record.callback_url) == "message"
    thanks = answer(flow, "message", recordingUrl="https://sim.example/r.wav")
    assert thanks.actions == (ax.Say("Thank you, your message has been recorded. Goodbye."),)

    agent = answer(flow, "menu", dtmfDigits="2")
    dial = agent.actions[1]
    assert isinstance(dial, ax.Dial) and len(dial.phone_numbers) == 2

    hours = answer(flow, "menu", dtmfDigits="3#")
    assert isinstance(hours.actions[-1], ax.Redirect)
    assert step_of(hours.actions[-1].url) == "menu"

    invalid = answer(flow, "menu", dtmfDigits="7")
    assert isinstance(invalid.actions[0], ax.Say) and "not an option" in invalid.actions[0].text

    goodbye = answer(flow, "goodbye")
    assert isinstance(goodbye.actions[0], ax.Say) and "Goodbye" in goodbye.actions[0].text


def test_unknown_step_in_url_restarts_the_flow() -> None:
    flow = CallFlow(load_flow(resolve_flow_path("menu")))
    assert answer(flow, "deleted-step") == answer(flow, None)


def test_webhook_secret_travels_in_every_flow_url() -> None:
    flow = CallFlow(load_flow(resolve_flow_path("menu")))
    xml = flow.respond(request(), None, StepUrls(BASE_URL, secret="s3&cret"))
    response = ax.parse(xml).response
    assert response is not None
    get_digits = response.actions[0]
    assert isinstance(get_digits, ax.GetDigits) and get_digits.callback_url is not None
    assert parse_qs(urlsplit(get_digits.callback_url).query)["secret"] == ["s3&cret"]


def flow_doc(**steps: Any) -> dict[str, Any]:
    return {"start": "a", "steps": steps}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (flow_doc(a={"actions": [{"goto": "nowhere"}]}), "unknown step 'nowhere'"),
        (
            flow_doc(a={"actions": [{"say": "hi"}]}, b={"actions": [{"say": "lost"}]}),
            "'b' is unreachable",
        ),
        (flow_doc(a={"actions": [{"shout": "hi"}]}), "unknown action 'shout'"),
        (
            flow_doc(a={"actions": [{"say": {"text": "hi", "voice": "robot"}}]}),
            "man or woman, or a voice name",
        ),
        (flow_doc(a={"actions": [{"get_digits": {"num_digits": "one"}}]}), "wrong type"),
        (flow_doc(a={"actions": [{"say": "hi"}], "on_digits": {"1": "a"}}), "must be GetDigits"),
        (
            flow_doc(a={"actions": [{"dial": {"phone_numbers": ["12"]}}]}),
            "invalid ActionXML",
        ),
        (flow_doc(a={"actions": [{"reject": None}, {"say": "after"}]}), "invalid ActionXML"),
        (flow_doc(a={"actions": [{"say": "hi"}], "typo": 1}), "unknown key 'typo'"),
        (
            flow_doc(a={"actions": [{"record": {}}], "on_unknown": "a"}),
            "on_unknown needs a GetDigits",
        ),
        ({"start": "zz", "steps": {"a": {"actions": [{"say": "x"}]}}}, "'start' must name"),
        ({"steps": {}}, "'steps' must map"),
    ],
)
def test_invalid_flows_are_refused_naming_the_problem(document: Any, message: str) -> None:
    with pytest.raises(FlowError) as excinfo:
        CallFlow(parse_flow(document, source="flow.yaml"))
    assert message in str(excinfo.value)
    assert str(excinfo.value).startswith("flow.yaml")


def test_a_flow_may_name_a_text_to_speech_voice() -> None:
    """``voice: en-US-Standard-C`` works on AT (see the fidelity table): the flow takes it."""
    document = flow_doc(a={"actions": [{"say": {"text": "hi", "voice": "en-US-Standard-C"}}]})
    flow = parse_flow(document, source="flow.yaml")
    CallFlow(flow)
    (say,) = flow.steps["a"].actions
    assert isinstance(say, ax.Say) and say.voice == "en-US-Standard-C"


def test_flow_file_errors_name_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("start: [unclosed")
    with pytest.raises(FlowError, match="not valid YAML"):
        load_flow(broken)
    with pytest.raises(FlowError, match="cannot read"):
        load_flow(tmp_path / "missing.yaml")


def test_a_custom_flow_file_by_path(tmp_path: Path) -> None:
    path = tmp_path / "custom.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "start": "hello",
                "steps": {
                    "hello": {
                        "actions": [
                            {"play": "https://cdn.example/hello.mp3"},
                            {"say": {"text": "Bye <now> & then", "voice": "man"}},
                        ]
                    }
                },
            }
        )
    )
    flow = CallFlow(load_flow(resolve_flow_path(str(path))))
    response = answer(flow, None)
    assert response.actions == (
        ax.Play("https://cdn.example/hello.mp3"),
        ax.Say("Bye <now> & then", voice=ax.Voice.MAN),
    )


def test_rendered_documents_are_reused_per_step_and_url_and_the_cache_is_bounded() -> None:
    flow = CallFlow(load_flow(resolve_flow_path("menu")))
    here = StepUrls("https://voice.example.com/voice/instruct", "s3cret-value")
    elsewhere = StepUrls("https://other.example.com/voice/instruct")
    first = flow.respond(request(), None, here)
    assert flow.respond(request(), None, here) is first
    other = flow.respond(request(), None, elsewhere)
    assert other != first and "other.example.com" in other and "s3cret-value" not in other
    assert flow.respond(request(dtmfDigits="3"), "menu", here) != first
    for n in range(3000):
        flow.respond(request(), None, StepUrls(f"https://h{n}.example.com/voice/instruct"))
    assert len(flow._documents) <= RENDERED_CACHE_SIZE


def test_digit_keys_are_read_as_written_not_as_yaml_numbers(tmp_path: Path) -> None:
    """YAML 1.1 reads 010 as 8 (octal), 1_0 as 10: the caller would be routed by other keys."""
    path = tmp_path / "keys.yaml"
    path.write_text(
        "start: menu\n"
        "steps:\n"
        "  menu:\n"
        "    actions:\n"
        "      - get_digits: {num_digits: 3, say: Choose.}\n"
        "    on_digits:\n"
        "      010: sales\n"
        "      1: support\n"
        "  sales: {actions: [say: Sales.]}\n"
        "  support: {actions: [say: Support.]}\n"
    )
    flow = CallFlow(load_flow(path))
    assert dict(flow.definition.steps["menu"].on_digits) == {"010": "sales", "1": "support"}
    assert answer(flow, "menu", dtmfDigits="010").actions == (ax.Say("Sales."),)
    assert answer(flow, "menu", dtmfDigits="1").actions == (ax.Say("Support."),)
    assert answer(flow, "menu", dtmfDigits="8").actions[0] == answer(flow, "menu").actions[0]


@pytest.mark.parametrize("key", ["1_0", "0x1A", "1:30", "1.5"])
def test_digit_keys_that_are_no_digits_are_refused(tmp_path: Path, key: str) -> None:
    path = tmp_path / "keys.yaml"
    path.write_text(
        "start: menu\nsteps:\n  menu:\n    actions: [get_digits: {num_digits: 2}]\n"
        f"    on_digits: {{{key}: menu}}\n"
    )
    with pytest.raises(FlowError, match=f"on_digits key '{key}'"):
        load_flow(path)


def test_on_unknown_alone_routes_any_key() -> None:
    flow = CallFlow(
        parse_flow(
            flow_doc(
                a={
                    "actions": [{"get_digits": {"num_digits": 1, "say": "Press any key."}}],
                    "on_unknown": "b",
                },
                b={"actions": [{"say": "Thanks."}]},
            )
        )
    )
    [get_digits] = answer(flow, None).actions
    assert isinstance(get_digits, ax.GetDigits) and step_of(get_digits.callback_url) == "a"
    assert answer(flow, "a", dtmfDigits="5").actions == (ax.Say("Thanks."),)
