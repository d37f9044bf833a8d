"""Abridged framing: a 1-byte length in words (or 0x7f and 3 bytes), the lightest envelope.

Client to server, the top bit of the first byte asks for a quick ack (``0x80 | words`` or
``0xff`` + 3 bytes).  Server to client, a first byte with the top bit set starts a bare 4-byte
quick-ack token, sent byte-swapped so that its marker bit comes first.
"""

from __future__ import annotations

import struct

from .codec import FramingCodec, bad_length, oversized
from .packets import DEFAULT_MAX_PACKET, Packet, QuickAck, QuickAckRequest, Side, TransportErrorCode

__all__ = ["Abridged"]

_U32 = struct.Struct("<I")
_U32_BIG = struct.Struct(">I")
_LONG = 0x7F  # first byte of the long form; word counts below it fit in the short form
_SHORT_HEADERS = [bytes((i,)) for i in range(256)]


class Abridged(FramingCodec):
    """``Abridged(side, *, max_packet=16 MiB)``; the client's header is ``b"\\xef"``."""

    __slots__ = ("_plain_floor",)

    HEADER = b"\xef"
    OBFUSCATION_TAG = b"\xef\xef\xef\xef"
    LENGTH_LIMIT = 0xFFFFFF * 4

    def __init__(self, side: Side, *, max_packet: int = DEFAULT_MAX_PACKET) -> None:
        super().__init__(side, max_packet=max_packet)
        # a one-word packet from the server may be a transport error code: not inline
        self._plain_floor = 2 if self._client else 1

    def encode(self, payload: bytes, *, quick_ack: bool = False) -> bytes:
        """One framed packet.  Only the client may ask for a quick ack."""
        n = len(payload)
        if not (quick_ack or n & 3 or n > self.max_packet or not n):
            words = n >> 2  # the common case, without the general checks
            if words < _LONG:
                return _SHORT_HEADERS[words] + payload
            return _U32.pack(words << 8 | _LONG) + payload
        return FramingCodec.encode(self, payload, quick_ack=quick_ack)

    def _frame(self, payload: bytes, n: int, quick_ack: bool) -> bytes:
        words = n >> 2
        flag = 0x80 if quick_ack else 0
        if words < _LONG:
            return _SHORT_HEADERS[words | flag] + payload
        return _U32.pack(words << 8 | _LONG | flag) + payload

    def _frame_quick_ack(self, token: int) -> bytes:
        return _U32_BIG.pack(token)

    def _decode(self, src: bytes | memoryview, out: list[Packet]) -> int:
        n = len(src)
        pos = 0
        limit = self.max_packet
        floor = self._plain_floor
        copy = type(src) is memoryview  # slices of bytes are bytes already
        append = out.append
        while pos < n:
            first = src[pos]
            if floor <= first < _LONG:
                start = pos + 1
                length = first << 2
            elif first == _LONG and pos + 4 <= n:
                start = pos + 4
                length = (src[pos + 1] | src[pos + 2] << 8 | src[pos + 3] << 16) << 2
            else:
                start = pos
                length = 0
            end = start + length
            if end <= n and 0 < length <= limit:
                payload = src[start:end]
                append(bytes(payload) if copy else payload)  # type: ignore[arg-type]
                pos = end
                continue
            after = self._decode_one(src, pos, n, out)
            if after == pos:
                break
            pos = after
        return pos

    def _decode_one(self, src: bytes | memoryview, pos: int, n: int, out: list[Packet]) -> int:
        first = src[pos]
        if first & 0x80 and self._client:
            if n - pos < 4:
                self._need = 4
                return pos
            out.append(QuickAck(_U32_BIG.unpack_from(src, pos)[0] & 0x7FFFFFFF))
            return pos + 4
        words = first & 0x7F
        if words < _LONG:
            start = pos + 1
        else:
            start = pos + 4
            if start > n:
                self._need = 4
                return pos
            words = src[pos + 1] | src[pos + 2] << 8 | src[pos + 3] << 16
        length = words << 2
        if length == 0:
            raise bad_length(0, "empty packet")
        if length > self.max_packet:
            raise oversized(length, self.max_packet)
        end = start + length
        if end > n:
            self._need = end - pos
            return pos
        payload = bytes(src[start:end])
        if first & 0x80:
            out.append(QuickAckRequest(payload))
        elif length == 4 and self._client and payload[3] & 0x80:
            out.append(TransportErrorCode(int.from_bytes(payload, "little", signed=True)))
        else:
            out.append(payload)
        return end
