"""verify judges an app only on requests AT could send; everything beyond is a robustness probe,
reported apart as a warning (failing a run only with --strict)."""

from __future__ import annotations

import pytest

from at_voice_kit.contracts.phone import InvalidPhoneNumber, normalise_international
from at_voice_kit.contracts.vocabulary import Direction
from at_voice_kit.simulator.verify import Category, Origin, Role, Target, VerifyOptions, verify
from at_voice_kit.simulator.verify.at_traffic import always_sent, beyond_at
from tests.simulator.verify.webhook_apps import IvrApp, Reply, Request

# AT's documented example of a final request (at-voice-api.md section 2): no callerCarrierName.
AT_DOC_FINAL = (
    ("callSessionState", "NotAnswered"), ("hangupCause", "USER_BUSY"), ("direction", "Outbound"),
    ("callerCountryCode", "254"), ("durationInSeconds", "0"), ("amount", "0"),
    ("callerNumber", "+254705336634"), ("destinationNumber", "+254711082369"),
    ("status", "NotAnswered"), ("sessionId", "ATVId_b1782591735cb0a658b2c0da6cdb2abf"),
    ("callStartTime", "None"), ("isActive", "0"), ("currencyCode", "KES"),
)  # fmt: skip
# A first request logged from real traffic in 2021 (instedd/verboice issue 894; the numbers,
# masked there, replaced by valid Ugandan ones).
AT_RECORDED_FIRST = (
    ("callSessionState", "Answered"), ("sessionId", "ATVId_11163e2ea9a58f3a7999fecda8eeb43a"),
    ("callerCountryCode", "256"), ("callerCarrierName", "Airtel"), ("isActive", "1"),
    ("callStartTime", "2021-10-13+19:10:16"), ("direction", "Outbound"),
    ("destinationNumber", "+256312345678"), ("callerNumber", "+256752123456"),
)  # fmt: skip


def test_requests_recorded_from_at_are_requests_at_sends() -> None:
    assert beyond_at(Role.FINAL, AT_DOC_FINAL) is None
    assert beyond_at(Role.FIRST, AT_RECORDED_FIRST) is None
    # Later requests of a call carry the same fields, and the digits or the recording.
    assert beyond_at(Role.LIVE, (*AT_RECORDED_FIRST, ("dtmfDigits", "1*#"))) is None
    assert beyond_at(Role.LIVE, (*AT_RECORDED_FIRST, ("recordingUrl", ""))) is None


def test_what_at_sends_on_every_request_comes_from_the_engines_payloads() -> None:
    sent = always_sent()
    assert {"isActive", "sessionId", "direction", "callerNumber", "destinationNumber"} <= sent[
        "live"
    ]
    assert {"callSessionState", "status", "durationInSeconds", "amount"} <= sent["final"]
    assert "eventType" in sent["event"]
    assert all("callerCarrierName" not in fields for fields in sent.values())


def _with(fields: tuple[tuple[str, str], ...], **values: str) -> tuple[tuple[str, str], ...]:
    return tuple((name, values.get(name, value)) for name, value in fields)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (_with(AT_RECORDED_FIRST, direction="outbound"), "direction 'outbound' is not how AT"),
        (tuple(f for f in AT_RECORDED_FIRST if f[0] != "direction"), "AT sends direction on"),
        (_with(AT_RECORDED_FIRST, callerNumber="+0"), "callerNumber '+0' is not a phone number"),
        (_with(AT_RECORDED_FIRST, callerNumber=" 256752123456"), "callerNumber ' 256752123456'"),
        (_with(AT_RECORDED_FIRST, sessionId="x"), "sessionId 'x' is not a session id AT"),
        (_with(AT_RECORDED_FIRST, callStartTime="yesterday"), "callStartTime 'yesterday' must"),
    ],
)
def test_requests_at_never_sends_are_named_with_the_reason(
    fields: tuple[tuple[str, str], ...], reason: str
) -> None:
    found = beyond_at(Role.FIRST, fields)
    assert found is not None and found.startswith(reason), found


def test_open_vocabularies_and_new_fields_are_still_ats() -> None:
    unknown = (*_with(AT_DOC_FINAL, hangupCause="SOMETHING_NEW"), ("newField", "value"))
    assert beyond_at(Role.FINAL, unknown) is None
    sip = _with(AT_DOC_FINAL, callerNumber="agent1@ke.sip.africastalking.com")
    assert beyond_at(Role.FINAL, sip) is None


def test_every_request_a_simulated_call_sends_is_one_at_sends() -> None:
    report = verify(
        Target.in_process(IvrApp(), "/voice"),
        VerifyOptions(seed=7, quick=True, categories=frozenset(
            {Category.CRAWL, Category.OUTCOMES, Category.MARKETS, Category.EVENT_DELIVERY})),
    )  # fmt: skip
    simulated = [e for r in report.results for e in r.exchanges if e.origin is Origin.SIMULATED]
    assert len(simulated) > 100
    assert [(e.request.fields, beyond_at(e.role, e.request.fields)) for e in simulated
            if beyond_at(e.role, e.request.fields) is not None] == []  # fmt: skip


class StrictAboutAtFormats(IvrApp):
    """Trusts AT's formats: a capitalised direction and real numbers on every request (it
    crashes, HTTP 500, on anything else). It works on AT."""

    def route(self, request: Request) -> Reply:
        Direction(request.form["direction"])  # KeyError, ValueError: a crash
        normalise_international(request.form["callerNumber"])  # InvalidPhoneNumber: a crash
        return super().route(request)


class RefusesOtherFormats(IvrApp):
    """Refuses (HTTP 400) any request that is not in AT's formats: a careful app."""

    def route(self, request: Request) -> Reply:
        try:
            Direction(request.form["direction"])
            normalise_international(request.form["callerNumber"])
        except (KeyError, ValueError, InvalidPhoneNumber):
            return Reply("bad request", 400)
        return super().route(request)


ALL_REQUEST_SCENARIOS = frozenset(
    {Category.OPTIONAL_FIELDS, Category.GENERATED, Category.OUTCOMES, Category.EVENT_ORDERS}
)


def test_an_app_that_relies_on_ats_formats_passes_and_hears_about_the_probes() -> None:
    target = Target.in_process(StrictAboutAtFormats(), "/voice")
    report = verify(target, VerifyOptions(seed=5, quick=True, categories=ALL_REQUEST_SCENARIOS))
    assert report.ok, report.summary()
    assert report.errors == [] and report.warnings == []
    probes = report.probes
    assert probes and all(group.severity == "warning" for group in probes)
    reasons = " ".join(
        str(occurrence.finding.exchange.probe)
        for group in probes
        for occurrence in group.occurrences
    )
    assert "direction 'outbound' is not how AT writes it" in reasons
    assert "AT sends direction on every" in reasons
    summary = report.summary()
    assert "robustness probe warning" in summary.splitlines()[0]
    assert "Robustness probes: requests AT never sends" in summary
    assert report.to_json()["counts"]["probes"] == len(probes)
    strict = verify(target, VerifyOptions(seed=5, quick=True, categories=ALL_REQUEST_SCENARIOS,
                                          strict=True))  # fmt: skip
    assert not strict.ok


def test_refusing_requests_at_never_sends_is_no_problem_even_when_strict() -> None:
    target = Target.in_process(RefusesOtherFormats(), "/voice")
    options = VerifyOptions(seed=5, quick=True, categories=ALL_REQUEST_SCENARIOS, strict=True)
    report = verify(target, options)
    assert report.ok, report.summary()
    refused = [e for r in report.results for e in r.exchanges if e.answer.status == 400]
    assert refused and all(e.probe is not None for e in refused)
