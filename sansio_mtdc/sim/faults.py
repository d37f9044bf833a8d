"""Faults the simulated network can inject, counted in packets.

A packet is one ``Send`` of the client, or one batch of bytes the server writes at once.  A rule
names the N-th packet of one side (counted from when the rule was added, optionally only on
connections to one DC) and what happens to it: the connection is cut there (that packet and
everything in flight are lost, both ends learn it one latency later), the packet is cut in two
halves delivered separately, or it is held back for some seconds (later packets on the same
connection wait behind it, as TCP would).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from ..errors import UsageError

__all__ = ["FaultAction", "PacketFault", "Side"]

#: whose packets a rule counts
Side: TypeAlias = Literal["client", "server"]
#: what happens to the packet
FaultAction: TypeAlias = Literal["cut", "split", "delay"]


@dataclass(slots=True)
class PacketFault:
    """Do ``action`` to the ``at``-th packet ``side`` sends (on DC ``dc_id``'s connections, or
    any); ``seconds`` for a delay.  ``seen`` counts the matching packets so far, ``fired_at`` is
    the virtual time it fired (None until it does)."""

    side: Side
    at: int
    action: FaultAction
    seconds: float = 0.0
    dc_id: int | None = None
    seen: int = field(default=0, compare=False)
    fired_at: float | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.side not in ("client", "server"):
            raise UsageError(f"side is 'client' or 'server', not {self.side!r}")
        if type(self.at) is not int or self.at < 1:
            raise UsageError(f"at counts packets from 1, not {self.at!r}")
        if self.action not in ("cut", "split", "delay"):
            raise UsageError(f"action is 'cut', 'split' or 'delay', not {self.action!r}")
        if self.seconds < 0:
            raise UsageError("a delay is not negative")

    @property
    def fired(self) -> bool:
        return self.fired_at is not None

    def matches(self, side: Side, dc_id: int) -> bool:
        """Count one packet of ``side`` on DC ``dc_id``; True when this is the one."""
        if self.fired or side != self.side or (self.dc_id is not None and dc_id != self.dc_id):
            return False
        self.seen += 1
        return self.seen == self.at
