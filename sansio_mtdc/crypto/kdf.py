"""The key derivations of the auth-key handshake (``auth_key.txt``, steps 6 to 9)."""

from __future__ import annotations

from hashlib import sha1 as _sha1

from ..errors import UsageError
from .inputs import BytesLike

__all__ = [
    "auth_key_from_int",
    "initial_server_salt",
    "initial_server_salt_int",
    "new_nonce_hash",
    "tmp_aes_key_iv",
]


def _check_nonces(new_nonce: BytesLike, server_nonce: BytesLike) -> None:
    if len(new_nonce) != 32 or len(server_nonce) != 16:
        raise UsageError(f"new_nonce is 32 bytes and server_nonce 16; got {len(new_nonce)} and "
                         f"{len(server_nonce)}")


def tmp_aes_key_iv(new_nonce: BytesLike, server_nonce: BytesLike) -> tuple[bytes, bytes]:
    """``(tmp_aes_key, tmp_aes_iv)`` that encrypt server_DH_inner_data and client_DH_inner_data:

    * ``tmp_aes_key = SHA1(new_nonce + server_nonce) + SHA1(server_nonce + new_nonce)[0:12]``
    * ``tmp_aes_iv = SHA1(server_nonce + new_nonce)[12:20] + SHA1(new_nonce + new_nonce)
      + new_nonce[0:4]``
    """
    _check_nonces(new_nonce, server_nonce)
    nn, sn = bytes(new_nonce), bytes(server_nonce)
    nn_sn = _sha1(nn + sn).digest()
    sn_nn = _sha1(sn + nn).digest()
    nn_nn = _sha1(nn + nn).digest()
    return nn_sn + sn_nn[:12], sn_nn[12:20] + nn_nn + nn[:4]


def new_nonce_hash(new_nonce: BytesLike, aux_hash: BytesLike, number: int) -> bytes:
    """new_nonce_hash1/2/3 of dh_gen_ok/retry/fail: the lower 128 bits of
    ``SHA1(new_nonce + byte(number) + auth_key_aux_hash)``; distinct numbers keep an attacker
    from turning one answer into another."""
    if number not in (1, 2, 3) or len(new_nonce) != 32 or len(aux_hash) != 8:
        raise UsageError("new_nonce_hash takes a 32-byte new_nonce, an 8-byte aux_hash and "
                         f"number 1, 2 or 3; got {len(new_nonce)}, {len(aux_hash)}, {number!r}")
    return _sha1(bytes(new_nonce) + bytes((number,)) + bytes(aux_hash)).digest()[4:20]


def initial_server_salt(new_nonce: BytesLike, server_nonce: BytesLike) -> bytes:
    """The first server salt of a new key, as its 8 wire bytes:
    ``new_nonce[0:8] XOR server_nonce[0:8]``."""
    _check_nonces(new_nonce, server_nonce)
    return bytes(a ^ b for a, b in zip(new_nonce[:8], server_nonce[:8]))


def initial_server_salt_int(new_nonce: BytesLike, server_nonce: BytesLike) -> int:
    """:func:`initial_server_salt` as the signed int64 (TL ``long``) the session stores."""
    return int.from_bytes(initial_server_salt(new_nonce, server_nonce), "little", signed=True)


def auth_key_from_int(value: int) -> bytes:
    """The auth key ``g^ab mod dh_prime`` as the 256 big-endian bytes everything else hashes."""
    if not 0 <= value < 1 << 2048:
        raise UsageError("an auth key is a non-negative number below 2^2048")
    return value.to_bytes(256, "big")
