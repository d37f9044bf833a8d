"""Every check of the client half, each with a server answer that breaks exactly that check."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from sansio_mtdc.crypto import REFERENCE_CLUSTER_KEYS, ige256_encrypt
from sansio_mtdc.crypto.mtproto2 import AuthKey
from sansio_mtdc.errors import RemoteProtocolError, SecurityError, TLDecodeError, UsageError
from sansio_mtdc.handshake import ClientHandshake, ClientState, unpack_plain
from sansio_mtdc.tl import decode, mtproto

from .peers import NOW, ForgedServer, P, SeededRandom, plain, server_msg_id

T = mtproto.types

# A safe prime of 2048 bits other than Telegram's would take a primality proof; these are not
# safe primes, or not of 2048 bits, and are refused before or by that proof.
NOT_SAFE = P + 2 * 3 * 5 * 7 * 11 * 13 * 4  # 2048 bits, p mod 3 still 2, odd, composite-ish


def forged(seed: str = "forge", **kwargs: Any) -> ForgedServer:
    rnd = SeededRandom(seed)
    client = ClientHandshake(dc_id=2, keys=REFERENCE_CLUSTER_KEYS, random=rnd, now=NOW,
                             **kwargs)
    return ForgedServer(client, rnd)


def expect_check(forger: ForgedServer, payload: bytes, check: str) -> SecurityError:
    with pytest.raises(SecurityError) as caught:
        forger.client.receive(payload, now=NOW)
    assert caught.value.check == check, caught.value
    assert caught.value.reason == "security"
    assert forger.client.state is ClientState.FAILED
    assert forger.client.error is caught.value
    assert forger.client.data_to_send() == []
    with pytest.raises(UsageError):
        forger.client.receive(payload, now=NOW)
    return caught.value


def test_the_forger_makes_a_key_when_nothing_is_broken() -> None:
    f = forged()
    f.to_dh_gen()
    f.client.receive(f.dh_gen(1), now=NOW)
    assert f.client.result is not None
    assert f.client.result.auth_key == f.client_key()
    assert f.client.result.time_offset == f.server_time - NOW


# --- resPQ -----------------------------------------------------------------------------------

def test_res_pq_nonce() -> None:
    f = forged()
    expect_check(f, f.res_pq(nonce=bytes(16)), "nonce")


@pytest.mark.parametrize("fingerprints", [[], [1, 2, 3], [-(1 << 63)]])
def test_res_pq_unknown_fingerprint(fingerprints: list[int]) -> None:
    f = forged()
    expect_check(f, f.res_pq(server_public_key_fingerprints=fingerprints), "fingerprint")


def test_res_pq_known_fingerprint_after_unknown_ones() -> None:
    f = forged()
    f.client.receive(f.res_pq(server_public_key_fingerprints=[7, *f.fingerprints]), now=NOW)
    assert f.client.state is ClientState.AWAITING_DH_PARAMS


@pytest.mark.parametrize("pq", [
    (1829579909).to_bytes(4, "big"),                    # a prime
    (3 * 5 * 7 * 11 * 13 * 17 * 19 * 23).to_bytes(4, "big"),  # many factors
    (1487202733 ** 2).to_bytes(8, "big"),               # a square
    (2 * 1829579909).to_bytes(8, "big"),                # even
    bytes(9) + b"\x01",                                 # longer than 8 bytes
    b"",                                                # nothing
])
def test_res_pq_bad_pq(pq: bytes) -> None:
    f = forged()
    expect_check(f, f.res_pq(pq=pq), "pq")


# --- server_DH_params ------------------------------------------------------------------------

@pytest.mark.parametrize(("field", "check"), [("nonce", "nonce"),
                                              ("server_nonce", "server_nonce")])
def test_dh_params_outer_nonces(field: str, check: str) -> None:
    f = forged()
    f.start()
    expect_check(f, f.dh_params_ok(**{field: bytes(16)}), check)


@pytest.mark.parametrize(("field", "check"), [("nonce", "nonce"),
                                              ("server_nonce", "server_nonce")])
def test_dh_params_inner_nonces(field: str, check: str) -> None:
    f = forged()
    f.start()
    expect_check(f, f.dh_params_ok(inner=f.inner_data(**{field: bytes(16)})), check)


@pytest.mark.parametrize("mangle", [
    lambda enc: enc[:-1],                        # not a multiple of 16
    lambda enc: enc[:-16],                       # the last block missing
    lambda enc: b"",                             # nothing
    lambda enc: enc[:16],                        # too short for a hash
    lambda enc: bytes([enc[0] ^ 1]) + enc[1:],   # a flipped bit
    lambda enc: enc + bytes(16),                 # a block more
], ids=["odd_length", "short", "empty", "one_block", "bit_flip", "extra_block"])
def test_dh_params_answer_hash(mangle: Callable[[bytes], bytes]) -> None:
    f = forged()
    f.start()
    good = f.dh_params_ok()
    encrypted = mtproto_answer(good).encrypted_answer
    expect_check(f, f.dh_params_ok(encrypted=mangle(encrypted)), "answer_hash")


def test_dh_params_wrong_sha1() -> None:
    f = forged()
    f.start()
    key, iv = f.tmp
    data = f.inner_data()
    with_hash = hashlib.sha1(data + b"x").digest() + data
    with_hash += bytes(-len(with_hash) & 15)
    expect_check(f, f.dh_params_ok(encrypted=ige256_encrypt(with_hash, key, iv)), "answer_hash")


def test_dh_params_padding_of_16_or_more() -> None:
    f = forged()
    f.start()
    data = f.inner_data()
    padding = bytes(-(len(data) + 20) & 15) + bytes(16)
    expect_check(f, f.dh_params_ok(padding=padding), "answer_hash")


def test_dh_params_other_inner_constructor() -> None:
    f = forged()
    f.start()
    other = bytes(T.ClientDHInnerData(nonce=f.nonce, server_nonce=f.server_nonce, retry_id=0,
                                      g_b=bytes(256)))
    expect_check(f, f.dh_params_ok(inner=other), "answer_hash")


def test_dh_params_truncated_inner() -> None:
    f = forged()
    f.start()
    expect_check(f, f.dh_params_ok(inner=f.inner_data()[:-40]), "answer_hash")


def test_dh_params_wrong_key_stream() -> None:
    """An answer encrypted for another new_nonce decrypts to noise."""
    f = forged()
    f.start()
    other = forged("other")
    other.start()
    expect_check(f, f.dh_params_ok(encrypted=mtproto_answer(other.dh_params_ok())
                                   .encrypted_answer), "answer_hash")


@pytest.mark.parametrize("dh_prime", [
    P >> 1,                    # 2047 bits
    P << 1 | 1,                # 2049 bits
    NOT_SAFE,                  # 2048 bits, not a safe prime
    (1 << 2047) + 9,           # 2048 bits, p mod 3 = 2... but composite
    11,
], ids=["2047_bits", "2049_bits", "not_safe", "composite", "tiny"])
def test_dh_prime(dh_prime: int) -> None:
    assert dh_prime % 3 == 2  # so that g = 3 passes its own check
    f = forged()
    f.start()
    f.dh_prime = dh_prime
    expect_check(f, f.dh_params_ok(), "dh_prime")


@pytest.mark.parametrize("g", [2, 5, 6, 1, 8, 0, -3, 1 << 20])
def test_g(g: int) -> None:
    f = forged()
    f.start()
    expect_check(f, f.dh_params_ok(inner=f.inner_data(g=g)), "g")


@pytest.mark.parametrize("g", [4, 7])
def test_other_good_g(g: int) -> None:
    f = forged()
    f.start()
    f.g = g
    f.client.receive(f.dh_params_ok(), now=NOW)
    f.client.receive(f.dh_gen(1), now=NOW)
    assert f.client.done


@pytest.mark.parametrize("g_a", [0, 1, 2, (1 << 1984) - 1, P - (1 << 1984) + 1, P - 1, P,
                                 P + 5, (1 << 2048) - 1])
def test_g_a_range(g_a: int) -> None:
    f = forged()
    f.start()
    size = max(256, (g_a.bit_length() + 7) // 8)
    expect_check(f, f.dh_params_ok(inner=f.inner_data(g_a=g_a.to_bytes(size, "big"))),
                 "g_a_range")


def test_g_a_range_edges_are_accepted() -> None:
    for g_a in (1 << 1984, P - (1 << 1984)):
        f = forged()
        f.start()
        f.client.receive(f.dh_params_ok(inner=f.inner_data(g_a=g_a.to_bytes(256, "big"))),
                         now=NOW)
        assert f.client.state is ClientState.AWAITING_DH_GEN


def test_g_b_range() -> None:
    """The client's own g_b is checked too: a b of 0 gives g_b = 1."""

    class ZeroB(SeededRandom):
        def __call__(self, n: int) -> bytes:
            return bytes(n) if n == 256 else super().__call__(n)

    rnd = ZeroB("zero-b")
    client = ClientHandshake(dc_id=2, keys=REFERENCE_CLUSTER_KEYS, random=rnd, now=NOW)
    f = ForgedServer(client, rnd)
    f.start()
    expect_check(f, f.dh_params_ok(), "g_b_range")


def test_server_dh_params_fail_with_the_right_hash() -> None:
    f = forged()
    f.start()
    answer = T.ServerDHParamsFail(nonce=f.nonce, server_nonce=f.server_nonce,
                                  new_nonce_hash=hashlib.sha1(f.new_nonce).digest()[4:20])
    expect_check(f, plain(answer, server_msg_id(1)), "server_dh_params_fail")


def test_server_dh_params_fail_with_a_wrong_hash() -> None:
    f = forged()
    f.start()
    answer = T.ServerDHParamsFail(nonce=f.nonce, server_nonce=f.server_nonce,
                                  new_nonce_hash=bytes(16))
    expect_check(f, plain(answer, server_msg_id(1)), "new_nonce_hash")


def test_server_dh_params_fail_with_other_nonces() -> None:
    f = forged()
    f.start()
    answer = T.ServerDHParamsFail(nonce=bytes(16), server_nonce=f.server_nonce,
                                  new_nonce_hash=bytes(16))
    expect_check(f, plain(answer, server_msg_id(1)), "nonce")


# --- dh_gen_* --------------------------------------------------------------------------------

@pytest.mark.parametrize("number", [1, 2, 3])
def test_dh_gen_nonces(number: int) -> None:
    for field, check in (("nonce", "nonce"), ("server_nonce", "server_nonce")):
        f = forged()
        f.to_dh_gen()
        expect_check(f, f.dh_gen(number, **{field: bytes(16)}), check)


@pytest.mark.parametrize("number", [1, 2, 3])
def test_dh_gen_hash_of_another_key(number: int) -> None:
    f = forged()
    f.to_dh_gen()
    expect_check(f, f.dh_gen(number, hash_of=AuthKey(bytes(range(256)))), "new_nonce_hash")


@pytest.mark.parametrize(("number", "hash_number"), [(1, 2), (2, 1), (1, 3), (3, 1), (2, 3)])
def test_dh_gen_answers_cannot_be_swapped(number: int, hash_number: int) -> None:
    """A dh_gen_retry carrying new_nonce_hash1 (a turned dh_gen_ok) and so on."""
    f = forged()
    f.to_dh_gen()
    expect_check(f, f.dh_gen(number, hash_number=hash_number), "new_nonce_hash")


def test_dh_gen_fail() -> None:
    f = forged()
    f.to_dh_gen()
    expect_check(f, f.dh_gen(3), "dh_gen_fail")


def test_dh_gen_retry_sends_the_previous_aux_hash_and_a_new_b() -> None:
    f = forged(max_retries=1)
    (first,) = f.to_dh_gen()
    first_key = f.client_key()
    f.client.receive(f.dh_gen(2), now=NOW)
    (second,) = f.client.data_to_send()
    inner1 = f.decrypt_client_dh(first)
    inner2 = f.decrypt_client_dh(second)
    assert inner1.retry_id == 0
    assert inner2.retry_id == int.from_bytes(first_key.aux_hash, "little", signed=True)
    assert inner2.g_b != inner1.g_b
    second_key = f.client_key()
    assert second_key != first_key
    expect_check(f, f.dh_gen(2), "retries")


def test_dh_gen_ok_after_a_retry() -> None:
    f = forged(max_retries=1)
    f.to_dh_gen()
    f.client.receive(f.dh_gen(2), now=NOW)
    f.client.receive(f.dh_gen(1), now=NOW)
    assert f.client.result is not None and f.client.result.auth_key == f.client_key()


def test_no_retries_allowed() -> None:
    f = forged(max_retries=0)
    f.to_dh_gen()
    expect_check(f, f.dh_gen(2), "retries")


def test_temporary_key_expiry_uses_server_time() -> None:
    f = forged(temp_expires_in=86400)
    f.to_dh_gen()
    f.client.receive(f.dh_gen(1), now=NOW)
    assert f.client.result is not None
    assert f.client.result.expires_at == f.server_time + 86400


# --- envelope and order ----------------------------------------------------------------------

def expect_error(forger: ForgedServer, payload: bytes, error: type[RemoteProtocolError],
                 reason: str) -> None:
    with pytest.raises(error) as caught:
        forger.client.receive(payload, now=NOW)
    assert caught.value.reason == reason, caught.value
    assert forger.client.state is ClientState.FAILED


def mtproto_answer(payload: bytes) -> Any:
    return decode(unpack_plain(payload)[1])


def test_even_server_msg_id() -> None:
    f = forged()
    expect_check(f, plain(T.ResPQ(nonce=f.nonce, server_nonce=f.server_nonce,
                                  pq=(1487202733 * 1829579909).to_bytes(8, "big"),
                                  server_public_key_fingerprints=f.fingerprints),
                          server_msg_id() - 1), "msg_id")


@pytest.mark.parametrize("step", ["res_pq", "dh_params", "dh_gen"])
def test_answers_at_the_wrong_step(step: str) -> None:
    f = forged()
    if step == "res_pq":     # dh_gen_ok before anything
        expect_error(f, f.dh_gen(1, hash_of=AuthKey(bytes(256))), RemoteProtocolError,
                     "unexpected_answer")
    elif step == "dh_params":  # dh_gen_ok before server_DH_params
        f.start()
        expect_error(f, f.dh_gen(1, hash_of=AuthKey(bytes(256))), RemoteProtocolError,
                     "unexpected_answer")
    else:                    # resPQ again instead of dh_gen
        f.to_dh_gen()
        expect_error(f, f.res_pq(), RemoteProtocolError, "unexpected_answer")


def test_an_encrypted_message_where_a_plain_one_is_due() -> None:
    f = forged()
    payload = bytearray(f.res_pq())
    payload[0] = 1
    expect_error(f, bytes(payload), TLDecodeError, "encrypted")


def test_a_constructor_that_is_not_a_handshake_answer() -> None:
    f = forged()
    expect_error(f, plain(T.Pong(msg_id=1, ping_id=2)), TLDecodeError, "unexpected_constructor")


def test_a_truncated_answer() -> None:
    f = forged()
    body = bytes(T.ResPQ(nonce=f.nonce, server_nonce=f.server_nonce, pq=b"\x01" * 8,
                         server_public_key_fingerprints=f.fingerprints))
    expect_error(f, plain(body[:-8]), TLDecodeError, "bad_vector")
    f = forged()
    expect_error(f, plain(body[:20]), TLDecodeError, "truncated")


def test_trailing_bytes_after_an_answer() -> None:
    f = forged()
    body = bytes(T.ResPQ(nonce=f.nonce, server_nonce=f.server_nonce, pq=b"\x01" * 8,
                         server_public_key_fingerprints=f.fingerprints))
    expect_error(f, plain(body + bytes(4)), TLDecodeError, "trailing_bytes")


def test_padding_after_the_envelope_is_tolerated() -> None:
    f = forged()
    f.client.receive(f.res_pq() + bytes(15), now=NOW)
    assert f.client.state is ClientState.AWAITING_DH_PARAMS
