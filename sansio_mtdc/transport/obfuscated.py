"""Obfuscated2: a random 64-byte preamble, then AES-256-CTR over any tagged framing, both ways.

The client draws 64 random bytes (avoiding first words that the server would read as another
transport: 0xef..., 'HEAD', 'POST', 'GET ', 'OPTI', a TLS record start, 0xdddddddd, 0xeeeeeeee,
and a zero second word, which means the full framing), writes the framing's tag at 56..60 and
the DC id (int16, little endian) at 60..62, and derives two key/IV pairs: bytes 8..40 and 40..56
of the preamble for sending, the same bytes of the reversed preamble for receiving.  With an
MTProxy secret each key becomes SHA256(key + secret).  The preamble is encrypted with the sending
cipher and sent with its first 56 bytes in the clear; the same cipher, never restarted, then
encrypts everything else, so the counter runs on across packets.

Secrets: 16 bytes (plain), 17 bytes starting with 0xdd (or any other extra first byte, as the
spec says: the padded intermediate framing is then used whatever framing was asked for), and
fake-TLS ``ee`` secrets, which are not supported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..errors import FramingError, UsageError
from .abridged import Abridged
from .codec import FramingCodec
from .intermediate import Intermediate
from .packets import DEFAULT_MAX_PACKET, Packet, RandomSource, Side
from .padded import PaddedIntermediate

__all__ = ["Obfuscated", "obfuscation_dc_id"]

HEADER_SIZE = 64
_TAG = slice(56, 60)
_DC_ID = slice(60, 62)
#: first words a server reads as another transport (HTTP verbs, a TLS record, framing headers)
_FORBIDDEN_FIRST_WORDS = frozenset({
    b"HEAD", b"POST", b"GET ", b"OPTI", b"\x16\x03\x01\x02",
    PaddedIntermediate.HEADER, Intermediate.HEADER,
})
_ABRIDGED_FIRST_BYTE = 0xEF
_NO_SECOND_WORD = b"\x00\x00\x00\x00"
#: a fair source needs about 1.004 draws; a source stuck on forbidden values must not hang us
_MAX_DRAWS = 64


def obfuscation_dc_id(dc_id: int, *, test: bool = False, media: bool = False) -> int:
    """The DC id as the preamble carries it: +10000 on the test servers, negative for a media
    (not CDN) DC."""
    if type(dc_id) is not int or dc_id <= 0:
        raise UsageError(f"dc_id must be a positive int, not {dc_id!r}")
    value = dc_id + 10000 if test else dc_id
    value = -value if media else value
    if not -0x8000 <= value <= 0x7FFF:
        raise UsageError(f"dc_id {dc_id} does not fit the preamble's int16")
    return value


#: ``update(data) -> bytes`` of one AES-256-CTR stream
_Stream = Callable[[bytes | bytearray | memoryview], bytes]


def _ctr(key: bytes, iv: bytes) -> _Stream:
    from ..crypto.aes import AesCtr  # imported on first use: keeps `import` of the package cheap

    return AesCtr(key, iv).update


def _secret_key(secret: bytes | None) -> tuple[bytes, bool]:
    """The 16 bytes mixed into the keys (``b""``: none), and whether the secret asks for the
    padded intermediate framing."""
    if secret is None or len(secret) == 0:
        return b"", False
    if not isinstance(secret, bytes | bytearray):
        raise UsageError(f"an MTProxy secret is bytes, not {type(secret).__name__}")
    if len(secret) == 16:
        return bytes(secret), False
    if secret[0] == 0xEE:
        raise UsageError("fake-TLS MTProxy secrets are not supported")
    if len(secret) == 17:
        return bytes(secret[1:]), True
    raise UsageError(f"an MTProxy secret has 16 or 17 bytes, not {len(secret)}")


def _derive(preamble: bytes, secret: bytes) -> tuple[bytes, bytes, bytes, bytes]:
    """(client-to-server key, iv, server-to-client key, iv) from a plain 64-byte preamble."""
    reverse = preamble[::-1]
    up_key, up_iv = preamble[8:40], preamble[40:56]
    down_key, down_iv = reverse[8:40], reverse[40:56]
    if secret:
        from hashlib import sha256  # only proxies need it: importing hashlib costs milliseconds

        up_key = sha256(up_key + secret).digest()
        down_key = sha256(down_key + secret).digest()
    return up_key, up_iv, down_key, down_iv


def _draw_preamble(random: RandomSource) -> bytes:
    for _ in range(_MAX_DRAWS):
        candidate = random(HEADER_SIZE)
        if type(candidate) is not bytes or len(candidate) != HEADER_SIZE:
            raise UsageError("random(64) must return 64 bytes")
        if (candidate[0] != _ABRIDGED_FIRST_BYTE
                and candidate[:4] not in _FORBIDDEN_FIRST_WORDS
                and candidate[4:8] != _NO_SECOND_WORD):
            return candidate
    raise UsageError(f"random returned {_MAX_DRAWS} forbidden obfuscation preambles in a row")


class Obfuscated:
    """``Obfuscated(inner, *, random, dc_id, secret=None)``: obfuscated2 over a client codec.

    ``header()`` is the 64-byte preamble (drawn at construction); ``encode``/``feed`` and the
    rest behave as the inner codec's, through AES-256-CTR.  ``dc_id`` is the value carried in
    the preamble (see :func:`obfuscation_dc_id`).  The server side is made by
    :func:`~sansio_mtdc.transport.detect_codec`, and its ``dc_id`` is what the client sent.
    """

    __slots__ = ("_decrypt", "_encrypt", "_header", "dc_id", "inner")

    inner: FramingCodec
    dc_id: int

    def __init__(self, inner: FramingCodec, *, random: RandomSource, dc_id: int,
                 secret: bytes | None = None) -> None:
        if not isinstance(inner, FramingCodec) or inner.side != "client":
            raise UsageError("Obfuscated wraps a client-side framing codec; the server side "
                             "comes from detect_codec")
        if not callable(random):
            raise UsageError("random must be a callable returning n random bytes")
        if type(dc_id) is not int or not -0x8000 <= dc_id <= 0x7FFF:
            raise UsageError(f"dc_id must be an int16, not {dc_id!r}")
        key, wants_padding = _secret_key(secret)
        if wants_padding and not isinstance(inner, PaddedIntermediate):
            inner = PaddedIntermediate("client", random, max_packet=inner.max_packet)
        if not inner.OBFUSCATION_TAG:
            raise UsageError(f"{type(inner).__name__} has no obfuscation tag")
        drawn = _draw_preamble(random)
        preamble = b"".join((drawn[:56], inner.OBFUSCATION_TAG,
                             dc_id.to_bytes(2, "little", signed=True), drawn[62:]))
        up_key, up_iv, down_key, down_iv = _derive(preamble, key)
        self._encrypt = _ctr(up_key, up_iv)
        self._decrypt = _ctr(down_key, down_iv)
        self._header = preamble[:56] + self._encrypt(preamble)[56:]
        self.inner = inner
        self.dc_id = dc_id

    @classmethod
    def accept(cls, preamble: bytes, *, secrets: Iterable[bytes] = (), random: RandomSource,
               max_packet: int = DEFAULT_MAX_PACKET) -> Obfuscated:
        """The server side of a connection that opened with ``preamble`` (64 bytes).

        Each secret is tried in turn (``b""`` stands for none; an empty ``secrets`` means no
        secret only).  Raises :class:`FramingError` (``reason="bad_obfuscation"``) when none of
        them reveals a known framing tag."""
        if len(preamble) != HEADER_SIZE:
            raise UsageError(f"an obfuscation preamble has {HEADER_SIZE} bytes")
        preamble = bytes(preamble)
        keys = [_secret_key(s) for s in secrets] or [(b"", False)]
        for key, wants_padding in keys:
            up_key, up_iv, down_key, down_iv = _derive(preamble, key)
            decrypt = _ctr(up_key, up_iv)
            plain = decrypt(preamble)
            inner = _server_codec(plain[_TAG], wants_padding, random, max_packet)
            if inner is None:
                continue
            codec = cls.__new__(cls)
            codec._decrypt = decrypt
            codec._encrypt = _ctr(down_key, down_iv)
            codec._header = b""
            codec.inner = inner
            codec.dc_id = int.from_bytes(plain[_DC_ID], "little", signed=True)
            return codec
        raise FramingError("no known framing tag under any configured secret",
                           reason="bad_obfuscation")

    def __repr__(self) -> str:
        return f"<Obfuscated dc_id={self.dc_id} {self.inner!r}>"

    @property
    def side(self) -> Side:
        return self.inner.side

    @property
    def max_packet(self) -> int:
        return self.inner.max_packet

    @property
    def buffered(self) -> int:
        return self.inner.buffered

    def header(self) -> bytes:
        """The 64-byte preamble on the client side; ``b""`` on the server side."""
        return self._header

    def encode(self, payload: bytes, *, quick_ack: bool = False) -> bytes:
        return self._encrypt(self.inner.encode(payload, quick_ack=quick_ack))

    def encode_error(self, code: int) -> bytes:
        return self._encrypt(self.inner.encode_error(code))

    def encode_quick_ack(self, token: int) -> bytes:
        return self._encrypt(self.inner.encode_quick_ack(token))

    def feed(self, data: bytes | bytearray | memoryview) -> list[Packet]:
        return self.inner.feed(self._decrypt(data))


def _server_codec(tag: bytes, padded_only: bool, random: RandomSource,
                  max_packet: int) -> FramingCodec | None:
    if tag == PaddedIntermediate.OBFUSCATION_TAG:
        return PaddedIntermediate("server", random, max_packet=max_packet)
    if padded_only:
        return None
    if tag == Intermediate.OBFUSCATION_TAG:
        return Intermediate("server", max_packet=max_packet)
    if tag == Abridged.OBFUSCATION_TAG:
        return Abridged("server", max_packet=max_packet)
    return None
