"""Where the simulated platform can call, and what a minute costs there.

AT voice reaches its African markets only; a number elsewhere gets ``DestinationNotSupported``.
AT bills each account in its own currency. The default price list is in Kenyan shillings and is
priced for an account in another currency (UGX, NGN, TZS, ...) at fixed illustrative exchange
rates, so a Ugandan account pays plausible shillings of its own; a price list from a config
file (``tariffs:``) is taken to be in each account's own currency and is never converted.
Rates are illustrative, not AT's price list.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import phonenumbers


@dataclass(frozen=True, slots=True)
class Tariff:
    """The per-minute rate of calls to one country (ISO 3166 alpha-2 code)."""

    country: str
    per_minute: Decimal


DEFAULT_TARIFFS: tuple[Tariff, ...] = (
    Tariff("KE", Decimal("2.50")),
    Tariff("UG", Decimal("6.00")),
    Tariff("TZ", Decimal("6.00")),
    Tariff("RW", Decimal("6.00")),
    Tariff("MW", Decimal("8.00")),
    Tariff("ZM", Decimal("8.00")),
    Tariff("NG", Decimal("8.00")),
    Tariff("ET", Decimal("10.00")),
    Tariff("GH", Decimal("8.00")),
    Tariff("CI", Decimal("10.00")),
    Tariff("ZA", Decimal("10.00")),
)
"""AT's voice markets (Kenya, Uganda, Tanzania, Rwanda, Malawi, Zambia, Nigeria, Ethiopia,
Ghana, Côte d'Ivoire, South Africa) with illustrative rates, in :data:`DEFAULT_TARIFF_CURRENCY`."""

DEFAULT_TARIFF_CURRENCY = "KES"

UNITS_PER_KES: dict[str, Decimal] = {
    "KES": Decimal(1),
    "UGX": Decimal("28.5"),
    "TZS": Decimal("19.5"),
    "NGN": Decimal("11.5"),
    "RWF": Decimal("10.5"),
    "MWK": Decimal("13.4"),
    "ZMW": Decimal("0.20"),
    "ETB": Decimal("0.90"),
    "GHS": Decimal("0.12"),
    "XOF": Decimal("4.6"),
    "XAF": Decimal("4.6"),
    "ZAR": Decimal("0.14"),
    "BWP": Decimal("0.105"),
    "USD": Decimal("0.0077"),
    "EUR": Decimal("0.0071"),
    "GBP": Decimal("0.0061"),
}
"""Illustrative exchange rates (units of each currency per Kenyan shilling) for pricing the
default price list; a currency not listed is billed the shilling figures unconverted."""
RATE_QUANTUM = Decimal("0.0001")
"""Precision of a per-minute rate (AT writes amounts to 3 decimals; rates keep one more)."""


class DestinationPlan:
    """Looks up the tariff of a destination number; ``None`` means not supported.

    ``currency`` is the price list's own currency (converted for accounts paying in another
    one), or ``None`` for a list that is in every account's own currency.
    """

    def __init__(
        self,
        tariffs: tuple[Tariff, ...] = DEFAULT_TARIFFS,
        currency: str | None = DEFAULT_TARIFF_CURRENCY,
    ) -> None:
        self._tariffs = {tariff.country: tariff for tariff in tariffs}
        self._currency = currency

    @property
    def tariffs(self) -> tuple[Tariff, ...]:
        """Every supported country's tariff, as configured."""
        return tuple(self._tariffs.values())

    def tariffs_in(self, currency: str) -> tuple[Tariff, ...]:
        """Every supported country's tariff for an account paying in ``currency``."""
        return tuple(self._priced(tariff, currency) for tariff in self._tariffs.values())

    def tariff_for(self, e164: str, currency: str | None = None) -> Tariff | None:
        """The tariff for a valid E.164 number, for an account paying in ``currency`` (the
        list's own when ``None``), or ``None`` if its country is not served."""
        region = phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
        tariff = self._tariffs.get(region or "")
        if tariff is None or currency is None:
            return tariff
        return self._priced(tariff, currency)

    def _priced(self, tariff: Tariff, currency: str) -> Tariff:
        if self._currency is None or currency == self._currency:
            return tariff
        factor = UNITS_PER_KES.get(currency, Decimal(1)) / UNITS_PER_KES.get(
            self._currency, Decimal(1)
        )
        per_minute = (tariff.per_minute * factor).quantize(RATE_QUANTUM, ROUND_HALF_UP).normalize()
        return Tariff(tariff.country, per_minute)
