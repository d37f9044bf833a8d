"""MTProto 2.0 message encryption (the per-message hot path), and the MTProto 1.0 key derivation
that auth.bindTempAuthKey still needs.

An encrypted message is ``auth_key_id (8) | msg_key (16) | AES-256-IGE(plaintext | padding)``:

* ``msg_key = SHA256(auth_key[88+x : 120+x] + plaintext + padding)[8:24]``
* ``sha256_a = SHA256(msg_key + auth_key[x : x+36])``
* ``sha256_b = SHA256(auth_key[40+x : 76+x] + msg_key)``
* ``aes_key = a[0:8] + b[8:24] + a[24:32]`` and ``aes_iv = b[0:8] + a[8:24] + b[24:32]``

with ``x = 0`` for client-to-server messages and ``x = 8`` for server-to-client ones.
:class:`AuthKey` slices the key once and keeps SHA-256 states already fed with the msg_key
prefix and with the key bytes that ``sha256_b`` starts with, so that a message costs three hash
updates and one IGE call.  :meth:`AuthKey.encrypt_padded` takes a plaintext already joined with
its padding, for callers that build it in one piece.
"""

from __future__ import annotations

from hashlib import sha1 as _sha1
from hashlib import sha256 as _sha256
from hmac import compare_digest as _ct_equal
from struct import Struct
from typing import TYPE_CHECKING

from ..errors import SecurityError, UsageError
from .aes import raw_ige256_decrypt, raw_ige256_encrypt
from .inputs import BytesLike

if TYPE_CHECKING:
    from hashlib import _Hash

__all__ = [
    "CLIENT_TO_SERVER",
    "MAX_PADDING",
    "MIN_PADDING",
    "SERVER_TO_CLIENT",
    "AuthKey",
    "kdf1",
    "kdf2",
    "msg_key",
    "msg_key_v1",
    "padding_length",
]

#: ``x`` for messages the client sends.
CLIENT_TO_SERVER = 0
#: ``x`` for messages the server sends.
SERVER_TO_CLIENT = 8
#: MTProto 2.0 padding bounds (bytes).
MIN_PADDING = 12
MAX_PADDING = 1024

_AUTH_KEY_SIZE = 256
_HEADER_SIZE = 24  # auth_key_id + msg_key
#: the smallest padded plaintext: a 32-byte header, an empty body and 12 bytes of padding
_MIN_PADDED = 48
#: a SHA-256 digest cut where the KDF takes it apart (8, 16 and 8 bytes), in one call
_SPLIT = Struct("8s16s8s").unpack
_LENGTH_FIELD = Struct("<i").unpack_from


def _check_x(x: int) -> None:
    if x != 0 and x != 8:
        raise UsageError(f"x must be 0 (client to server) or 8 (server to client), not {x!r}")


def _check_auth_key(auth_key: BytesLike) -> None:
    if len(auth_key) != _AUTH_KEY_SIZE:
        raise UsageError(f"an auth key is {_AUTH_KEY_SIZE} bytes, not {len(auth_key)}")


def padding_length(n: int, extra_blocks: int = 0) -> int:
    """How many random padding bytes an ``n``-byte plaintext needs: the fewest that are at least
    12 and make the total a multiple of 16, plus ``extra_blocks`` more 16-byte blocks (longer,
    random-length padding hides the message length; the total stays within 1024)."""
    if n < 0 or extra_blocks < 0:
        raise UsageError(f"negative length or extra blocks: {n}, {extra_blocks}")
    padding = MIN_PADDING + (-(n + MIN_PADDING) & 15) + 16 * extra_blocks
    if padding > MAX_PADDING:
        raise UsageError(f"{extra_blocks} extra blocks make {padding} bytes of padding; "
                         f"at most {MAX_PADDING} are allowed")
    return padding


def msg_key(auth_key: BytesLike, padded_plaintext: BytesLike, x: int) -> bytes:
    """MTProto 2.0 msg_key: the middle 128 bits of SHA-256 over 32 bytes of the key and the
    padded plaintext."""
    _check_auth_key(auth_key)
    _check_x(x)
    digest = _sha256(auth_key[88 + x:120 + x])
    digest.update(padded_plaintext)
    return digest.digest()[8:24]


def kdf2(auth_key: BytesLike, msg_key: BytesLike, x: int) -> tuple[bytes, bytes]:
    """MTProto 2.0 ``(aes_key, aes_iv)`` for one message."""
    _check_auth_key(auth_key)
    _check_x(x)
    if len(msg_key) != 16:
        raise UsageError(f"msg_key is 16 bytes, not {len(msg_key)}")
    return _kdf2(bytes(msg_key), bytes(auth_key[x:x + 36]), bytes(auth_key[40 + x:76 + x]))


def _kdf2(msg_key: bytes, slice_a: bytes, slice_b: bytes) -> tuple[bytes, bytes]:
    a0, a1, a2 = _SPLIT(_sha256(msg_key + slice_a).digest())
    b0, b1, b2 = _SPLIT(_sha256(slice_b + msg_key).digest())
    return a0 + b1 + a2, b0 + a1 + b2


def msg_key_v1(plaintext: BytesLike) -> bytes:
    """MTProto 1.0 msg_key: the lower 128 bits of SHA-1 of the plaintext *without* padding."""
    return _sha1(plaintext).digest()[4:20]


def kdf1(auth_key: BytesLike, msg_key: BytesLike, x: int) -> tuple[bytes, bytes]:
    """MTProto 1.0 ``(aes_key, aes_iv)``; today only used to encrypt ``bind_auth_key_inner``."""
    _check_auth_key(auth_key)
    _check_x(x)
    if len(msg_key) != 16:
        raise UsageError(f"msg_key is 16 bytes, not {len(msg_key)}")
    key, mk = bytes(auth_key), bytes(msg_key)
    a = _sha1(mk + key[x:x + 32]).digest()
    b = _sha1(key[32 + x:48 + x] + mk + key[48 + x:64 + x]).digest()
    c = _sha1(key[64 + x:96 + x] + mk).digest()
    d = _sha1(mk + key[96 + x:128 + x]).digest()
    return a[:8] + b[8:20] + c[4:16], a[8:20] + b[:8] + c[16:20] + d[:8]


class _Direction:
    """The parts of the key one direction (one value of x) uses, sliced once: the msg_key state
    already fed with its 32 key bytes, ``slice_a`` (hashed after msg_key) and a state already
    fed with ``slice_b`` (hashed before it)."""

    __slots__ = ("b_state", "msg_key_state", "slice_a")

    def __init__(self, key: bytes, x: int) -> None:
        self.msg_key_state: _Hash = _sha256(key[88 + x:120 + x])  # copied, never updated
        self.slice_a = key[x:x + 36]
        self.b_state: _Hash = _sha256(key[40 + x:76 + x])  # copied, never updated


class AuthKey:
    """A 2048-bit authorization key, ready for MTProto 2.0.

    ``key_id`` is the 8 bytes that start every message encrypted with it (the lower 64 bits of
    SHA1(key)), ``id`` the same as a signed little-endian int64 (how TL carries it),
    ``aux_hash`` the higher 64 bits of SHA1(key) (the handshake's new_nonce_hash input).
    """

    __slots__ = ("_from_client", "_from_server", "aux_hash", "id", "key", "key_id")

    def __init__(self, key: BytesLike) -> None:
        _check_auth_key(key)
        key = bytes(key)
        digest = _sha1(key).digest()
        self.key: bytes = key
        self.key_id: bytes = digest[12:20]
        self.id: int = int.from_bytes(self.key_id, "little", signed=True)
        self.aux_hash: bytes = digest[:8]
        self._from_client = _Direction(key, CLIENT_TO_SERVER)
        self._from_server = _Direction(key, SERVER_TO_CLIENT)

    def __repr__(self) -> str:
        return f"AuthKey(id={self.id})"  # never the key itself

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AuthKey) and _ct_equal(self.key, other.key)

    def __hash__(self) -> int:
        return self.id

    def _direction(self, x: int) -> _Direction:
        if x == 0:
            return self._from_client
        if x == 8:
            return self._from_server
        _check_x(x)
        raise AssertionError("unreachable")

    def encrypt(self, plaintext: BytesLike, padding: BytesLike, x: int) -> bytes:
        """``key_id | msg_key | ciphertext`` for ``plaintext`` (salt, session_id, msg_id, seq_no,
        length and body, unpadded) and ``padding`` (random bytes, as many as
        :func:`padding_length` says)."""
        if plaintext.__class__ is not bytes:
            plaintext = bytes(plaintext)
        if padding.__class__ is not bytes:
            padding = bytes(padding)
        size = len(padding)
        if (len(plaintext) + size) & 15 or not MIN_PADDING <= size <= MAX_PADDING:
            raise UsageError(
                f"padding of {size} bytes for {len(plaintext)} bytes of plaintext: it must "
                f"be {MIN_PADDING}..{MAX_PADDING} bytes and make the total a multiple of 16"
            )
        direction = self._from_client if x == 0 else self._direction(x)
        data = plaintext + padding
        # the rest is _seal, inlined: one call less on the per-message path
        state = direction.msg_key_state.copy()
        state.update(data)
        key_of_msg = state.digest()[8:24]
        a0, a1, a2 = _SPLIT(_sha256(key_of_msg + direction.slice_a).digest())
        state = direction.b_state.copy()
        state.update(key_of_msg)
        b0, b1, b2 = _SPLIT(state.digest())
        return self.key_id + key_of_msg + raw_ige256_encrypt(data, a0 + b1 + a2, b0 + a1 + b2)

    def encrypt_padded(self, data: BytesLike, x: int) -> bytes:
        """:meth:`encrypt` for a plaintext that already ends with its padding: what a caller
        that builds ``header | body | padding`` in one join (one copy of the body) hands over.
        The length field (bytes 28..32) says where the padding starts; it is checked like
        :meth:`encrypt` checks its ``padding``."""
        if data.__class__ is not bytes:
            data = bytes(data)
        size = len(data)
        if size & 15 or size < _MIN_PADDED:
            raise UsageError(f"a padded plaintext of {size} bytes: it must be at least "
                             f"{_MIN_PADDED} bytes and a multiple of 16")
        length = _LENGTH_FIELD(data, 28)[0]
        if length < 0 or not MIN_PADDING <= size - 32 - length <= MAX_PADDING:
            raise UsageError(f"a length field of {length} leaves {size - 32 - length} bytes of "
                             f"padding in {size}; it must be {MIN_PADDING}..{MAX_PADDING}")
        direction = self._from_client if x == 0 else self._direction(x)
        state = direction.msg_key_state.copy()
        state.update(data)
        key_of_msg = state.digest()[8:24]
        a0, a1, a2 = _SPLIT(_sha256(key_of_msg + direction.slice_a).digest())
        state = direction.b_state.copy()
        state.update(key_of_msg)
        b0, b1, b2 = _SPLIT(state.digest())
        return self.key_id + key_of_msg + raw_ige256_encrypt(data, a0 + b1 + a2, b0 + a1 + b2)

    def decrypt(self, packet: BytesLike, x: int) -> bytes:
        """The padded plaintext of an encrypted message, after checking its length, auth_key_id
        and msg_key (recomputed, compared in constant time).

        Raises :class:`SecurityError` with ``check`` ``"length"``, ``"auth_key_id"`` or
        ``"msg_key"``.  The inner length field and the padding bounds are the session's to check.
        """
        direction = self._from_server if x == 8 else self._direction(x)
        size = len(packet)
        if size < _HEADER_SIZE + 16 or (size - _HEADER_SIZE) & 15:
            raise SecurityError(
                f"an encrypted message of {size} bytes: it must be 24 + a positive multiple of 16",
                check="length",
            )
        if packet.__class__ is not bytes:
            packet = bytes(packet)
        if not packet.startswith(self.key_id):
            raise SecurityError("the message is encrypted with another auth key",
                                check="auth_key_id")
        key_of_msg = packet[8:24]
        a0, a1, a2 = _SPLIT(_sha256(key_of_msg + direction.slice_a).digest())  # the KDF, inlined
        state = direction.b_state.copy()
        state.update(key_of_msg)
        b0, b1, b2 = _SPLIT(state.digest())
        plaintext = raw_ige256_decrypt(packet[24:], a0 + b1 + a2, b0 + a1 + b2)
        state = direction.msg_key_state.copy()
        state.update(plaintext)
        if not _ct_equal(state.digest()[8:24], key_of_msg):
            raise SecurityError("msg_key does not match the decrypted message", check="msg_key")
        return plaintext

    def encrypt_v1(self, plaintext: BytesLike, padding: BytesLike, x: int = CLIENT_TO_SERVER
                   ) -> bytes:
        """MTProto 1.0 encryption, as ``auth.bindTempAuthKey`` wants ``bind_auth_key_inner``:
        msg_key covers ``plaintext`` only, ``padding`` (0..15 random bytes) fills the last
        block."""
        _check_x(x)
        data = bytes(plaintext) + bytes(padding)
        if len(data) & 15 or len(padding) > 15 or not data:
            raise UsageError(f"MTProto 1.0 padding is 0..15 bytes up to a multiple of 16; got "
                             f"{len(padding)} for {len(plaintext)} bytes")
        key_of_msg = msg_key_v1(plaintext)
        aes_key, aes_iv = kdf1(self.key, key_of_msg, x)
        return self.key_id + key_of_msg + raw_ige256_encrypt(data, aes_key, aes_iv)

    def decrypt_v1(self, packet: BytesLike, x: int = CLIENT_TO_SERVER) -> bytes:
        """The inverse of :meth:`encrypt_v1` for an MTProto message (``random or salt/session (16)
        | msg_id (8) | seqno (4) | length (4) | body``): the length field says where the padding
        starts, and msg_key is checked over everything before it.  Returns the plaintext without
        the padding.  Raises :class:`SecurityError` (``"length"`` for the outer size,
        ``"auth_key_id"``, ``"msg_key"``); a length field that points outside the last block is
        reported as ``"msg_key"``, as the security guidelines ask for errors found before that
        check."""
        _check_x(x)
        size = len(packet)
        if size < _HEADER_SIZE + 32 or (size - _HEADER_SIZE) & 15:
            raise SecurityError(f"an MTProto 1.0 message of {size} bytes", check="length")
        packet = bytes(packet)
        if packet[:8] != self.key_id:
            raise SecurityError("the message is encrypted with another auth key",
                                check="auth_key_id")
        key_of_msg = packet[8:24]
        aes_key, aes_iv = kdf1(self.key, key_of_msg, x)
        data = raw_ige256_decrypt(packet[24:], aes_key, aes_iv)
        end = 32 + int.from_bytes(data[28:32], "little")
        bad_length = not len(data) - 16 < end <= len(data)
        # The msg_key check runs whatever the length says, so both failures look alike in time.
        expected = msg_key_v1(data[:min(end, len(data))])
        if not _ct_equal(expected, key_of_msg) or bad_length:
            raise SecurityError("msg_key does not match the decrypted message", check="msg_key")
        return data[:end]
