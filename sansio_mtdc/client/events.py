"""What the client machine tells its user.

Every request ends with exactly one :class:`Result` or :class:`Failed`.  The other events report
what the machine decided on the way, so that an application can log it, show it, or persist it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeAlias

if TYPE_CHECKING:
    from ..dc.endpoint import Purpose
    from ..errors import MTDCError
    from .state import ClientState

__all__ = [
    "AuthKeyCreated",
    "AuthorizationImported",
    "ConnectionState",
    "ConnectionStateChanged",
    "Event",
    "ExportingAuthorization",
    "Failed",
    "HomeDcChanged",
    "LoggedOut",
    "Result",
    "Retrying",
    "StateChanged",
    "Update",
]

ConnectionState: TypeAlias = Literal["connecting", "handshaking", "ready", "closed"]


@dataclass(frozen=True, slots=True)
class Result:
    """Request ``rid`` succeeded with ``value`` (a TL object, or its decoded result)."""

    rid: int
    value: object


@dataclass(frozen=True, slots=True)
class Failed:
    """Request ``rid`` ended without a result: an :class:`~sansio_mtdc.errors.RPCError` value or a
    :class:`~sansio_mtdc.errors.RequestError` saying why."""

    rid: int
    error: MTDCError


@dataclass(frozen=True, slots=True)
class Update:
    """Something the server sent on its own (updates, updatesTooLong...), from DC ``dc_id``."""

    value: object
    dc_id: int


@dataclass(frozen=True, slots=True)
class HomeDcChanged:
    """The home DC moved from ``old`` to ``new`` (``reason``: PHONE_MIGRATE_X, USER_MIGRATE_X,
    NETWORK_MIGRATE_X, nearest_dc...)."""

    old: int
    new: int
    reason: str


@dataclass(frozen=True, slots=True)
class AuthKeyCreated:
    """A handshake with DC ``dc_id`` produced a new auth key."""

    dc_id: int
    key_id: int
    temporary: bool


@dataclass(frozen=True, slots=True)
class ExportingAuthorization:
    """``auth.exportAuthorization`` for DC ``dc_id`` was sent to the home DC ``home``."""

    dc_id: int
    home: int


@dataclass(frozen=True, slots=True)
class AuthorizationImported:
    """DC ``dc_id`` accepted the transferred authorization: requests there run as the user."""

    dc_id: int


@dataclass(frozen=True, slots=True)
class Retrying:
    """Request ``rid`` will be sent again after ``delay`` seconds (``reason``: FLOOD_WAIT_X,
    a 5xx error, MSG_WAIT_FAILED, a lost connection...); ``attempt`` counts from 1."""

    rid: int
    reason: str
    delay: float
    attempt: int


@dataclass(frozen=True, slots=True)
class StateChanged:
    """What must be persisted changed; saving ``state`` lets a restart skip handshakes and
    exports."""

    state: ClientState


@dataclass(frozen=True, slots=True)
class ConnectionStateChanged:
    """Connection ``conn_id`` to DC ``dc_id`` (for ``purpose``) entered ``state``; ``reason``
    says why it closed (the remote protocol error, the transport error code, idle, ...)."""

    conn_id: int
    dc_id: int
    purpose: Purpose
    state: ConnectionState
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class LoggedOut:
    """The home DC ``dc_id`` no longer recognises the user's authorization (``error`` says how)."""

    dc_id: int
    error: MTDCError | None


Event = (
    Result | Failed | Update | HomeDcChanged | AuthKeyCreated | ExportingAuthorization
    | AuthorizationImported | Retrying | StateChanged | ConnectionStateChanged | LoggedOut
)
