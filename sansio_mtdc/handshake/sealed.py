"""The two AES-IGE blocks of the exchange, ``server_DH_inner_data`` (step 6) and
``client_DH_inner_data`` (step 7): ``SHA1(data) + data + 0..15 random bytes``, encrypted with
``tmp_aes_key``/``tmp_aes_iv`` derived from new_nonce and server_nonce."""

from __future__ import annotations

from typing import TypeVar

from ..crypto.aes import ige256_decrypt, ige256_encrypt
from ..crypto.hashing import ct_equal, sha1
from ..crypto.inputs import RandomSource
from ..errors import SecurityError, TLDecodeError, UsageError
from ..tl import TLObject, read_object

__all__ = ["draw", "open_sealed", "seal"]

T = TypeVar("T", bound=TLObject)

_HASH_SIZE = 20
_MAX_PADDING = 15


def draw(random: RandomSource, size: int) -> bytes:
    """``random(size)``, checked: a source that returns the wrong thing is the caller's bug."""
    value = random(size)
    if not isinstance(value, (bytes, bytearray)) or len(value) != size:
        raise UsageError(f"random({size}) must return {size} bytes, not {value!r:.40}")
    return bytes(value)


def seal(data: bytes, key: bytes, iv: bytes, random: RandomSource) -> bytes:
    """``AES256_IGE(SHA1(data) + data + padding)``; the padding (0..15 random bytes) makes the
    length a multiple of 16."""
    with_hash = sha1(data) + data
    padding = -len(with_hash) & 15
    if padding:
        with_hash += draw(random, padding)
    return ige256_encrypt(with_hash, key, iv)


def open_sealed(encrypted: bytes, key: bytes, iv: bytes, expected: type[T], *, check: str) -> T:
    """Decrypt a sealed block and return the ``expected`` object inside it.

    Everything that can be wrong (a length that is not a multiple of 16, another constructor, an
    object that does not decode, more than 15 bytes after it, a SHA1 that does not match) is one
    :class:`SecurityError` with ``check``: without the right key the plaintext is noise, and the
    answer to noise must not depend on where it stopped making sense.
    """
    size = len(encrypted)
    if size < _HASH_SIZE + 4 or size & 15:
        raise SecurityError(f"a sealed block of {size} bytes, not a multiple of 16",
                            check=check)
    plain = ige256_decrypt(encrypted, key, iv)
    if int.from_bytes(plain[_HASH_SIZE:_HASH_SIZE + 4], "little") != expected.CONSTRUCTOR_ID:
        raise SecurityError(f"the decrypted block does not hold {expected.TL_NAME}", check=check)
    try:
        value, end = read_object(plain, _HASH_SIZE)
    except TLDecodeError:
        raise SecurityError(f"the decrypted {expected.TL_NAME} does not decode",
                            check=check) from None
    if size - end > _MAX_PADDING or not ct_equal(sha1(plain[_HASH_SIZE:end]), plain[:_HASH_SIZE]):
        raise SecurityError(f"SHA1 or padding of the decrypted {expected.TL_NAME} is wrong",
                            check=check)
    assert isinstance(value, expected)
    return value
