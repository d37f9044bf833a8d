"""Which addresses failed lately, so that the next connection attempt tries others first.

A failure demotes an address (``host``, ``port``) for a window that doubles with each failure in
a row (30 s, 60 s, ... up to 10 min).  A success clears it; so does an hour without failures, so
an address that was down once is never banned for good.  Times are the caller's ``now`` and must
not run backwards (a monotonic clock is the right one).
"""

from __future__ import annotations

from collections.abc import Collection

__all__ = ["FAILURE_FORGET_AFTER", "FAILURE_WINDOW_BASE", "FAILURE_WINDOW_CAP", "FailureTracker"]

Address = tuple[str, int]

#: Demotion after the first failure, in seconds; each further failure in a row doubles it.
FAILURE_WINDOW_BASE = 30.0
#: The longest demotion, in seconds.
FAILURE_WINDOW_CAP = 600.0
#: A failure older than this is forgotten: the next one counts as the first again.
FAILURE_FORGET_AFTER = 3600.0
_MAX_STREAK = 16


def demotion_window(streak: int) -> float:
    """Seconds an address stays demoted after ``streak`` failures in a row."""
    return min(FAILURE_WINDOW_BASE * 2.0 ** (min(streak, _MAX_STREAK) - 1), FAILURE_WINDOW_CAP)


class FailureTracker:
    """Failure streaks per address: ``{address: (failures in a row, time of the last one)}``."""

    __slots__ = ("_records",)

    def __init__(self) -> None:
        self._records: dict[Address, tuple[int, float]] = {}

    def failed(self, address: Address, now: float) -> None:
        streak, last = self._records.get(address, (0, now))
        if now - last >= FAILURE_FORGET_AFTER:
            streak = 0
        self._records[address] = (min(streak + 1, _MAX_STREAK), now)

    def succeeded(self, address: Address) -> None:
        self._records.pop(address, None)

    def demoted_at(self, address: Address, now: float) -> float | None:
        """When ``address`` last failed, if it is still demoted at ``now``; else None."""
        record = self._records.get(address)
        if record is None:
            return None
        streak, last = record
        return last if now - last < demotion_window(streak) else None

    def streak(self, address: Address, now: float) -> int:
        """Failures in a row of ``address`` that are not yet forgotten at ``now``."""
        record = self._records.get(address)
        if record is None or now - record[1] >= FAILURE_FORGET_AFTER:
            return 0
        return record[0]

    def keep_only(self, addresses: Collection[Address]) -> None:
        """Forget the addresses the table no longer holds (bounds memory by the table's size)."""
        for address in [a for a in self._records if a not in addresses]:
            del self._records[address]

    def forget_old(self, now: float) -> None:
        for address in [a for a, (_, last) in self._records.items()
                        if now - last >= FAILURE_FORGET_AFTER]:
            del self._records[address]

    def __len__(self) -> int:
        return len(self._records)
