"""Full framing: total length, a per-connection sequence number, the payload and a CRC32.

Each direction numbers its packets from 0; the receiver checks the number and the CRC32 (of
length, sequence number and payload).  There is no quick ack in this framing and no
obfuscation tag, so it is never wrapped in obfuscated2.

Telegram has been seen answering a full-framing client with bare negative int32 words (e.g.
-429 three times) instead of an enveloped error; no real length has its top bit set, so the
client side reports such a word as a :class:`TransportErrorCode` instead of failing.
"""

from __future__ import annotations

import struct
from zlib import crc32

from ..errors import FramingError
from .codec import FramingCodec, bad_length, oversized
from .packets import DEFAULT_MAX_PACKET, Packet, Side, TransportErrorCode

__all__ = ["Full"]

_HEAD = struct.Struct("<II")
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_OVERHEAD = 12  # length + seqno + crc


class Full(FramingCodec):
    """``Full(side, *, max_packet=16 MiB)``; the client sends no header."""

    __slots__ = ("_recv_seq", "_send_seq")

    HAS_QUICK_ACK = False
    LENGTH_LIMIT = 0x7FFFFFFF - _OVERHEAD

    def __init__(self, side: Side, *, max_packet: int = DEFAULT_MAX_PACKET) -> None:
        super().__init__(side, max_packet=max_packet)
        self._send_seq = 0
        self._recv_seq = 0

    def _frame(self, payload: bytes, n: int, quick_ack: bool) -> bytes:
        head = _HEAD.pack(n + _OVERHEAD, self._send_seq)
        self._send_seq = (self._send_seq + 1) & 0xFFFFFFFF
        return b"".join((head, payload, _U32.pack(crc32(payload, crc32(head)))))

    def _decode(self, src: bytes | memoryview, out: list[Packet]) -> int:
        view = src if type(src) is memoryview else memoryview(src)
        n = len(view)
        pos = 0
        client = self._client
        limit = self.max_packet + _OVERHEAD
        while True:
            if n - pos < 4:
                self._need = 4
                break
            total = _U32.unpack_from(view, pos)[0]
            if total & 0x80000000 and client:
                out.append(TransportErrorCode(_I32.unpack_from(view, pos)[0]))
                pos += 4
                continue
            if total > limit:
                raise oversized(total - _OVERHEAD, limit - _OVERHEAD)
            if total <= _OVERHEAD or total & 3:
                raise bad_length(total, "a full packet is 12 bytes of envelope plus 4k > 0 bytes")
            end = pos + total
            if end > n:
                self._need = total
                break
            seq = _U32.unpack_from(view, pos + 4)[0]
            if seq != self._recv_seq:
                raise FramingError(f"sequence number {seq}, expected {self._recv_seq}",
                                   reason="bad_seqno")
            body_end = end - 4
            if crc32(view[pos:body_end]) != _U32.unpack_from(view, body_end)[0]:
                raise FramingError(f"bad CRC32 in packet {seq}", reason="bad_crc")
            self._recv_seq = (seq + 1) & 0xFFFFFFFF
            payload = bytes(view[pos + 8 : body_end])
            if client and total == 16 and payload[3] & 0x80:
                out.append(TransportErrorCode(_I32.unpack(payload)[0]))
            else:
                out.append(payload)
            pos = end
        return pos
