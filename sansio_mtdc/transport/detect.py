"""The server's view of a new connection: which transport do its first bytes announce?

Telegram accepts every transport on the same port, and so does :func:`detect_codec`:

* ``0xef`` first byte: abridged (1 header byte);
* ``0xeeeeeeee`` / ``0xdddddddd`` first word: intermediate / padded intermediate (4 bytes);
* an HTTP verb or a TLS record start as first word: rejected (HTTP and fake-TLS are not served);
* a zero second word: full.  A full connection starts with its first packet, whose second word
  is sequence number 0; an obfuscated2 client never sends a zero second word, which is exactly
  why the spec forbids it.  Nothing is consumed;
* anything else: an obfuscated2 preamble (64 bytes), tried with each configured secret.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import FramingError
from .abridged import Abridged
from .codec import Codec
from .full import Full
from .intermediate import Intermediate
from .obfuscated import HEADER_SIZE, Obfuscated
from .packets import DEFAULT_MAX_PACKET, RandomSource
from .padded import PaddedIntermediate

__all__ = ["detect_codec"]

_REFUSED_FIRST_WORDS = {
    b"HEAD": "HTTP", b"POST": "HTTP", b"GET ": "HTTP", b"OPTI": "HTTP",
    b"\x16\x03\x01\x02": "fake-TLS",
}


def detect_codec(data: bytes | bytearray | memoryview, *, secrets: Sequence[bytes] = (),
                 random: RandomSource,
                 max_packet: int = DEFAULT_MAX_PACKET) -> tuple[Codec, int] | None:
    """The server-side codec for a connection that began with ``data``, and how many bytes of
    ``data`` its header took (feed the rest to the codec); ``None`` while more bytes are needed.

    ``secrets`` are the MTProxy secrets accepted for obfuscated2 (``b""`` stands for none; an
    empty sequence accepts only secret-less obfuscation).  ``random`` pads what a padded
    intermediate server sends.  Raises :class:`FramingError` (``reason="unknown_transport"`` or
    ``"bad_obfuscation"``) when the bytes match no transport.
    """
    head = bytes(data[:HEADER_SIZE])
    if not head:
        return None
    if head[0] == 0xEF:
        return Abridged("server", max_packet=max_packet), 1
    if len(head) < 4:
        return None
    first = head[:4]
    if first == Intermediate.HEADER:
        return Intermediate("server", max_packet=max_packet), 4
    if first == PaddedIntermediate.HEADER:
        return PaddedIntermediate("server", random, max_packet=max_packet), 4
    refused = _REFUSED_FIRST_WORDS.get(first)
    if refused is not None:
        raise FramingError(f"the {refused} transport is not served", reason="unknown_transport")
    if len(head) < 8:
        return None
    if head[4:8] == b"\x00\x00\x00\x00":
        return Full("server", max_packet=max_packet), 0
    if len(head) < HEADER_SIZE:
        return None
    return Obfuscated.accept(head, secrets=secrets, random=random,
                             max_packet=max_packet), HEADER_SIZE
