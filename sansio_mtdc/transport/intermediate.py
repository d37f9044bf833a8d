"""Intermediate framing: a 4-byte little-endian length before each payload.

The top bit of the length asks for a quick ack (client to server); server to client, a bare
4-byte word with the top bit set is a quick-ack token, since no real length is that large.
Payload lengths are a multiple of 4 (every MTProto packet is), which this framing checks.
"""

from __future__ import annotations

import struct

from .codec import FramingCodec, bad_length, oversized
from .packets import Packet, QuickAck, QuickAckRequest, TransportErrorCode

__all__ = ["Intermediate"]

_U32 = struct.Struct("<I")


class Intermediate(FramingCodec):
    """``Intermediate(side, *, max_packet=16 MiB)``; the client's header is ``0xeeeeeeee``."""

    __slots__ = ()

    HEADER = b"\xee\xee\xee\xee"
    OBFUSCATION_TAG = HEADER
    #: client side: packets shorter than this may be a transport error or a quick ack
    _SHORT = 5

    def _frame(self, payload: bytes, n: int, quick_ack: bool) -> bytes:
        return _U32.pack(n | 0x80000000 if quick_ack else n) + payload

    def _frame_quick_ack(self, token: int) -> bytes:
        return _U32.pack(token)

    def _decode(self, src: bytes | memoryview, out: list[Packet]) -> int:
        n = len(src)
        pos = 0
        client = self._client
        limit = self.max_packet
        aligned = self.ALIGNED
        short = self._SHORT
        while True:
            start = pos + 4
            if start > n:
                self._need = 4
                break
            length = _U32.unpack_from(src, pos)[0]
            wants_ack = length & 0x80000000
            if wants_ack:
                if client:
                    out.append(QuickAck(length & 0x7FFFFFFF))
                    pos = start
                    continue
                length &= 0x7FFFFFFF
            if length == 0:
                raise bad_length(0, "empty packet")
            if length > limit:
                raise oversized(length, limit)
            if aligned and length & 3:
                raise bad_length(length, "not a multiple of 4")
            end = start + length
            if end > n:
                self._need = end - pos
                break
            payload = bytes(src[start:end])
            if wants_ack:
                out.append(QuickAckRequest(payload))
            elif client and length < short:
                out.append(self._short_packet(payload))
            else:
                out.append(payload)
            pos = end
        return pos

    def _short_packet(self, payload: bytes) -> Packet:
        """Client side: a packet too short to be MTProto; a negative int32 is an error code."""
        if len(payload) == 4 and payload[3] & 0x80:
            return TransportErrorCode(int.from_bytes(payload, "little", signed=True))
        return payload
