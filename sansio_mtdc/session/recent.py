"""Bounded memories of msg_ids: which the peer sent us (replays), which we sent (so that a
notification about one of them can be believed)."""

from __future__ import annotations

from collections.abc import Hashable
from heapq import heappush, heappushpop
from typing import Generic, TypeVar

from ..errors import UsageError

__all__ = ["DUPLICATE", "NEW", "TOO_OLD", "RecentIds", "RecentMap"]

#: :meth:`RecentIds.check` results
NEW = 0
DUPLICATE = 1
TOO_OLD = 2

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class RecentIds:
    """The last ``size`` msg_ids received, as description.txt's "Important Checks" ask.

    An id already held is a duplicate.  When more than ``size`` are held the lowest is
    forgotten, and from then on an id at or below the highest one forgotten can no longer be
    told from a replay: it is ``TOO_OLD``.  Until then every id ever seen is held, so a lower id
    is simply new.
    """

    __slots__ = ("_floor", "_heap", "_ids", "_size")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise UsageError(f"a window of {size} ids")
        self._size = size
        self._ids: set[int] = set()
        self._heap: list[int] = []
        self._floor = -1 << 64

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, msg_id: object) -> bool:
        return msg_id in self._ids

    @property
    def floor(self) -> int:
        """The highest id forgotten so far (ids at or below it are ``TOO_OLD``)."""
        return self._floor

    @property
    def highest(self) -> int | None:
        return max(self._ids) if self._ids else None

    def check(self, msg_id: int) -> int:
        """``NEW``, ``DUPLICATE`` or ``TOO_OLD``, without remembering anything."""
        if msg_id in self._ids:
            return DUPLICATE
        if msg_id <= self._floor:
            return TOO_OLD
        return NEW

    def add(self, msg_id: int) -> int:
        """:meth:`check`, and remember ``msg_id`` when it is new."""
        ids = self._ids
        if msg_id in ids:
            return DUPLICATE
        if msg_id <= self._floor:
            return TOO_OLD
        ids.add(msg_id)
        heap = self._heap
        if len(heap) < self._size:
            heappush(heap, msg_id)
        else:  # full: push and forget the lowest in one step
            lowest = heappushpop(heap, msg_id)
            ids.discard(lowest)
            self._floor = lowest  # the lowest held is above every id forgotten before
        return NEW

    def clear(self) -> None:
        self._ids.clear()
        self._heap.clear()
        self._floor = -1 << 64


class RecentMap(Generic[K, V]):
    """A bounded memory of keys put, with a value each: at least the last ``size // 2`` and at
    most ``size`` are kept.  It works in two generations, so that a put costs one dict store:
    when the new generation is full it becomes the old one and the old one is dropped."""

    __slots__ = ("_half", "_new", "_old")

    def __init__(self, size: int) -> None:
        if size < 2:
            raise UsageError(f"a memory of {size} items")
        self._half = size // 2
        self._new: dict[K, V] = {}
        self._old: dict[K, V] = {}

    def __len__(self) -> int:
        return len(self._new) + sum(1 for key in self._old if key not in self._new)

    def __contains__(self, key: object) -> bool:
        return key in self._new or key in self._old

    def get(self, key: K) -> V | None:
        found = self._new.get(key)
        if found is None:
            found = self._old.get(key)
        return found

    def put(self, key: K, value: V) -> None:
        new = self._new
        new[key] = value
        if len(new) >= self._half:
            self._old = new
            self._new = {}

    def put_new(self, key: K, value: V) -> bool:
        """:meth:`put` unless ``key`` is held already; whether it was put."""
        new = self._new
        if key in new or key in self._old:
            return False
        new[key] = value
        if len(new) >= self._half:
            self._old = new
            self._new = {}
        return True

    def clear(self) -> None:
        self._new = {}
        self._old = {}
