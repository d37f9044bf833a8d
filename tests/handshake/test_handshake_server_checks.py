"""Every check of the server half, each with a client request that breaks exactly that check."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from sansio_mtdc.crypto import (
    PRODUCTION_KEYS,
    REFERENCE_CLUSTER_KEYS,
    reference_cluster_key,
    rsa_pad_encrypt,
)
from sansio_mtdc.errors import RemoteProtocolError, SecurityError, TLDecodeError, UsageError
from sansio_mtdc.handshake import (
    HandshakeRejected,
    ServerHandshake,
    ServerState,
    pack_plain,
)
from sansio_mtdc.tl import mtproto

from .peers import NOW, ForgedClient, P, SeededRandom, answer_of

T = mtproto.types
F = mtproto.functions


def new_server(**kwargs: Any) -> ServerHandshake:
    return ServerHandshake(private_key=reference_cluster_key(), dc_id=2,
                           random=SeededRandom("server"), now=NOW, **kwargs)


def forged(**kwargs: Any) -> ForgedClient:
    return ForgedClient(new_server(**kwargs))


def expect(client: ForgedClient, error: type[RemoteProtocolError], what: str,
           send: Any, *args: Any, **kwargs: Any) -> RemoteProtocolError:
    with pytest.raises(error) as caught:
        send(*args, **kwargs)
    value = caught.value
    found = value.check if isinstance(value, SecurityError) else value.reason
    assert found == what, value
    assert client.server.state is ServerState.FAILED and client.server.error is value
    assert client.server.data_to_send() == [] and client.server.result is None
    with pytest.raises(UsageError):
        client.server.receive(pack_plain(client.msg_id + 4, bytes(F.ReqPqMulti(
            nonce=bytes(16)))), now=NOW)
    return value


def test_the_forged_client_makes_a_key_when_nothing_is_broken() -> None:
    c = forged()
    c.to_set_client_dh()
    assert answer_of(c.set_client_dh()).TL_NAME == "dh_gen_ok"
    assert c.server.result is not None and c.server.result.auth_key == c.key()


def test_res_pq_answers_with_the_server_key_and_a_fresh_pq() -> None:
    c = forged()
    res_pq = c.req_pq()
    assert res_pq.nonce == c.nonce and len(res_pq.server_nonce) == 16
    assert res_pq.server_public_key_fingerprints == [reference_cluster_key().public.fingerprint]
    assert REFERENCE_CLUSTER_KEYS.first_known(res_pq.server_public_key_fingerprints)
    pq = int.from_bytes(res_pq.pq, "big")
    assert 1 << 61 < pq < 1 << 63


# --- req_DH_params ---------------------------------------------------------------------------

@pytest.mark.parametrize(("field", "check"), [("nonce", "nonce"),
                                              ("server_nonce", "server_nonce")])
def test_req_dh_params_nonces(field: str, check: str) -> None:
    c = forged()
    c.req_pq()
    expect(c, SecurityError, check, c.req_dh_params, **{field: bytes(range(1, 17))})


@pytest.mark.parametrize("which", ["p", "q"])
def test_req_dh_params_wrong_factors(which: str) -> None:
    c = forged()
    c.req_pq()
    p, q = c.factors
    bad = {"p": q, "q": p}[which]
    expect(c, SecurityError, "pq", c.req_dh_params, **{which: bad})


def test_req_dh_params_overlong_factor() -> None:
    c = forged()
    c.req_pq()
    expect(c, SecurityError, "pq", c.req_dh_params, p=bytes(9))


def test_req_dh_params_unknown_fingerprint() -> None:
    c = forged()
    c.req_pq()
    expect(c, SecurityError, "fingerprint", c.req_dh_params, public_key_fingerprint=12345)


@pytest.mark.parametrize("encrypted", [bytes(256), b"\xff" * 256, bytes(255), bytes(257), b"",
                                       bytes(range(256))])
def test_req_dh_params_garbage_encrypted_data(encrypted: bytes) -> None:
    c = forged()
    c.req_pq()
    expect(c, SecurityError, "encrypted_data", c.req_dh_params, encrypted=encrypted)


def test_req_dh_params_encrypted_for_another_key() -> None:
    c = forged()
    c.req_pq()
    production = next(iter(PRODUCTION_KEYS))
    encrypted = rsa_pad_encrypt(c.inner(), production, SeededRandom(1))
    expect(c, SecurityError, "encrypted_data", c.req_dh_params, encrypted=encrypted)


@pytest.mark.parametrize(("field", "value", "check"), [
    ("nonce", bytes(16), "nonce"),
    ("server_nonce", bytes(16), "server_nonce"),
    ("pq", (15).to_bytes(8, "big"), "pq"),
    ("p", (3).to_bytes(4, "big"), "pq"),
    ("q", (5).to_bytes(4, "big"), "pq"),
])
@pytest.mark.parametrize("legacy", [False, True], ids=["rsa_pad", "legacy_rsa"])
def test_inner_data_fields(field: str, value: bytes, check: str, legacy: bool) -> None:
    c = forged()
    c.req_pq()
    expect(c, SecurityError, check, c.req_dh_params, inner=c.inner(**{field: value}),
           legacy=legacy)


@pytest.mark.parametrize("dc", [1, 3, 10002, -10002, 0])
def test_inner_data_dc_not_accepted(dc: int) -> None:
    c = forged()
    c.req_pq()
    error = expect(c, HandshakeRejected, "wrong_dc", c.req_dh_params, inner=c.inner(dc=dc))
    assert isinstance(error, HandshakeRejected) and error.code == -444


@pytest.mark.parametrize("kind", ["temp", "temp_dc"])
def test_inner_data_expires_in_not_positive(kind: str) -> None:
    c = forged()
    c.req_pq()
    expect(c, RemoteProtocolError, "bad_expires_in", c.req_dh_params,
           inner=c.inner(kind, expires_in=0))


def test_rsa_pad_around_something_else() -> None:
    c = forged()
    c.req_pq()
    other = bytes(T.ResPQ(nonce=c.nonce, server_nonce=c.res_pq.server_nonce, pq=b"1",
                          server_public_key_fingerprints=[]))
    expect(c, TLDecodeError, "wrong_type", c.req_dh_params, inner=other)


def test_legacy_around_something_else() -> None:
    c = forged()
    c.req_pq()
    other = bytes(T.ResPQ(nonce=c.nonce, server_nonce=c.res_pq.server_nonce, pq=b"1",
                          server_public_key_fingerprints=[]))
    expect(c, SecurityError, "encrypted_data", c.req_dh_params, inner=other, legacy=True)


def test_legacy_with_a_wrong_hash() -> None:
    c = forged()
    c.req_pq()
    key = reference_cluster_key().public
    data = c.inner("plain")
    block = hashlib.sha1(data + b"!").digest() + data + bytes(235 - len(data))
    encrypted = key.encrypt_int(int.from_bytes(block, "big"))
    expect(c, SecurityError, "encrypted_data", c.req_dh_params, encrypted=encrypted)


# --- set_client_DH_params --------------------------------------------------------------------

@pytest.mark.parametrize(("field", "check"), [
    ("nonce", "nonce"), ("server_nonce", "server_nonce"),
    ("inner_nonce", "nonce"), ("inner_server_nonce", "server_nonce"),
])
def test_set_client_dh_nonces(field: str, check: str) -> None:
    c = forged()
    c.to_set_client_dh()
    expect(c, SecurityError, check, c.set_client_dh, **{field: bytes(range(3, 19))})


@pytest.mark.parametrize("encrypted", [bytes(336), bytes(335), b"", bytes(16)])
def test_set_client_dh_data_hash(encrypted: bytes) -> None:
    c = forged()
    c.to_set_client_dh()
    expect(c, SecurityError, "data_hash", c.set_client_dh, encrypted=encrypted)


def test_set_client_dh_long_padding() -> None:
    c = forged()
    c.to_set_client_dh()
    expect(c, SecurityError, "data_hash", c.set_client_dh, padding=bytes(12 + 16))


@pytest.mark.parametrize("g_b", [1, 2, (1 << 1984) - 1, P - 1, P - (1 << 1984) + 1])
def test_set_client_dh_g_b_range(g_b: int) -> None:
    c = forged()
    c.to_set_client_dh()
    expect(c, SecurityError, "g_b_range", c.set_client_dh, g_b=g_b)


def test_set_client_dh_retry_id_must_be_zero_at_first() -> None:
    c = forged()
    c.to_set_client_dh()
    expect(c, SecurityError, "retry_id", c.set_client_dh, retry_id=5)


class TakenOnce:
    """known_key_ids for which the first key id asked about is taken."""

    def __init__(self) -> None:
        self.asked = 0

    def __call__(self, key_id: int) -> bool:
        self.asked += 1
        return self.asked == 1


@pytest.mark.parametrize("retry_id", [0, 1, None], ids=["zero", "other", "right"])
def test_set_client_dh_retry_id_must_name_the_previous_key(retry_id: int | None) -> None:
    c = forged(known_key_ids=TakenOnce())
    c.to_set_client_dh()
    assert answer_of(c.set_client_dh()).TL_NAME == "dh_gen_retry"
    first_key = c.key()
    c.b += 1
    if retry_id is not None:
        expect(c, SecurityError, "retry_id", c.set_client_dh, retry_id=retry_id)
        return
    right = int.from_bytes(first_key.aux_hash, "little", signed=True)
    assert answer_of(c.set_client_dh(retry_id=right)).TL_NAME == "dh_gen_ok"
    assert c.server.result is not None and c.server.result.auth_key == c.key() != first_key


# --- order and envelope ----------------------------------------------------------------------

def test_set_client_dh_before_req_dh_params() -> None:
    c = forged()
    c.req_pq()
    expect(c, RemoteProtocolError, "unexpected_request", c.send,
           F.SetClientDHParams(nonce=c.nonce, server_nonce=c.res_pq.server_nonce,
                               encrypted_data=bytes(336)))


def test_req_dh_params_before_req_pq() -> None:
    c = forged()
    expect(c, RemoteProtocolError, "unexpected_request", c.send,
           F.ReqDHParams(nonce=c.nonce, server_nonce=bytes(16), p=b"\x01", q=b"\x01",
                         public_key_fingerprint=1, encrypted_data=bytes(256)))


def test_req_dh_params_twice() -> None:
    c = forged()
    c.req_pq()
    c.req_dh_params()
    c.new_nonce = bytes(32)  # a different request: not a repeat
    expect(c, RemoteProtocolError, "unexpected_request", c.req_dh_params)


def test_not_a_handshake_request() -> None:
    c = forged()
    expect(c, TLDecodeError, "unexpected_constructor", c.send, T.Pong(msg_id=1, ping_id=2))


@pytest.mark.parametrize("msg_id", [1, 2, 3, 6, -4])
def test_client_msg_id_not_a_positive_multiple_of_4(msg_id: int) -> None:
    c = forged()
    with pytest.raises(SecurityError) as caught:
        c.server.receive(pack_plain(msg_id, bytes(F.ReqPqMulti(nonce=bytes(16)))), now=NOW)
    assert caught.value.check == "msg_id"


def test_an_encrypted_message_where_a_plain_one_is_due() -> None:
    c = forged()
    payload = bytearray(pack_plain(8, bytes(F.ReqPqMulti(nonce=bytes(16)))))
    payload[7] = 0x80
    with pytest.raises(TLDecodeError) as caught:
        c.server.receive(bytes(payload), now=NOW)
    assert caught.value.reason == "encrypted"
