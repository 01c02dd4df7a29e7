"""How one field of a settings object (admin API JSON, ``--config`` YAML) is read and checked.

:class:`FieldReader` collects every broken rule as a :class:`FieldError` naming the field by
its path (``accounts[0].apiKey``, ``hangupAfter``) and raises :class:`InvalidSettings` once.
The patterns and bounds are read from ``contracts/at_voice.yaml`` at start-up, so what the
contract declares (and schemathesis generates from) is exactly what the simulator enforces.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal

from at_voice_kit.contracts.at_voice_contract import component_pattern, component_schema
from at_voice_kit.contracts.json_schema import schema_pattern
from at_voice_kit.contracts.phone import InvalidPhoneNumber, normalise_international
from at_voice_kit.contracts.urls import http_url_problem
from at_voice_kit.simulator.backend.changes import OMITTED, Omitted
from at_voice_kit.simulator.backend.exceptions import FieldError, InvalidSettings

PHONE_NUMBER = component_pattern("PhoneNumber")
USERNAME = component_pattern("Username")
URL = component_pattern("Url")
MEDIA_URL = component_pattern("MediaUploadForm", "properties", "url")
API_KEY = component_pattern("AccountSettings", "properties", "apiKey")
CURRENCY = component_pattern("AccountSettings", "properties", "currency")
DECIMAL = component_pattern("AccountSettings", "properties", "balance", "anyOf", 1)
DIGITS = component_pattern("CalleeSettings", "properties", "digits", "items")
MAX_DIGIT_INPUTS: int = component_schema("CalleeSettings", "properties", "digits")["maxItems"]
MAX_HANGUP_AFTER: int = component_schema("CalleeSettings", "properties", "hangupAfter", "oneOf", 0)[
    "maximum"
]
COUNTRY = schema_pattern(r"^[A-Z]{2}$")  # tariffs: in the config file only, not in the contract
USERNAME_RULE = "must be 1 to 64 letters, digits, '_', '.', '@' or '-'"
URL_RULE = "must be an absolute http(s) URL such as 'http://127.0.0.1:8000/voice'"
MAX_AMOUNT = Decimal(10) ** 13
AMOUNT_QUANTUM = Decimal("0.0001")
AMOUNT_EXPONENT = -4


def phone_number_problem(value: str) -> str | None:
    """Why ``value`` is not an AT-style international number, or ``None`` if it is one."""
    if not PHONE_NUMBER.match(value):
        return "must be an international number: '+' then 7 to 15 digits"
    try:
        normalise_international(value)
    except InvalidPhoneNumber as exc:
        return exc.rule
    return None


def url_problem(value: str) -> str | None:
    """Why ``value`` is not a callback, events or public URL: the contract's ``Url`` pattern
    and the one URL rule of :mod:`at_voice_kit.contracts.urls`; ``None`` if it is one."""
    if not URL.match(value):
        return URL_RULE
    return http_url_problem(value)


def is_api_key(value: str) -> bool:
    """Whether ``value`` is an API key the simulator accepts (printable ASCII, no spaces)."""
    return bool(API_KEY.match(value))


def is_username(value: str) -> bool:
    """Whether ``value`` is a username the simulator accepts for an account."""
    return bool(USERNAME.match(value))


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
        return self.string(key, USERNAME, USERNAME_RULE, required=required)

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
        problem = url_problem(value) if isinstance(value, str) else URL_RULE
        if problem is not None or not isinstance(value, str):
            self.fail(key, problem or URL_RULE)
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
    if isinstance(value, str) and DECIMAL.match(value):
        return Decimal(value)
    return None


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
    if isinstance(value, str) and COUNTRY.match(value):
        return None
    return "must be an ISO 3166 alpha-2 country code of 2 capital letters"
