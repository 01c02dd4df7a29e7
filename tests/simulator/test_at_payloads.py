"""The simulator's payloads against every real AT payload kept in ``tests/simulator/at_payloads/``.

For each recorded request the simulator runs the same kind of call (an answered outbound
call's first request, an unanswered call's final request with the same cause, an inbound
call's first request, ...) and its request must have the same field names (all of them when
the source shows the whole form), the same value formats, and the same values where the call
decides them (``isActive``, ``direction``, ``callSessionState``, ``status``, ``hangupCause``,
and the country's calling code and currency). Where the simulator knowingly differs, the
payload file says why, and the difference must be real (a stale note fails too).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import pytest

from tests.simulator.at_payloads import AtPayload, at_payloads
from tests.simulator.engine.harness import AT_NUMBER, EngineHarness, answering, xml

PAYLOADS = [p for p in at_payloads() if p.request != "vocabulary"]
VOCABULARY = [p for p in at_payloads() if p.request == "vocabulary"]
PHONE_USER = {"256": "+256772123456"}
"""The simulated phone user for a payload's calling code (a Kenyan one otherwise)."""
KENYAN_USER = "+254711082369"
AGENT = "+254733100200"

EXACT = ("isActive", "direction", "callSessionState", "status", "hangupCause")
COUNTRY = ("callerCountryCode", "currencyCode")
FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("session id", r"ATVId_[0-9a-f]{32}"),
        ("international number", r"\+[0-9Xxy]{7,15}"),
        ("date and time, +", r"[0-9]{4}-[0-9]{2}-[0-9]{2}\+[0-9]{2}:[0-9]{2}:[0-9]{2}"),
        ("date and time, space", r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}"),
        ("None", r"None"),
        ("whole number", r"[0-9]+"),
        ("decimal, 3 places", r"[0-9]+\.[0-9]{3}"),
        ("decimal", r"[0-9]+\.[0-9]+"),
        ("currency code", r"[A-Z]{3}"),
        ("keys", r"[0-9*#]+"),
        ("word", r"[A-Za-z][A-Za-z ]*"),
    )
)


URL = re.compile(r"https?://\S+?(\.(?P<extension>[A-Za-z0-9]+))?")


def value_format(value: str, field: str = "") -> str:
    """The first format ``value`` has, or ``other`` (a carrier's name is a word, even "MTN";
    a URL's format says its file extension)."""
    url = URL.fullmatch(value)
    if url is not None:
        return f"http(s) URL ({url.group('extension') or 'no extension'})"
    carrier = field == "callerCarrierName" and value != "None"
    if carrier and re.fullmatch(r"[A-Za-z][A-Za-z ]*", value):
        return "word"
    return next((name for name, pattern in FORMATS if pattern.fullmatch(value)), "other")


def phone_user(payload: AtPayload) -> str:
    """A phone user of the payload's country (by the caller's number), so that the calling
    code and the currency can be compared exactly."""
    caller = payload.fields.get("callerNumber", "")
    code = next((code for code in PHONE_USER if caller.startswith(f"+{code}")), "")
    return PHONE_USER.get(code, KENYAN_USER)


def callbacks(h: EngineHarness, session_id: str) -> list[dict[str, str]]:
    return h.forms(session_id)


def first_request_outbound(payload: AtPayload) -> dict[str, str]:
    h = EngineHarness()
    h.script(phone_user(payload), answer="answered")
    h.app(answering(xml("<Say>Hello</Say>")))
    record = h.call(phone_user(payload))
    return callbacks(h, record.session_id)[0]


def final_outbound_not_answered(payload: AtPayload) -> dict[str, str]:
    h = EngineHarness()
    h.script(phone_user(payload), hangupCause=payload.fields["hangupCause"])
    record = h.call(phone_user(payload))
    (final,) = callbacks(h, record.session_id)
    return final


def final_outbound_answered(payload: AtPayload) -> dict[str, str]:
    h = EngineHarness()
    h.script(phone_user(payload), answer="answered", hangupAfter=7)
    h.app(answering(xml("<Say>" + "Your code is 1 2 3 4. " * 10 + "</Say>")))
    record = h.call(phone_user(payload))
    return callbacks(h, record.session_id)[-1]


def first_request_inbound(payload: AtPayload) -> dict[str, str]:
    h = EngineHarness()
    h.app(answering(xml("<Say>Welcome</Say>")))
    record = h.dial_in(phone_user(payload))
    return callbacks(h, record.session_id)[0]


def final_inbound_answered(payload: AtPayload) -> dict[str, str]:
    h = EngineHarness()
    h.app(answering(xml("<Say>Welcome</Say>")))
    record = h.dial_in(phone_user(payload))
    return callbacks(h, record.session_id)[-1]


def final_inbound_dial_recorded(payload: AtPayload) -> dict[str, str]:
    h = EngineHarness()
    h.script(AGENT, answer="answered", hangupAfter=6)
    h.app(answering(xml(f'<Dial phoneNumbers="{AGENT}" record="true"/>')))
    record = h.dial_in(phone_user(payload))
    return callbacks(h, record.session_id)[-1]


SCENARIOS: Mapping[str, Callable[[AtPayload], dict[str, str]]] = {
    "first-request-outbound": first_request_outbound,
    "final-outbound-not-answered": final_outbound_not_answered,
    "final-outbound-answered": final_outbound_answered,
    "first-request-inbound": first_request_inbound,
    "final-inbound-answered": final_inbound_answered,
    "final-inbound-dial-recorded": final_inbound_dial_recorded,
}


def test_the_payloads_are_cited_and_cover_every_kind_of_request() -> None:
    assert {p.request for p in PAYLOADS} == set(SCENARIOS)
    for payload in at_payloads():
        source = payload.source
        assert source["kind"] and source["date"] and source["note"], payload.name
        assert source.get("url") or source.get("index_id"), payload.name
    recorded = [p for p in PAYLOADS if p.source["kind"].startswith("recorded")]
    assert len(recorded) >= 5


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: p.name)
def test_the_simulator_sends_what_at_sent(payload: AtPayload) -> None:
    ours = SCENARIOS[payload.request](payload)
    documented = set(payload.differences)
    theirs = set(payload.fields) - documented
    mine = set(ours) - documented
    if payload.complete:
        assert mine == theirs, (sorted(mine - theirs), sorted(theirs - mine))
    else:
        assert theirs <= mine, sorted(theirs - mine)
    for name in sorted(theirs & mine):
        at_value, our_value = payload.fields[name], ours[name]
        if name in EXACT or name in COUNTRY:
            assert our_value == at_value, name
        else:
            assert value_format(our_value, name) == value_format(at_value, name), (name, our_value)


@pytest.mark.parametrize(
    ("payload", "name"),
    [(p, name) for p in PAYLOADS for name in p.differences],
    ids=lambda value: value if isinstance(value, str) else value.name,
)
def test_every_documented_difference_is_real(payload: AtPayload, name: str) -> None:
    """A difference the simulator no longer has must leave the payload file's notes. Each note
    says its kind: absent in / extra in the simulator, or a different format or value."""
    ours = SCENARIOS[payload.request](payload)
    note = payload.differences[name]
    if note.startswith("absent in the simulator"):
        assert name in payload.fields and name not in ours
    elif note.startswith("extra in the simulator"):
        assert name in ours and name not in payload.fields
    elif note.startswith("format:"):
        assert value_format(ours[name], name) != value_format(payload.fields[name], name)
    else:
        assert note.startswith("value:"), note
        assert ours[name] != payload.fields[name]


def every_field_the_simulator_sends() -> set[str]:
    names: set[str] = set()
    for payload in PAYLOADS:
        names |= set(SCENARIOS[payload.request](payload))
    h = EngineHarness()
    h.script(KENYAN_USER, answer="answered", digits=["12"], speechSeconds=5)
    h.app(
        answering(
            xml('<GetDigits numDigits="2"><Say>Code</Say></GetDigits>'),
            xml("<Record/>"),
        )
    )
    record = h.call(KENYAN_USER)
    for form in [*h.forms(record.session_id), *h.events(record.session_id)]:
        names |= set(form)
    return names


@pytest.mark.parametrize("payload", VOCABULARY, ids=lambda p: p.name)
def test_every_field_name_of_a_library_fixture_is_one_the_simulator_sends(
    payload: AtPayload,
) -> None:
    assert set(payload.fields) - set(payload.differences) <= every_field_the_simulator_sends()


def test_value_formats_tell_the_recorded_shapes_apart() -> None:
    assert value_format("2021-10-13+19:10:16") != value_format("2023-04-06 19:20:46")
    assert value_format("0.408333333333333345") != value_format("0.408")
    assert value_format("+2563XXXX0647") == value_format(AT_NUMBER)
    assert value_format("ATVId_11163e2ea9a58f3a7999fecda8eeb43a") == "session id"
