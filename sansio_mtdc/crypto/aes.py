"""AES-256 in the two modes MTProto uses: IGE (every encrypted message and the handshake) and CTR
(the obfuscated2 transport).

IGE has no implementation in the standard library or in ``cryptography``, so the backend is chosen
once, at import: ``cryptg`` (Rust) if installed, else ``tgcrypto`` (C), else a fallback built on
``cryptography``'s AES.  :data:`BACKEND` names the choice.  The public functions check sizes with a
few integer comparisons and then call the backend's own function: nothing is copied, so the
library costs nothing measurable over the raw backend on large buffers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import UsageError
from .inputs import BytesLike

__all__ = [
    "BACKEND",
    "AesCtr",
    "IgeBackend",
    "IgeFunction",
    "RawIgeFunction",
    "available_backends",
    "ige256_decrypt",
    "ige256_encrypt",
    "raw_ige256_decrypt",
    "raw_ige256_encrypt",
]

#: ``f(data, key, iv) -> bytes``: AES-256-IGE with a 32-byte key and a 32-byte IV.
IgeFunction = Callable[[BytesLike, BytesLike, BytesLike], bytes]
#: A backend's own IGE function (argument types as narrow as the backend wants).
RawIgeFunction = Callable[..., bytes]


@dataclass(frozen=True, slots=True)
class IgeBackend:
    """One AES-256-IGE implementation.

    ``encrypt``/``decrypt`` check their arguments like :func:`ige256_encrypt`; ``raw_encrypt`` and
    ``raw_decrypt`` are the backend's own functions, unchecked, kept for the benchmark and for
    hot paths that have validated sizes already (``cryptg``'s raw functions take ``bytes`` only).
    """

    name: str
    encrypt: IgeFunction
    decrypt: IgeFunction
    raw_encrypt: RawIgeFunction
    raw_decrypt: RawIgeFunction


def _size_error(data: BytesLike, key: BytesLike, iv: BytesLike) -> UsageError:
    return UsageError(
        "AES-256-IGE needs data of a positive multiple of 16 bytes, a 32-byte key and a 32-byte "
        f"IV; got {len(data)}, {len(key)} and {len(iv)} bytes"
    )


def _checked(raw: RawIgeFunction, *, bytes_only: bool) -> IgeFunction:
    """Wrap a backend function with the size checks (and, for backends that accept nothing but
    ``bytes``, a conversion that only happens for other buffer types)."""
    if bytes_only:
        def ige_bytes_only(data: BytesLike, key: BytesLike, iv: BytesLike) -> bytes:
            if len(data) & 15 or not data or len(key) != 32 or len(iv) != 32:
                raise _size_error(data, key, iv)
            if data.__class__ is not bytes:
                data = bytes(data)
            if key.__class__ is not bytes:
                key = bytes(key)
            if iv.__class__ is not bytes:
                iv = bytes(iv)
            return raw(data, key, iv)

        return ige_bytes_only

    def ige(data: BytesLike, key: BytesLike, iv: BytesLike) -> bytes:
        if len(data) & 15 or not data or len(key) != 32 or len(iv) != 32:
            raise _size_error(data, key, iv)
        return raw(data, key, iv)

    return ige


# --- backends ------------------------------------------------------------------------------------

def _load_cryptg() -> IgeBackend | None:
    try:
        import cryptg
    except ImportError:
        return None
    enc, dec = cryptg.encrypt_ige, cryptg.decrypt_ige
    return IgeBackend("cryptg", _checked(enc, bytes_only=True), _checked(dec, bytes_only=True),
                      enc, dec)


def _load_tgcrypto() -> IgeBackend | None:
    try:
        import tgcrypto
    except ImportError:
        return None
    enc, dec = tgcrypto.ige256_encrypt, tgcrypto.ige256_decrypt
    return IgeBackend("tgcrypto", _checked(enc, bytes_only=False), _checked(dec, bytes_only=False),
                      enc, dec)


def _cryptography_backend() -> IgeBackend:
    return IgeBackend("cryptography", _checked(_fallback_encrypt, bytes_only=False),
                      _checked(_fallback_decrypt, bytes_only=False),
                      _fallback_encrypt, _fallback_decrypt)


# The fallback.  IGE with iv = c0 || p0 (the "previous ciphertext" and "previous plaintext"
# blocks) is
#     c_i = E(p_i ^ c_(i-1)) ^ p_(i-1).
# Name the AES outputs d_i = E(p_i ^ c_(i-1)), so that c_i = d_i ^ p_(i-1).  Then for i >= 2
#     p_i ^ c_(i-1) = (p_i ^ p_(i-2)) ^ d_(i-1),
# and for i = 1 the input is p_1 ^ c0.  That is exactly CBC (d_i = E(q_i ^ d_(i-1))) run with
# IV d_0 = c0 over the blocks q_i = p_i ^ p_(i-2), where p_(-1) = 0.  So encryption is one CBC
# call on P ^ (0 || p0 || p_1 .. p_(n-2)), followed by C = D ^ (p0 || p_1 .. p_(n-1)); both XORs
# are done on whole buffers as big integers.  Decryption, p_i = D(c_i ^ p_(i-1)) ^ c_(i-1),
# needs each plaintext block before it can start the next one, so it runs block by block.

def _fallback_encrypt(data: BytesLike, key: BytesLike, iv: BytesLike) -> bytes:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    n = len(data)
    plain = int.from_bytes(data, "big")
    with_p0 = int.from_bytes(b"".join((iv[16:32], data)), "big")  # p0 || p_1 .. p_n
    cbc_input = (plain ^ (with_p0 >> 256)).to_bytes(n, "big")
    encryptor = Cipher(algorithms.AES(bytes(key)), modes.CBC(bytes(iv[:16]))).encryptor()
    cbc_output = int.from_bytes(encryptor.update(cbc_input), "big")
    return (cbc_output ^ (with_p0 >> 128)).to_bytes(n, "big")


def _fallback_decrypt(data: BytesLike, key: BytesLike, iv: BytesLike) -> bytes:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    n = len(data)
    block_decrypt = Cipher(algorithms.AES(bytes(key)), modes.ECB()).decryptor().update
    from_bytes = int.from_bytes
    view = memoryview(data).cast("B")
    c_prev = from_bytes(iv[:16], "big")
    p_prev = from_bytes(iv[16:32], "big")
    out = []
    for offset in range(0, n, 16):
        c = from_bytes(view[offset:offset + 16], "big")
        p_prev = from_bytes(block_decrypt((c ^ p_prev).to_bytes(16, "big")), "big") ^ c_prev
        c_prev = c
        out.append(p_prev.to_bytes(16, "big"))
    return b"".join(out)


def _pick_backend() -> IgeBackend:
    return _load_cryptg() or _load_tgcrypto() or _cryptography_backend()


_CHOSEN = _pick_backend()

#: The IGE backend in use: ``"cryptg"``, ``"tgcrypto"`` or ``"cryptography"``.
BACKEND: str = _CHOSEN.name

#: ``ige256_encrypt(data, key, iv) -> bytes``: AES-256-IGE encryption; :class:`UsageError` unless
#: ``len(data)`` is a positive multiple of 16 and key and IV are 32 bytes each.
ige256_encrypt: IgeFunction = _CHOSEN.encrypt

#: ``ige256_decrypt(data, key, iv) -> bytes``: the inverse of :func:`ige256_encrypt`.
ige256_decrypt: IgeFunction = _CHOSEN.decrypt

#: The chosen backend's own functions without any check, for hot paths that have validated the
#: sizes already and pass ``bytes`` (``cryptg`` rejects other types, and pads or panics on bad
#: sizes instead of raising).
raw_ige256_encrypt: RawIgeFunction = _CHOSEN.raw_encrypt
raw_ige256_decrypt: RawIgeFunction = _CHOSEN.raw_decrypt


def available_backends() -> dict[str, IgeBackend]:
    """Every IGE backend importable here, the chosen one included, by name.

    For tests (all must agree) and for the benchmark (each is timed); the library itself only
    uses :data:`BACKEND`.
    """
    found = [_load_cryptg(), _load_tgcrypto(), _cryptography_backend()]
    return {backend.name: backend for backend in found if backend is not None}


class AesCtr:
    """A stateful AES-256-CTR stream (obfuscated2 keeps one per direction for the whole
    connection): ``update`` may be called with chunks of any size, and the keystream continues
    where the previous call stopped.

    ``cryptography``'s CTR is used (OpenSSL; it beats ``tgcrypto.ctr256_encrypt`` at every
    chunk size), imported on first construction so that importing this module stays cheap.
    """

    __slots__ = ("update",)

    #: ``update(data) -> bytes``: encrypt (or, identically, decrypt) the next bytes of the stream.
    update: Callable[[BytesLike], bytes]

    def __init__(self, key: BytesLike, iv: BytesLike) -> None:
        if len(key) != 32 or len(iv) != 16:
            raise UsageError(
                f"AES-256-CTR needs a 32-byte key and a 16-byte IV; got {len(key)} and {len(iv)}"
            )
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        self.update = Cipher(algorithms.AES(bytes(key)), modes.CTR(bytes(iv))).encryptor().update
