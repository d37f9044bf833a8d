"""The test knobs' state: errors to inject, answers to delay, connections to drop or refuse.

The :class:`~sansio_mtdc.server.Cluster` methods that set these (``inject_error``,
``inject_flood_wait``, ``delay_answers``, ``drop_connections_after``, ``refuse_connections``)
are the public face; this module only keeps and matches the rules, so the rules can be read in
one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from ..errors import RPCError, UsageError

__all__ = ["DelayRule", "Direction", "DropRule", "Faults", "InjectedError"]

#: Which packets a drop rule counts: those the server received, or those it sent.
Direction: TypeAlias = Literal["received", "sent"]


@dataclass(slots=True)
class InjectedError:
    """Answer ``error`` instead of running ``method`` (any method when ``None``) on ``dc_id``
    (any DC when ``None``), ``remaining`` more times.  ``unauthorize`` also drops the auth key's
    authorization on that DC, so that the state matches what a 401 says."""

    error: RPCError
    method: str | None
    dc_id: int | None
    remaining: int
    unauthorize: bool

    def matches(self, dc_id: int, method: str) -> bool:
        return (self.remaining > 0 and (self.method is None or self.method == method)
                and (self.dc_id is None or self.dc_id == dc_id))


@dataclass(frozen=True, slots=True)
class DelayRule:
    """Hold answers to ``method`` (all when ``None``) on ``dc_id`` (all when ``None``) for
    ``seconds`` after the request was executed."""

    seconds: float
    method: str | None
    dc_id: int | None

    def matches(self, dc_id: int, method: str) -> bool:
        return ((self.method is None or self.method == method)
                and (self.dc_id is None or self.dc_id == dc_id))


@dataclass(frozen=True, slots=True)
class DropRule:
    """Close a connection once it has received (or sent) ``after`` transport packets.

    ``received``: the packet that would be number ``after + 1`` is discarded unread and the
    connection closes, as if the network cut it; ``after=0`` closes at the first packet.
    ``sent``: the packet that would go out as number ``after + 1`` is not sent and the
    connection closes instead; an MTProto answer lost that way is sent again by its session
    on the client's next connection (the request is not executed again).
    """

    after: int
    direction: Direction

    def __post_init__(self) -> None:
        if type(self.after) is not int or self.after < 0:
            raise UsageError(f"after is a non-negative int, not {self.after!r}")
        if self.direction not in ("received", "sent"):
            raise UsageError(f"direction is 'received' or 'sent', not {self.direction!r}")


class Faults:
    """Every knob that is currently set."""

    def __init__(self) -> None:
        self.errors: list[InjectedError] = []
        self.delays: list[DelayRule] = []
        self.refused: set[int] = set()
        #: DC id (``None``: any) -> drop rules for the next connections, first first
        self.drops: dict[int | None, list[DropRule]] = {}

    def take_error(self, dc_id: int, method: str) -> InjectedError | None:
        """The first injected error for this request, used up by one."""
        for rule in self.errors:
            if rule.matches(dc_id, method):
                rule.remaining -= 1
                if rule.remaining == 0:
                    self.errors.remove(rule)
                return rule
        return None

    def delay_for(self, dc_id: int, method: str) -> float:
        """Seconds to hold the answer (the longest matching rule), 0 for none."""
        return max((r.seconds for r in self.delays if r.matches(dc_id, method)), default=0.0)

    def take_drop(self, dc_id: int) -> DropRule | None:
        """The drop rule for a new connection to ``dc_id``, used up."""
        for key in (dc_id, None):
            rules = self.drops.get(key)
            if rules:
                rule = rules.pop(0)
                if not rules:
                    del self.drops[key]
                return rule
        return None
