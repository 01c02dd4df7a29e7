"""The service contract's form rules, read from ``service.yaml``, mean what the schema says."""

from __future__ import annotations

import pytest

from at_voice_kit.contracts.service_contract import form_rules, schema_pattern

VALID = {
    "sessionId": "ATVId_abc123",
    "isActive": "1",
    "direction": "Outbound",
    "callerNumber": "+254711082369",
    "destinationNumber": "+254711082000",
    "callerCountryCode": "254",
    "callerCarrierName": "Safaricom",
    "callStartTime": "2025-09-29 10:30:00",
    "dtmfDigits": "12#",
    "recordingUrl": "https://voice.example/rec/1.wav",
    "durationInSeconds": "45",
    "currencyCode": "KES",
    "amount": "5.00",
    "hangupCause": "NORMAL_CLEARING",
    "eventType": "SessionEnded",
    "clientRequestId": "req-42",
}


def test_dollar_matches_only_at_the_very_end_as_in_json_schema() -> None:
    """ECMA-262's ``$`` (JSON Schema's dialect) never matches before a final newline."""
    pattern = schema_pattern(r"^[!-~]{1,8}$")
    assert pattern.search("ATVId_x")
    assert not pattern.search("ATVId_x\n")


def test_dollar_in_a_class_or_escaped_stays_a_literal() -> None:
    pattern = schema_pattern(r"^[$a]\$b$")
    assert pattern.search("$$b") and pattern.search("a$b")
    assert not pattern.search("a$b\n")


@pytest.mark.parametrize("form", ["CallbackForm", "EventForm"])
@pytest.mark.parametrize("name", sorted(VALID))
def test_no_field_takes_a_trailing_newline(form: str, name: str) -> None:
    rule = form_rules(form).fields[name]
    assert rule.accepts(VALID[name])
    assert not rule.accepts(VALID[name] + "\n")


@pytest.mark.parametrize("form", ["CallbackForm", "EventForm"])
def test_undocumented_fields_and_names_take_no_trailing_newline(form: str) -> None:
    rules = form_rules(form)
    assert rules.extra_field.accepts("value") and not rules.extra_field.accepts("value\n")
    assert rules.field_name.search("newField") and not rules.field_name.search("newField\n")
