from __future__ import annotations

import pytest

from at_voice_kit.contracts.phone import (
    InvalidPhoneNumber,
    carrier_name,
    country_calling_code,
    normalise_international,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("254711082369", "+254711082369"),
        ("+254711082369", "+254711082369"),
        (" +256772123456 ", "+256772123456"),
        ("2348031234567", "+2348031234567"),
    ],
)
def test_accepts_international_numbers_with_or_without_plus(raw: str, expected: str) -> None:
    assert normalise_international(raw) == expected


@pytest.mark.parametrize(
    ("raw", "rule_fragment"),
    [
        ("254711XXXYYY", "digits"),
        ("", "digits"),
        ("+1", "digits"),
        ("999999999999", "country calling code"),
        ("+2547110823", "not a valid number"),
    ],
)
def test_rejects_invalid_numbers_naming_the_rule(raw: str, rule_fragment: str) -> None:
    with pytest.raises(InvalidPhoneNumber) as excinfo:
        normalise_international(raw)
    assert rule_fragment in excinfo.value.rule


def test_country_code_and_carrier_come_from_the_number() -> None:
    assert country_calling_code("+254711082369") == "254"
    assert carrier_name("+254711082369") == "Safaricom"
    assert carrier_name("+256772123456") == "MTN"
