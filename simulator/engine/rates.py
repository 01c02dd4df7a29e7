"""What a call costs: per-country voice rates and currencies, and how seconds are billed.

AT bills the account in the currency of the market the call is in (``currencyCode=KES`` for
a Kenyan phone user). The rates below are illustrative per-minute prices of the right order
of magnitude, not AT's price list (which varies by account and changes): pass your own
:class:`RateTable` to the engine to match an invoice.

Billing: AT's sample amounts (``147.440``) are not whole minutes of a plausible rate, so the
default bills **per second** (``amount = per_minute * seconds / 60``, rounded half-up to
3 decimals, as AT writes them). :attr:`BillingMode.PER_MINUTE` bills every started minute
instead. Only the phone user's leg is billed; a ``Dial`` leg's cost is not added (AT bills
it separately, and its currency may differ).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from at_voice_kit.contracts.phone import country_calling_code, region_code
from at_voice_kit.contracts.vocabulary import Direction

AMOUNT_QUANTUM = Decimal("0.001")


class BillingMode(StrEnum):
    """How a call's duration turns into billed time."""

    PER_SECOND = "per-second"
    PER_MINUTE = "per-minute"


@dataclass(frozen=True, slots=True)
class CountryRate:
    """The voice price in one market, per minute, in its currency."""

    calling_code: str
    country: str
    currency: str
    outbound_per_minute: Decimal
    inbound_per_minute: Decimal

    def per_minute(self, direction: Direction) -> Decimal:
        """The rate for calls in ``direction``."""
        if direction is Direction.INBOUND:
            return self.inbound_per_minute
        return self.outbound_per_minute


def _rate(code: str, country: str, currency: str, outbound: str, inbound: str) -> CountryRate:
    return CountryRate(code, country, currency, Decimal(outbound), Decimal(inbound))


DEFAULT_RATES: tuple[CountryRate, ...] = (
    _rate("254", "KE", "KES", "3.00", "1.50"),
    _rate("256", "UG", "UGX", "180", "90"),
    _rate("255", "TZ", "TZS", "90", "45"),
    _rate("234", "NG", "NGN", "25.00", "12.50"),
    _rate("250", "RW", "RWF", "40", "20"),
    _rate("265", "MW", "MWK", "50", "25"),
    _rate("260", "ZM", "ZMW", "0.90", "0.45"),
    _rate("251", "ET", "ETB", "2.00", "1.00"),
    _rate("233", "GH", "GHS", "0.50", "0.25"),
    _rate("221", "SN", "XOF", "60", "30"),
    _rate("225", "CI", "XOF", "60", "30"),
    _rate("237", "CM", "XAF", "70", "35"),
    _rate("27", "ZA", "ZAR", "1.20", "0.60"),
    _rate("263", "ZW", "USD", "0.06", "0.03"),
    _rate("267", "BW", "BWP", "0.80", "0.40"),
)

FALLBACK_RATE = _rate("", "ZZ", "USD", "0.10", "0.05")
"""Markets not in the table are billed in US dollars."""


@dataclass(frozen=True, slots=True)
class Charge:
    """The cost of one call: ``amount`` in ``currency`` for ``billed_seconds``."""

    currency: str
    amount: Decimal
    billed_seconds: int
    per_minute: Decimal

    @property
    def wire_amount(self) -> str:
        """``amount`` as AT writes it: ``0`` for a free call, else 3 decimals (``147.440``)."""
        if self.amount == 0:
            return "0"
        return f"{self.amount:.3f}"


@dataclass(frozen=True, slots=True)
class RateTable:
    """Rates by country calling code, plus the billing mode."""

    rates: tuple[CountryRate, ...] = DEFAULT_RATES
    fallback: CountryRate = FALLBACK_RATE
    billing: BillingMode = BillingMode.PER_SECOND

    def rate_for(self, e164: str) -> CountryRate:
        """The rate of the market of a valid E.164 number.

        Countries may share a calling code (+1: the US, Canada and others): the number's own
        country's rate wins, then the first with its code.
        """
        code = country_calling_code(e164)
        sharing = [rate for rate in self.rates if rate.calling_code == code]
        if len(sharing) > 1:
            country = region_code(e164)
            return next((r for r in sharing if r.country == country), sharing[0])
        return sharing[0] if sharing else self.fallback

    def currency_for(self, e164: str) -> str:
        """The currency AT reports for calls with this phone user."""
        return self.rate_for(e164).currency

    def billed_seconds(self, duration_seconds: int) -> int:
        """The seconds charged for a call of ``duration_seconds``."""
        if self.billing is BillingMode.PER_MINUTE:
            return 60 * math.ceil(duration_seconds / 60)
        return duration_seconds

    def charge(self, e164: str, direction: Direction, duration_seconds: int) -> Charge:
        """The cost of a call of ``duration_seconds`` with phone user ``e164``."""
        rate = self.rate_for(e164)
        per_minute = rate.per_minute(direction)
        billed = self.billed_seconds(duration_seconds)
        amount = (per_minute * billed / 60).quantize(AMOUNT_QUANTUM, rounding=ROUND_HALF_UP)
        return Charge(rate.currency, amount, billed, per_minute)

    def free(self, e164: str) -> Charge:
        """A call that costs nothing (never answered, or rejected)."""
        rate = self.rate_for(e164)
        return Charge(rate.currency, Decimal(0), 0, rate.outbound_per_minute)


DEFAULT_RATE_TABLE = RateTable()
