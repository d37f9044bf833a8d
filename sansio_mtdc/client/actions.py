"""What the client machine asks its adapter to do: open, write, close.

The adapter carries bytes and nothing else.  Every decision (which DC, which address, which
transport, when to reconnect) was already taken by the machine; the fields are there so the
adapter can act and log.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..dc.endpoint import Endpoint, Purpose

__all__ = ["Action", "Close", "Connect", "Send"]


@dataclass(frozen=True, slots=True)
class Connect:
    """Open a TCP connection for ``conn_id`` to the first of ``candidates`` that answers.

    Report the outcome with ``connection_made(conn_id, address=...)`` or
    ``connection_failed(conn_id, failed=...)``.  ``transport`` names the framing the machine will
    write (for logs: the machine produces every byte, including the transport's first bytes).
    """

    conn_id: int
    dc_id: int
    purpose: Purpose
    candidates: tuple[Endpoint, ...]
    transport: str


@dataclass(frozen=True, slots=True)
class Send:
    """Write ``data`` to connection ``conn_id``."""

    conn_id: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Close:
    """Close connection ``conn_id``; the machine has forgotten it, so report nothing more on it."""

    conn_id: int
    reason: str


Action = Connect | Send | Close
