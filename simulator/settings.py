"""Strict readers for settings given as JSON (admin API) or YAML (``--config`` file).

One set of rules for both, so a callee or a number means the same wherever it is written.
Readers collect every broken rule as a :class:`FieldError` naming the field by its path
(``accounts[0].apiKey``, ``hangupAfter``) and raise :class:`InvalidSettings` once.

The patterns here are the ones ``contracts/at_voice.yaml`` declares (a test keeps them equal).
They use explicit ASCII classes rather than ``\\s``, whose meaning differs between Python and
the JSON Schema (ECMA 262) regex dialect.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from enum import Enum

from at_voice_kit.contracts.phone import InvalidPhoneNumber, normalise_international
from at_voice_kit.simulator.backend.callees import CalleeAnswer, CalleeScript
from at_voice_kit.simulator.backend.exceptions import FieldError, InvalidSettings
from at_voice_kit.simulator.engine.callee import MAX_DIGIT_ENTRIES, MAX_KEYS_PER_ENTRY, MAX_SECONDS

PHONE_NUMBER_PATTERN = r"^\+[1-9][0-9]{6,14}$"
_HEX = "[0-9A-Fa-f]{1,4}"
_IPV6 = "|".join(
    (
        f"({_HEX}:){{7}}{_HEX}",
        f"({_HEX}:){{1,7}}:",
        f"({_HEX}:){{1,6}}:{_HEX}",
        f"({_HEX}:){{1,5}}(:{_HEX}){{1,2}}",
        f"({_HEX}:){{1,4}}(:{_HEX}){{1,3}}",
        f"({_HEX}:){{1,3}}(:{_HEX}){{1,4}}",
        f"({_HEX}:){{1,2}}(:{_HEX}){{1,5}}",
        f"{_HEX}:(:{_HEX}){{1,6}}",
        f":((:{_HEX}){{1,7}}|:)",
    )
)
# The authority of a URL an HTTP client can really use: optional user info, a host (a name,
# or an IPv6 address in brackets) and a port from 0 to 65535. Looser patterns let through
# `http://[::1/x` or `http://a:99999/`, which every URL parser (urlsplit, httpx) refuses, so
# a URL the admin API had accepted broke the first call placed from the number.
_AUTHORITY = (
    r"([A-Za-z0-9._~%!$&'()*+,;=:-]*@)?"
    rf"(\[({_IPV6})\]|[A-Za-z0-9._~%!$&'()*+,;=-]+)"
    r"(:([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
)
URL_PATTERN = rf"^https?://{_AUTHORITY}([/?#][\x21-\x7e]*)?$"
MEDIA_URL_PATTERN = (
    rf"^https?://{_AUTHORITY}/[\x21\x22\x24-\x3e\x40-\x7e]*"
    r"\.([mM][pP]3|[wW][aA][vV])([?#][\x21-\x7e]*)?$"
)
USERNAME_PATTERN = r"^[A-Za-z0-9_.@-]{1,64}$"
API_KEY_PATTERN = r"^[\x21-\x7e]{1,256}$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
COUNTRY_PATTERN = r"^[A-Z]{2}$"
DIGITS_PATTERN = rf"^[0-9*#]{{0,{MAX_KEYS_PER_ENTRY}}}$"
DECIMAL_PATTERN = r"^[0-9]{1,13}(\.[0-9]{1,4})?$"
USERNAME_RULE = "must be 1 to 64 letters, digits, '_', '.', '@' or '-'"
MAX_DIGIT_INPUTS = MAX_DIGIT_ENTRIES
MAX_HANGUP_AFTER = int(MAX_SECONDS)
MAX_AMOUNT = Decimal(10) ** 13
AMOUNT_QUANTUM = Decimal("0.0001")
AMOUNT_EXPONENT = -4


def anchored(pattern: str) -> re.Pattern[str]:
    """Compile a JSON Schema pattern for Python with the same meaning.

    JSON Schema's ``$`` ends the string; Python's also matches before a final newline, so
    the trailing ``$`` becomes ``\\Z``.
    """
    if pattern.endswith("$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


_PHONE_NUMBER = anchored(PHONE_NUMBER_PATTERN)
_URL = anchored(URL_PATTERN)
_MEDIA_URL = anchored(MEDIA_URL_PATTERN)
_USERNAME = anchored(USERNAME_PATTERN)
_API_KEY = anchored(API_KEY_PATTERN)
_CURRENCY = anchored(CURRENCY_PATTERN)
_COUNTRY = anchored(COUNTRY_PATTERN)
_DIGITS = anchored(DIGITS_PATTERN)
_DECIMAL = anchored(DECIMAL_PATTERN)


class Omitted(Enum):
    """Marks a field left out of a settings object (as opposed to set to ``null``)."""

    OMITTED = "omitted"


OMITTED = Omitted.OMITTED


def phone_number_problem(value: str) -> str | None:
    """Why ``value`` is not an AT-style international number, or ``None`` if it is one."""
    if not _PHONE_NUMBER.match(value):
        return "must be an international number: '+' then 7 to 15 digits"
    try:
        normalise_international(value)
    except InvalidPhoneNumber as exc:
        return exc.rule
    return None


def is_http_url(value: str) -> bool:
    """Whether ``value`` is an absolute http(s) URL (the rule for callback and events URLs)."""
    return bool(_URL.match(value))


def is_media_url(value: str) -> bool:
    """Whether ``value`` is an http(s) URL of an ``.mp3`` or ``.wav`` file (``/mediaUpload``)."""
    return bool(_MEDIA_URL.match(value))


def is_api_key(value: str) -> bool:
    """Whether ``value`` is an API key the simulator accepts (printable ASCII, no spaces)."""
    return bool(_API_KEY.match(value))


def is_username(value: str) -> bool:
    """Whether ``value`` is a username the simulator accepts for an account."""
    return bool(_USERNAME.match(value))


class FieldReader:
    """Reads the fields of one JSON/YAML object, collecting every broken rule.

    ``where`` is the object's own path (``""`` for a request body); unknown keys are errors,
    because a misspelt ``hangupAfer`` silently ignored is a test that lies.
    """

    def __init__(self, data: object, where: str, known: Iterable[str]) -> None:
        self.where = where
        self.errors: list[FieldError] = []
        self._data: Mapping[str, object] = {}
        self._is_object = isinstance(data, Mapping)
        known_keys = frozenset(known)
        if not isinstance(data, Mapping):
            self.errors.append(FieldError(where, "must be an object"))
            return
        for key in data:
            if not isinstance(key, str) or key not in known_keys:
                expected = ", ".join(sorted(known_keys))
                self.errors.append(
                    FieldError(self.path(str(key)), f"is not a known field (known: {expected})")
                )
        self._data = {key: value for key, value in data.items() if isinstance(key, str)}

    def path(self, key: str) -> str:
        """The dotted path of a field of this object."""
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str, rule: str) -> None:
        """Record a broken rule for ``key``."""
        self.errors.append(FieldError(self.path(key), rule))

    def raise_if_invalid(self) -> None:
        """Raise :class:`InvalidSettings` with every error collected so far."""
        if self.errors:
            raise InvalidSettings(self.errors)

    def present(self, key: str) -> bool:
        """Whether the object has ``key``."""
        return key in self._data

    def raw(self, key: str, *, required: bool) -> object:
        """The value of ``key``; :data:`OMITTED` (recording an error if required) if absent."""
        if key not in self._data:
            if required and self._is_object:  # "must be an object" already says it all
                self.fail(key, "is required")
            return OMITTED
        return self._data[key]

    def string(
        self, key: str, pattern: re.Pattern[str], rule: str, *, required: bool = False
    ) -> str | Omitted:
        """A string matching ``pattern``."""
        value = self.raw(key, required=required)
        if value is OMITTED:
            return OMITTED
        if not isinstance(value, str):
            self.fail(key, f"must be a string ({rule})")
            return OMITTED
        if not pattern.match(value):
            self.fail(key, rule)
            return OMITTED
        return value

    def username(self, key: str, *, required: bool = False) -> str | Omitted:
        """An account's username."""
        return self.string(key, _USERNAME, USERNAME_RULE, required=required)

    def phone_number(self, key: str, *, required: bool = False) -> str | Omitted:
        """A valid international number (quoted in YAML, where ``+254...`` is an integer)."""
        value = self.raw(key, required=required)
        if value is OMITTED:
            return OMITTED
        if not isinstance(value, str):
            self.fail(key, "must be a string such as '+254711082000' (quote it in YAML)")
            return OMITTED
        problem = phone_number_problem(value)
        if problem is not None:
            self.fail(key, problem)
            return OMITTED
        return value

    def url(self, key: str) -> str | Omitted | None:
        """An absolute http(s) URL, or ``null`` to clear it."""
        value = self.raw(key, required=False)
        if value is OMITTED or value is None:
            return value
        if not isinstance(value, str) or not is_http_url(value):
            self.fail(key, "must be an absolute http(s) URL such as 'http://127.0.0.1:8000/voice'")
            return OMITTED
        return value

    def amount(self, key: str) -> Decimal | Omitted:
        """A non-negative amount: a number, or a decimal string like ``"1000.50"``."""
        value = self.raw(key, required=False)
        if value is OMITTED:
            return OMITTED
        rule = "must be a number from 0 to 9999999999999.9999, or such a number as a string"
        amount = decimal_from(value)
        if amount is None or not Decimal(0) <= amount < MAX_AMOUNT:
            self.fail(key, rule)
            return OMITTED
        exponent = amount.as_tuple().exponent
        if isinstance(exponent, int) and exponent < AMOUNT_EXPONENT:
            # More decimals than money needs (a float such as 0.1 + 0.2): round once, here.
            amount = amount.quantize(AMOUNT_QUANTUM, rounding=ROUND_HALF_EVEN)
        return amount

    def number(
        self, key: str, minimum: float, maximum: float, *, inclusive_minimum: bool = False
    ) -> float | Omitted | None:
        """A finite number in ``(minimum, maximum]`` (``[minimum, maximum]`` if
        ``inclusive_minimum``), or ``null``."""
        value = self.raw(key, required=False)
        if value is OMITTED or value is None:
            return value
        lower = "at least" if inclusive_minimum else "greater than"
        rule = f"must be a number of seconds {lower} {minimum:g} and at most {maximum:g}"
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(key, rule)
            return OMITTED
        number = float(value)
        above = minimum <= number if inclusive_minimum else minimum < number
        if not math.isfinite(number) or not (above and number <= maximum):
            self.fail(key, rule)
            return OMITTED
        return number

    def integer(self, key: str, minimum: int, maximum: int) -> int | Omitted:
        """An integer in ``[minimum, maximum]``."""
        value = self.raw(key, required=False)
        if value is OMITTED:
            return OMITTED
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            self.fail(key, f"must be an integer from {minimum} to {maximum}")
            return OMITTED
        return value

    def items(self, key: str) -> list[object] | Omitted:
        """A list."""
        value = self.raw(key, required=False)
        if value is OMITTED:
            return OMITTED
        if not isinstance(value, list):
            self.fail(key, "must be a list")
            return OMITTED
        return value


def decimal_from(value: object) -> Decimal | None:
    """A finite ``Decimal`` from a JSON/YAML number or decimal string; ``None`` if neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, str) and _DECIMAL.match(value):
        return Decimal(value)
    return None


@dataclass(frozen=True, slots=True)
class AccountChanges:
    """An account's settings from ``PUT accounts/{username}``; omitted fields keep their value."""

    api_key: str | Omitted = OMITTED
    balance: Decimal | Omitted = OMITTED
    currency: str | Omitted = OMITTED


@dataclass(frozen=True, slots=True)
class NumberChanges:
    """A number's settings from ``PUT numbers/{number}``; omitted fields keep their value."""

    username: str | Omitted = OMITTED
    callback_url: str | Omitted | None = OMITTED
    events_url: str | Omitted | None = OMITTED


ACCOUNT_FIELDS = ("apiKey", "balance", "currency")
NUMBER_FIELDS = ("username", "callbackUrl", "eventsUrl")
CALLEE_FIELDS = ("answer", "digits", "hangupAfter", "speechSeconds")


def read_account_fields(reader: FieldReader) -> AccountChanges:
    """The account fields of an object being read (errors collected in ``reader``)."""
    return AccountChanges(
        api_key=reader.string(
            "apiKey", _API_KEY, "must be 1 to 256 printable ASCII characters, no spaces"
        ),
        balance=reader.amount("balance"),
        currency=reader.string(
            "currency", _CURRENCY, "must be an ISO 4217 code of 3 capital letters"
        ),
    )


def read_number_fields(reader: FieldReader) -> NumberChanges:
    """The number fields of an object being read."""
    return NumberChanges(
        username=reader.username("username"),
        callback_url=reader.url("callbackUrl"),
        events_url=reader.url("eventsUrl"),
    )


def read_callee_fields(reader: FieldReader) -> CalleeScript:
    """The callee fields of an object being read; ``answer`` is required."""
    answer_value = reader.raw("answer", required=True)
    answer = CalleeAnswer.ANSWERED
    if answer_value is not OMITTED:
        choices = ", ".join(repr(choice.value) for choice in CalleeAnswer)
        if isinstance(answer_value, str) and answer_value in CalleeAnswer._value2member_map_:
            answer = CalleeAnswer(answer_value)
        else:
            reader.fail("answer", f"must be one of {choices}")
    digits: list[str] = []
    items = reader.items("digits")
    if items is not OMITTED:
        if len(items) > MAX_DIGIT_INPUTS:
            reader.fail("digits", f"must hold at most {MAX_DIGIT_INPUTS} inputs")
        for index, item in enumerate(items):
            if isinstance(item, str) and _DIGITS.match(item):
                digits.append(item)
            else:
                reader.fail(
                    f"digits[{index}]",
                    f"must be a string of at most {MAX_KEYS_PER_ENTRY} of 0-9, '*' and '#' "
                    '("" presses nothing at that prompt)',
                )
    hangup_after = reader.number("hangupAfter", 0, MAX_HANGUP_AFTER)
    speech_seconds = reader.number("speechSeconds", 0, MAX_HANGUP_AFTER, inclusive_minimum=True)
    return CalleeScript(
        answer=answer,
        digits=tuple(digits),
        hangup_after=None if isinstance(hangup_after, Omitted) else hangup_after,
        speech_seconds=None if isinstance(speech_seconds, Omitted) else speech_seconds,
    )


def read_account_changes(data: object) -> AccountChanges:
    """Validate a ``PUT accounts/{username}`` body."""
    reader = FieldReader(data, "", ACCOUNT_FIELDS)
    changes = read_account_fields(reader)
    reader.raise_if_invalid()
    return changes


def read_number_changes(data: object) -> NumberChanges:
    """Validate a ``PUT numbers/{number}`` body."""
    reader = FieldReader(data, "", NUMBER_FIELDS)
    changes = read_number_fields(reader)
    reader.raise_if_invalid()
    return changes


def read_callee(data: object) -> CalleeScript:
    """Validate a ``PUT callees/{number}`` body."""
    reader = FieldReader(data, "", CALLEE_FIELDS)
    behaviour = read_callee_fields(reader)
    reader.raise_if_invalid()
    return behaviour


def check_path_phone_number(value: str, name: str = "number") -> str:
    """A phone number taken from a URL path, or :class:`InvalidSettings` naming it."""
    problem = phone_number_problem(value)
    if problem is not None:
        raise InvalidSettings([FieldError(name, problem)])
    return value


def check_path_username(value: str) -> str:
    """A username taken from a URL path, or :class:`InvalidSettings`."""
    if not is_username(value):
        raise InvalidSettings([FieldError("username", USERNAME_RULE)])
    return value


def country_code_problem(value: object) -> str | None:
    """Why ``value`` is not an ISO 3166 alpha-2 country code, or ``None``."""
    if isinstance(value, str) and _COUNTRY.match(value):
        return None
    return "must be an ISO 3166 alpha-2 country code of 2 capital letters"
