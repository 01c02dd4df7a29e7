"""The configuration of one simulator run, as the backend is built from it: where it listens,
how fast time runs, and the world it starts with (accounts, numbers, callees, tariffs).

A :class:`SimulatorConfig` is plain data; :mod:`at_voice_kit.simulator.configuration` builds one
from, in increasing precedence, the defaults here, a YAML file (``--config FILE`` or
``ATSIM_CONFIG``), then command-line flags or ``ATSIM_*`` variables. ``POST
/_simulator/reset`` returns the simulator to exactly this configuration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import StrEnum

from at_voice_kit.simulator.backend.accounts import Account
from at_voice_kit.simulator.backend.callees import CalleeScript
from at_voice_kit.simulator.backend.destinations import (
    DEFAULT_TARIFF_CURRENCY,
    DEFAULT_TARIFFS,
    Tariff,
)
from at_voice_kit.simulator.backend.exceptions import SimulatorError
from at_voice_kit.simulator.backend.numbers import AtNumber
from at_voice_kit.simulator.engine.events import NO_FAULTS, EventFaults
from at_voice_kit.simulator.engine.options import DEFAULT_WEBHOOK_TIMEOUT

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5001
DEFAULT_USERNAME = "sandbox"
DEFAULT_API_KEY = "atsim-sandbox-key"
DEFAULT_AT_NUMBER = "+254711082000"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
MAX_SEED = 2**63 - 1


class ConfigError(SimulatorError):
    """A configuration that cannot be used; the message names the file, key and rule."""


class SpeedMode(StrEnum):
    """How simulated time relates to the wall clock."""

    REAL = "real"
    FAST = "fast"
    SCALED = "scaled"


@dataclass(frozen=True, slots=True)
class Speed:
    """``--speed``: ``real`` (wall clock), ``fast`` (virtual clock: no waiting at all), or a
    positive multiplier (``10``: ten simulated seconds per real second). The call engine
    reads it; the REST surface does not depend on it."""

    mode: SpeedMode = SpeedMode.REAL
    multiplier: float = 1.0

    RULE = "must be 'real', 'fast' or a positive number such as 10 or 0.5"

    @classmethod
    def parse(cls, text: str) -> Speed:
        """Parse a ``--speed`` value; ``ValueError`` (with :attr:`RULE`) if it is none."""
        value = text.strip().lower()
        if value == SpeedMode.REAL:
            return cls()
        if value == SpeedMode.FAST:
            return cls(SpeedMode.FAST)
        try:
            multiplier = float(value)
        except ValueError:
            raise ValueError(f"speed {text!r} {cls.RULE}") from None
        if not math.isfinite(multiplier) or multiplier <= 0:
            raise ValueError(f"speed {text!r} {cls.RULE}")
        if multiplier == 1:
            return cls()
        return cls(SpeedMode.SCALED, multiplier)

    def __str__(self) -> str:
        if self.mode is SpeedMode.SCALED:
            return f"{self.multiplier:g}"
        return self.mode.value


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """Everything a simulator run is built from. Frozen: tests build one directly.

    ``webhook_timeout`` is how long the platform waits for the app's answer (AT: 10 s);
    ``event_faults`` make events URL deliveries misbehave on purpose; ``public_url`` is the
    base of the ``recordingUrl`` values handed to apps (default: the address served on).
    ``strict`` ends a call as an app failure on any ActionXML problem, warnings included;
    by default a call is carried on as AT most plausibly would (every problem journaled).

    ``accounts`` and ``numbers`` may be empty here; :meth:`resolved` fills in the zero-config
    defaults (account ``sandbox`` / ``atsim-sandbox-key``, number ``+254711082000``).
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    seed: int | None = None
    speed: Speed = field(default_factory=Speed)
    accounts: tuple[Account, ...] = ()
    numbers: tuple[AtNumber, ...] = ()
    callees: tuple[tuple[str, CalleeScript], ...] = ()
    default_callee: CalleeScript | None = None
    tariffs: tuple[Tariff, ...] = DEFAULT_TARIFFS
    tariff_currency: str | None = DEFAULT_TARIFF_CURRENCY
    """The price list's currency, converted for accounts in another; ``None``: a list from a
    config file, in each account's own currency."""
    admin_token: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    webhook_timeout: float = DEFAULT_WEBHOOK_TIMEOUT
    event_faults: EventFaults = NO_FAULTS
    public_url: str | None = None
    strict: bool = False
    hangup_cause_when_answered: bool = False
    """Put ``hangupCause`` in the final request of answered calls too (``EngineOptions``)."""

    def resolved(self) -> SimulatorConfig:
        """This configuration with the default account and number added if it has none, and
        numbers without an owner given to the first account.

        Raises :class:`ConfigError` if a number names an account that does not exist.
        """
        accounts = self.accounts or (Account(DEFAULT_USERNAME, DEFAULT_API_KEY),)
        usernames = {account.username for account in accounts}
        numbers = []
        for number in self.numbers or (AtNumber(DEFAULT_AT_NUMBER, ""),):
            owner = number.username or accounts[0].username
            if owner not in usernames:
                raise ConfigError(
                    f"number {number.phone_number}: no account is named {owner!r}"
                    f" (accounts: {', '.join(sorted(usernames))})"
                )
            numbers.append(replace(number, username=owner))
        return replace(self, accounts=accounts, numbers=tuple(numbers))
