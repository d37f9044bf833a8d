"""RSA as the handshake uses it: server keys and their fingerprints, RSA_PAD (the current
``req_DH_params`` encryption) and the older ``SHA1(data) + data + padding`` scheme, both for the
client (encrypt) and for the reference server (decrypt, with CRT).

A fingerprint is the lower 64 bits of SHA1 of the key serialized as the bare TL type
``rsa_public_key n:string e:string``, read as a signed little-endian int64 (TL ``long``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from hashlib import sha1 as _sha1
from hashlib import sha256 as _sha256
from hmac import compare_digest as _ct_equal
from math import gcd

from ..errors import SecurityError, UsageError
from . import der
from .aes import ige256_decrypt, ige256_encrypt
from .arith import powmod
from .inputs import BytesLike, RandomSource

__all__ = [
    "LEGACY_DATA_SIZE",
    "PRODUCTION_KEYS",
    "REFERENCE_CLUSTER_KEYS",
    "RSA_PAD_DATA_SIZE",
    "TEST_KEYS",
    "KeyRegistry",
    "LegacyPlaintext",
    "RSAPrivateKey",
    "RSAPublicKey",
    "check_legacy_hash",
    "reference_cluster_key",
    "rsa_encrypt_legacy",
    "rsa_pad_encrypt",
]

_KEY_BYTES = 256
#: RSA_PAD: data of at most 144 bytes is padded to this size before encryption.
RSA_PAD_DATA_SIZE = 192
_RSA_PAD_MAX_DATA = 144
#: The legacy scheme carries SHA1 (20 bytes) and this many bytes of data and padding.
LEGACY_DATA_SIZE = 235
_ZERO_IV = bytes(32)
_MAX_RSA_PAD_ATTEMPTS = 64  # each attempt succeeds with probability > 1/2 for a 2048-bit key


def _tl_string(value: bytes) -> bytes:
    """TL ``string``/``bytes`` encoding: a length prefix, the bytes, zero padding to 4."""
    size = len(value)
    header = bytes((size,)) if size < 254 else b"\xfe" + size.to_bytes(3, "little")
    body = header + value
    return body + bytes(-len(body) & 3)


def _big_endian(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def _to_signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


@dataclass(frozen=True, slots=True)
class RSAPublicKey:
    """An RSA public key; ``fingerprint`` identifies it in resPQ and req_DH_params."""

    n: int
    e: int
    fingerprint: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.n < 3 or self.e < 3 or not self.n & 1:
            raise UsageError("an RSA public key needs an odd modulus and e >= 3")
        serialized = _tl_string(_big_endian(self.n)) + _tl_string(_big_endian(self.e))
        fingerprint = int.from_bytes(_sha1(serialized).digest()[12:20], "little", signed=True)
        object.__setattr__(self, "fingerprint", fingerprint)

    @classmethod
    def from_pem(cls, pem: str | BytesLike) -> RSAPublicKey:
        """Read a PKCS#1 ``RSA PUBLIC KEY`` or SubjectPublicKeyInfo ``PUBLIC KEY`` PEM; text
        around the block is ignored.  :class:`UsageError` when it is not one."""
        n, e = der.read_public_key(pem)
        return cls(n, e)

    def to_pem(self) -> str:
        """The PKCS#1 ``RSA PUBLIC KEY`` PEM, as Telegram publishes its keys."""
        return der.write_rsa_public_key(self.n, self.e)

    def encrypt_int(self, value: int) -> bytes:
        """Textbook RSA: ``value^e mod n`` as 256 big-endian bytes."""
        if not 0 <= value < self.n:
            raise UsageError("the RSA input must be below the modulus")
        return pow(value, self.e, self.n).to_bytes(_KEY_BYTES, "big")


@dataclass(frozen=True, slots=True)
class RSAPrivateKey:
    """An RSA private key, for the server side; decryption uses the Chinese remainder theorem."""

    n: int
    e: int
    d: int = field(repr=False)
    p: int = field(repr=False)
    q: int = field(repr=False)
    _dp: int = field(init=False, repr=False, compare=False)
    _dq: int = field(init=False, repr=False, compare=False)
    _q_inv: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        p, q = self.p, self.q
        if p < 3 or q < 3 or p == q or p * q != self.n:
            raise UsageError("an RSA private key needs distinct primes p, q with p * q == n")
        carmichael = (p - 1) * (q - 1) // gcd(p - 1, q - 1)
        if self.e * self.d % carmichael != 1:
            raise UsageError("d is not the inverse of e for this key")
        object.__setattr__(self, "_dp", self.d % (p - 1))
        object.__setattr__(self, "_dq", self.d % (q - 1))
        object.__setattr__(self, "_q_inv", pow(q, -1, p))

    @classmethod
    def from_pem(cls, pem: str | BytesLike) -> RSAPrivateKey:
        """Read a PKCS#1 ``RSA PRIVATE KEY`` or PKCS#8 ``PRIVATE KEY`` PEM (unencrypted)."""
        return cls(*der.read_private_key(pem))

    def to_pem(self) -> str:
        """The PKCS#1 ``RSA PRIVATE KEY`` PEM."""
        return der.write_rsa_private_key(self.n, self.e, self.d, self.p, self.q)

    @property
    def public(self) -> RSAPublicKey:
        return RSAPublicKey(self.n, self.e)

    def decrypt_int(self, encrypted: BytesLike) -> int:
        """``c^d mod n`` for a 256-byte ``c``; :class:`SecurityError` (``check="rsa_range"``) when
        the input is not 256 bytes or not below the modulus."""
        if len(encrypted) != _KEY_BYTES:
            raise SecurityError(f"RSA data of {len(encrypted)} bytes, not 256", check="rsa_range")
        value = int.from_bytes(encrypted, "big")
        if value >= self.n:
            raise SecurityError("RSA data not below the modulus", check="rsa_range")
        m1 = powmod(value, self._dp, self.p)
        m2 = powmod(value, self._dq, self.q)
        return m2 + (self._q_inv * (m1 - m2) % self.p) * self.q

    def decrypt_rsa_pad(self, encrypted: BytesLike) -> bytes:
        """The server half of RSA_PAD: the 192-byte ``data_with_padding`` (the TL body first,
        random padding after it; the caller's decoder finds where the body ends).

        Raises :class:`SecurityError`: ``check="rsa_range"`` for a value that is not 256 bytes
        below the modulus, ``check="rsa_pad_hash"`` when the SHA-256 inside does not match.
        """
        key_aes_encrypted = self.decrypt_int(encrypted).to_bytes(_KEY_BYTES, "big")
        temp_key_xor, aes_encrypted = key_aes_encrypted[:32], key_aes_encrypted[32:]
        temp_key = _xor(temp_key_xor, _sha256(aes_encrypted).digest())
        data_with_hash = ige256_decrypt(aes_encrypted, temp_key, _ZERO_IV)
        data_with_padding = data_with_hash[RSA_PAD_DATA_SIZE - 1::-1]
        expected = _sha256(temp_key + data_with_padding).digest()
        if not _ct_equal(expected, data_with_hash[RSA_PAD_DATA_SIZE:]):
            raise SecurityError("RSA_PAD hash mismatch", check="rsa_pad_hash")
        return data_with_padding

    def decrypt_legacy(self, encrypted: BytesLike) -> LegacyPlaintext:
        """The server half of the legacy scheme (``RSA(SHA1(data) + data + padding)``): the 235
        bytes after the hash, as a :class:`LegacyPlaintext` that keeps the hash for
        :func:`check_legacy_hash` once the caller's decoder knows the data length.

        Raises :class:`SecurityError` (``check="rsa_range"``) when the value does not fit in
        255 bytes.
        """
        value = self.decrypt_int(encrypted)
        if value >> (8 * (LEGACY_DATA_SIZE + 20)):
            raise SecurityError("legacy RSA data longer than 255 bytes", check="rsa_range")
        data_with_hash = value.to_bytes(LEGACY_DATA_SIZE + 20, "big")
        return LegacyPlaintext(data_with_hash[20:], data_with_hash[:20])


class LegacyPlaintext(bytes):
    """The 235 bytes that follow SHA1 in a legacy-encrypted block (data, then padding), with the
    transmitted hash kept as ``sha1`` for :func:`check_legacy_hash`."""

    sha1: bytes

    def __new__(cls, data: bytes, sha1: bytes) -> LegacyPlaintext:
        self = super().__new__(cls, data)
        self.sha1 = sha1
        return self


def check_legacy_hash(decrypted: LegacyPlaintext, data_len: int) -> None:
    """Check that the first ``data_len`` bytes of ``decrypted`` hash to the SHA1 it carried;
    :class:`SecurityError` (``check="rsa_legacy_hash"``) otherwise."""
    if not 0 < data_len <= len(decrypted):
        raise SecurityError(f"legacy RSA data length {data_len} out of range",
                            check="rsa_legacy_hash")
    if not _ct_equal(_sha1(decrypted[:data_len]).digest(), decrypted.sha1):
        raise SecurityError("legacy RSA hash mismatch", check="rsa_legacy_hash")


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


def _draw(random: RandomSource, size: int) -> bytes:
    value = random(size)
    if len(value) != size:
        raise UsageError(f"random({size}) returned {len(value)} bytes")
    return bytes(value)


def rsa_pad_encrypt(data: BytesLike, key: RSAPublicKey, random: RandomSource) -> bytes:
    """RSA_PAD(data, key) of auth_key.txt 4.1: the 256-byte ``encrypted_data`` of req_DH_params.

    ``data`` (the serialized p_q_inner_data, at most 144 bytes) is padded with random bytes to
    192, reversed, followed by SHA256(temp_key + padded data), AES-256-IGE-encrypted with a random
    temp_key and a zero IV; the key is masked with SHA256 of the result, and the whole is RSA-
    encrypted, drawing a new temp_key while it is not below the modulus.
    """
    if len(data) > _RSA_PAD_MAX_DATA:
        raise UsageError(f"RSA_PAD takes at most {_RSA_PAD_MAX_DATA} bytes, not {len(data)}")
    if key.n.bit_length() != 8 * _KEY_BYTES:
        raise UsageError("RSA_PAD needs a 2048-bit key")
    data_with_padding = bytes(data) + _draw(random, RSA_PAD_DATA_SIZE - len(data))
    data_pad_reversed = data_with_padding[::-1]
    for _ in range(_MAX_RSA_PAD_ATTEMPTS):
        temp_key = _draw(random, 32)
        data_with_hash = data_pad_reversed + _sha256(temp_key + data_with_padding).digest()
        aes_encrypted = ige256_encrypt(data_with_hash, temp_key, _ZERO_IV)
        temp_key_xor = _xor(temp_key, _sha256(aes_encrypted).digest())
        value = int.from_bytes(temp_key_xor + aes_encrypted, "big")
        if value < key.n:
            return key.encrypt_int(value)
    raise UsageError("the random source keeps producing values above the modulus")


def rsa_encrypt_legacy(data: BytesLike, key: RSAPublicKey, random: RandomSource) -> bytes:
    """The older scheme: ``RSA(SHA1(data) + data + random padding to 255 bytes)``, 256 bytes."""
    if len(data) > LEGACY_DATA_SIZE:
        raise UsageError(f"the legacy scheme takes at most {LEGACY_DATA_SIZE} bytes")
    if key.n.bit_length() != 8 * _KEY_BYTES:
        raise UsageError("the legacy scheme needs a 2048-bit key")
    payload = bytes(data)
    block = _sha1(payload).digest() + payload + _draw(random, LEGACY_DATA_SIZE - len(payload))
    return key.encrypt_int(int.from_bytes(block, "big"))


class KeyRegistry:
    """Server public keys by fingerprint.

    A registry may be read-only (the module-level ones are: build your own, e.g.
    ``KeyRegistry(PRODUCTION_KEYS)``, to add keys) and may load its keys lazily on first use.
    Fingerprints may be given signed (TL ``long``) or unsigned.
    """

    def __init__(self, keys: Iterable[RSAPublicKey] = (), *,
                 loader: Callable[[], Iterable[RSAPublicKey]] | None = None,
                 read_only: bool = False) -> None:
        self._keys: dict[int, RSAPublicKey] = {}
        self._loader = loader
        self._read_only = False
        for key in keys:
            self.add(key)
        self._read_only = read_only

    def _loaded(self) -> dict[int, RSAPublicKey]:
        if self._loader is not None:
            loaded = list(self._loader())  # if this raises, the next use tries again
            self._loader = None
            for key in loaded:
                self._keys.setdefault(key.fingerprint, key)
        return self._keys

    def add(self, key: RSAPublicKey) -> None:
        """Add ``key`` (a key with the same fingerprint stays as it was)."""
        if self._read_only:
            raise UsageError("this key registry is read-only; copy it with KeyRegistry(registry)")
        self._loaded().setdefault(key.fingerprint, key)

    def get(self, fingerprint: int) -> RSAPublicKey | None:
        return self._loaded().get(_to_signed64(fingerprint))

    def first_known(self, fingerprints: Iterable[int]) -> RSAPublicKey | None:
        """The first key of ``fingerprints`` (a resPQ's list, in its order) that is known here."""
        keys = self._loaded()
        for fingerprint in fingerprints:
            key = keys.get(_to_signed64(fingerprint))
            if key is not None:
                return key
        return None

    def __contains__(self, fingerprint: object) -> bool:
        return isinstance(fingerprint, int) and _to_signed64(fingerprint) in self._loaded()

    def __iter__(self) -> Iterator[RSAPublicKey]:
        return iter(list(self._loaded().values()))

    def __len__(self) -> int:
        return len(self._loaded())

    def __repr__(self) -> str:
        return f"KeyRegistry({[hex(k.fingerprint & (2**64 - 1)) for k in self]})"


# Telegram's server keys, as published in its official clients (tdlib PublicRsaKeySharedMain).
_PRODUCTION_PEM = """\
-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEA6LszBcC1LGzyr992NzE0ieY+BSaOW622Aa9Bd4ZHLl+TuFQ4lo4g
5nKaMBwK/BIb9xUfg0Q29/2mgIR6Zr9krM7HjuIcCzFvDtr+L0GQjae9H0pRB2OO
62cECs5HKhT5DZ98K33vmWiLowc621dQuwKWSQKjWf50XYFw42h21P2KXUGyp2y/
+aEyZ+uVgLLQbRA1dEjSDZ2iGRy12Mk5gpYc397aYp438fsJoHIgJ2lgMv5h7WY9
t6N/byY9Nw9p21Og3AoXSL2q/2IJ1WRUhebgAdGVMlV1fkuOQoEzR7EdpqtQD9Cs
5+bfo3Nhmcyvk5ftB0WkJ9z6bNZ7yxrP8wIDAQAB
-----END RSA PUBLIC KEY-----
"""

_TEST_PEM = """\
-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEAyMEdY1aR+sCR3ZSJrtztKTKqigvO/vBfqACJLZtS7QMgCGXJ6XIR
yy7mx66W0/sOFa7/1mAZtEoIokDP3ShoqF4fVNb6XeqgQfaUHd8wJpDWHcR2OFwv
plUUI1PLTktZ9uW2WE23b+ixNwJjJGwBDJPQEQFBE+vfmH0JP503wr5INS1poWg/
j25sIWeYPHYeOrFp/eXaqhISP6G+q2IeTaWTXpwZj4LzXq5YOpk4bYEQ6mvRq7D1
aHWfYmlEGepfaYR8Q0YqvvhYtMte3ITnuSJs171+GDqpdKcSwHnd6FudwGO4pcCO
j4WcDuXc2CTHgH8gFTNhp/Y8/SpDOhvn9QIDAQAB
-----END RSA PUBLIC KEY-----
"""


def _read_package_key(name: str) -> str:
    from importlib.resources import files

    return files(__package__).joinpath("keys", name).read_text(encoding="ascii")


@cache
def reference_cluster_key() -> RSAPrivateKey:
    """The private key of the project's reference DC cluster (the sans-I/O test server).

    A fixed TEST key, generated once and shipped in the package so that a client and a server
    built from this library trust each other out of the box.  It protects nothing: never use it
    for a server anyone else can reach.
    """
    return RSAPrivateKey.from_pem(_read_package_key("reference_cluster.pem"))


#: Telegram's production server key (fingerprint 0xd09d1d85de64fd85).
PRODUCTION_KEYS = KeyRegistry(loader=lambda: [RSAPublicKey.from_pem(_PRODUCTION_PEM)],
                              read_only=True)
#: Telegram's test server key (fingerprint 0xb25898df208d2603).
TEST_KEYS = KeyRegistry(loader=lambda: [RSAPublicKey.from_pem(_TEST_PEM)], read_only=True)
#: The reference DC cluster's public key, read from ``keys/reference_cluster.pub.pem``.
REFERENCE_CLUSTER_KEYS = KeyRegistry(
    loader=lambda: [RSAPublicKey.from_pem(_read_package_key("reference_cluster.pub.pem"))],
    read_only=True)
