"""How a client is set up: who it is, where it starts, how it talks, and its limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeAlias

from ..errors import UsageError

if TYPE_CHECKING:
    from ..crypto.rsa import KeyRegistry
    from ..dc.endpoint import Endpoint, IPv6Policy
    from ..session.config import SessionLimits

__all__ = ["ClientConfig", "Limits", "TransportName"]

TransportName: TypeAlias = Literal["abridged", "intermediate", "padded_intermediate", "full"]
_TRANSPORTS = ("abridged", "intermediate", "padded_intermediate", "full")


@dataclass(frozen=True, slots=True)
class Limits:
    """Every bound the client keeps, with its default.  Reaching one ends the affected request
    with a typed error; nothing loops or grows without end."""

    #: *_MIGRATE_X redirects one request may follow.
    max_redirects: int = 5
    #: FLOOD_WAIT_X up to this many seconds is waited out and retried; above it, FloodWaitError.
    flood_wait_ceiling: float = 60.0
    #: FLOOD_WAIT retries of one request.
    max_flood_retries: int = 5
    #: Retries of one request after 5xx / -500 errors, with exponential backoff from this delay.
    server_error_retries: int = 3
    server_error_backoff: float = 1.0
    #: Repairs of a non-home DC's authorization (fresh export/import) per request.
    auth_repairs: int = 1
    #: AUTH_BYTES_INVALID on import: exports retried per transfer.
    export_retries: int = 1
    #: Requests not yet ended that one client may hold.
    max_pending: int = 100_000
    #: Seconds before an unanswered connect is abandoned (the adapter enforces it per attempt);
    #: the machine also closes a connection whose handshake got no answer for this long.
    connect_timeout: float = 10.0
    #: Reconnect delays: first attempt at once, then base * 2**n up to the cap.
    reconnect_base: float = 0.5
    reconnect_cap: float = 30.0
    #: Consecutive failed (re)connects to one DC before its waiting requests fail.
    max_reconnects: int = 8
    #: Media connections per DC used in parallel.
    media_connections: int = 2
    #: Seconds an idle media connection stays open.
    idle_timeout: float = 60.0
    #: Default per-request timeout in seconds (None: none).
    request_timeout: float | None = None

    def __post_init__(self) -> None:
        for name in ("max_redirects", "max_flood_retries", "server_error_retries",
                     "auth_repairs", "export_retries", "max_pending", "max_reconnects",
                     "media_connections"):
            value = getattr(self, name)
            if type(value) is not int or value < 0:
                raise UsageError(f"Limits.{name} is a non-negative int, not {value!r}")
        if self.media_connections < 1 or self.max_pending < 1:
            raise UsageError("Limits.media_connections and max_pending are at least 1")
        for name in ("flood_wait_ceiling", "server_error_backoff", "connect_timeout",
                     "reconnect_base", "reconnect_cap", "idle_timeout"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or value < 0:
                raise UsageError(f"Limits.{name} is a non-negative number, not {value!r}")
        if self.request_timeout is not None and self.request_timeout <= 0:
            raise UsageError("Limits.request_timeout is positive or None")


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """The application's identity (``api_id``/``api_hash`` and the initConnection strings), where
    to start (``dc``, ``test_mode``, or a custom ``endpoints`` table with its ``rsa_keys``), how to
    talk (``transport``, ``obfuscated``, ``ipv6``) and the :class:`Limits`.

    ``follow_nearest_dc``: on a new state, help.getNearestDc rides the first request's container
    and its answer becomes the home DC until the server ties the user to one (a *_MIGRATE, a
    login step, a sign-in).  ``session_limits`` bounds each MTProto session (the session
    layer's defaults when None)."""

    api_id: int
    api_hash: str
    dc: int = 2
    test_mode: bool = False
    endpoints: tuple[Endpoint, ...] | None = None
    rsa_keys: KeyRegistry | None = None
    transport: TransportName = "intermediate"
    obfuscated: bool = False
    ipv6: IPv6Policy = "allow"
    follow_nearest_dc: bool = True
    device_model: str = "sansio_mtdc"
    system_version: str = "Python"
    app_version: str = "0.1.0"
    system_lang_code: str = "en"
    lang_pack: str = ""
    lang_code: str = "en"
    layer: int | None = None
    limits: Limits = field(default_factory=Limits)
    session_limits: SessionLimits | None = None

    def __post_init__(self) -> None:
        if type(self.api_id) is not int or self.api_id <= 0:
            raise UsageError(f"api_id is a positive int, not {self.api_id!r}")
        if not isinstance(self.api_hash, str):
            raise UsageError("api_hash is a string")
        if type(self.dc) is not int or self.dc <= 0:
            raise UsageError(f"dc is a positive int, not {self.dc!r}")
        if self.transport not in _TRANSPORTS:
            raise UsageError(f"transport is one of {', '.join(_TRANSPORTS)}, "
                             f"not {self.transport!r}")
        if self.obfuscated and self.transport == "full":
            raise UsageError("the full transport cannot be obfuscated")
        if self.ipv6 not in ("never", "allow", "prefer"):
            raise UsageError(f"ipv6 is 'never', 'allow' or 'prefer', not {self.ipv6!r}")
        if self.endpoints is not None and not self.endpoints:
            raise UsageError("endpoints, when given, lists at least one address")
        if not isinstance(self.limits, Limits):
            raise UsageError("limits is a Limits")
        if self.session_limits is not None:
            from ..session.config import SessionLimits

            if not isinstance(self.session_limits, SessionLimits):
                raise UsageError("session_limits is a SessionLimits or None")
        if self.layer is not None and (type(self.layer) is not int or self.layer <= 0):
            raise UsageError(f"layer is a positive int or None, not {self.layer!r}")
