"""AT accounts the simulator accepts: username, API key, balance and its currency."""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass, replace
from decimal import Decimal

from at_voice_kit.simulator.backend.exceptions import AuthenticationFailed, UnknownAccount

DEFAULT_CURRENCY = "KES"
DEFAULT_BALANCE = Decimal("10000.00")


@dataclass(frozen=True, slots=True)
class Account:
    """One AT account. ``balance`` is in ``currency``; calls spend it."""

    username: str
    api_key: str
    balance: Decimal = DEFAULT_BALANCE
    currency: str = DEFAULT_CURRENCY


class AccountRegistry:
    """The accounts by username, with authentication and the balance arithmetic.

    Every method takes the backend's lock, so the server thread and a test thread can use
    one registry safely.
    """

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._accounts: dict[str, Account] = {}

    def load(self, accounts: tuple[Account, ...]) -> None:
        """Replace every account with ``accounts`` (used at start-up and on reset)."""
        with self._lock:
            self._accounts = {account.username: account for account in accounts}

    def authenticate(self, username: str, api_key: str | None) -> Account:
        """The account if ``api_key`` is its key; otherwise :class:`AuthenticationFailed`."""
        with self._lock:
            account = self._accounts.get(username)
        if account is None or api_key is None:
            raise AuthenticationFailed()
        # Constant-time comparison: the key is a secret even in a simulator reachable by others.
        if not hmac.compare_digest(account.api_key.encode(), api_key.encode()):
            raise AuthenticationFailed()
        return account

    def get(self, username: str) -> Account:
        """The account named ``username``, or :class:`UnknownAccount`."""
        with self._lock:
            account = self._accounts.get(username)
        if account is None:
            raise UnknownAccount(username)
        return account

    def exists(self, username: str) -> bool:
        """Whether an account named ``username`` exists."""
        with self._lock:
            return username in self._accounts

    def all(self) -> tuple[Account, ...]:
        """Every account, sorted by username."""
        with self._lock:
            return tuple(sorted(self._accounts.values(), key=lambda account: account.username))

    def put(self, account: Account) -> bool:
        """Create or replace an account; True if it was created."""
        with self._lock:
            created = account.username not in self._accounts
            self._accounts[account.username] = account
            return created

    def reserve(self, username: str, amount: Decimal) -> bool:
        """Take ``amount`` from the balance if it covers it; False (nothing taken) if not."""
        with self._lock:
            account = self.get(username)
            if account.balance < amount:
                return False
            self._accounts[username] = replace(account, balance=account.balance - amount)
            return True

    def adjust(self, username: str, delta: Decimal) -> None:
        """Add ``delta`` (negative to charge) to the balance, e.g. to settle a reservation."""
        with self._lock:
            account = self.get(username)
            self._accounts[username] = replace(account, balance=account.balance + delta)
