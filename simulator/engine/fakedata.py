"""Realistic phone users: a Faker provider for mobile numbers in Africa's Talking's markets.

Numbers are built from real mobile prefixes of each market's big carriers and checked with
``phonenumbers``: every number returned is valid, a mobile number, and ``phonenumbers``
names the carrier it was made for (so ``callerCarrierName`` matches). Use it with any
seeded Faker::

    fake = Faker(); fake.add_provider(AfricasTalkingPhoneProvider); fake.seed_instance(7)
    fake.at_phone_number("KE")  # '+254712345678'
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from faker.providers import BaseProvider

from at_voice_kit.contracts.phone import carrier_name


@dataclass(frozen=True, slots=True)
class CarrierPrefixes:
    """A carrier's national mobile prefixes in one market (3 digits after the country code)."""

    carrier: str
    prefixes: tuple[str, ...]


def _span(first: int, last: int) -> tuple[str, ...]:
    return tuple(str(p) for p in range(first, last + 1))


@dataclass(frozen=True, slots=True)
class Market:
    """One country: ISO region, calling code, national number length, carriers."""

    region: str
    calling_code: str
    national_length: int
    carriers: tuple[CarrierPrefixes, ...]


MARKETS: tuple[Market, ...] = (
    Market("KE", "254", 9, (
        CarrierPrefixes("Safaricom", _span(700, 712) + _span(110, 115)),
        CarrierPrefixes("Airtel", _span(730, 739) + _span(750, 756) + _span(100, 102)),
        CarrierPrefixes("Telkom", _span(770, 779)),
    )),
    Market("UG", "256", 9, (
        CarrierPrefixes("MTN", _span(770, 789) + _span(760, 769)),
        CarrierPrefixes("Airtel", _span(700, 709) + _span(750, 759)),
    )),
    Market("TZ", "255", 9, (
        CarrierPrefixes("Vodacom", _span(740, 769)),
        CarrierPrefixes("Airtel", _span(680, 699)),
        CarrierPrefixes("Yas", _span(650, 659) + _span(710, 719)),
        CarrierPrefixes("Viettel", _span(620, 629)),
    )),
    Market("NG", "234", 10, (
        CarrierPrefixes("MTN", ("803", "806", "813", "816", "703", "706", "903", "906")),
        CarrierPrefixes("Airtel", ("802", "808", "812", "701", "708", "902", "907")),
        CarrierPrefixes("Glo", ("805", "807", "815", "705", "905")),
        CarrierPrefixes("9mobile", ("809", "817", "818", "909")),
    )),
    Market("RW", "250", 9, (
        CarrierPrefixes("MTN", _span(780, 789)),
        CarrierPrefixes("Airtel", _span(720, 739)),
    )),
    Market("MW", "265", 9, (
        CarrierPrefixes("Airtel", _span(980, 999)),
        CarrierPrefixes("TNM", _span(880, 899)),
    )),
    Market("ZM", "260", 9, (
        CarrierPrefixes("MTN", _span(960, 969) + _span(760, 769)),
        CarrierPrefixes("Airtel", _span(970, 979) + _span(770, 779)),
        CarrierPrefixes("ZAMTEL", _span(950, 959)),
    )),
    Market("ET", "251", 9, (
        CarrierPrefixes("Ethio Telecom", _span(910, 919) + _span(900, 909)),
        CarrierPrefixes("Safaricom", _span(700, 709)),
    )),
    Market("GH", "233", 9, (
        CarrierPrefixes("MTN", _span(240, 249) + _span(540, 549)),
        CarrierPrefixes("Telecel", _span(200, 209) + _span(500, 509)),
    )),
    Market("SN", "221", 9, (
        CarrierPrefixes("Orange", _span(770, 789)),
        CarrierPrefixes("Yas", _span(760, 769)),
        CarrierPrefixes("Expresso", _span(700, 709)),
    )),
    Market("CM", "237", 9, (
        CarrierPrefixes("MTN Cameroon", _span(670, 679)),
        CarrierPrefixes("Orange", _span(690, 699)),
    )),
    Market("ZA", "27", 9, (
        CarrierPrefixes("Vodacom", _span(720, 729)),
        CarrierPrefixes("MTN", _span(730, 739)),
        CarrierPrefixes("Cell C", _span(740, 749)),
    )),
)  # fmt: skip

MARKETS_BY_REGION = {m.region: m for m in MARKETS}
_MAX_ATTEMPTS = 200


class AfricasTalkingPhoneProvider(BaseProvider):
    """Faker provider: ``at_phone_number``, ``at_phone_user`` and ``at_market_region``."""

    def at_market_region(self) -> str:
        """A random market's ISO region code (``KE``, ``UG``, ...)."""
        return str(self.random_element([m.region for m in MARKETS]))

    def at_phone_user(self, region: str | None = None) -> tuple[str, str]:
        """A ``(number, carrier)`` pair: a valid E.164 mobile number and its carrier name."""
        market = self._market(region)
        for _ in range(_MAX_ATTEMPTS):
            carrier = self.random_element(market.carriers)
            prefix = self.random_element(carrier.prefixes)
            rest = market.national_length - len(prefix)
            number = f"+{market.calling_code}{prefix}{self.numerify('#' * rest)}"
            parsed = phonenumbers.parse(number, None)
            if phonenumbers.is_valid_number(parsed) and carrier_name(number) == carrier.carrier:
                return number, carrier.carrier
        raise RuntimeError(f"no valid {market.region} number after {_MAX_ATTEMPTS} attempts")

    def at_phone_number(self, region: str | None = None) -> str:
        """A valid E.164 mobile number in ``region`` (default: any AT market)."""
        return self.at_phone_user(region)[0]

    def _market(self, region: str | None) -> Market:
        if region is None:
            return MARKETS_BY_REGION[self.at_market_region()]
        try:
            return MARKETS_BY_REGION[region.upper()]
        except KeyError:
            known = ", ".join(MARKETS_BY_REGION)
            raise ValueError(f"region must be one of {known}, not {region!r}") from None
