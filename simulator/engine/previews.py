"""What the simulator keeps of what others send it: bounded previews and bounded histories.

The journal, a call's timeline and ``atsim verify``'s report keep what apps answered and
what clients sent, for people and tests to read. An app may answer a megabyte (or a gzip
bomb unpacking to one) to every webhook and a client may send the largest body the server
takes: kept whole, 200 calls of such answers took 1.2 GB. They keep the start of each text
instead (:func:`preview`, with the whole text's size) and, of a history that can grow
without end (a Redirect loop that never hangs up), its first and latest entries
(:class:`HeadAndTail`), so what is kept per call and per request has a fixed ceiling.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

PREVIEW_CHARS = 4096
"""How much of a body (an answer, a form, headers) is kept: its first 4096 characters."""
NOTE_CHARS = 512
"""How much of one line of a call's timeline is kept (a Redirect or Play URL is the app's)."""

Item = TypeVar("Item")


@dataclass(frozen=True, slots=True)
class Preview:
    """The start of a text and the whole text's length, in characters."""

    text: str
    size: int

    @property
    def truncated(self) -> bool:
        """True when ``text`` is only the start of the original."""
        return self.size > len(self.text)


def preview(text: str, limit: int = PREVIEW_CHARS) -> Preview:
    """The first ``limit`` characters of ``text``, and its length."""
    return Preview(text[:limit], len(text))


def clipped(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else its start and how much was cut."""
    if len(text) <= limit:
        return text
    marker = f"... ({len(text) - limit} more characters)"
    return text[:limit] + marker


def bounded_fields(
    fields: Iterable[tuple[str, str]], limit: int = PREVIEW_CHARS
) -> tuple[tuple[tuple[str, str], ...], bool]:
    """Name-value pairs, in order, while names and values fit in ``limit`` characters (the
    one that does not fit is cut to what is left); and whether anything was left out."""
    kept: list[tuple[str, str]] = []
    room = limit
    for name, value in fields:
        if room <= 0:
            return tuple(kept), True
        if len(name) + len(value) > room:
            kept.append((name[:room], value[: max(room - len(name), 0)]))
            return tuple(kept), True
        kept.append((name, value))
        room -= len(name) + len(value)
    return tuple(kept), False


class HeadAndTail(Generic[Item]):
    """The first ``head`` and the latest ``tail`` items of a sequence that may grow without
    end, and how many fell between them (``left_out``)."""

    __slots__ = ("_head", "_head_size", "_tail", "left_out")

    def __init__(self, head: int, tail: int) -> None:
        self._head_size = head
        self._head: list[Item] = []
        self._tail: deque[Item] = deque(maxlen=tail)
        self.left_out = 0

    def append(self, item: Item) -> None:
        """Keep ``item`` (pushing the oldest of the latest out once the tail is full)."""
        if len(self._head) < self._head_size:
            self._head.append(item)
            return
        if len(self._tail) == self._tail.maxlen:
            self.left_out += 1
        self._tail.append(item)

    def joined(self, gap: Callable[[int, Item], Item]) -> tuple[Item, ...]:
        """The items kept, with ``gap(left_out, next item)`` where items were left out."""
        if not self.left_out:
            return tuple(self)
        return (*self._head, gap(self.left_out, self._tail[0]), *self._tail)

    def __iter__(self) -> Iterator[Item]:
        yield from self._head
        yield from self._tail

    def __len__(self) -> int:
        return len(self._head) + len(self._tail)
