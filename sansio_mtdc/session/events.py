"""What the sessions tell their callers: frozen, slotted values, read with ``next_event()``.

Client side: every request ends with exactly one :class:`Answer` or :class:`Failed`;
:class:`Acked` may come before.  Server side: :class:`IncomingRequest` is a request to execute.
:class:`ConnectionFailed` (both sides) means "close this connection": the session has already
put itself in a state where a new connection carries on.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import RemoteProtocolError, RequestError, RPCError

__all__ = [
    "Acked",
    "Answer",
    "ClockCorrected",
    "ConnectionFailed",
    "Failed",
    "IncomingRequest",
    "SaltChanged",
    "ServerEvent",
    "SessionEvent",
    "SessionReset",
    "Update",
]


@dataclass(frozen=True, slots=True)
class Answer:
    """The request ``token`` has its result (decoded with the request's result type)."""

    token: object
    value: object


@dataclass(frozen=True, slots=True)
class Failed:
    """The request ``token`` ended without a result: an ``rpc_error`` (:class:`RPCError`) or a
    session-level :class:`RequestError`."""

    token: object
    error: RPCError | RequestError


@dataclass(frozen=True, slots=True)
class Acked:
    """The server acknowledged receiving the request ``token`` (at most once per request)."""

    token: object


@dataclass(frozen=True, slots=True)
class Update:
    """A server-initiated message that is not a service message (updates, updatesTooLong...)."""

    value: object


@dataclass(frozen=True, slots=True)
class SaltChanged:
    """The session now uses ``salt`` (persist it)."""

    salt: int


@dataclass(frozen=True, slots=True)
class ClockCorrected:
    """The server said our msg_ids were off; ``offset`` (server minus local time) is now used."""

    offset: float


@dataclass(frozen=True, slots=True)
class SessionReset:
    """The server created a new session state (new_session_created): messages sent before
    ``first_msg_id`` were forgotten and updates may have been missed (call updates.getDifference).
    Requests the server forgot are sent again by the session."""

    first_msg_id: int
    unique_id: int


@dataclass(frozen=True, slots=True)
class ConnectionFailed:
    """Close this connection: ``error`` is what the peer did wrong (a :class:`SecurityError`
    with its ``check``, a :class:`TLDecodeError`, a ping timeout...)."""

    error: RemoteProtocolError


@dataclass(frozen=True, slots=True)
class IncomingRequest:
    """A client request for the server to execute, then answer with
    ``ServerSession.reply(msg_id, ...)``.

    ``query`` is the decoded request as sent; ``request`` the innermost query once the generic
    wrappers (``wrappers``, outermost first: invokeAfterMsg(s), invokeWithLayer, initConnection,
    invokeWithoutUpdates, ...) are taken off.  ``after`` holds the msg_ids that invokeAfterMsg(s)
    asks to wait for, ``layer`` the layer of invokeWithLayer, ``init`` the initConnection object.
    """

    msg_id: int
    query: object
    request: object
    wrappers: tuple[object, ...] = ()
    after: tuple[int, ...] = ()
    layer: int | None = None
    init: object | None = None
    without_updates: bool = False


SessionEvent = (Answer | Failed | Acked | Update | SaltChanged | ClockCorrected | SessionReset
                | ConnectionFailed)
ServerEvent = IncomingRequest | ConnectionFailed
