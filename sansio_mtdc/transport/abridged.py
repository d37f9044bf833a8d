"""Abridged framing: a 1-byte length in words (or 0x7f and 3 bytes), the lightest envelope.

Client to server, the top bit of the first byte asks for a quick ack (``0x80 | words`` or
``0xff`` + 3 bytes).  Server to client, a first byte with the top bit set starts a bare 4-byte
quick-ack token, sent byte-swapped so that its marker bit comes first.
"""

from __future__ import annotations

import struct

from .codec import FramingCodec, bad_length, oversized
from .packets import Packet, QuickAck, QuickAckRequest, TransportErrorCode

__all__ = ["Abridged"]

_U32_BIG = struct.Struct(">I")
_SHORT_LIMIT = 0x7F  # word counts below this fit in the 1-byte form


class Abridged(FramingCodec):
    """``Abridged(side, *, max_packet=16 MiB)``; the client's header is ``b"\\xef"``."""

    __slots__ = ()

    HEADER = b"\xef"
    OBFUSCATION_TAG = b"\xef\xef\xef\xef"
    LENGTH_LIMIT = 0xFFFFFF * 4

    def _frame(self, payload: bytes, n: int, quick_ack: bool) -> bytes:
        words = n >> 2
        flag = 0x80 if quick_ack else 0
        if words < _SHORT_LIMIT:
            return bytes((words | flag,)) + payload
        return bytes((0x7F | flag, words & 0xFF, (words >> 8) & 0xFF, words >> 16)) + payload

    def _frame_quick_ack(self, token: int) -> bytes:
        return _U32_BIG.pack(token)

    def _decode(self, src: bytes | memoryview, out: list[Packet]) -> int:
        n = len(src)
        pos = 0
        client = self._client
        limit = self.max_packet
        while pos < n:
            first = src[pos]
            if first & 0x80 and client:
                if n - pos < 4:
                    self._need = 4
                    break
                out.append(QuickAck(_U32_BIG.unpack_from(src, pos)[0] & 0x7FFFFFFF))
                pos += 4
                continue
            words = first & 0x7F
            if words < _SHORT_LIMIT:
                start = pos + 1
            else:
                start = pos + 4
                if start > n:
                    self._need = 4
                    break
                words = src[pos + 1] | src[pos + 2] << 8 | src[pos + 3] << 16
            length = words << 2
            if length == 0:
                raise bad_length(0, "empty packet")
            if length > limit:
                raise oversized(length, limit)
            end = start + length
            if end > n:
                self._need = end - pos
                break
            payload = bytes(src[start:end])
            if first & 0x80:
                out.append(QuickAckRequest(payload))
            elif length == 4 and client and payload[3] & 0x80:
                out.append(TransportErrorCode(int.from_bytes(payload, "little", signed=True)))
            else:
                out.append(payload)
            pos = end
        return pos
