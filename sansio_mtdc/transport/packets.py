"""What a transport codec hands back besides payloads, and the types its API is spelled in.

``feed`` returns a list whose items are plain ``bytes`` (an MTProto payload: the common case, so
consumers test ``type(p) is bytes`` first) or one of the small frozen records below.  They are
values, not exceptions: a transport error code is a message from the server that the upper layer
acts on (drop the auth key on -404, back off on -429), not a failure of the decoder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeAlias

__all__ = [
    "DEFAULT_MAX_PACKET",
    "Packet",
    "QuickAck",
    "QuickAckRequest",
    "RandomSource",
    "Side",
    "TransportErrorCode",
]

#: Which end of the connection a codec serves.  The client sends the transport header first and
#: may ask for quick acks; the server answers them and sends transport error codes.
Side: TypeAlias = Literal["client", "server"]

#: ``random(n)`` returns ``n`` random bytes; the core never draws randomness itself.
RandomSource: TypeAlias = Callable[[int], bytes]

#: Largest payload a codec accepts or announces by default (16 MiB); larger announced lengths are
#: rejected as soon as the length field is read, before the bytes arrive.
DEFAULT_MAX_PACKET = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class TransportErrorCode:
    """A 4-byte packet holding a negative int32 (-404 no such auth key, -429 transport flood,
    -444 invalid DC).  Reported on the client side only; ``code`` keeps its sign."""

    code: int


@dataclass(frozen=True, slots=True)
class QuickAck:
    """The server's receipt for a packet the client sent with ``quick_ack=True``.

    ``token`` is the 32-bit token without its marker bit (``token < 2**31``); compare it with the
    token computed for the sent packet masked by ``0x7fffffff``."""

    token: int


@dataclass(frozen=True, slots=True)
class QuickAckRequest:
    """A payload (server side) whose sender set the quick-ack bit: the server should answer with
    ``encode_quick_ack(token)`` once the payload is decrypted and accepted."""

    payload: bytes


#: One item of what ``feed`` returns.
Packet: TypeAlias = bytes | TransportErrorCode | QuickAck | QuickAckRequest
