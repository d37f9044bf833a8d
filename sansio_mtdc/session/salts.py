"""Server salts over time, as a server keeps them for one auth key.

A salt is valid for ``period`` seconds and still accepted ``overlap`` seconds after the next one
takes over ("messages with the old salt are still accepted for a further 1800 seconds"); the
server answers a message with any other salt (or 0) with bad_server_salt and the current one.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ..errors import UsageError

__all__ = ["SaltSchedule"]


class SaltSchedule:
    """``SaltSchedule(random, *, start, period=3600, overlap=1800)``: a fresh random salt for
    each period from ``start``; salts are drawn when first needed and forgotten when no longer
    accepted.  ``SaltSchedule.fixed(salt)`` is one salt forever (tests, simple servers)."""

    __slots__ = ("_fixed", "_overlap", "_period", "_random", "_salts", "_start")

    def __init__(self, random: Callable[[int], bytes], *, start: float, period: int = 3600,
                 overlap: int = 1800) -> None:
        if not callable(random):
            raise UsageError("random must be a callable returning n random bytes")
        if not isinstance(period, int) or period < 1 or not isinstance(overlap, int) or (
                overlap < 0):
            raise UsageError("period must be a positive int and overlap a non-negative one")
        if not math.isfinite(start):
            raise UsageError(f"start must be finite, not {start!r}")
        self._random = random
        self._start = float(start)
        self._period = period
        self._overlap = overlap
        self._salts: dict[int, int] = {}
        self._fixed: int | None = None

    @classmethod
    def fixed(cls, salt: int) -> SaltSchedule:
        """One salt, valid forever."""
        if isinstance(salt, bool) or not isinstance(salt, int) or not (
                -(1 << 63) <= salt < 1 << 63):
            raise UsageError(f"a salt is a signed 64-bit int, not {salt!r}")
        schedule = cls(_no_random, start=0.0)
        schedule._fixed = salt
        return schedule

    def _slot(self, now: float) -> int:
        return math.floor((now - self._start) / self._period)

    def _salt(self, slot: int) -> int:
        salt = self._salts.get(slot)
        if salt is None:
            raw = self._random(8)
            if len(raw) != 8:
                raise UsageError("random(8) must return 8 bytes")
            salt = int.from_bytes(raw, "little", signed=True) or 1
            self._salts[slot] = salt
        return salt

    def _forget_before(self, slot: int) -> None:
        for old in [s for s in self._salts if s < slot]:
            del self._salts[old]

    def current(self, now: float) -> int:
        """The salt a client should use at ``now``."""
        if self._fixed is not None:
            return self._fixed
        slot = self._slot(now)
        back = math.ceil(self._overlap / self._period)
        self._forget_before(slot - back)
        return self._salt(slot)

    def accepts(self, salt: int, now: float) -> bool:
        """Whether a message carrying ``salt`` is taken at ``now``."""
        if self._fixed is not None:
            return salt == self._fixed
        if salt == self.current(now):
            return True
        slot = self._slot(now)
        for older, value in self._salts.items():
            if older < slot and value == salt:
                until = self._start + (older + 1) * self._period + self._overlap
                return now < until
        return False

    def future(self, now: float, num: int) -> list[tuple[int, int, int]]:
        """Up to ``num`` (1..64) salts from the current one on, as ``(valid_since, valid_until,
        salt)`` in whole seconds (get_future_salts)."""
        num = max(1, min(64, int(num)))
        if self._fixed is not None:
            return [(int(now), 2**31 - 1, self._fixed)]
        self.current(now)
        first = self._slot(now)
        out = []
        for slot in range(first, first + num):
            since = self._start + slot * self._period
            until = since + self._period + self._overlap
            out.append((int(since), min(int(until), 2**31 - 1), self._salt(slot)))
        return out


def _no_random(n: int) -> bytes:
    raise UsageError("a fixed salt schedule draws no salts")
