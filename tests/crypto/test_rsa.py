"""RSA keys, fingerprints, RSA_PAD and the legacy scheme, the key registries and the reference
cluster key."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from sansio_mtdc.crypto import aes, rsa
from sansio_mtdc.crypto.rsa import (
    PRODUCTION_KEYS,
    REFERENCE_CLUSTER_KEYS,
    TEST_KEYS,
    KeyRegistry,
    RSAPrivateKey,
    RSAPublicKey,
    check_legacy_hash,
    reference_cluster_key,
    rsa_encrypt_legacy,
    rsa_pad_encrypt,
)
from sansio_mtdc.errors import SecurityError, UsageError

# Keys and fingerprints as rsa_keys.txt lists them (production, test, two more keys production
# servers advertise, and tdlib's fingerprint test vector).
EXPECTED_FINGERPRINTS = {
    "production": -3414540481677951611,
    "test": -5595554452916591101,
    "advertised": 847625836280919973,
    "legacy": -4344800451088585951,
    "tdlib_vector": -7596991558377038078,
}
PEMS = {
    "production": rsa._PRODUCTION_PEM,
    "test": rsa._TEST_PEM,
    "advertised": """-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEAruw2yP/BCcsJliRoW5eBVBVle9dtjJw+OYED160Wybum9SXtBBLX
riwt4rROd9csv0t0OHCaTmRqBcQ0J8fxhN6/cpR1GWgOZRUAiQxoMnlt0R93LCX/
j1dnVa/gVbCjdSxpbrfY2g2L4frzjJvdl84Kd9ORYjDEAyFnEA7dD556OptgLQQ2
e2iVNq8NZLYTzLp5YpOdO1doK+ttrltggTCy5SrKeLoCPPbOgGsdxJxyz5KKcZnS
Lj16yE5HvJQn0CNpRdENvRUXe6tBP78O39oJ8BTHp9oIjd6XWXAsp2CvK45Ol8wF
XGF710w9lwCGNbmNxNYhtIkdqfsEcwR5JwIDAQAB
-----END RSA PUBLIC KEY-----
""",
    "legacy": """-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEAwVACPi9w23mF3tBkdZz+zwrzKOaaQdr01vAbU4E1pvkfj4sqDsm6
lyDONS789sVoD/xCS9Y0hkkC3gtL1tSfTlgCMOOul9lcixlEKzwKENj1Yz/s7daS
an9tqw3bfUV/nqgbhGX81v/+7RFAEd+RwFnK7a+XYl9sluzHRyVVaTTveB2GazTw
Efzk2DWgkBluml8OREmvfraX3bkHZJTKX4EQSjBbbdJ2ZXIsRrYOXfaA+xayEGB+
8hdlLmAjbCVfaigxX0CDqWeR1yFL9kwd9P0NsZRPsmoqVwMbMu7mStFai6aIhc3n
Slv8kg9qv1m6XHVQY3PnEw+QQtqSIXklHwIDAQAB
-----END RSA PUBLIC KEY-----
""",
    "tdlib_vector": """-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEAr4v4wxMDXIaMOh8bayF/NyoYdpcysn5EbjTIOZC0RkgzsRj3SGlu
52QSz+ysO41dQAjpFLgxPVJoOlxXokaOq827IfW0bGCm0doT5hxtedu9UCQKbE8j
lDOk+kWMXHPZFJKWRgKgTu9hcB3y3Vk+JFfLpq3d5ZB48B4bcwrRQnzkx5GhWOFX
x73ZgjO93eoQ2b/lDyXxK4B4IS+hZhjzezPZTI5upTRbs5ljlApsddsHrKk6jJNj
8Ygs/ps8e6ct82jLXbnndC9s8HjEvDvBPH9IPjv5JUlmHMBFZ5vFQIfbpo0u0+1P
n6bkEi5o7/ifoyVv2pAZTRwppTz0EuXD8QIDAQAB
-----END RSA PUBLIC KEY-----
""",
}
NAMES = sorted(PEMS)


def counter_random(seed: bytes = b"") -> rsa.RandomSource:
    """A deterministic random source (SHA-256 in counter mode)."""
    state = {"n": 0}

    def draw(size: int) -> bytes:
        out = b""
        while len(out) < size:
            state["n"] += 1
            out += hashlib.sha256(seed + state["n"].to_bytes(8, "big")).digest()
        return out[:size]

    return draw


# --- fingerprints and PEM ------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_fingerprints_match_rsa_keys_txt(name: str) -> None:
    assert RSAPublicKey.from_pem(PEMS[name]).fingerprint == EXPECTED_FINGERPRINTS[name]


@pytest.mark.parametrize("name", NAMES)
def test_fingerprints_match_telethon(name: str) -> None:
    import rsa as python_rsa
    from telethon.crypto.rsa import _compute_fingerprint
    theirs = _compute_fingerprint(python_rsa.PublicKey.load_pkcs1(PEMS[name].encode()))
    assert RSAPublicKey.from_pem(PEMS[name]).fingerprint == theirs


def test_fingerprints_match_pyrogram_key_table() -> None:
    from pyrogram.crypto.rsa import server_public_keys
    assert len(server_public_keys) >= 5
    for fingerprint, key in server_public_keys.items():
        assert RSAPublicKey(key.m, key.e).fingerprint == fingerprint


def test_production_and_test_registries() -> None:
    assert [k.fingerprint for k in PRODUCTION_KEYS] == [EXPECTED_FINGERPRINTS["production"]]
    assert [k.fingerprint for k in TEST_KEYS] == [EXPECTED_FINGERPRINTS["test"]]
    assert 0xD09D1D85DE64FD85 in PRODUCTION_KEYS  # unsigned form accepted
    assert PRODUCTION_KEYS.get(0xD09D1D85DE64FD85) is PRODUCTION_KEYS.get(-3414540481677951611)
    assert 0xB25898DF208D2603 in TEST_KEYS
    assert all(k.n.bit_length() == 2048 and k.e == 65537 for k in (*PRODUCTION_KEYS, *TEST_KEYS))


@pytest.mark.parametrize("name", NAMES)
def test_pem_agrees_with_cryptography_in_both_public_forms(name: str) -> None:
    ours = RSAPublicKey.from_pem(PEMS[name])
    loaded = serialization.load_pem_public_key(PEMS[name].encode())
    numbers = loaded.public_numbers()  # type: ignore[union-attr]
    assert (ours.n, ours.e) == (numbers.n, numbers.e)
    spki = loaded.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo)
    assert RSAPublicKey.from_pem(spki) == ours
    assert ours.to_pem() == PEMS[name]  # Telegram's published form, byte for byte


def test_text_around_the_pem_block_is_ignored() -> None:
    text = "a comment\n" + PEMS["production"] + "trailing words\n"
    assert RSAPublicKey.from_pem(text) == RSAPublicKey.from_pem(PEMS["production"].encode())


@pytest.mark.parametrize("text", [
    "", "no pem here",
    "-----BEGIN RSA PUBLIC KEY-----\n!!!!\n-----END RSA PUBLIC KEY-----\n",
    "-----BEGIN RSA PUBLIC KEY-----\nMAA=\n-----END RSA PUBLIC KEY-----\n",
    "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
    PEMS["production"].replace("IDAQAB", "IDAQ"),
    PEMS["production"].replace("RSA PUBLIC KEY", "PUBLIC KEY"),
])
def test_malformed_public_pem_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError):
        RSAPublicKey.from_pem(text)


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=300), label=st.sampled_from(
    ["RSA PUBLIC KEY", "PUBLIC KEY", "RSA PRIVATE KEY", "PRIVATE KEY"]))
def test_garbage_der_raises_only_usage_error(body: bytes, label: str) -> None:
    import base64
    pem = f"-----BEGIN {label}-----\n{base64.b64encode(body).decode()}\n-----END {label}-----\n"
    reader = RSAPublicKey.from_pem if "PUBLIC" in label else RSAPrivateKey.from_pem
    with pytest.raises(UsageError):
        reader(pem)


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=200))
def test_garbage_bytes_raise_only_usage_error(data: bytes) -> None:
    with pytest.raises(UsageError):
        RSAPublicKey.from_pem(data)


@settings(max_examples=200, deadline=None)
@given(body=st.text(max_size=200))
def test_garbage_text_in_a_pem_block_raises_only_usage_error(body: str) -> None:
    for label, reader in (("RSA PUBLIC KEY", RSAPublicKey.from_pem),
                          ("PRIVATE KEY", RSAPrivateKey.from_pem)):
        with pytest.raises(UsageError):
            reader(f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n")


def test_invalid_key_numbers() -> None:
    with pytest.raises(UsageError):
        RSAPublicKey(10, 65537)
    with pytest.raises(UsageError):
        RSAPublicKey(0xFFFF1, 1)
    key = reference_cluster_key()
    with pytest.raises(UsageError):
        RSAPrivateKey(key.n + 2, key.e, key.d, key.p, key.q)
    with pytest.raises(UsageError):
        RSAPrivateKey(key.n, key.e, key.d + 2, key.p, key.q)


# --- the reference cluster key -------------------------------------------------------------------

def test_reference_cluster_key_pair() -> None:
    key = reference_cluster_key()
    assert key is reference_cluster_key()  # loaded once
    assert key.n.bit_length() == 2048 and key.e == 65537
    assert list(REFERENCE_CLUSTER_KEYS) == [key.public]
    assert key.public.fingerprint not in PRODUCTION_KEYS and key.public.fingerprint not in TEST_KEYS


def test_private_pem_forms_agree_with_cryptography() -> None:
    key = reference_cluster_key()
    loaded = serialization.load_pem_private_key(key.to_pem().encode(), password=None)
    numbers = loaded.private_numbers()  # type: ignore[union-attr]
    assert (numbers.p * numbers.q, numbers.d) == (key.n, key.d)
    pkcs8 = loaded.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    assert RSAPrivateKey.from_pem(pkcs8) == key
    assert RSAPrivateKey.from_pem(key.to_pem()) == key
    with pytest.raises(UsageError):
        RSAPublicKey.from_pem(key.to_pem())


# --- RSA_PAD -------------------------------------------------------------------------------------

def spec_rsa_pad_value(data_with_padding: bytes, temp_key: bytes) -> int:
    """key_aes_encrypted of auth_key.txt 4.1, written out step by step."""
    data_pad_reversed = data_with_padding[::-1]
    data_with_hash = data_pad_reversed + hashlib.sha256(temp_key + data_with_padding).digest()
    aes_encrypted = aes.available_backends()["cryptography"].encrypt(
        data_with_hash, temp_key, bytes(32))
    digest = hashlib.sha256(aes_encrypted).digest()
    temp_key_xor = bytes(a ^ b for a, b in zip(temp_key, digest))
    return int.from_bytes(temp_key_xor + aes_encrypted, "big")


@settings(max_examples=25, deadline=None)
@given(data=st.binary(max_size=144), seed=st.binary(max_size=8))
def test_rsa_pad_round_trip(data: bytes, seed: bytes) -> None:
    key = reference_cluster_key()
    encrypted = rsa_pad_encrypt(data, key.public, counter_random(seed))
    assert len(encrypted) == 256
    assert rsa_pad_encrypt(data, key.public, counter_random(seed)) == encrypted  # deterministic
    decrypted = key.decrypt_rsa_pad(encrypted)
    assert len(decrypted) == 192 and decrypted.startswith(data)


def test_rsa_pad_is_the_spec_construction_and_retries_above_the_modulus() -> None:
    key = reference_cluster_key()
    data_with_padding = bytes(range(192))
    too_big = next(t for t in (i.to_bytes(32, "big") for i in range(1000))
                   if spec_rsa_pad_value(data_with_padding, t) >= key.n)
    fits = next(t for t in (i.to_bytes(32, "big") for i in range(1000, 2000))
                if spec_rsa_pad_value(data_with_padding, t) < key.n)
    draws = [data_with_padding[100:], too_big, fits]
    calls: list[int] = []

    def random(size: int) -> bytes:
        calls.append(size)
        return draws[len(calls) - 1]

    encrypted = rsa_pad_encrypt(data_with_padding[:100], key.public, random)
    assert calls == [92, 32, 32]
    expected = pow(spec_rsa_pad_value(data_with_padding, fits), key.e, key.n)
    assert encrypted == expected.to_bytes(256, "big")
    assert key.decrypt_rsa_pad(encrypted) == data_with_padding


def test_rsa_pad_argument_checks() -> None:
    public = reference_cluster_key().public
    with pytest.raises(UsageError):
        rsa_pad_encrypt(bytes(145), public, counter_random())
    with pytest.raises(UsageError):
        rsa_pad_encrypt(b"x", public, lambda n: bytes(n - 1))
    small = RSAPublicKey((1 << 1023) + 1, 65537)  # not 2048 bits
    with pytest.raises(UsageError):
        rsa_pad_encrypt(b"x", small, counter_random())


def test_rsa_pad_tampering_fails_the_hash_check() -> None:
    key = reference_cluster_key()
    encrypted = rsa_pad_encrypt(b"inner data", key.public, counter_random(b"t"))
    value = int.from_bytes(encrypted, "big")
    for delta in (1, 1 << 100, 1 << 2000):
        tampered = (value ^ delta) % key.n
        with pytest.raises(SecurityError) as failure:
            key.decrypt_rsa_pad(tampered.to_bytes(256, "big"))
        assert failure.value.check == "rsa_pad_hash"


@pytest.mark.parametrize("encrypted", [b"", bytes(255), bytes(257), b"\xff" * 256])
def test_rsa_values_out_of_range(encrypted: bytes) -> None:
    key = reference_cluster_key()
    for decrypt in (key.decrypt_rsa_pad, key.decrypt_legacy):
        with pytest.raises(SecurityError) as failure:
            decrypt(encrypted)
        assert failure.value.check == "rsa_range"
    with pytest.raises(SecurityError):
        key.decrypt_rsa_pad(key.n.to_bytes(256, "big"))


@settings(max_examples=40, deadline=None)
@given(data=st.binary(min_size=256, max_size=256))
def test_rsa_decryption_of_garbage_raises_only_security_error(data: bytes) -> None:
    key = reference_cluster_key()
    with pytest.raises(SecurityError):
        key.decrypt_rsa_pad(data)
    try:
        decrypted = key.decrypt_legacy(data)
    except SecurityError:
        return
    with pytest.raises(SecurityError):
        check_legacy_hash(decrypted, 100)


# --- the legacy scheme ---------------------------------------------------------------------------

@settings(max_examples=20, deadline=None)
@given(data=st.binary(min_size=1, max_size=235))
def test_legacy_round_trip(data: bytes) -> None:
    key = reference_cluster_key()
    decrypted = key.decrypt_legacy(rsa_encrypt_legacy(data, key.public, counter_random(data)))
    assert len(decrypted) == 235 and decrypted.startswith(data)
    check_legacy_hash(decrypted, len(data))


def test_we_decrypt_what_telethon_encrypts() -> None:
    import telethon.crypto.rsa as telethon_rsa
    key = reference_cluster_key()
    telethon_rsa.add_key(key.public.to_pem(), old=False)
    try:
        data = b"p_q_inner_data as Telethon sends it" * 2
        decrypted = key.decrypt_legacy(telethon_rsa.encrypt(key.public.fingerprint, data))
    finally:
        del telethon_rsa._server_keys[key.public.fingerprint]
    assert decrypted.startswith(data)
    check_legacy_hash(decrypted, len(data))


def test_legacy_hash_check_failures() -> None:
    key = reference_cluster_key()
    data = b"some inner data"
    decrypted = key.decrypt_legacy(rsa_encrypt_legacy(data, key.public, counter_random()))
    for wrong_length in (0, len(data) - 1, len(data) + 1, 236, -1):
        with pytest.raises(SecurityError) as failure:
            check_legacy_hash(decrypted, wrong_length)
        assert failure.value.check == "rsa_legacy_hash"


def test_legacy_value_longer_than_255_bytes() -> None:
    key = reference_cluster_key()
    encrypted = key.public.encrypt_int((1 << 2040) + 12345)
    with pytest.raises(SecurityError) as failure:
        key.decrypt_legacy(encrypted)
    assert failure.value.check == "rsa_range"


def test_legacy_argument_checks() -> None:
    with pytest.raises(UsageError):
        rsa_encrypt_legacy(bytes(236), reference_cluster_key().public, counter_random())


# --- registries ----------------------------------------------------------------------------------

def test_registry_lookup_and_order() -> None:
    keys = [RSAPublicKey.from_pem(PEMS[name]) for name in ("production", "advertised", "legacy")]
    registry = KeyRegistry(keys[:2])
    assert len(registry) == 2 and list(registry) == keys[:2]
    assert registry.get(keys[1].fingerprint) is keys[1]
    assert registry.get(keys[2].fingerprint) is None
    server_list = [keys[2].fingerprint, keys[1].fingerprint, keys[0].fingerprint]
    assert registry.first_known(server_list) is keys[1]  # the server's order decides
    assert registry.first_known([keys[2].fingerprint, 5]) is None
    registry.add(keys[2])
    assert registry.first_known(server_list) is keys[2]
    assert "not a fingerprint" not in registry


def test_module_registries_are_read_only_but_copyable() -> None:
    with pytest.raises(UsageError):
        PRODUCTION_KEYS.add(reference_cluster_key().public)
    mine = KeyRegistry(PRODUCTION_KEYS)
    mine.add(reference_cluster_key().public)
    assert len(mine) == 2 and len(PRODUCTION_KEYS) == 1


def test_registry_loader_runs_once_on_first_use() -> None:
    calls: list[int] = []

    def load() -> list[RSAPublicKey]:
        calls.append(1)
        return [RSAPublicKey.from_pem(PEMS["test"])]

    registry = KeyRegistry(loader=load)
    assert calls == []
    assert EXPECTED_FINGERPRINTS["test"] in registry
    assert len(registry) == 1 and calls == [1]
