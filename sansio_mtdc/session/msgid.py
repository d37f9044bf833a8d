"""Message identifiers: time stamps that also order and classify messages.

A msg_id is roughly ``server_unixtime * 2**32``: the high 32 bits are seconds, the low 32 bits a
fraction of a second that must not be zero.  Its two lowest bits say who made it: a client's ids
are divisible by 4, a server's are 1 mod 4 when they answer a client message and 3 mod 4
otherwise.  Ids of one sender increase strictly within a session.

The clock here never reads the time: ``now`` (local seconds) comes in with every call, and
``offset`` (server time minus local time) turns it into server time.  The offset starts from the
handshake's ``server_time`` and is corrected by bad_msg_notification 16/17.
"""

from __future__ import annotations

import math

from ..errors import UsageError

__all__ = ["MsgIdClock"]

_SCALE = float(1 << 32)
_MAX_ID = (1 << 63) - 1
_MAX_SECONDS = float(1 << 31)


class MsgIdClock:
    """``MsgIdClock(offset=0.0, *, server=False)``: strictly increasing msg_ids from ``now``.

    A client clock gives ids divisible by 4; a server clock gives ids that are 1 mod 4
    (``next(now, answer=True)``) or 3 mod 4 (``answer=False``).
    """

    __slots__ = ("_answer_remainder", "_last", "_offset", "_other_remainder", "_server")

    def __init__(self, offset: float = 0.0, *, server: bool = False) -> None:
        self._offset = _finite(offset, "offset")
        self._server = bool(server)
        self._last = 0
        # what an id is modulo 4, for answer=True and answer=False
        self._answer_remainder = 1 if server else 0
        self._other_remainder = 3 if server else 0

    @property
    def server(self) -> bool:
        """Whether this clock makes server ids (odd) rather than client ids."""
        return self._server

    @property
    def offset(self) -> float:
        """Server time minus local time, in seconds."""
        return self._offset

    @offset.setter
    def offset(self, value: float) -> None:
        value = _finite(value, "offset")
        if value < self._offset:
            # The old ids were ahead of the server (that is why the offset goes down): the
            # server ignored them, so new ids may be lower than they were.  Strictly increasing
            # still holds from here on.
            self._last = max(0, self._last - math.ceil((self._offset - value) * _SCALE))
        self._offset = value

    def server_time(self, now: float) -> float:
        """The server's time at local time ``now``."""
        return now + self._offset

    def correct(self, server_msg_id: int, now: float) -> float:
        """Set the offset from a server message's id received at ``now`` (what
        bad_msg_notification 16/17 asks for); returns the new offset."""
        self.offset = self.time_of(server_msg_id) - now
        return self._offset

    def next(self, now: float, *, answer: bool = True) -> int:
        """A new msg_id for a message created at local time ``now``, greater than every id this
        clock gave before.  ``answer`` only matters for a server clock (1 mod 4 when True,
        3 mod 4 when False)."""
        seconds = now + self._offset
        if not 0.0 < seconds < _MAX_SECONDS:  # also false for NaN
            raise UsageError(f"time {now!r} + offset {self._offset} is not a valid msg_id time")
        value = int(seconds * _SCALE)
        if not value & 0xFFFFFFFF:
            value += 4  # the fraction of a second must not be empty
        last = self._last
        if value <= last:
            value = last + 1
        value += ((self._answer_remainder if answer else self._other_remainder) - value) & 3
        if value > _MAX_ID:
            raise UsageError(f"time {now!r} + offset {self._offset} gives no valid msg_id")
        self._last = value
        return value

    @staticmethod
    def time_of(msg_id: int) -> float:
        """The server time (seconds) a msg_id stands for."""
        return msg_id / _SCALE

    def __repr__(self) -> str:
        side = "server" if self._server else "client"
        return f"MsgIdClock(offset={self._offset!r}, {side})"


def _finite(value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{what} must be a number, not {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise UsageError(f"{what} must be finite, not {value}")
    return value
