"""The AT numbers accounts own, each with the callback and events URLs AT posts to."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

from at_voice_kit.simulator.backend.exceptions import NumberNotOwned, UnknownNumber


@dataclass(frozen=True, slots=True)
class AtNumber:
    """An AT number (E.164) owned by ``username``.

    ``callback_url`` receives the call's requests (and answers with ActionXML);
    ``events_url``, if set, receives the call notifications. ``media_urls`` are the files
    uploaded with ``/mediaUpload`` for this number, oldest first.
    """

    phone_number: str
    username: str
    callback_url: str | None = None
    events_url: str | None = None
    media_urls: tuple[str, ...] = ()


class NumberRegistry:
    """The AT numbers by E.164 string."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._numbers: dict[str, AtNumber] = {}

    def load(self, numbers: tuple[AtNumber, ...]) -> None:
        """Replace every number with ``numbers`` (start-up and reset)."""
        with self._lock:
            self._numbers = {number.phone_number: number for number in numbers}

    def get(self, phone_number: str) -> AtNumber:
        """The number, or :class:`UnknownNumber`."""
        with self._lock:
            number = self._numbers.get(phone_number)
        if number is None:
            raise UnknownNumber(phone_number)
        return number

    def find(self, phone_number: str) -> AtNumber | None:
        """The number, or ``None``."""
        with self._lock:
            return self._numbers.get(phone_number)

    def owned(self, username: str, phone_number: str) -> AtNumber:
        """The number if ``username`` owns it, else :class:`NumberNotOwned`."""
        number = self.find(phone_number)
        if number is None or number.username != username:
            raise NumberNotOwned(phone_number)
        return number

    def all(self) -> tuple[AtNumber, ...]:
        """Every number, sorted."""
        with self._lock:
            return tuple(sorted(self._numbers.values(), key=lambda number: number.phone_number))

    def put(self, number: AtNumber) -> bool:
        """Create or replace a number; True if it was created."""
        with self._lock:
            created = number.phone_number not in self._numbers
            self._numbers[number.phone_number] = number
            return created

    def delete(self, phone_number: str) -> None:
        """Remove a number, or :class:`UnknownNumber`."""
        with self._lock:
            if self._numbers.pop(phone_number, None) is None:
                raise UnknownNumber(phone_number)

    def add_media(self, phone_number: str, url: str) -> None:
        """Remember a media file uploaded for this number."""
        with self._lock:
            number = self.get(phone_number)
            self._numbers[phone_number] = replace(number, media_urls=(*number.media_urls, url))
