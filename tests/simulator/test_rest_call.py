"""``/call`` answers exactly as AT does: entries, statuses, session ids, errors, balance."""

from __future__ import annotations

import json
from decimal import Decimal

import falcon.testing
import pytest

from at_voice_kit.contracts.vocabulary import Direction
from at_voice_kit.simulator.backend.calls import CallPhase
from at_voice_kit.simulator.backend.changes import AccountChanges
from at_voice_kit.simulator.backend.platform_config import (
    DEFAULT_AT_NUMBER,
    DEFAULT_USERNAME,
    SimulatorConfig,
)
from tests.simulator.simulator_client import (
    KE_NUMBERS,
    SESSION_ID,
    UG_NUMBER,
    US_NUMBER,
    InProcessSimulator,
)


def test_call_queues_each_number_and_answers_ats_json() -> None:
    sim = InProcessSimulator()
    result = sim.call(KE_NUMBERS[0], UG_NUMBER)
    assert result.status_code == 200
    assert result.headers["Content-Type"] == "application/json"  # no charset, ever
    assert result.headers["X-Current-Queue-Size"] == "2"
    document = json.loads(result.text)
    assert document["errorMessage"] == "None"
    assert [(e["phoneNumber"], e["status"]) for e in document["entries"]] == [
        (KE_NUMBERS[0], "Queued"),
        (UG_NUMBER, "Queued"),
    ]
    session_ids = [entry["sessionId"] for entry in document["entries"]]
    assert all(SESSION_ID.match(session_id) for session_id in session_ids)
    assert len(set(session_ids)) == 2
    calls = sim.backend.calls.all()
    assert [call.session_id for call in calls] == session_ids
    assert all(call.direction is Direction.OUTBOUND for call in calls)
    assert all(call.at_number == DEFAULT_AT_NUMBER for call in calls)
    assert all(call.phase is CallPhase.QUEUED for call in calls)


def test_failed_entries_carry_the_string_none_as_session_id() -> None:
    sim = InProcessSimulator()
    document = json.loads(sim.call(KE_NUMBERS[0], "+2541", "not-a-number", US_NUMBER).text)
    assert document["entries"] == [
        {
            "phoneNumber": KE_NUMBERS[0],
            "status": "Queued",
            "sessionId": document["entries"][0]["sessionId"],
        },
        {"phoneNumber": "+2541", "status": "InvalidPhoneNumber", "sessionId": "None"},
        {"phoneNumber": "not-a-number", "status": "InvalidPhoneNumber", "sessionId": "None"},
        {"phoneNumber": US_NUMBER, "status": "DestinationNotSupported", "sessionId": "None"},
    ]
    assert len(sim.backend.calls.all()) == 1


def test_numbers_without_plus_are_normalised_and_blank_items_ignored() -> None:
    sim = InProcessSimulator()
    document = json.loads(sim.call(" 254711082001", "", " ").text)
    assert [(e["phoneNumber"], e["status"]) for e in document["entries"]] == [
        ("+254711082001", "Queued")
    ]


def test_each_queued_call_reserves_a_minute_and_credit_runs_out() -> None:
    sim = InProcessSimulator()
    sim.backend.put_account(DEFAULT_USERNAME, AccountChanges(balance=Decimal("6.00")))
    document = json.loads(sim.call(*KE_NUMBERS).text)
    # Kenya costs 2.50 a minute: two reservations fit in 6.00, the third does not.
    assert [e["status"] for e in document["entries"]] == ["Queued", "Queued", "InsufficientCredit"]
    assert document["entries"][2]["sessionId"] == "None"
    assert sim.backend.accounts.get(DEFAULT_USERNAME).balance == Decimal("1.00")
    assert [call.reserved for call in sim.backend.calls.all()] == [Decimal("2.50")] * 2


def test_a_number_the_account_does_not_own_refuses_the_whole_request() -> None:
    sim = InProcessSimulator()
    result = sim.call(KE_NUMBERS[0], **{"from": "+254711082999"})
    assert result.status_code == 200
    assert json.loads(result.text) == {
        "entries": [],
        "errorMessage": "Invalid callerId: +254711082999",
    }
    assert sim.backend.calls.all() == ()
    assert result.headers["X-Current-Queue-Size"] == "0"


def test_a_to_without_any_number_is_refused_with_an_error_message() -> None:
    sim = InProcessSimulator()
    document = json.loads(sim.call(" , ,").text)
    assert document == {"entries": [], "errorMessage": "Invalid phoneNumber: no number to call"}


@pytest.mark.parametrize("missing", ["username", "from", "to"])
def test_a_missing_field_is_ats_400_plain_text(missing: str) -> None:
    sim = InProcessSimulator()
    fields = {"username": DEFAULT_USERNAME, "from": DEFAULT_AT_NUMBER, "to": KE_NUMBERS[0]}
    del fields[missing]
    result = sim.post("/call", fields)
    assert result.status_code == 400
    assert result.headers["Content-Type"].startswith("text/plain")
    assert result.text == f"Request is missing required form field '{missing}'"
    assert sim.backend.calls.all() == ()


def test_an_empty_field_counts_as_missing() -> None:
    sim = InProcessSimulator()
    result = sim.post("/call", {"username": DEFAULT_USERNAME, "from": "", "to": KE_NUMBERS[0]})
    assert (result.status_code, result.text) == (
        400,
        "Request is missing required form field 'from'",
    )


@pytest.mark.parametrize(
    ("username", "api_key"),
    [
        (DEFAULT_USERNAME, "wrong-key"),
        (DEFAULT_USERNAME, None),
        ("someone-else", "atsim-sandbox-key"),
    ],
)
def test_wrong_credentials_are_ats_401(username: str, api_key: str | None) -> None:
    sim = InProcessSimulator()
    fields = {"username": username, "from": DEFAULT_AT_NUMBER, "to": KE_NUMBERS[0]}
    result = sim.post("/call", fields, api_key=api_key)
    assert result.status_code == 401
    assert result.text == "The supplied authentication is invalid"
    assert sim.backend.calls.all() == ()


@pytest.mark.parametrize("header", ["apiKey", "apikey", "APIKEY", "ApiKey"])
def test_the_api_key_header_name_is_case_insensitive(header: str) -> None:
    sim = InProcessSimulator()
    fields = {"username": DEFAULT_USERNAME, "from": DEFAULT_AT_NUMBER, "to": KE_NUMBERS[0]}
    assert sim.post("/call", fields, header=header).status_code == 200


def test_multipart_and_json_bodies_are_read_like_forms() -> None:
    sim = InProcessSimulator()
    headers = {"apiKey": "atsim-sandbox-key"}
    multipart = sim.client.simulate_post(
        "/call",
        headers={
            **headers,
            "Content-Type": "multipart/form-data; boundary=XyZ",
        },
        body=(
            '--XyZ\r\nContent-Disposition: form-data; name="username"\r\n\r\nsandbox\r\n'
            '--XyZ\r\nContent-Disposition: form-data; name="from"\r\n\r\n+254711082000\r\n'
            '--XyZ\r\nContent-Disposition: form-data; name="to"\r\n\r\n+254711082001\r\n'
            "--XyZ--\r\n"
        ),
    )
    assert multipart.status_code == 200, multipart.text
    assert json.loads(multipart.text)["entries"][0]["status"] == "Queued"
    as_json = sim.client.simulate_post(
        "/call",
        headers=headers,
        json={"username": "sandbox", "from": "+254711082000", "to": [KE_NUMBERS[1], UG_NUMBER]},
    )
    assert as_json.status_code == 200
    assert [e["phoneNumber"] for e in json.loads(as_json.text)["entries"]] == [
        KE_NUMBERS[1],
        UG_NUMBER,
    ]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"username": "sandbox", "from": 254711082000, "to": "+254711082001"}, "field 'from'"),
        ({"username": "sandbox", "from": "+254711082000", "to": ["+254711082001", ""]}, "'to'"),
        ({"username": "sandbox", "from": "+254711082000", "to": None}, "field 'to'"),
        (["sandbox"], "must be an object"),
    ],
)
def test_json_bodies_with_non_string_fields_are_malformed(body: object, detail: str) -> None:
    sim = InProcessSimulator()
    result = sim.client.simulate_post("/call", headers={"apiKey": "atsim-sandbox-key"}, json=body)
    assert result.status_code == 400
    assert result.text.startswith("The request content was malformed:\n")
    assert detail in result.text


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        # json.loads raises RecursionError, not ValueError, on deep nesting: it was a 500.
        ("[" * 100_000, "nested too deeply"),
        ('{"to": ' * 50_000, "nested too deeply"),
        # Lone surrogates are not text: answering or journaling them was a 500.
        ('{"username": "sandbox", "from": "+254711082000", "to": "\\ud800"}', "surrogate"),
        ('{"username": "sandbox", "from": "\\udfff", "to": "+254711082001"}', "surrogate"),
        ('{"username": "sandbox", "from": "+254711082000", "to": ["\\ud83d"]}', "surrogate"),
        (
            '{"username": "sandbox", "from": "+254711082000", "to": "+254711082001", '
            '"clientRequestId": "order-\\ud800"}',
            "surrogate",
        ),
    ],
)
def test_json_bodies_that_are_not_text_or_too_deep_are_malformed(text: str, detail: str) -> None:
    sim = InProcessSimulator()
    result = sim.client.simulate_post(
        "/call",
        headers={"apiKey": "atsim-sandbox-key", "Content-Type": "application/json"},
        body=text,
    )
    assert result.status_code == 400, result.text
    assert result.text.startswith("The request content was malformed:\n")
    assert detail in result.text
    assert sim.backend.calls.all() == ()
    assert sim.backend.journal.api_requests()[-1].status == 400


def test_client_request_id_is_kept_on_the_call() -> None:
    sim = InProcessSimulator()
    sim.call(KE_NUMBERS[0], clientRequestId="order-42")
    assert sim.backend.calls.all()[0].client_request_id == "order-42"


def test_every_queued_call_is_handed_to_the_launcher() -> None:
    sim = InProcessSimulator()
    document = json.loads(sim.call(KE_NUMBERS[0], "+2541", UG_NUMBER).text)
    launched = sim.backend.launcher.launched  # type: ignore[attr-defined]
    assert [call.session_id for call in launched] == [
        entry["sessionId"] for entry in document["entries"] if entry["status"] == "Queued"
    ]


def test_the_same_seed_gives_the_same_session_ids_and_reset_restarts_them() -> None:
    first = InProcessSimulator(SimulatorConfig(seed=42))
    second = InProcessSimulator(SimulatorConfig(seed=42))
    other = InProcessSimulator(SimulatorConfig(seed=43))

    def ids(sim: InProcessSimulator) -> list[str]:
        return [e["sessionId"] for e in json.loads(sim.call(*KE_NUMBERS).text)["entries"]]

    seeded = ids(first)
    assert ids(second) == seeded
    assert ids(other) != seeded
    first.backend.reset()
    assert ids(first) == seeded


def test_queue_size_header_counts_the_accounts_queued_calls() -> None:
    sim = InProcessSimulator()
    sim.call(KE_NUMBERS[0])
    first = sim.backend.calls.all()[0]
    sim.backend.calls.set_phase(first.session_id, CallPhase.RINGING)
    assert sim.call(KE_NUMBERS[1], KE_NUMBERS[2]).headers["X-Current-Queue-Size"] == "2"


CALL_FORM = "username=sandbox&from=%2B254711082000&to=%2B254711082001&clientRequestId="
MULTIPART = "multipart/form-data; boundary=XyZ"


def post_call(sim: InProcessSimulator, content_type: str, body: bytes) -> falcon.testing.Result:
    """POST ``body`` to /call as the sandbox account."""
    headers = {"apiKey": "atsim-sandbox-key", "Content-Type": content_type}
    return sim.client.simulate_post("/call", headers=headers, body=body)


@pytest.mark.parametrize(
    ("charset", "codec", "request_id"),
    [("latin-1", "latin-1", "caf\u00e9"), ("UTF-16", "utf-16", "\u1eb8k\u00e1"),
     ("windows-1252", "cp1252", "\u20ac5")],
)  # fmt: skip
def test_a_form_body_in_a_real_charset_is_read(charset: str, codec: str, request_id: str) -> None:
    """A supported charset is read; what is no charset is refused
    (``tests/simulator/test_hostile_input_e2e.py``)."""
    sim = InProcessSimulator()
    body = (CALL_FORM + request_id).encode(codec)
    result = post_call(sim, f"application/x-www-form-urlencoded; charset={charset}", body)
    assert result.status_code == 200, result.text
    assert json.loads(result.text)["entries"][0]["status"] == "Queued"
    (call,) = sim.backend.calls.all()
    assert call.client_request_id == request_id


def multipart_call(client_request_id_part: bytes) -> bytes:
    """A multipart /call body whose clientRequestId part is ``client_request_id_part``."""
    return (
        b'--XyZ\r\nContent-Disposition: form-data; name="username"\r\n\r\nsandbox\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="from"\r\n\r\n+254711082000\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="to"\r\n\r\n+254711082001\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="clientRequestId"\r\n'
        + client_request_id_part
        + b"\r\n--XyZ--\r\n"
    )


def test_a_multipart_field_is_read_in_the_charset_it_declares() -> None:
    """A part's charset was ignored (every part read as UTF-8): café in Latin-1 was a 400."""
    sim = InProcessSimulator()
    part = b"Content-Type: text/plain; charset=ISO-8859-1\r\n\r\ncaf\xe9"
    result = post_call(sim, MULTIPART, multipart_call(part))
    assert result.status_code == 200, result.text
    (call,) = sim.backend.calls.all()
    assert call.client_request_id == "caf\u00e9"


@pytest.mark.parametrize(
    ("part", "detail"),
    [
        (b"Content-Type: text/plain; charset=unicode_escape\r\n\r\n\\ud800", "'unicode_escape'"),
        (b"Content-Type: text/plain; charset=punycode\r\n\r\nabc-def", "'punycode' is not"),
        (b"Content-Type: text/plain; charset=utf-8\r\n\r\ncaf\xe9", "field 'clientRequestId'"),
    ],
)
def test_a_multipart_field_in_no_supported_charset_is_ats_400(part: bytes, detail: str) -> None:
    sim = InProcessSimulator()
    result = post_call(sim, MULTIPART, multipart_call(part))
    assert result.status_code == 400, result.text
    assert result.text.startswith("The request content was malformed:\n")
    assert detail in result.text
    assert not sim.backend.calls.all()
