"""The library's error types.

Three families, as in h11:

* :class:`UsageError`: the caller misused the API (a wrong argument, a call in the wrong state).
  The machine is left exactly as it was.
* :class:`RemoteProtocolError`: the peer sent something that breaks the protocol (bad framing,
  undecodable TL, a failed security check).  The machine drops what it received and says how it
  recovers (close the connection, redo the handshake); it never raises these out of the client
  machine, it reports them as events.  The pure decoders (TL, transports, crypto checks) do raise
  them, and only them, whatever bytes they are fed.
* :class:`RPCError`: the server answered a request with ``rpc_error``.  It is a value carried by a
  ``Failed`` event; adapters raise it to their callers.

Request-level failures that are neither (a redirect loop, a FLOOD_WAIT above the ceiling, a
timeout, a cancellation) subclass :class:`RequestError`.
"""

from __future__ import annotations

import re

__all__ = [
    "FramingError",
    "MTDCError",
    "RPCError",
    "RemoteProtocolError",
    "RequestError",
    "SecurityError",
    "TLDecodeError",
    "UsageError",
]


class MTDCError(Exception):
    """Base of every error this library raises on purpose."""


class UsageError(MTDCError, ValueError):
    """The caller misused the API; nothing was changed."""


class RemoteProtocolError(MTDCError):
    """The peer sent bytes that break the protocol.

    ``reason`` is a short, stable, machine-readable tag (``"truncated"``, ``"bad_length"``,
    ``"unknown_constructor"``, ...); the message says the details.
    """

    def __init__(self, message: str, *, reason: str = "protocol") -> None:
        super().__init__(message)
        self.reason = reason


class TLDecodeError(RemoteProtocolError):
    """TL bytes that cannot be decoded: truncated, unknown constructor, bad length, bad UTF-8..."""


class FramingError(RemoteProtocolError):
    """Transport framing that cannot be parsed: impossible length, bad CRC, bad sequence number,
    oversized packet, a forbidden obfuscation header..."""


class SecurityError(RemoteProtocolError):
    """A security check of the handshake or of an encrypted message failed.

    ``check`` names the check (``"nonce"``, ``"server_nonce"``, ``"fingerprint"``,
    ``"answer_hash"``, ``"dh_prime"``, ``"g"``, ``"g_a_range"``, ``"new_nonce_hash"``,
    ``"msg_key"``, ``"auth_key_id"``, ``"session_id"``, ``"msg_id"``, ``"padding"``, ...).
    """

    def __init__(self, message: str, *, check: str) -> None:
        super().__init__(message, reason="security")
        self.check = check


_NUMBER_AT_END = re.compile(r"_(\d+)$")
_NUMBER_INSIDE = re.compile(r"_(\d+)(?=_|$)")


class RPCError(MTDCError):
    """An ``rpc_error`` from the server, as a value.

    ``code`` is the HTTP-like class (303, 400, 401, 420, 500, ...), ``message`` the server's text
    (``"FILE_MIGRATE_4"``), ``name`` the text with its number replaced by ``X``
    (``"FILE_MIGRATE_X"``) and ``value`` that number (``4``), or ``None`` when there is none.
    """

    def __init__(self, code: int, message: str) -> None:
        self.code = code
        self.message = message
        match = _NUMBER_AT_END.search(message) or _NUMBER_INSIDE.search(message)
        if match is None:
            self.name = message
            self.value: int | None = None
        else:
            self.name = message[: match.start(1)] + "X" + message[match.end(1) :]
            self.value = int(match.group(1))
        super().__init__(f"{code} {message}")

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, RPCError)
            and other.code == self.code
            and other.message == self.message
        )

    def __hash__(self) -> int:
        return hash((self.code, self.message))

    def __repr__(self) -> str:
        return f"RPCError({self.code}, {self.message!r})"


class RequestError(MTDCError):
    """A request ended without a result for a reason that is not an ``rpc_error``."""
