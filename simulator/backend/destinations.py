"""Where the simulated platform can call, and what a minute costs there.

AT voice reaches its African markets only; a number elsewhere gets ``DestinationNotSupported``.
Rates are per minute, in the calling account's own currency: the simulator does not convert
currencies (see the README's fidelity table). They are illustrative, not AT's price list, and
a config file can replace them (``tariffs:``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

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
Ghana, Côte d'Ivoire, South Africa) with illustrative rates."""


class DestinationPlan:
    """Looks up the tariff of a destination number; ``None`` means not supported."""

    def __init__(self, tariffs: tuple[Tariff, ...] = DEFAULT_TARIFFS) -> None:
        self._tariffs = {tariff.country: tariff for tariff in tariffs}

    @property
    def tariffs(self) -> tuple[Tariff, ...]:
        """Every supported country's tariff."""
        return tuple(self._tariffs.values())

    def tariff_for(self, e164: str) -> Tariff | None:
        """The tariff for a valid E.164 number, or ``None`` if its country is not served."""
        region = phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
        return self._tariffs.get(region or "")
