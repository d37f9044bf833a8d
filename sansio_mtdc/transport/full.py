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

    __slots__ = ("_plain_floor", "_recv_seq", "_send_seq")

    HAS_QUICK_ACK = False
    LENGTH_LIMIT = 0x7FFFFFFF - _OVERHEAD

    def __init__(self, side: Side, *, max_packet: int = DEFAULT_MAX_PACKET) -> None:
        super().__init__(side, max_packet=max_packet)
        self._send_seq = 0
        self._recv_seq = 0
        # a one-word packet from the server may be a transport error code: not inline
        self._plain_floor = 20 if self._client else 16

    def _frame(self, payload: bytes, n: int, quick_ack: bool) -> bytes:
        head = _HEAD.pack(n + _OVERHEAD, self._send_seq)
        self._send_seq = (self._send_seq + 1) & 0xFFFFFFFF
        return b"".join((head, payload, _U32.pack(crc32(payload, crc32(head)))))

    def _decode(self, src: bytes | memoryview, out: list[Packet]) -> int:
        copy = type(src) is memoryview  # slices of bytes are bytes already
        view = src if copy else memoryview(src)
        n = len(view)
        pos = 0
        limit = self.max_packet + _OVERHEAD
        floor = self._plain_floor
        unpack = _HEAD.unpack_from
        append = out.append
        while pos < n:
            if pos + 8 <= n:
                total, seq = unpack(view, pos)
                end = pos + total
                body_end = end - 4
                if (floor <= total <= limit and not total & 3 and end <= n
                        and seq == self._recv_seq
                        and crc32(view[pos:body_end]) == _U32.unpack_from(view, body_end)[0]):
                    self._recv_seq = (seq + 1) & 0xFFFFFFFF
                    payload = src[pos + 8 : body_end]
                    append(bytes(payload) if copy else payload)  # type: ignore[arg-type]
                    pos = end
                    continue
            after = self._decode_one(view, pos, n, out)
            if after == pos:
                break
            pos = after
        return pos

    def _decode_one(self, src: bytes | memoryview, pos: int, n: int, out: list[Packet]) -> int:
        if n - pos < 4:
            self._need = 4
            return pos
        total: int = _U32.unpack_from(src, pos)[0]
        if total & 0x80000000 and self._client:
            out.append(TransportErrorCode(_I32.unpack_from(src, pos)[0]))
            return pos + 4
        limit = self.max_packet + _OVERHEAD
        if total > limit:
            raise oversized(total - _OVERHEAD, self.max_packet)
        if total <= _OVERHEAD or total & 3:
            raise bad_length(total, "a full packet is 12 bytes of envelope plus 4k > 0 bytes")
        end = pos + total
        if end > n:
            self._need = total
            return pos
        seq = _U32.unpack_from(src, pos + 4)[0]
        if seq != self._recv_seq:
            raise FramingError(f"sequence number {seq}, expected {self._recv_seq}",
                               reason="bad_seqno")
        body_end = end - 4
        if crc32(src[pos:body_end]) != _U32.unpack_from(src, body_end)[0]:
            raise FramingError(f"bad CRC32 in packet {seq}", reason="bad_crc")
        self._recv_seq = (seq + 1) & 0xFFFFFFFF
        payload = bytes(src[pos + 8 : body_end])
        if self._client and total == 16 and payload[3] & 0x80:
            out.append(TransportErrorCode(_I32.unpack(payload)[0]))
        else:
            out.append(payload)
        return end
