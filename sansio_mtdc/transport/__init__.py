"""Transports: how MTProto payloads are cut out of a byte stream, and obfuscated.

Four framings (:class:`Abridged`, :class:`Intermediate`, :class:`PaddedIntermediate`,
:class:`Full`) and :class:`Obfuscated` on top of the first three.  Each is an incremental, sans-I/O
codec, one per connection and side::

    codec = Intermediate("client")
    send(codec.header() + codec.encode(payload))
    for packet in codec.feed(received_bytes):
        if type(packet) is bytes: ...                 # a payload
        elif isinstance(packet, TransportErrorCode): ...   # -404, -429, -444
        elif isinstance(packet, QuickAck): ...

A server looks at a new connection's first bytes with :func:`detect_codec`.  Payloads the client
sent with ``quick_ack=True`` reach the server as :class:`QuickAckRequest` records.  Any byte
sequence a peer can send either decodes or raises :class:`~sansio_mtdc.errors.FramingError`,
after which the codec is poisoned.  Each name is imported from its module when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_names

if TYPE_CHECKING:
    from .abridged import Abridged
    from .codec import Codec, FramingCodec
    from .detect import detect_codec
    from .full import Full
    from .intermediate import Intermediate
    from .obfuscated import Obfuscated, obfuscation_dc_id
    from .packets import (
        DEFAULT_MAX_PACKET,
        Packet,
        QuickAck,
        QuickAckRequest,
        RandomSource,
        Side,
        TransportErrorCode,
    )
    from .padded import PaddedIntermediate

#: public name -> the module that defines it (imported on first use)
_LAZY = {
    "Abridged": "abridged", "Codec": "codec", "FramingCodec": "codec",
    "detect_codec": "detect", "Full": "full", "Intermediate": "intermediate",
    "Obfuscated": "obfuscated", "obfuscation_dc_id": "obfuscated",
    "PaddedIntermediate": "padded",
    **dict.fromkeys(("DEFAULT_MAX_PACKET", "Packet", "QuickAck", "QuickAckRequest",
                     "RandomSource", "Side", "TransportErrorCode"), "packets"),
}
_SUBMODULES = frozenset({"abridged", "codec", "detect", "full", "intermediate", "obfuscated",
                         "packets", "padded"})

__all__ = [
    "DEFAULT_MAX_PACKET",
    "Abridged",
    "Codec",
    "FramingCodec",
    "Full",
    "Intermediate",
    "Obfuscated",
    "Packet",
    "PaddedIntermediate",
    "QuickAck",
    "QuickAckRequest",
    "RandomSource",
    "Side",
    "TransportErrorCode",
    "detect_codec",
    "obfuscation_dc_id",
]


__getattr__, __dir__ = lazy_names(__name__, _LAZY, _SUBMODULES)
