"""Intermediate framing: a 4-byte little-endian length before each payload.

The top bit of the length asks for a quick ack (client to server); server to client, a bare
4-byte word with the top bit set is a quick-ack token, since no real length is that large.
Payload lengths are a multiple of 4 (every MTProto packet is), which this framing checks.
"""

from __future__ import annotations

import struct

from .codec import FramingCodec, bad_length, oversized
from .packets import DEFAULT_MAX_PACKET, Packet, QuickAck, QuickAckRequest, Side, TransportErrorCode

__all__ = ["Intermediate"]

_U32 = struct.Struct("<I")


class Intermediate(FramingCodec):
    """``Intermediate(side, *, max_packet=16 MiB)``; the client's header is ``0xeeeeeeee``."""

    __slots__ = ("_plain_floor",)

    HEADER = b"\xee\xee\xee\xee"
    OBFUSCATION_TAG = HEADER
    #: client side: packets shorter than this may be a transport error or a quick ack
    SHORT_PACKET = 5

    def __init__(self, side: Side, *, max_packet: int = DEFAULT_MAX_PACKET) -> None:
        super().__init__(side, max_packet=max_packet)
        self._plain_floor = self.SHORT_PACKET if self._client else 1

    def encode(self, payload: bytes, *, quick_ack: bool = False) -> bytes:
        """One framed packet.  Only the client may ask for a quick ack."""
        n = len(payload)
        if not (quick_ack or n & 3 or n > self.max_packet or not n):
            return _U32.pack(n) + payload  # the common case, without the general checks
        return FramingCodec.encode(self, payload, quick_ack=quick_ack)

    def _frame(self, payload: bytes, n: int, quick_ack: bool) -> bytes:
        return _U32.pack(n | 0x80000000 if quick_ack else n) + payload

    def _frame_quick_ack(self, token: int) -> bytes:
        return _U32.pack(token)

    def _decode(self, src: bytes | memoryview, out: list[Packet]) -> int:
        n = len(src)
        pos = 0
        limit = self.max_packet + self.PADDING_ALLOWANCE
        floor = self._plain_floor
        unaligned = 3 if self.ALIGNED else 0
        copy = type(src) is memoryview  # slices of bytes are bytes already
        unpack = _U32.unpack_from
        append = out.append
        while pos + 4 <= n:
            length: int = unpack(src, pos)[0]
            end = pos + 4 + length
            if end <= n and floor <= length <= limit and not length & unaligned:
                payload = src[pos + 4 : end]
                append(bytes(payload) if copy else payload)  # type: ignore[arg-type]
                pos = end
                continue
            after = self._decode_one(src, pos, n, out)
            if after == pos:
                return pos
            pos = after
        if pos < n:
            self._need = 4
        return pos

    def _decode_one(self, src: bytes | memoryview, pos: int, n: int, out: list[Packet]) -> int:
        start = pos + 4
        if start > n:
            self._need = 4
            return pos
        length: int = _U32.unpack_from(src, pos)[0]
        wants_ack = length & 0x80000000
        if wants_ack:
            if self._client:
                out.append(QuickAck(length & 0x7FFFFFFF))
                return start
            length &= 0x7FFFFFFF
        if length == 0:
            raise bad_length(0, "empty packet")
        limit = self.max_packet + self.PADDING_ALLOWANCE
        if length > limit:
            raise oversized(length, limit)
        if self.ALIGNED and length & 3:
            raise bad_length(length, "not a multiple of 4")
        end = start + length
        if end > n:
            self._need = end - pos
            return pos
        payload = bytes(src[start:end])
        if wants_ack:
            out.append(QuickAckRequest(payload))
        elif self._client and length < self.SHORT_PACKET:
            out.append(self._short_packet(payload))
        else:
            out.append(payload)
        return end

    def _short_packet(self, payload: bytes) -> Packet:
        """Client side: a packet too short to be MTProto; a negative int32 is an error code."""
        if len(payload) == 4 and payload[3] & 0x80:
            return TransportErrorCode(int.from_bytes(payload, "little", signed=True))
        return payload
