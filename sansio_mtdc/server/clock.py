"""The one rule for the ``now`` every entry point takes."""

from __future__ import annotations

import math

from ..errors import UsageError

__all__ = ["check_now"]

#: the handshake's ``server_time`` is a TL ``int``: times must fit it
_LATEST = float(1 << 31)


def check_now(now: float) -> float:
    """``now`` as a float: a finite Unix time in ``[0, 2**31)`` (:class:`UsageError`
    otherwise, before anything changes)."""
    if isinstance(now, bool) or not isinstance(now, (int, float)) or not math.isfinite(now) \
            or not 0 <= now < _LATEST:
        raise UsageError(f"now must be a Unix time in seconds in [0, 2**31), not {now!r}")
    return float(now)
