"""AES-256-IGE backends and the AES-256-CTR stream."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from sansio_mtdc.crypto import aes
from sansio_mtdc.errors import UsageError

BACKENDS = aes.available_backends()
NAMES = sorted(BACKENDS)

blocks = st.integers(min_value=1, max_value=48).flatmap(
    lambda n: st.binary(min_size=16 * n, max_size=16 * n))
keys = st.binary(min_size=32, max_size=32)


def reference_ige_encrypt(data: bytes, key: bytes, iv: bytes) -> bytes:
    """IGE written out block by block, c_i = E(p_i ^ c_(i-1)) ^ p_(i-1), iv = c_0 || p_0."""
    block = Cipher(algorithms.AES(key), modes.ECB()).encryptor().update
    c_prev, p_prev, out = iv[:16], iv[16:], b""
    for i in range(0, len(data), 16):
        p = data[i:i + 16]
        c = bytes(a ^ b for a, b in zip(block(bytes(a ^ b for a, b in zip(p, c_prev))), p_prev))
        out += c
        c_prev, p_prev = c, p
    return out


def test_the_expected_backends_are_found() -> None:
    assert "cryptography" in BACKENDS  # the fallback is always there
    assert aes.BACKEND in BACKENDS
    chosen = BACKENDS[aes.BACKEND]
    assert chosen.raw_encrypt is aes.raw_ige256_encrypt


def test_backend_preference_order() -> None:
    expected = next(n for n in ("cryptg", "tgcrypto", "cryptography") if n in BACKENDS)
    assert expected == aes.BACKEND


@pytest.mark.parametrize("name", NAMES)
def test_one_block_with_zero_iv_is_plain_aes(name: str) -> None:
    """FIPS-197 appendix C.3 (AES-256): with a zero IV, one IGE block is one AES block."""
    key = bytes(range(32))
    plain = bytes.fromhex("00112233445566778899aabbccddeeff")
    cipher = bytes.fromhex("8ea2b7ca516745bfeafc49904b496089")
    assert BACKENDS[name].encrypt(plain, key, bytes(32)) == cipher
    assert BACKENDS[name].decrypt(cipher, key, bytes(32)) == plain


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40, deadline=None)
@given(data=blocks, key=keys, iv=keys)
def test_backends_agree_with_a_block_by_block_reference(name: str, data: bytes, key: bytes,
                                                        iv: bytes) -> None:
    backend = BACKENDS[name]
    encrypted = backend.encrypt(data, key, iv)
    assert encrypted == reference_ige_encrypt(data, key, iv)
    assert backend.decrypt(encrypted, key, iv) == data


@settings(max_examples=60, deadline=None)
@given(data=blocks, key=keys, iv=keys)
def test_all_backends_agree_both_ways(data: bytes, key: bytes, iv: bytes) -> None:
    encrypted = {name: b.encrypt(data, key, iv) for name, b in BACKENDS.items()}
    assert len(set(encrypted.values())) == 1
    decrypted = {name: b.decrypt(data, key, iv) for name, b in BACKENDS.items()}
    assert len(set(decrypted.values())) == 1
    assert aes.ige256_encrypt(data, key, iv) == encrypted["cryptography"]
    assert aes.ige256_decrypt(data, key, iv) == decrypted["cryptography"]


@pytest.mark.parametrize("name", NAMES)
def test_large_buffer_round_trip(name: str) -> None:
    data = bytes(range(256)) * 256  # 64 KiB
    key, iv = bytes(range(32)), bytes(range(32, 64))
    backend = BACKENDS[name]
    encrypted = backend.encrypt(data, key, iv)
    assert encrypted == BACKENDS["cryptography"].encrypt(data, key, iv)
    assert backend.decrypt(encrypted, key, iv) == data


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("wrap", [bytearray, memoryview])
def test_every_buffer_type_is_accepted(name: str, wrap: type) -> None:
    data, key, iv = bytes(range(48)), bytes(range(32)), bytes(range(7, 39))
    backend = BACKENDS[name]
    expected = backend.encrypt(data, key, iv)
    assert backend.encrypt(wrap(data), wrap(key), wrap(iv)) == expected
    assert backend.decrypt(wrap(expected), wrap(key), wrap(iv)) == data


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("sizes", [(0, 32, 32), (15, 32, 32), (17, 32, 32), (16, 31, 32),
                                   (16, 33, 32), (16, 32, 16), (16, 32, 33)])
def test_bad_sizes_are_usage_errors(name: str, sizes: tuple[int, int, int]) -> None:
    data, key, iv = (bytes(n) for n in sizes)
    backend = BACKENDS[name]
    with pytest.raises(UsageError):
        backend.encrypt(data, key, iv)
    with pytest.raises(UsageError):
        backend.decrypt(data, key, iv)


# --- CTR -------------------------------------------------------------------------------------

def test_ctr_known_answer() -> None:
    """NIST SP 800-38A, F.5.5 CTR-AES256.Encrypt."""
    key = bytes.fromhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4")
    counter = bytes.fromhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")
    plain = bytes.fromhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
                          "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710")
    cipher = bytes.fromhex("601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"
                           "2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6")
    stream = aes.AesCtr(key, counter)
    assert stream.update(plain[:5]) + stream.update(plain[5:40]) + stream.update(plain[40:]) == (
        cipher)


@settings(max_examples=60, deadline=None)
@given(key=keys, iv=st.binary(min_size=16, max_size=16),
       chunks=st.lists(st.binary(max_size=100), max_size=12))
def test_ctr_continues_across_chunks(key: bytes, iv: bytes, chunks: list[bytes]) -> None:
    stream = aes.AesCtr(key, iv)
    out = b"".join(stream.update(chunk) for chunk in chunks)
    whole = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor().update(b"".join(chunks))
    assert out == whole


@settings(max_examples=30, deadline=None)
@given(key=keys, iv=st.binary(min_size=16, max_size=16),
       chunks=st.lists(st.binary(min_size=1, max_size=100), min_size=1, max_size=8))
def test_ctr_agrees_with_tgcrypto_state_carrying_stream(key: bytes, iv: bytes,
                                                        chunks: list[bytes]) -> None:
    tgcrypto = pytest.importorskip("tgcrypto")
    ours = aes.AesCtr(key, iv)
    counter, state = bytearray(iv), bytearray(1)
    for chunk in chunks:
        assert ours.update(chunk) == tgcrypto.ctr256_encrypt(chunk, key, counter, state)


def test_ctr_decrypts_what_it_encrypts() -> None:
    key, iv = bytes(range(32)), bytes(range(16))
    message = b"obfuscated2 keeps one stream per direction" * 3
    encrypted = aes.AesCtr(key, iv).update(message)
    decrypter = aes.AesCtr(key, iv)
    assert decrypter.update(encrypted[:7]) + decrypter.update(encrypted[7:]) == message


@pytest.mark.parametrize(("key_size", "iv_size"), [(31, 16), (32, 15), (16, 16), (32, 32)])
def test_ctr_bad_sizes(key_size: int, iv_size: int) -> None:
    with pytest.raises(UsageError):
        aes.AesCtr(bytes(key_size), bytes(iv_size))
