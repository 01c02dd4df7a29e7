"""Domain errors of the simulated AT platform: small named classes, no HTTP.

Each surface has one error handler that turns these into its wire shape: AT's plain-text
answers on the REST surface (:mod:`at_voice_kit.simulator.serving.rest.errors`), RFC 7807 problem
documents on the admin API (:mod:`at_voice_kit.simulator.serving.admin.errors`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class SimulatorError(Exception):
    """Base of every domain error; ``message`` is fit to show to the API user."""

    message = "simulator error"

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.message)


class AuthenticationFailed(SimulatorError):
    """Unknown username, or an API key that is not that account's."""

    message = "The supplied authentication is invalid"


class NumberNotOwned(SimulatorError):
    """An AT number the authenticated account does not own."""

    def __init__(self, phone_number: str) -> None:
        super().__init__(f"Invalid phoneNumber: {phone_number} is not a number of this account")
        self.phone_number = phone_number


class InvalidMediaUrl(SimulatorError):
    """A ``/mediaUpload`` URL that is not an http(s) URL of an ``.mp3`` or ``.wav`` file."""

    def __init__(self, url: str) -> None:
        super().__init__(f"Invalid url: {url!r} must be an http(s) URL of an .mp3 or .wav file")
        self.url = url


class NotFound(SimulatorError):
    """A named admin resource (account, number, callee, call) that does not exist."""

    kind = "resource"

    def __init__(self, key: str) -> None:
        super().__init__(f"{self.kind} {key!r} does not exist")
        self.key = key


class UnknownAccount(NotFound):
    kind = "account"


class UnknownNumber(NotFound):
    kind = "number"


class UnknownCallee(NotFound):
    kind = "callee"


class UnknownCall(NotFound):
    kind = "call"


class Conflict(SimulatorError):
    """A well-formed admin change that the current state does not allow."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One broken rule: ``field`` is a dotted path (``accounts[0].apiKey``), ``rule`` says why."""

    field: str
    rule: str

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}" if self.field else self.rule


class InvalidSettings(SimulatorError):
    """Settings (admin JSON body or config file) that break one or more rules."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors = tuple(errors)
        super().__init__("; ".join(str(error) for error in self.errors) or "invalid settings")
