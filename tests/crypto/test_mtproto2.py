"""MTProto 2.0 message encryption, checked against the spec formulas written out here, against
Telethon and Pyrogram, and against tampering."""

from __future__ import annotations

import collections
import hashlib
import logging
import struct

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from sansio_mtdc.crypto import aes, mtproto2
from sansio_mtdc.crypto.mtproto2 import AuthKey, kdf1, kdf2, msg_key, msg_key_v1, padding_length
from sansio_mtdc.errors import SecurityError, UsageError

KEY = hashlib.sha512(b"key one").digest() * 4
OTHER_KEY = hashlib.sha512(b"key two").digest() * 4
auth_keys = st.binary(min_size=256, max_size=256)
directions = st.sampled_from([0, 8])


def substr(value: bytes, start: int, length: int) -> bytes:
    return value[start:start + length]


def spec_msg_key(auth_key: bytes, plaintext_and_padding: bytes, x: int) -> bytes:
    """msg_key_large = SHA256(substr(auth_key, 88+x, 32) + plaintext + random_padding);
    msg_key = substr(msg_key_large, 8, 16)."""
    msg_key_large = hashlib.sha256(substr(auth_key, 88 + x, 32) + plaintext_and_padding).digest()
    return substr(msg_key_large, 8, 16)


def spec_kdf2(auth_key: bytes, key_of_msg: bytes, x: int) -> tuple[bytes, bytes]:
    sha256_a = hashlib.sha256(key_of_msg + substr(auth_key, x, 36)).digest()
    sha256_b = hashlib.sha256(substr(auth_key, 40 + x, 36) + key_of_msg).digest()
    aes_key = substr(sha256_a, 0, 8) + substr(sha256_b, 8, 16) + substr(sha256_a, 24, 8)
    aes_iv = substr(sha256_b, 0, 8) + substr(sha256_a, 8, 16) + substr(sha256_b, 24, 8)
    return aes_key, aes_iv


def spec_kdf1(auth_key: bytes, key_of_msg: bytes, x: int) -> tuple[bytes, bytes]:
    sha1_a = hashlib.sha1(key_of_msg + substr(auth_key, x, 32)).digest()
    sha1_b = hashlib.sha1(substr(auth_key, 32 + x, 16) + key_of_msg
                          + substr(auth_key, 48 + x, 16)).digest()
    sha1_c = hashlib.sha1(substr(auth_key, 64 + x, 32) + key_of_msg).digest()
    sha1_d = hashlib.sha1(key_of_msg + substr(auth_key, 96 + x, 32)).digest()
    aes_key = substr(sha1_a, 0, 8) + substr(sha1_b, 8, 12) + substr(sha1_c, 4, 12)
    aes_iv = (substr(sha1_a, 8, 12) + substr(sha1_b, 0, 8) + substr(sha1_c, 16, 4)
              + substr(sha1_d, 0, 8))
    return aes_key, aes_iv


def plain_ige_decrypt(data: bytes, key: bytes, iv: bytes) -> bytes:
    block = Cipher(algorithms.AES(key), modes.ECB()).decryptor().update
    c_prev, p_prev, out = iv[:16], iv[16:], b""
    for i in range(0, len(data), 16):
        c = data[i:i + 16]
        p = bytes(a ^ b for a, b in zip(block(bytes(a ^ b for a, b in zip(c, p_prev))), c_prev))
        out += p
        c_prev, p_prev = c, p
    return out


def message(body: bytes, *, salt: int = 7, session_id: int = 11, msg_id: int = 0x6A4276A50009FE74,
            seq_no: int = 1) -> bytes:
    return struct.pack("<qqqii", salt, session_id, msg_id, seq_no, len(body)) + body


def pad_for(plaintext: bytes, extra: int = 0) -> bytes:
    return bytes(i & 0xFF for i in range(padding_length(len(plaintext), extra)))


# --- the formulas ------------------------------------------------------------------------------

@settings(max_examples=50, deadline=None)
@given(auth_key=auth_keys, data=st.binary(max_size=200), x=directions)
def test_msg_key_matches_the_spec_formula(auth_key: bytes, data: bytes, x: int) -> None:
    assert msg_key(auth_key, data, x) == spec_msg_key(auth_key, data, x)


@settings(max_examples=50, deadline=None)
@given(auth_key=auth_keys, key_of_msg=st.binary(min_size=16, max_size=16), x=directions)
def test_kdf2_matches_the_spec_formula_and_other_clients(auth_key: bytes, key_of_msg: bytes,
                                                         x: int) -> None:
    expected = spec_kdf2(auth_key, key_of_msg, x)
    assert kdf2(auth_key, key_of_msg, x) == expected
    from pyrogram.crypto.mtproto import kdf as pyrogram_kdf
    from telethon.network.mtprotostate import MTProtoState
    assert MTProtoState._calc_key(auth_key, key_of_msg, x == 0) == expected
    assert pyrogram_kdf(auth_key, key_of_msg, x == 0) == expected


@settings(max_examples=30, deadline=None)
@given(auth_key=auth_keys, key_of_msg=st.binary(min_size=16, max_size=16), x=directions)
def test_kdf1_matches_the_spec_formula(auth_key: bytes, key_of_msg: bytes, x: int) -> None:
    assert kdf1(auth_key, key_of_msg, x) == spec_kdf1(auth_key, key_of_msg, x)


def test_msg_key_v1_is_the_lower_128_bits_of_sha1() -> None:
    assert msg_key_v1(b"abc") == hashlib.sha1(b"abc").digest()[-16:]


@pytest.mark.parametrize("x", [-8, 1, 4, 16])
def test_x_must_be_0_or_8(x: int) -> None:
    key = AuthKey(KEY)
    plaintext = message(b"body")
    with pytest.raises(UsageError):
        key.encrypt(plaintext, pad_for(plaintext), x)
    with pytest.raises(UsageError):
        key.decrypt(bytes(64), x)
    for function in (msg_key, kdf2, kdf1):
        with pytest.raises(UsageError):
            function(KEY, bytes(16), x)


def test_auth_key_must_be_256_bytes() -> None:
    for size in (0, 255, 257):
        with pytest.raises(UsageError):
            AuthKey(bytes(size))
        with pytest.raises(UsageError):
            kdf2(bytes(size), bytes(16), 0)


def test_auth_key_attributes_agree_with_telethon() -> None:
    from telethon.crypto import AuthKey as TelethonAuthKey
    ours, theirs = AuthKey(KEY), TelethonAuthKey(KEY)
    assert int.from_bytes(ours.key_id, "little") == theirs.key_id
    assert int.from_bytes(ours.aux_hash, "little") == theirs.aux_hash
    assert ours.id == struct.unpack("<q", ours.key_id)[0]


def test_auth_key_repr_hides_the_key_and_equality_is_by_key() -> None:
    key = AuthKey(KEY)
    assert KEY.hex()[:16] not in repr(key)
    assert key == AuthKey(bytearray(KEY)) and key != AuthKey(OTHER_KEY)
    assert hash(key) == key.id


# --- padding -----------------------------------------------------------------------------------

@given(n=st.integers(min_value=0, max_value=1 << 20), extra=st.integers(min_value=0, max_value=62))
def test_padding_length(n: int, extra: int) -> None:
    padding = padding_length(n, extra)
    assert (n + padding) % 16 == 0
    assert 12 + 16 * extra <= padding < 28 + 16 * extra
    assert padding <= 1024


def test_padding_length_limits() -> None:
    assert padding_length(0) == 16 and padding_length(4) == 12 and padding_length(5) == 27
    assert padding_length(4, 63) == 1020
    assert padding_length(0, 63) == 1024  # 16 + 1008 is allowed ...
    with pytest.raises(UsageError):
        padding_length(5, 63)  # ... 27 + 1008 is not
    with pytest.raises(UsageError):
        padding_length(-1)
    with pytest.raises(UsageError):
        padding_length(0, -1)


@pytest.mark.parametrize("size", [0, 11, 13, 1025 + 12, 1040])
def test_encrypt_rejects_bad_padding(size: int) -> None:
    plaintext = message(b"abcd")  # 36 bytes: 12, 28, 44 ... would be right
    with pytest.raises(UsageError):
        AuthKey(KEY).encrypt(plaintext, bytes(size), 0)


# --- encryption --------------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(auth_key=auth_keys, body=st.binary(max_size=300), extra=st.integers(0, 10), x=directions)
def test_encrypt_is_the_spec_construction(auth_key: bytes, body: bytes, extra: int,
                                          x: int) -> None:
    plaintext = message(body)
    padding = pad_for(plaintext, extra)
    packet = AuthKey(auth_key).encrypt(plaintext, padding, x)
    key_of_msg = spec_msg_key(auth_key, plaintext + padding, x)
    assert packet[:8] == hashlib.sha1(auth_key).digest()[-8:]
    assert packet[8:24] == key_of_msg
    aes_key, aes_iv = spec_kdf2(auth_key, key_of_msg, x)
    assert plain_ige_decrypt(packet[24:], aes_key, aes_iv) == plaintext + padding


@settings(max_examples=40, deadline=None)
@given(body=st.binary(max_size=2000), extra=st.integers(0, 60), x=directions)
def test_round_trip_both_directions(body: bytes, extra: int, x: int) -> None:
    key = AuthKey(KEY)
    plaintext = message(body)
    padding = pad_for(plaintext, extra)
    assert key.decrypt(key.encrypt(plaintext, padding, x), x) == plaintext + padding
    assert key.decrypt(memoryview(key.encrypt(bytearray(plaintext), padding, x)), x) == (
        plaintext + padding)


@settings(max_examples=40, deadline=None)
@given(body=st.binary(max_size=600).map(lambda b: b[:len(b) & -4]), extra=st.integers(0, 62),
       x=directions)
def test_encrypt_padded_is_encrypt_of_the_joined_parts(body: bytes, extra: int, x: int) -> None:
    key = AuthKey(KEY)
    plaintext = message(body)
    padding = pad_for(plaintext, extra)
    packet = key.encrypt_padded(plaintext + padding, x)
    assert packet == key.encrypt(plaintext, padding, x)
    assert key.encrypt_padded(bytearray(plaintext + padding), x) == packet
    assert key.decrypt(packet, x) == plaintext + padding


@pytest.mark.parametrize("length_field, padding", [
    (4, 11), (4, 13), (4, 1036), (-4, 12), (100, 12), (0, 0),
])
def test_encrypt_padded_checks_the_padding_the_length_field_leaves(length_field: int,
                                                                   padding: int) -> None:
    data = message(b"abcd")[:28] + struct.pack("<i", length_field) + b"abcd" + bytes(padding)
    with pytest.raises(UsageError):
        AuthKey(KEY).encrypt_padded(data, 0)
    with pytest.raises(UsageError):
        AuthKey(KEY).encrypt_padded(bytes(32), 0)  # shorter than any message
    with pytest.raises(UsageError):
        AuthKey(KEY).encrypt_padded(message(b"abcd") + bytes(28), 3)  # x


def test_round_trip_of_a_large_message() -> None:
    key = AuthKey(KEY)
    plaintext = message(bytes(range(256)) * 512)  # 128 KiB body
    padding = pad_for(plaintext, 3)
    packet = key.encrypt(plaintext, padding, 8)
    assert key.decrypt(packet, 8) == plaintext + padding


def packet_and_key() -> tuple[AuthKey, bytes]:
    key = AuthKey(KEY)
    plaintext = message(b"a body of some length" * 3)
    return key, key.encrypt(plaintext, pad_for(plaintext, 1), 0)


def test_every_flipped_bit_after_the_key_id_fails_the_msg_key_check() -> None:
    key, packet = packet_and_key()
    for index in range(8, len(packet)):
        for bit in (1, 0x80):
            tampered = bytearray(packet)
            tampered[index] ^= bit
            with pytest.raises(SecurityError) as failure:
                key.decrypt(bytes(tampered), 0)
            assert failure.value.check == "msg_key"


def test_wrong_key_id() -> None:
    key, packet = packet_and_key()
    for index in range(8):
        tampered = bytearray(packet)
        tampered[index] ^= 1
        with pytest.raises(SecurityError) as failure:
            key.decrypt(tampered, 0)
        assert failure.value.check == "auth_key_id"
    with pytest.raises(SecurityError) as failure:
        AuthKey(OTHER_KEY).decrypt(packet, 0)
    assert failure.value.check == "auth_key_id"


def test_wrong_direction() -> None:
    key, packet = packet_and_key()
    with pytest.raises(SecurityError) as failure:
        key.decrypt(packet, 8)
    assert failure.value.check == "msg_key"


@pytest.mark.parametrize("cut", [-1, -15, -16, -17, 0])
def test_bad_length(cut: int) -> None:
    key, packet = packet_and_key()
    if cut == -16:  # still 24 + 16k: a valid length, the msg_key check catches it
        with pytest.raises(SecurityError) as failure:
            key.decrypt(packet[:cut], 0)
        assert failure.value.check == "msg_key"
        return
    for truncated in (packet[:cut] if cut else b"", packet[:39], packet[:24], packet + b"\0"):
        with pytest.raises(SecurityError) as failure:
            key.decrypt(truncated, 0)
        assert failure.value.check == "length"


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=200), with_key_id=st.booleans(), x=directions)
def test_decrypt_of_garbage_raises_only_security_error(data: bytes, with_key_id: bool,
                                                       x: int) -> None:
    key = AuthKey(KEY)
    packet = key.key_id + data if with_key_id else data
    with pytest.raises(SecurityError):
        key.decrypt(packet, x)


# --- against Telethon, end to end ---------------------------------------------------------------

def telethon_state(auth_key: bytes):  # type: ignore[no-untyped-def]
    from telethon.crypto import AuthKey as TelethonAuthKey
    from telethon.network.mtprotostate import MTProtoState
    loggers = collections.defaultdict(lambda: logging.getLogger("telethon-oracle"))
    state = MTProtoState(TelethonAuthKey(auth_key), loggers)
    state.salt = 0x1234
    return state


def test_telethon_decrypts_what_the_server_side_encrypts() -> None:
    state = telethon_state(KEY)
    # bad_server_salt is exempt from Telethon's clock check on msg_id
    body = struct.pack("<Iqiiq", 0xEDAB447B, 0x6A4276A50009FE74, 3, 48, 0x55AA)
    plaintext = message(body, salt=0x1234, session_id=state.id, msg_id=0x6A4276A50009FE75)
    packet = AuthKey(KEY).encrypt(plaintext, pad_for(plaintext, 2), 8)
    decrypted = state.decrypt_message_data(packet)
    assert decrypted.msg_id == 0x6A4276A50009FE75
    assert decrypted.obj.new_server_salt == 0x55AA


def test_we_decrypt_what_telethon_encrypts() -> None:
    state = telethon_state(KEY)
    inner = struct.pack("<qii", 0x6A4276A50009FE74, 1, 8) + b"\x01\x02\x03\x04\x05\x06\x07\x08"
    packet = state.encrypt_message_data(inner)
    plaintext = AuthKey(KEY).decrypt(packet, 0)
    salt, session_id = struct.unpack("<qq", plaintext[:16])
    assert (salt, session_id) == (0x1234, state.id)
    assert plaintext[16:16 + len(inner)] == inner


# --- MTProto 1.0 (bind_auth_key_inner) -----------------------------------------------------------

def bind_message() -> bytes:
    inner = struct.pack("<Iqqqqi", 0x75A3F765, 1, 2, 3, 4, 5)  # 40 bytes
    return bytes(range(16)) + struct.pack("<qii", 0x6A4276A50009FE74, 0, len(inner)) + inner


def test_encrypt_v1_is_the_spec_construction() -> None:
    plaintext = bind_message()  # 72 bytes: 8 of padding
    padding = bytes(-len(plaintext) % 16)
    packet = AuthKey(KEY).encrypt_v1(plaintext, padding)
    key_of_msg = hashlib.sha1(plaintext).digest()[4:20]
    assert packet[:24] == AuthKey(KEY).key_id + key_of_msg
    aes_key, aes_iv = spec_kdf1(KEY, key_of_msg, 0)
    assert plain_ige_decrypt(packet[24:], aes_key, aes_iv) == plaintext + padding


def test_v1_round_trip_and_tampering() -> None:
    key = AuthKey(KEY)
    plaintext = bind_message()
    packet = key.encrypt_v1(plaintext, b"\xaa" * (-len(plaintext) % 16))
    assert key.decrypt_v1(packet) == plaintext
    for index in (8, 30, len(packet) - 1):
        tampered = bytearray(packet)
        tampered[index] ^= 4
        with pytest.raises(SecurityError) as failure:
            key.decrypt_v1(tampered)
        assert failure.value.check == "msg_key"
    with pytest.raises(SecurityError) as failure:
        key.decrypt_v1(packet[:-1])
    assert failure.value.check == "length"
    with pytest.raises(SecurityError) as failure:
        AuthKey(OTHER_KEY).decrypt_v1(packet)
    assert failure.value.check == "auth_key_id"


def test_v1_length_field_outside_the_last_block_is_rejected() -> None:
    key = AuthKey(KEY)
    plaintext = bytearray(bind_message())
    plaintext[28:32] = struct.pack("<i", 100)  # claims more than there is
    packet = key.encrypt_v1(bytes(plaintext), bytes(8))
    with pytest.raises(SecurityError):
        key.decrypt_v1(packet)


@pytest.mark.parametrize("padding", [16, 20])
def test_v1_padding_is_at_most_15(padding: int) -> None:
    with pytest.raises(UsageError):
        AuthKey(KEY).encrypt_v1(bytes(32 - padding % 16), bytes(padding))


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=120))
def test_decrypt_v1_of_garbage_raises_only_security_error(data: bytes) -> None:
    key = AuthKey(KEY)
    with pytest.raises(SecurityError):
        key.decrypt_v1(key.key_id + data)


def test_the_hot_path_uses_the_chosen_backend() -> None:
    assert mtproto2.raw_ige256_encrypt is aes.raw_ige256_encrypt
