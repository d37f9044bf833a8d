"""One accepted TCP connection to one DC of the cluster, sans-I/O.

Bytes come in with :meth:`ServerConnection.receive_data`; bytes to write come out of
:meth:`ServerConnection.data_to_send`.  The first bytes pick the transport (every one Telegram
serves: abridged, intermediate, padded intermediate, full, and obfuscated2 over the first three).
Then each packet is either unencrypted (``auth_key_id = 0``: the handshake, run here with the
DC's RSA key; a new ``req_pq_multi`` on the same connection starts another) or encrypted: it is
routed by its auth_key_id to the DC's key (unknown or expired: transport error -404, as Telegram
does) and by its session_id to the MTProto session, which hands requests to the API.

A connection never raises because of what its peer sent: bad bytes close it, with a typed
:class:`CloseReason`, and nothing else in the cluster notices.  After a close, the bytes still in
:meth:`data_to_send` (a final transport error, say) should be written before the socket is shut.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeAlias

from ..errors import FramingError, RemoteProtocolError, UsageError
from ..handshake import HandshakeRejected, ServerHandshake, ServerHandshakeResult
from ..transport import QuickAckRequest, TransportErrorCode, detect_codec
from ..transport.codec import Codec
from .clock import check_now as _check_now
from .faults import Direction, DropRule

if TYPE_CHECKING:
    from .cluster import Cluster
    from .sessions import SessionSlot

__all__ = ["CloseKind", "CloseReason", "ServerConnection"]

#: Why a connection closed:
#:
#: * ``"framing"``: bytes that are no transport (bad header, impossible length, bad CRC...);
#: * ``"handshake"``: an auth-key exchange message that breaks the protocol (the client got
#:   -404, or the code a rejection carries, such as -444);
#: * ``"security"``: an encrypted message that fails a check (msg_key, length, session...);
#: * ``"protocol"``: something else the session found wrong with what the client sent;
#: * ``"dropped"``: the test knob "drop after N packets";
#: * ``"refused"``: the DC refuses connections (test knob);
#: * ``"local"``: :meth:`ServerConnection.close` was called; ``"lost"``: the peer went away.
CloseKind: TypeAlias = Literal["framing", "handshake", "security", "protocol", "dropped",
                               "refused", "local", "lost"]

#: transport error for an unknown auth key or a broken handshake
_NO_SUCH_KEY = -404
#: detection needs at most this many bytes (an obfuscated2 preamble)
_DETECTION_BYTES = 64


@dataclass(frozen=True, slots=True)
class CloseReason:
    """``kind`` says which family (:data:`CloseKind`); ``reason`` is the short tag of the
    error (its ``reason``, or ``check`` for a security error, or the knob's name);
    ``error`` the exception that caused it, when there was one."""

    kind: CloseKind
    reason: str
    error: RemoteProtocolError | None = None

    def __str__(self) -> str:
        return f"{self.kind}: {self.reason}"


def _tag(error: RemoteProtocolError) -> str:
    check = getattr(error, "check", None)
    return check if isinstance(check, str) else error.reason


class ServerConnection:
    """A connection to DC ``dc_id`` (``media``: a media-only address was used).

    Made by :meth:`Cluster.connect`; ``id`` numbers the connections of a cluster from 1.
    An adapter uses :meth:`receive_data`, :meth:`data_to_send`, :attr:`closed` /
    :attr:`close_reason`, :meth:`connection_lost`, :meth:`close` and the timer pair; the
    sending and attaching methods below them are the cluster's sessions' plumbing.
    """

    def __init__(self, cluster: Cluster, dc_id: int, *, conn_id: int, now: float,
                 media: bool, drop: DropRule | None) -> None:
        self._cluster = cluster
        self.dc_id = dc_id
        self.id = conn_id
        self.media = media
        self.opened_at = now
        self._codec: Codec | None = None
        self._head = bytearray()
        self._out: list[bytes] = []
        self._handshake: ServerHandshake | None = None
        self._adopted: ServerHandshakeResult | None = None
        self._slots: dict[tuple[int, int], SessionSlot] = {}
        self._drop = drop
        self.received_packets = 0
        self.sent_packets = 0
        #: the obfuscation preamble's DC id, when the client used obfuscated2
        self.obfuscated_dc_id: int | None = None
        self.close_reason: CloseReason | None = None
        self._last_now = now

    def __repr__(self) -> str:
        state = f"closed ({self.close_reason})" if self.closed else "open"
        return f"<ServerConnection {self.id} to DC {self.dc_id} {state}>"

    # --- the adapter's face ----------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self.close_reason is not None

    @property
    def transport(self) -> str | None:
        """The detected transport's class name (``"Obfuscated"`` for obfuscated2), or None."""
        return None if self._codec is None else type(self._codec).__name__

    def receive_data(self, data: bytes | bytearray | memoryview, *, now: float) -> None:
        """Take bytes from the client.  Bytes for a closed connection are dropped."""
        now = _check_now(now)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise UsageError(f"data must be bytes, not {type(data).__name__}")
        if self.closed:
            return
        self._last_now = now
        self._cluster._saw(now)
        codec = self._codec
        if codec is None:
            codec = self._detect(data)
            if codec is None:
                return
            data = bytes(self._take_head())
        try:
            packets = codec.feed(data)
        except FramingError as exc:
            self._close(CloseReason("framing", exc.reason, exc))
            return
        for packet in packets:
            if self.closed:
                break
            if self._drop is not None and self._drop.direction == "received" \
                    and self.received_packets >= self._drop.after:
                self._close(CloseReason("dropped", "received"))
                break
            self.received_packets += 1
            if type(packet) is bytes:
                self._on_payload(packet, quick_ack=False, now=now)
            elif isinstance(packet, QuickAckRequest):
                self._on_payload(packet.payload, quick_ack=True, now=now)
            else:  # a server-side codec never yields client-bound records; be safe anyway
                kind = "transport error" if isinstance(packet, TransportErrorCode) else "ack"
                self._close(CloseReason("framing", "unexpected_packet",
                                        FramingError(f"a client sent a {kind}",
                                                     reason="unexpected_packet")))
        self.pump(now)

    def data_to_send(self) -> bytes:
        """Everything to write to the client now (each byte is returned once)."""
        out = b"".join(self._out)
        self._out.clear()
        return out

    def connection_lost(self, *, now: float) -> None:
        """The peer went away (or the adapter lost the socket)."""
        if not self.closed:
            self._last_now = _check_now(now)
            self._close(CloseReason("lost", "peer"))

    def close(self) -> None:
        """Close from the server side (what was queued stays in :meth:`data_to_send`)."""
        if not self.closed:
            self._close(CloseReason("local", "close"))

    def drop_after(self, after: int, *, direction: Direction) -> None:
        """Test knob: close this connection once it has received (or sent) ``after`` packets
        in all (see :class:`~sansio_mtdc.server.faults.DropRule`)."""
        self._drop = DropRule(after, direction)

    def get_timer(self) -> float | None:
        """When :meth:`handle_timer` should run next for this connection's sessions."""
        return self._cluster._timer_for(self)

    def handle_timer(self, now: float) -> None:
        """Release what is due for this connection's sessions (delayed answers...)."""
        self._cluster._handle_timer_for(self, _check_now(now))

    # --- detection -------------------------------------------------------------------------

    def _take_head(self) -> bytearray:
        head, self._head = self._head, bytearray()
        return head

    def _detect(self, data: bytes | bytearray | memoryview) -> Codec | None:
        self._head += data
        config = self._cluster.config
        try:
            found = detect_codec(self._head, secrets=config.detection_secrets,
                                 random=self._cluster.state.random,
                                 max_packet=config.max_packet)
        except FramingError as exc:
            self._close(CloseReason("framing", exc.reason, exc))
            return None
        if found is None:
            if len(self._head) >= _DETECTION_BYTES:  # detect_codec decides with 64 bytes
                raise AssertionError("transport detection wanted more than 64 bytes")
            return None
        codec, consumed = found
        del self._head[:consumed]
        self._codec = codec
        dc_id = getattr(codec, "dc_id", None)
        self.obfuscated_dc_id = dc_id if isinstance(dc_id, int) else None
        return codec

    # --- packets ---------------------------------------------------------------------------

    def _on_payload(self, payload: bytes, *, quick_ack: bool, now: float) -> None:
        if len(payload) < 8:
            self._close(CloseReason("framing", "short_payload",
                                    FramingError(f"a payload of {len(payload)} bytes",
                                                 reason="short_payload")))
            return
        key_id = int.from_bytes(payload[:8], "little", signed=True)
        if key_id == 0:
            self._on_plain(payload, now)
        else:
            self._on_encrypted(key_id, payload, quick_ack=quick_ack, now=now)

    def _on_plain(self, payload: bytes, now: float) -> None:
        handshake = self._handshake
        if handshake is None:
            handshake = self._handshake = self._cluster._new_handshake(self.dc_id, now)
        try:
            handshake.receive(payload, now=now)
        except HandshakeRejected as exc:
            self.send_error(exc.code)
            self._close(CloseReason("handshake", exc.reason, exc))
            return
        except RemoteProtocolError as exc:
            self.send_error(_NO_SUCH_KEY)
            self._close(CloseReason("handshake", _tag(exc), exc))
            return
        for answer in handshake.data_to_send():
            self.send_payload(answer)
        result = handshake.result
        if result is not None and result is not self._adopted:
            self._adopted = result
            self._cluster._adopt_key(self.dc_id, result, now)

    def _on_encrypted(self, key_id: int, payload: bytes, *, quick_ack: bool,
                      now: float) -> None:
        record = self._cluster._live_key(self.dc_id, key_id, now)
        if record is None:
            self.send_error(_NO_SUCH_KEY)
            return
        self._cluster._deliver(self, record, payload, quick_ack=quick_ack, now=now)

    # --- output ----------------------------------------------------------------------------

    def send_payload(self, payload: bytes) -> bool:
        """Frame and queue one payload; ``False`` when the connection cannot send any more."""
        codec = self._may_send()
        if codec is None:
            return False
        self._out.append(codec.encode(payload))
        self.sent_packets += 1
        return True

    def send_error(self, code: int) -> None:
        """Queue a transport error packet (-404, -444...)."""
        codec = self._may_send()
        if codec is not None:
            self._out.append(codec.encode_error(code))
            self.sent_packets += 1

    def send_quick_ack(self, token: int) -> None:
        codec = self._may_send()
        if codec is None:
            return
        try:
            self._out.append(codec.encode_quick_ack(token))
        except UsageError:  # the full transport has no quick acks: nothing to answer
            return
        self.sent_packets += 1

    def _may_send(self) -> Codec | None:
        """The codec, if one more packet may go out (the drop knob closes the connection at
        the packet that would be one too many)."""
        if self.closed or self._codec is None:
            return None
        drop = self._drop
        if drop is not None and drop.direction == "sent" and self.sent_packets >= drop.after:
            self._close(CloseReason("dropped", "sent"))
            return None
        return self._codec

    def attach(self, slot: SessionSlot) -> None:
        """Make this connection the one ``slot``'s session sends on."""
        self._slots[slot.key] = slot

    def detach(self, slot: SessionSlot) -> None:
        self._slots.pop(slot.key, None)

    def pump(self, now: float) -> None:
        """Move what the attached sessions have to send into :meth:`data_to_send`."""
        for slot in list(self._slots.values()):
            if self.closed:
                return
            slot.flush_to(self, now)

    # --- closing ---------------------------------------------------------------------------

    def _close(self, reason: CloseReason) -> None:
        if self.close_reason is not None:
            return
        self.close_reason = reason
        self._handshake = None
        slots, self._slots = list(self._slots.values()), {}
        for slot in slots:
            slot.connection_closed(self, self._last_now)
        self._cluster._closed(self)

    def close_because(self, kind: CloseKind, error: RemoteProtocolError | None,
                      reason: str | None = None) -> None:
        """Close for ``error`` (found by a session, say)."""
        self._close(CloseReason(kind, reason or (_tag(error) if error else kind), error))
