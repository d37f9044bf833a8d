"""The auth.bindTempAuthKey binding message, checked against MTProto 1.0 written out here."""

from __future__ import annotations

import hashlib
import struct
from typing import Any

import pytest
import tgcrypto

from sansio_mtdc.crypto.mtproto2 import AuthKey
from sansio_mtdc.errors import SecurityError, UsageError
from sansio_mtdc.handshake import bind_temp_auth_key_message, open_temp_key_binding
from sansio_mtdc.tl import api

from .peers import SeededRandom

PERM = AuthKey(hashlib.sha512(b"perm").digest() * 4)
TEMP = AuthKey(hashlib.sha512(b"temp").digest() * 4)
MSG_ID = (1_782_740_645 << 32) + 0x1234_5678 * 4 % (1 << 32)
EXPIRES_AT = 1_782_744_245
SESSION_ID = -0x0123_4567_89AB_CDEF


def sha1(data: bytes) -> bytes:
    return hashlib.sha1(data).digest()


def decrypt_v1(auth_key: bytes, message: bytes) -> bytes:
    """MTProto 1.0 decryption (description_v1.txt), x = 0."""
    msg_key, data = message[8:24], message[24:]
    a = sha1(msg_key + auth_key[0:32])
    b = sha1(auth_key[32:48] + msg_key + auth_key[48:64])
    c = sha1(auth_key[64:96] + msg_key)
    d = sha1(msg_key + auth_key[96:128])
    key = a[:8] + b[8:20] + c[4:16]
    iv = a[8:20] + b[:8] + c[16:20] + d[:8]
    return bytes(tgcrypto.ige256_decrypt(data, key, iv))


def make(**kwargs: Any) -> Any:
    args: dict[str, Any] = dict(perm_key=PERM, temp_key=TEMP, temp_session_id=SESSION_ID,
                                expires_at=EXPIRES_AT, msg_id=MSG_ID,
                                random=SeededRandom("bind"))
    args.update(kwargs)
    return bind_temp_auth_key_message(**args)


def test_layout_and_encryption() -> None:
    binding = make()
    message = binding.encrypted_message
    assert message[:8] == PERM.key_id
    plain = decrypt_v1(PERM.key, message)
    assert len(message) == 24 + 80 and len(plain) == 80
    _random16, msg_id, seqno, length = struct.unpack_from("<16sqii", plain)
    assert (msg_id, seqno, length) == (MSG_ID, 0, 40)
    body = plain[32:72]
    assert message[8:24] == sha1(plain[:72])[4:20]  # msg_key covers the unpadded plaintext
    constructor, nonce, temp_id, perm_id, session, expires = struct.unpack("<Iqqqqi", body)
    assert constructor == 0x75A3F765
    assert (nonce, temp_id, perm_id, session, expires) == (
        binding.nonce, TEMP.id, PERM.id, SESSION_ID, EXPIRES_AT)
    assert binding.perm_auth_key_id == PERM.id and binding.expires_at == EXPIRES_AT


def test_random_parts_come_from_random() -> None:
    one, two = make(), make()
    assert one == two
    three = make(random=SeededRandom("other"))
    assert three.nonce != one.nonce and three.encrypted_message != one.encrypted_message


def test_request() -> None:
    binding = make()
    request = binding.request()
    assert isinstance(request, api.functions.auth.BindTempAuthKey)
    assert request.perm_auth_key_id == PERM.id and request.nonce == binding.nonce
    assert request.expires_at == EXPIRES_AT
    assert request.encrypted_message == binding.encrypted_message
    assert bytes(request)[:4] == bytes.fromhex("052ad4cd")


def test_server_side_opens_it() -> None:
    binding = make()
    inner = open_temp_key_binding(PERM, binding.encrypted_message, msg_id=MSG_ID)
    assert (inner.nonce, inner.temp_auth_key_id, inner.perm_auth_key_id,
            inner.temp_session_id, inner.expires_at) == (
        binding.nonce, TEMP.id, PERM.id, SESSION_ID, EXPIRES_AT)


def test_server_side_refusals() -> None:
    message = make().encrypted_message
    with pytest.raises(SecurityError) as caught:
        open_temp_key_binding(PERM, message, msg_id=MSG_ID + 4)
    assert caught.value.check == "msg_id"
    with pytest.raises(SecurityError) as caught:
        open_temp_key_binding(TEMP, message, msg_id=MSG_ID)
    assert caught.value.check == "auth_key_id"
    flipped = message[:-1] + bytes([message[-1] ^ 1])
    with pytest.raises(SecurityError) as caught:
        open_temp_key_binding(PERM, flipped, msg_id=MSG_ID)
    assert caught.value.check == "msg_key"
    with pytest.raises(SecurityError) as caught:
        open_temp_key_binding(PERM, message[:-16], msg_id=MSG_ID)
    assert caught.value.check in ("length", "msg_key")


def test_a_well_encrypted_message_that_is_not_a_binding() -> None:
    plaintext = struct.pack("<16sqii", bytes(16), MSG_ID, 1, 40) + bytes(40)
    message = PERM.encrypt_v1(plaintext, bytes(8))
    with pytest.raises(SecurityError) as caught:
        open_temp_key_binding(PERM, message, msg_id=MSG_ID)
    assert caught.value.check == "binding"


@pytest.mark.parametrize("kwargs", [
    {"perm_key": b"key"}, {"msg_id": 6}, {"msg_id": 0}, {"msg_id": 1 << 63},
    {"expires_at": 0}, {"expires_at": 1 << 31}, {"temp_session_id": 1 << 64},
    {"temp_session_id": True},
])
def test_misuse(kwargs: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        make(**kwargs)
