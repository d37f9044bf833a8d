"""Padded intermediate framing: intermediate with 0..15 random bytes after each payload.

The receiver cannot tell padding from payload, so ``feed`` returns the payload *with* its
padding: the layers above read their own length fields and ignore trailing bytes (an encrypted
MTProto packet is 24 + 16k bytes, an unencrypted one states its length).  For the same reason a
received packet may be up to 15 bytes longer than ``max_packet``.  Transport error codes
are sent without padding (4 bytes) so that strict clients read them too.

Server to client, a quick ack is a short packet ``0xffffffff, token, 0..8 random bytes``; a bare
4-byte word with the top bit set is read as a quick ack too, as in plain intermediate.
"""

from __future__ import annotations

import struct

from ..errors import UsageError
from .codec import FramingCodec
from .intermediate import Intermediate
from .packets import DEFAULT_MAX_PACKET, Packet, QuickAck, RandomSource, Side, TransportErrorCode

__all__ = ["PaddedIntermediate"]

_U32 = struct.Struct("<I")
_QUICK_ACK_MARK = b"\xff\xff\xff\xff"


class PaddedIntermediate(Intermediate):
    """``PaddedIntermediate(side, random, *, max_packet=16 MiB)``; header ``0xdddddddd``.

    ``random(n)`` supplies the padding bytes."""

    __slots__ = ("_random",)

    HEADER = b"\xdd\xdd\xdd\xdd"
    OBFUSCATION_TAG = HEADER
    ALIGNED = False
    PADDING_ALLOWANCE = 15
    #: shorter than any MTProto packet, longer than any transport error or quick ack with padding
    SHORT_PACKET = 24

    def __init__(self, side: Side, random: RandomSource, *,
                 max_packet: int = DEFAULT_MAX_PACKET) -> None:
        if not callable(random):
            raise UsageError("random must be a callable returning n random bytes")
        super().__init__(side, max_packet=max_packet)
        self._random = random

    encode = FramingCodec.encode  # random padding: no shortcut past _frame

    def _frame(self, payload: bytes, n: int, quick_ack: bool) -> bytes:
        noise = self._random(16)
        padding = noise[1 : 1 + (noise[0] & 15)]
        total = n + len(padding)
        return b"".join((_U32.pack(total | 0x80000000 if quick_ack else total), payload, padding))

    def _frame_error(self, body: bytes) -> bytes:
        return b"\x04\x00\x00\x00" + body

    def _frame_quick_ack(self, token: int) -> bytes:
        noise = self._random(9)
        padding = noise[1 : 1 + noise[0] % 9]
        return b"".join((_U32.pack(8 + len(padding)), _QUICK_ACK_MARK, _U32.pack(token), padding))

    def _short_packet(self, payload: bytes) -> Packet:
        if len(payload) >= 8 and payload[:4] == _QUICK_ACK_MARK:
            return QuickAck(_U32.unpack_from(payload, 4)[0] & 0x7FFFFFFF)
        if len(payload) >= 4 and payload[3] & 0x80 and payload[:4] != _QUICK_ACK_MARK:
            return TransportErrorCode(int.from_bytes(payload[:4], "little", signed=True))
        return payload
