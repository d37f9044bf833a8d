"""The machinery every framing shares: argument checks, the input buffer and the poisoned state.

A framing subclass only says how one packet is laid out (``_frame`` to send, ``_decode_one`` to
read one packet, and usually a faster ``_decode`` loop for ordinary payloads); this class makes it
incremental.  Input is kept in one ``bytearray`` holding at most the unfinished packet
plus the newest chunk; a packet that arrives in many small chunks is appended (amortised O(chunk))
and its header is not even re-read until enough bytes are there, so big packets cost O(n), never
O(n^2).  When a chunk holds only whole packets, it is decoded in place without being buffered.
"""

from __future__ import annotations

import struct
from typing import ClassVar, Protocol

from ..errors import FramingError, UsageError
from .packets import DEFAULT_MAX_PACKET, Packet, Side

__all__ = ["Codec", "FramingCodec"]

_I32 = struct.Struct("<i")


class Codec(Protocol):
    """What the session layer needs from a transport: a plain framing or an obfuscated one."""

    @property
    def side(self) -> Side: ...

    @property
    def max_packet(self) -> int: ...

    def header(self) -> bytes: ...

    def encode(self, payload: bytes, *, quick_ack: bool = False) -> bytes: ...

    def encode_error(self, code: int) -> bytes: ...

    def encode_quick_ack(self, token: int) -> bytes: ...

    def feed(self, data: bytes | bytearray | memoryview) -> list[Packet]: ...


class FramingCodec:
    """Base of the four framings; one instance per connection and side."""

    __slots__ = ("_buf", "_client", "_error", "_need", "max_packet", "side")

    #: what the client sends once before its first packet
    HEADER: ClassVar[bytes] = b""
    #: the protocol tag at bytes 56..60 of an obfuscated2 header (``b""``: none exists)
    OBFUSCATION_TAG: ClassVar[bytes] = b""
    #: the largest payload the length field can express
    LENGTH_LIMIT: ClassVar[int] = 0x7FFFFFFF
    #: payload lengths must be a multiple of 4
    ALIGNED: ClassVar[bool] = True
    #: the framing has a quick-ack bit and a quick-ack answer
    HAS_QUICK_ACK: ClassVar[bool] = True
    #: bytes a received packet may carry beyond ``max_packet`` (random padding)
    PADDING_ALLOWANCE: ClassVar[int] = 0

    def __init__(self, side: Side, *, max_packet: int = DEFAULT_MAX_PACKET) -> None:
        if side != "client" and side != "server":
            raise UsageError(f"side must be 'client' or 'server', not {side!r}")
        if type(max_packet) is not int or not 4 <= max_packet <= self.LENGTH_LIMIT:
            raise UsageError(
                f"max_packet must be an int in [4, {self.LENGTH_LIMIT}], not {max_packet!r}")
        self.side: Side = side
        self.max_packet = max_packet
        self._client = side == "client"
        self._buf = bytearray()
        self._need = 0
        self._error: FramingError | None = None

    def __repr__(self) -> str:
        state = " poisoned" if self._error is not None else ""
        return f"<{type(self).__name__} {self.side}{state} buffered={len(self._buf)}>"

    # -- sending ----------------------------------------------------------------------------

    def header(self) -> bytes:
        """Bytes the client sends once, before anything else; ``b""`` on the server side."""
        return self.HEADER if self._client else b""

    def encode(self, payload: bytes, *, quick_ack: bool = False) -> bytes:
        """One framed packet.  Only the client may ask for a quick ack."""
        n = len(payload)
        if not 0 < n <= self.max_packet or (self.ALIGNED and n & 3):
            raise UsageError(self._describe_bad_length(n))
        if quick_ack and not (self._client and self.HAS_QUICK_ACK):
            raise UsageError(
                f"{type(self).__name__} has no quick ack" if self._client
                else "only the client side asks for quick acks")
        return self._frame(payload, n, quick_ack)

    def encode_error(self, code: int) -> bytes:
        """A transport error packet (server side), e.g. ``encode_error(-404)``."""
        self._server_only("encode_error")
        if type(code) is not int or not -0x80000000 <= code <= -2:
            raise UsageError(f"a transport error code is a negative int32 below -1, not {code!r}")
        return self._frame_error(_I32.pack(code))

    def encode_quick_ack(self, token: int) -> bytes:
        """The answer to a quick-ack request (server side); the marker bit is set here."""
        self._server_only("encode_quick_ack")
        if not self.HAS_QUICK_ACK:
            raise UsageError(f"{type(self).__name__} has no quick ack")
        if type(token) is not int or not 0 <= token <= 0xFFFFFFFF:
            raise UsageError(f"a quick-ack token is a uint32, not {token!r}")
        return self._frame_quick_ack(token | 0x80000000)

    # -- receiving --------------------------------------------------------------------------

    def feed(self, data: bytes | bytearray | memoryview) -> list[Packet]:
        """Take any chunk of the stream; return the packets it completes, in order.

        Raises :class:`FramingError` when the stream breaks the framing; from then on the codec
        is poisoned and every call raises the same error.
        """
        if self._error is not None:
            raise self._error.with_traceback(None)
        out: list[Packet] = []
        buf = self._buf
        if buf or type(data) is not bytes:
            buf += data
            if len(buf) < self._need:
                return out
            with memoryview(buf) as view:
                try:
                    used = self._decode(view, out)
                except FramingError as exc:
                    self._poison(exc)
                    raise
            del buf[:used]
            return out
        try:
            used = self._decode(data, out)
        except FramingError as exc:
            self._poison(exc)
            raise
        if used != len(data):
            buf += memoryview(data)[used:]
        return out

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a whole packet."""
        return len(self._buf)

    # -- for subclasses ---------------------------------------------------------------------

    def _decode(self, src: bytes | memoryview, out: list[Packet]) -> int:
        """Append the whole packets at the start of ``src`` to ``out``; return how many bytes
        they took.

        Framings override this with a loop that handles ordinary payloads inline and passes
        everything else (quick acks, short packets, errors, an unfinished packet) to
        :meth:`_decode_one`, the complete and slower definition of one packet."""
        n = len(src)
        pos = 0
        while pos < n:
            after = self._decode_one(src, pos, n, out)
            if after == pos:
                break
            pos = after
        return pos

    def _decode_one(self, src: bytes | memoryview, pos: int, n: int, out: list[Packet]) -> int:
        """Decode the packet at ``pos`` (``src[pos:n]`` holds at least one byte).

        Returns the position after it, or ``pos`` itself when the packet is unfinished, having
        then set ``self._need`` to the bytes, counted from ``pos``, needed to go on.  Raises
        :class:`FramingError` for a stream that breaks the framing."""
        raise NotImplementedError

    def _frame(self, payload: bytes, n: int, quick_ack: bool) -> bytes:
        """Wrap an already checked payload of length ``n``."""
        raise NotImplementedError

    def _frame_error(self, body: bytes) -> bytes:
        return self._frame(body, 4, False)

    def _frame_quick_ack(self, token: int) -> bytes:
        raise NotImplementedError

    def _poison(self, exc: FramingError) -> None:
        self._error = exc
        self._buf = bytearray()
        self._need = 0

    def _server_only(self, what: str) -> None:
        if self._client:
            raise UsageError(f"{what} is for the server side")

    def _describe_bad_length(self, n: int) -> str:
        if n == 0:
            return "cannot send an empty payload"
        if n > self.max_packet:
            return f"payload of {n} bytes is above max_packet ({self.max_packet})"
        return f"{type(self).__name__} payloads are a multiple of 4 bytes, not {n}"


def oversized(length: int, limit: int) -> FramingError:
    return FramingError(f"announced packet length {length} is above {limit}", reason="oversized")


def bad_length(length: int, why: str) -> FramingError:
    return FramingError(f"impossible packet length {length}: {why}", reason="bad_length")
