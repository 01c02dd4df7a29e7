"""International phone numbers, validated once with ``phonenumbers`` for both sides."""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import carrier as _carrier

_DIGITS = re.compile(r"^\+?[0-9]{4,15}$")


class InvalidPhoneNumber(ValueError):
    """A string that is not a valid international (E.164) phone number.

    ``rule`` says which rule it broke, in words fit for an API error message.
    """

    def __init__(self, value: str, rule: str) -> None:
        super().__init__(f"{value!r} is not a valid international phone number: {rule}")
        self.value = value
        self.rule = rule


def normalise_international(raw: str) -> str:
    """Return ``raw`` as E.164 (``+2547...``), accepting it with or without the leading ``+``.

    Raises :class:`InvalidPhoneNumber` naming the rule broken: only digits after an optional
    ``+``, a known country code, and a number valid for that country.
    """
    value = raw.strip()
    if not _DIGITS.match(value):
        raise InvalidPhoneNumber(raw, "must be 4 to 15 digits, optionally preceded by '+'")
    candidate = value if value.startswith("+") else "+" + value
    try:
        parsed = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(raw, "must start with a known country calling code") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber(raw, "is not a valid number for its country calling code")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def country_calling_code(e164: str) -> str:
    """The calling code of a valid E.164 number, as AT's ``callerCountryCode`` (``"254"``)."""
    return str(phonenumbers.parse(e164, None).country_code)


def region_code(e164: str) -> str:
    """The country (ISO 3166 region) of a valid E.164 number, or ``""`` when none is known."""
    return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None)) or ""


def carrier_name(e164: str) -> str:
    """The mobile carrier ``phonenumbers`` knows for this number, or ``""`` if unknown."""
    name: str = _carrier.name_for_number(phonenumbers.parse(e164, None), "en")
    return name
