"""Just enough PEM and DER to read and write RSA keys, so that loading Telegram's keys does not
import ``cryptography`` (whose import alone costs more than the rest of the library).

Reads PKCS#1 ``RSA PUBLIC KEY`` / ``RSA PRIVATE KEY``, X.509 SubjectPublicKeyInfo ``PUBLIC KEY``
and PKCS#8 ``PRIVATE KEY`` (unencrypted); writes the PKCS#1 forms.  Every malformed input raises
:class:`UsageError` (keys come from the caller's configuration, not from the wire).
"""

from __future__ import annotations

import binascii
import re

from ..errors import UsageError
from .inputs import BytesLike

__all__ = [
    "decode_pem",
    "encode_pem",
    "read_private_key",
    "read_public_key",
    "write_rsa_private_key",
    "write_rsa_public_key",
]

_INTEGER, _BIT_STRING, _OCTET_STRING, _NULL, _OID, _SEQUENCE = 0x02, 0x03, 0x04, 0x05, 0x06, 0x30
# 1.2.840.113549.1.1.1 (rsaEncryption), DER-encoded
_RSA_ENCRYPTION_OID = bytes.fromhex("2a864886f70d010101")
_MAX_INTEGER_BYTES = 2048  # 16384-bit numbers: far beyond any RSA key in use
_PEM_BLOCK = re.compile(
    r"-----BEGIN ([A-Z0-9 ]+)-----\s*(.*?)\s*-----END \1-----", re.DOTALL)


def _malformed(what: str) -> UsageError:
    return UsageError(f"malformed key: {what}")


def decode_pem(pem: str | BytesLike) -> tuple[str, bytes]:
    """``(label, der)`` of the first PEM block; text around it (comments) is ignored."""
    if isinstance(pem, str):
        text = pem
    else:
        try:
            text = bytes(pem).decode("ascii")
        except UnicodeDecodeError:
            raise _malformed("PEM must be ASCII text") from None
    match = _PEM_BLOCK.search(text)
    if match is None:
        raise _malformed("no -----BEGIN ...----- / -----END ...----- block")
    body = match.group(2)
    if ":" in body:
        raise _malformed("encrypted or annotated PEM is not supported")
    try:
        der = binascii.a2b_base64("".join(body.split()), strict_mode=True)
    except (binascii.Error, ValueError):
        raise _malformed("bad base64") from None
    return match.group(1), der


def encode_pem(label: str, der: bytes) -> str:
    """A PEM block with 64-character lines."""
    text = binascii.b2a_base64(der, newline=False).decode("ascii")
    lines = [text[i:i + 64] for i in range(0, len(text), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----", ""])


# --- reading -------------------------------------------------------------------------------------

class _Reader:
    """Sequential reader of DER elements in ``data[pos:end]``."""

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def at_end(self) -> bool:
        return self.pos >= self.end

    def element(self, tag: int) -> tuple[int, int]:
        """``(start, end)`` of the contents of the next element, which must have ``tag``."""
        data, pos, end = self.data, self.pos, self.end
        if pos + 2 > end:
            raise _malformed("truncated element")
        if data[pos] != tag:
            raise _malformed(f"expected tag 0x{tag:02x}, found 0x{data[pos]:02x}")
        length = data[pos + 1]
        pos += 2
        if length & 0x80:
            count = length & 0x7F
            if not 1 <= count <= 4 or pos + count > end:
                raise _malformed("bad length")
            length = int.from_bytes(data[pos:pos + count], "big")
            pos += count
        if pos + length > end:
            raise _malformed("element longer than its container")
        self.pos = pos + length
        return pos, pos + length

    def nested(self, tag: int) -> _Reader:
        start, end = self.element(tag)
        return _Reader(self.data, start, end)

    def integer(self) -> int:
        start, end = self.element(_INTEGER)
        if start == end or end - start > _MAX_INTEGER_BYTES:
            raise _malformed("bad INTEGER size")
        return int.from_bytes(self.data[start:end], "big", signed=True)

    def positive_integers(self, count: int) -> list[int]:
        values = [self.integer() for _ in range(count)]
        if any(v <= 0 for v in values):
            raise _malformed("RSA numbers must be positive")
        return values

    def finish(self) -> None:
        if not self.at_end():
            raise _malformed("trailing bytes")


def _rsa_algorithm(reader: _Reader) -> None:
    algorithm = reader.nested(_SEQUENCE)
    start, end = algorithm.element(_OID)
    if reader.data[start:end] != _RSA_ENCRYPTION_OID:
        raise _malformed("not an RSA key")
    if not algorithm.at_end():
        algorithm.element(_NULL)
    algorithm.finish()


def _pkcs1_public(der: bytes, start: int = 0, end: int | None = None) -> tuple[int, int]:
    outer = _Reader(der, start, end)
    seq = outer.nested(_SEQUENCE)
    outer.finish()
    n, e = seq.positive_integers(2)
    seq.finish()
    return n, e


def _pkcs1_private(der: bytes, start: int = 0, end: int | None = None) -> tuple[int, ...]:
    outer = _Reader(der, start, end)
    seq = outer.nested(_SEQUENCE)
    outer.finish()
    if seq.integer() != 0:
        raise _malformed("only two-prime RSA keys (version 0) are supported")
    n, e, d, p, q = seq.positive_integers(5)
    seq.positive_integers(3)  # dp, dq, qinv: recomputed by the key object
    seq.finish()
    return n, e, d, p, q


def read_public_key(pem: str | BytesLike) -> tuple[int, int]:
    """``(n, e)`` from an ``RSA PUBLIC KEY`` or ``PUBLIC KEY`` PEM."""
    label, der = decode_pem(pem)
    if label == "RSA PUBLIC KEY":
        return _pkcs1_public(der)
    if label == "PUBLIC KEY":
        outer = _Reader(der)
        spki = outer.nested(_SEQUENCE)
        outer.finish()
        _rsa_algorithm(spki)
        start, end = spki.element(_BIT_STRING)
        spki.finish()
        if start == end or der[start] != 0:
            raise _malformed("bad BIT STRING")
        return _pkcs1_public(der, start + 1, end)
    raise _malformed(f"expected an RSA public key, found {label!r}")


def read_private_key(pem: str | BytesLike) -> tuple[int, int, int, int, int]:
    """``(n, e, d, p, q)`` from an ``RSA PRIVATE KEY`` or ``PRIVATE KEY`` PEM."""
    label, der = decode_pem(pem)
    if label == "RSA PRIVATE KEY":
        n, e, d, p, q = _pkcs1_private(der)
        return n, e, d, p, q
    if label == "PRIVATE KEY":
        outer = _Reader(der)
        info = outer.nested(_SEQUENCE)
        outer.finish()
        if info.integer() != 0:
            raise _malformed("unsupported PKCS#8 version")
        _rsa_algorithm(info)
        start, end = info.element(_OCTET_STRING)
        n, e, d, p, q = _pkcs1_private(der, start, end)
        return n, e, d, p, q
    raise _malformed(f"expected an RSA private key, found {label!r}")


# --- writing -------------------------------------------------------------------------------------

def _element(tag: int, contents: bytes) -> bytes:
    size = len(contents)
    if size < 0x80:
        header = bytes((tag, size))
    else:
        raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
        header = bytes((tag, 0x80 | len(raw))) + raw
    return header + contents


def _integer(value: int) -> bytes:
    return _element(_INTEGER, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def write_rsa_public_key(n: int, e: int) -> str:
    """PKCS#1 ``RSA PUBLIC KEY`` PEM, the form Telegram publishes its keys in."""
    return encode_pem("RSA PUBLIC KEY", _element(_SEQUENCE, _integer(n) + _integer(e)))


def write_rsa_private_key(n: int, e: int, d: int, p: int, q: int) -> str:
    """PKCS#1 ``RSA PRIVATE KEY`` PEM (unencrypted)."""
    numbers = (0, n, e, d, p, q, d % (p - 1), d % (q - 1), pow(q, -1, p))
    return encode_pem("RSA PRIVATE KEY", _element(_SEQUENCE, b"".join(map(_integer, numbers))))
