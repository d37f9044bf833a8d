"""The binding message of ``auth.bindTempAuthKey`` (``method_auth.bindTempAuthKey.txt``): it ties
a temporary key to the permanent one, for perfect forward secrecy (``api_pfs.txt``).

``bind_auth_key_inner`` is encrypted with MTProto 1.0 under the *permanent* key, behind
``random:int128 | msg_id | seqno = 0 | msg_len = 40``, where ``msg_id`` is the id of the
auth.bindTempAuthKey request that will carry it (sent under the temporary key and
``temp_session_id``).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..crypto.mtproto2 import CLIENT_TO_SERVER, AuthKey
from ..errors import SecurityError, TLDecodeError, UsageError
from ..tl import api, mtproto, read_object
from .sealed import draw

__all__ = ["TempKeyBinding", "bind_temp_auth_key_message", "open_temp_key_binding"]

_HEADER = struct.Struct("<16sqii")
_INNER_SIZE = 40
_LONG_MIN, _LONG_MAX = -(1 << 63), (1 << 63) - 1


@dataclass(frozen=True, slots=True)
class TempKeyBinding:
    """The parameters of auth.bindTempAuthKey; :meth:`request` makes the request itself."""

    perm_auth_key_id: int
    nonce: int
    expires_at: int
    encrypted_message: bytes

    def request(self) -> Any:
        """``auth.bindTempAuthKey``, to send under the temporary key, as the msg_id the message
        was made for."""
        return api.functions.auth.BindTempAuthKey(
            perm_auth_key_id=self.perm_auth_key_id, nonce=self.nonce,
            expires_at=self.expires_at, encrypted_message=self.encrypted_message)


def _check_long(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) \
            or not _LONG_MIN <= value <= _LONG_MAX:
        raise UsageError(f"{name} must be an int64, not {value!r}")


def bind_temp_auth_key_message(*, perm_key: AuthKey, temp_key: AuthKey, temp_session_id: int,
                               expires_at: int, msg_id: int,
                               random: Callable[[int], bytes]) -> TempKeyBinding:
    """Build the encrypted binding of ``temp_key`` to ``perm_key``.

    ``expires_at`` is the Unix time the temporary key lapses (the handshake's
    :attr:`HandshakeResult.expires_at`), ``msg_id`` the id the request will be sent with,
    ``random`` gives the nonce, the 16 random leading bytes and the padding.
    """
    if not isinstance(perm_key, AuthKey) or not isinstance(temp_key, AuthKey):
        raise UsageError("perm_key and temp_key must be AuthKey objects")
    _check_long("temp_session_id", temp_session_id)
    _check_long("msg_id", msg_id)
    if isinstance(expires_at, bool) or not isinstance(expires_at, int) \
            or not 0 < expires_at < 1 << 31:
        raise UsageError(f"expires_at must be a positive int32 Unix time, not {expires_at!r}")
    if msg_id & 3 or msg_id <= 0:
        raise UsageError(f"a client msg_id is a positive multiple of 4, not {msg_id}")
    nonce = int.from_bytes(draw(random, 8), "little", signed=True)
    inner = bytes(mtproto.types.BindAuthKeyInner(
        nonce=nonce, temp_auth_key_id=temp_key.id, perm_auth_key_id=perm_key.id,
        temp_session_id=temp_session_id, expires_at=expires_at))
    plaintext = _HEADER.pack(draw(random, 16), msg_id, 0, len(inner)) + inner
    padding = draw(random, -len(plaintext) & 15)
    encrypted = perm_key.encrypt_v1(plaintext, padding, CLIENT_TO_SERVER)
    return TempKeyBinding(perm_auth_key_id=perm_key.id, nonce=nonce, expires_at=expires_at,
                          encrypted_message=encrypted)


def open_temp_key_binding(perm_key: AuthKey, encrypted_message: bytes, *, msg_id: int) -> Any:
    """The server's side: decrypt and check a binding message, returning its
    ``bind_auth_key_inner``.  The caller still compares its nonce, temp_auth_key_id,
    temp_session_id and expires_at with the request that carried it.

    Raises :class:`SecurityError`: ``check`` ``"length"``, ``"auth_key_id"`` or ``"msg_key"``
    (from MTProto 1.0 decryption), ``"msg_id"`` when it was made for another message,
    ``"binding"`` for a wrong seqno, length or constructor.
    """
    plain = perm_key.decrypt_v1(encrypted_message, CLIENT_TO_SERVER)
    _, inner_msg_id, seqno, length = _HEADER.unpack_from(plain)
    if inner_msg_id != msg_id:
        raise SecurityError(f"the binding was made for msg_id {inner_msg_id}, not {msg_id}",
                            check="msg_id")
    body = plain[_HEADER.size:]
    binding_id = mtproto.types.BindAuthKeyInner.CONSTRUCTOR_ID
    if seqno != 0 or length != _INNER_SIZE or len(body) != _INNER_SIZE \
            or int.from_bytes(body[:4], "little") != binding_id:
        raise SecurityError("the binding message is not one bind_auth_key_inner with seqno 0",
                            check="binding")
    try:
        inner, _ = read_object(body)
    except TLDecodeError:  # pragma: no cover - fixed-size fields of a checked constructor
        raise SecurityError("bind_auth_key_inner does not decode", check="binding") from None
    return inner
