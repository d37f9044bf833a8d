"""Every value of the worked handshake example (core.telegram.org/mtproto/samples-auth_key)
recomputed with the library."""

from __future__ import annotations

import hashlib

import pytest

from sansio_mtdc.crypto import (
    PRODUCTION_KEYS,
    TELEGRAM_DH_PRIME,
    AuthKey,
    auth_key_from_int,
    available_backends,
    check_dh_params,
    check_g_a,
    factorize,
    initial_server_salt,
    initial_server_salt_int,
    new_nonce_hash,
    powmod,
    reference_cluster_key,
    rsa_pad_encrypt,
    tmp_aes_key_iv,
)

from .conftest import Samples

BACKENDS = sorted(available_backends())


def test_pq_splits_into_the_sample_p_and_q(samples: Samples) -> None:
    assert factorize(samples.pq) == (samples.p, samples.q)


@pytest.mark.parametrize("use_gmpy2", [False, None])
def test_pq_split_is_the_same_with_and_without_gmpy2(samples: Samples,
                                                     use_gmpy2: bool | None) -> None:
    assert factorize(samples.pq, use_gmpy2=use_gmpy2) == (samples.p, samples.q)


def test_tmp_aes_key_and_iv(samples: Samples) -> None:
    assert tmp_aes_key_iv(samples.new_nonce, samples.server_nonce) == (
        samples.tmp_aes_key, samples.tmp_aes_iv)


@pytest.mark.parametrize("backend", BACKENDS)
def test_encrypted_answer_decrypts_with_every_backend(samples: Samples, backend: str) -> None:
    decrypt = available_backends()[backend].decrypt
    answer = decrypt(samples.encrypted_answer, samples.tmp_aes_key, samples.tmp_aes_iv)
    assert answer == samples.answer_with_hash
    inner = samples.server_dh_inner_data
    assert answer[:20] == hashlib.sha1(inner).digest()
    assert answer[20:20 + len(inner)] == inner


@pytest.mark.parametrize("backend", BACKENDS)
def test_client_dh_inner_data_encrypts_to_the_sample(samples: Samples, backend: str) -> None:
    data = samples.client_dh_inner_data
    data_with_hash = hashlib.sha1(data).digest() + data + samples.client_padding
    encrypt = available_backends()[backend].encrypt
    assert encrypt(data_with_hash, samples.tmp_aes_key, samples.tmp_aes_iv) == (
        samples.client_encrypted_data)


def test_g_b_is_g_to_the_b(samples: Samples) -> None:
    assert powmod(samples.g, samples.b, samples.dh_prime) == samples.g_b


def test_auth_key_is_g_a_to_the_b(samples: Samples) -> None:
    value = powmod(samples.g_a, samples.b, samples.dh_prime)
    assert auth_key_from_int(value) == samples.auth_key


def test_auth_key_id_and_aux_hash(samples: Samples) -> None:
    key = AuthKey(samples.auth_key)
    assert key.key_id == samples.auth_key_id
    assert key.aux_hash == samples.aux_hash
    assert key.id == int.from_bytes(samples.auth_key_id, "little", signed=True)


def test_new_nonce_hashes(samples: Samples) -> None:
    aux_hash = AuthKey(samples.auth_key).aux_hash
    assert new_nonce_hash(samples.new_nonce, aux_hash, 1) == samples.new_nonce_hash1
    derived = samples.raw["derived_by_check_script"]
    for number in (2, 3):
        expected = bytes.fromhex(derived[f"new_nonce_hash{number}"])
        assert new_nonce_hash(samples.new_nonce, aux_hash, number) == expected


def test_initial_server_salt(samples: Samples) -> None:
    assert initial_server_salt(samples.new_nonce, samples.server_nonce) == samples.server_salt
    assert initial_server_salt_int(samples.new_nonce, samples.server_nonce) == (
        samples.server_salt_int)


def test_production_key_is_the_one_the_sample_resPQ_offers(samples: Samples) -> None:
    key = PRODUCTION_KEYS.first_known(samples.fingerprints)
    assert key is not None
    assert key.fingerprint == samples.fingerprints[0] == -3414540481677951611
    chosen = samples.steps["5_req_DH_params"]["public_key_fingerprint"]
    assert key.fingerprint == int.from_bytes(bytes.fromhex(chosen), "little", signed=True)
    encrypted = bytes.fromhex(samples.steps["4_p_q_inner_data_dc"]["encrypted_data"])
    assert int.from_bytes(encrypted, "big") < key.n


def test_dh_checks_pass_on_the_sample(samples: Samples) -> None:
    assert samples.dh_prime == TELEGRAM_DH_PRIME
    check_dh_params(samples.dh_prime, samples.g)
    check_g_a(samples.g_a, samples.dh_prime)
    check_g_a(samples.g_b, samples.dh_prime, what="g_b")


def test_sample_p_q_inner_data_goes_through_rsa_pad(samples: Samples) -> None:
    """The sample's data and padding, RSA_PAD-encrypted for the reference key (the page does not
    print its temp_key) and decrypted again."""
    data = samples.p_q_inner_data
    padding = bytes.fromhex(samples.steps["4_p_q_inner_data_dc"]["random_padding_bytes"])
    draws = iter([padding, bytes(range(32))])
    key = reference_cluster_key()
    encrypted = rsa_pad_encrypt(data, key.public, lambda n: next(draws))
    assert key.decrypt_rsa_pad(encrypted) == data + padding
