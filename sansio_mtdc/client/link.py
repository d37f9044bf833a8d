"""One logical connection of the client: to one DC, for one purpose, over many TCP connections.

A :class:`Link` keeps its MTProto session (:class:`~sansio_mtdc.session.ClientSession`) across
reconnects, so that requests sent and not answered go again with their msg_ids on the next
connection and the server can tell a repeat from a new request.  Each TCP connection gets a new
``conn_id`` and a new transport codec (obfuscated or not).  While the DC has no auth key the
link carries the handshake, or waits for the one another link of the DC runs.

The link only moves bytes between the codec, the handshake and the session; every decision is
the machine's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Literal, TypeAlias

from ..dc.endpoint import Endpoint, Purpose

if TYPE_CHECKING:
    from ..handshake.client import ClientHandshake
    from ..session.client import ClientSession
    from ..transport.codec import Codec
    from ..transport.packets import Packet
    from .call import Call
    from .events import ConnectionState

__all__ = ["CLOSED", "CONNECTING", "IDLE", "OPEN", "Link", "LinkPhase"]

LinkPhase: TypeAlias = Literal["idle", "connecting", "open", "closed"]
#: no TCP connection (never opened, or lost and not reopened yet)
IDLE: Final = "idle"
#: a Connect action is out, its outcome not reported yet
CONNECTING: Final = "connecting"
#: TCP is up: the link handshakes, waits for the DC's key, or carries its session
OPEN: Final = "open"
#: given up for good (the client closed it, or it was idle); it is forgotten
CLOSED: Final = "closed"


class Link:
    """A connection slot: ``dc_id``, ``purpose``, the current ``conn_id`` and its ``phase``.

    * ``codec``: the transport of the current connection (None unless open); its header goes
      out with the first bytes.
    * ``handshake``: the auth-key exchange this link runs for its DC, if any;
      ``handshake_due``: when its next answer is overdue (the connection is then closed).
    * ``session``: the MTProto session, made once the DC has a key; ``calls`` maps its tokens
      to the calls it carries.
    * ``failures``: connection attempts in a row that brought nothing; ``retry_at``: when the
      next attempt is due; ``progress``: the current connection brought a valid packet.
    * ``idle_since``: when the last call left it (None while it carries calls).
    * ``candidates``: the addresses offered in the pending Connect, in order.
    """

    __slots__ = ("_header", "calls", "candidates", "codec", "conn_id", "dc_id", "failures",
                 "handshake", "handshake_due", "idle_since", "phase", "progress", "purpose",
                 "retry_at", "session")

    def __init__(self, dc_id: int, purpose: Purpose) -> None:
        self.dc_id = dc_id
        self.purpose: Purpose = purpose
        self.conn_id = 0
        self.phase: LinkPhase = IDLE
        self.codec: Codec | None = None
        self._header = b""
        self.handshake: ClientHandshake | None = None
        self.handshake_due: float | None = None
        self.session: ClientSession | None = None
        self.calls: dict[int, Call] = {}
        self.failures = 0
        self.retry_at: float | None = None
        self.progress = False
        self.idle_since: float | None = None
        self.candidates: tuple[Endpoint, ...] = ()

    def __repr__(self) -> str:
        return (f"<Link {self.conn_id} DC {self.dc_id} {self.purpose} {self.state}, "
                f"{len(self.calls)} calls>")

    # --- what it is doing ----------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.phase == OPEN

    @property
    def ready(self) -> bool:
        """Open, with a session to carry requests."""
        return self.phase == OPEN and self.session is not None

    @property
    def state(self) -> ConnectionState:
        """The phase as the ``ConnectionStateChanged`` event names it."""
        if self.phase == OPEN:
            return "ready" if self.session is not None else "handshaking"
        if self.phase == CONNECTING:
            return "connecting"
        return "closed"

    # --- the connection ------------------------------------------------------------------

    def connecting(self, conn_id: int, candidates: tuple[Endpoint, ...]) -> None:
        self.conn_id = conn_id
        self.candidates = candidates
        self.phase = CONNECTING
        self.retry_at = None
        self.progress = False

    def opened(self, codec: Codec, *, now: float) -> None:
        """The TCP connection is up; ``codec`` frames it (its header is sent first)."""
        self.phase = OPEN
        self.candidates = ()
        self.codec = codec
        self._header = codec.header()
        if self.session is not None:
            self.session.connection_made(now=now)

    def lost(self, *, now: float) -> None:
        """The TCP connection is gone (or was never made): the session keeps what it must send
        again; a handshake in progress is abandoned."""
        if self.session is not None:
            self.session.connection_lost(now=now)
        self.phase = IDLE
        self.candidates = ()
        self.codec = None
        self._header = b""
        self.handshake = None
        self.handshake_due = None

    def attach_session(self, session: ClientSession, *, now: float) -> None:
        """The DC's key is ready: ``session`` carries this link's requests from now on."""
        self.session = session
        self.handshake = None
        self.handshake_due = None
        if self.phase == OPEN:
            session.connection_made(now=now)

    # --- bytes ---------------------------------------------------------------------------

    def feed(self, data: bytes) -> list[Packet]:
        """The transport packets in ``data``; raises
        :class:`~sansio_mtdc.errors.FramingError` for a broken stream."""
        assert self.codec is not None
        return self.codec.feed(data)

    def output(self, *, now: float) -> bytes:
        """Everything to write now: the transport header (once), the handshake's messages and
        the session's, framed."""
        codec = self.codec
        if codec is None:
            return b""
        payloads: list[bytes] = []
        if self.handshake is not None:
            payloads = self.handshake.data_to_send()
        elif self.session is not None:
            payloads = self.session.data_to_send(now=now)
        if not payloads:
            return b""
        data = b"".join([codec.encode(p) for p in payloads])
        if self._header:
            data = self._header + data
            self._header = b""
        return data
