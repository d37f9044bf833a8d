"""The calls waiting for one DC and one purpose, oldest first.

A :class:`Line` is a list with a head position: taking the first call, putting one back in
front and letting one leave from anywhere (a timeout, a cancel) are all O(1), and an empty line
costs two small objects, not a deque's kilobyte.  A call that leaves is only marked gone (its
``line`` is cleared); the line skips it when it reaches the head and compacts itself when the
gone outnumber the waiting.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .call import Call

__all__ = ["Line"]


class Line:
    """Waiting calls in order; ``len()`` counts those still waiting."""

    __slots__ = ("_alive", "_head", "_items")

    def __init__(self) -> None:
        self._items: list[Call] = []
        self._head = 0
        self._alive = 0

    def __len__(self) -> int:
        return self._alive

    def __bool__(self) -> bool:
        return self._alive > 0

    def __iter__(self) -> Iterator[Call]:
        """The waiting calls, oldest first (a snapshot: the line may change meanwhile)."""
        return iter([call for call in self._items[self._head:] if call.line is self])

    def put(self, call: Call) -> None:
        """``call`` waits at the end."""
        self._items.append(call)
        call.line = self
        self._alive += 1

    def put_first(self, call: Call) -> None:
        """``call`` waits in front of every other."""
        if self._head:
            self._head -= 1
            self._items[self._head] = call
        else:
            self._items.insert(0, call)
        call.line = self
        self._alive += 1

    def first(self) -> Call | None:
        """The oldest waiting call (it stays in the line)."""
        items = self._items
        while self._head < len(items):
            call = items[self._head]
            if call.line is self:
                return call
            self._head += 1
        self._reset()
        return None

    def discard(self, call: Call) -> None:
        """``call`` no longer waits here (a no-op when it does not)."""
        if call.line is not self:
            return
        call.line = None
        self._alive -= 1
        if not self._alive:
            self._reset()
        elif len(self._items) - self._head > 64 and self._alive * 2 < len(self._items):
            self._items = [c for c in self._items[self._head:] if c.line is self]
            self._head = 0

    def clear(self) -> None:
        for call in self._items[self._head:]:
            if call.line is self:
                call.line = None
        self._reset()

    def _reset(self) -> None:
        self._items.clear()
        self._head = 0
        self._alive = 0
