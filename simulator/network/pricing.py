"""What the simulated platform charges: the account's price list, as the engine's rate table.

One price list per simulator: the backend's per-country tariffs (``tariffs:`` in the config
file), per minute, priced in the account's currency by
:meth:`at_voice_kit.simulator.backend.destinations.DestinationPlan.tariffs_in`. ``/call`` reserves
one minute of it; the engine prices the finished call with the same numbers, and the final request's
``currencyCode``/``amount`` are what the balance is charged, so the three always agree. AT bills
each account in its own currency.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import phonenumbers

from at_voice_kit.simulator.backend.destinations import RATE_QUANTUM, Tariff
from at_voice_kit.simulator.engine.rates import CountryRate, RateTable

INBOUND_SHARE = Decimal("0.5")
"""Inbound minutes cost half an outbound minute (illustrative, like the rates themselves)."""


def account_rate_table(tariffs: Sequence[Tariff], currency: str) -> RateTable:
    """The engine's rate table for an account paying in ``currency`` under ``tariffs``.

    A caller from a country without a tariff (an inbound call from abroad) is priced at the
    dearest tariff: the platform still answers calls it would not place.
    """
    rates = tuple(_country_rate(tariff, currency) for tariff in tariffs)
    dearest = max((t.per_minute for t in tariffs), default=Decimal(0))
    fallback = CountryRate("", "ZZ", currency, dearest, _inbound(dearest))
    return RateTable(rates, fallback)


def _country_rate(tariff: Tariff, currency: str) -> CountryRate:
    code = phonenumbers.country_code_for_region(tariff.country)
    return CountryRate(
        str(code), tariff.country, currency, tariff.per_minute, _inbound(tariff.per_minute)
    )


def _inbound(per_minute: Decimal) -> Decimal:
    return (per_minute * INBOUND_SHARE).quantize(RATE_QUANTUM).normalize()
