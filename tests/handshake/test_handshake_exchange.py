"""The two halves against each other in memory: permanent and temporary keys, RSA_PAD and the
legacy scheme, dh_gen_retry, repeated and restarted requests, the DC check."""

from __future__ import annotations

from typing import Any

import pytest

from sansio_mtdc.crypto import REFERENCE_CLUSTER_KEYS, ige256_decrypt, initial_server_salt_int
from sansio_mtdc.errors import SecurityError, UsageError
from sansio_mtdc.handshake import (
    TRANSPORT_ERROR_WRONG_DC,
    ClientHandshake,
    ClientState,
    HandshakeRejected,
    ServerHandshake,
    ServerState,
    unpack_plain,
)
from sansio_mtdc.tl import read_object

from .peers import NOW, ForgedClient, SeededRandom, answer_of, new_pair, private_key, run_exchange


@pytest.mark.parametrize("seed", range(12))
def test_client_and_server_agree(seed: int) -> None:
    client, server = new_pair(seed)
    assert run_exchange(client, server) == 3
    assert client.done and server.done
    assert client.result is not None and server.result is not None
    assert client.result.auth_key == server.result.auth_key
    assert client.result.auth_key.id == server.result.auth_key_id
    assert client.result.server_salt == server.result.server_salt
    assert client.result.expires_at is None and not client.result.temporary
    assert not server.result.temporary
    assert server.result.dc == 2 and server.result.rsa_scheme == "rsa_pad"
    assert client.result.time_offset == pytest.approx(int(NOW) - NOW)
    assert client.state is ClientState.DONE and server.state is ServerState.DONE
    assert client.data_to_send() == [] and server.data_to_send() == []


def test_the_same_seeds_give_the_same_bytes() -> None:
    transcripts = []
    for _ in range(2):
        client, server = new_pair("same")
        log: list[bytes] = []
        for _trip in range(3):
            sent = client.data_to_send()
            log += sent
            for payload in sent:
                server.receive(payload, now=NOW)
            answers = server.data_to_send()
            log += answers
            for payload in answers:
                client.receive(payload, now=NOW)
        transcripts.append(log)
    assert transcripts[0] == transcripts[1]
    assert len(transcripts[0]) == 6


@pytest.mark.parametrize("seed", range(4))
def test_temporary_key(seed: int) -> None:
    client, server = new_pair(f"temp-{seed}", temp_expires_in=3600)
    run_exchange(client, server)
    assert client.result is not None and server.result is not None
    assert client.result.temporary and server.result.temporary
    assert client.result.expires_at == server.result.expires_at == int(NOW) + 3600
    assert client.result.auth_key == server.result.auth_key


@pytest.mark.parametrize("dc_id", [2, -2, 10002, -10002])
def test_dc_ids_as_the_client_writes_them(dc_id: int) -> None:
    client = ClientHandshake(dc_id=dc_id, keys=REFERENCE_CLUSTER_KEYS,
                             random=SeededRandom(dc_id), now=NOW)
    server = ServerHandshake(private_key=private_key(), dc_id=abs(dc_id),
                             random=SeededRandom(-dc_id), now=NOW)
    run_exchange(client, server)
    assert server.result is not None and server.result.dc == dc_id


def test_wrong_dc_is_rejected_with_444() -> None:
    client = ClientHandshake(dc_id=10002, keys=REFERENCE_CLUSTER_KEYS,
                             random=SeededRandom(1), now=NOW)
    server = ServerHandshake(private_key=private_key(), dc_id=2, random=SeededRandom(2),
                             now=NOW)
    with pytest.raises(HandshakeRejected) as caught:
        run_exchange(client, server)
    assert caught.value.code == TRANSPORT_ERROR_WRONG_DC == -444
    assert caught.value.reason == "wrong_dc"
    assert server.state is ServerState.FAILED and server.error is caught.value
    assert server.data_to_send() == []


def test_accepted_dc_ids_override() -> None:
    client = ClientHandshake(dc_id=4, keys=REFERENCE_CLUSTER_KEYS,
                             random=SeededRandom(3), now=NOW)
    server = ServerHandshake(private_key=private_key(), dc_id=2, random=SeededRandom(4),
                             now=NOW, accepted_dc_ids={2, 4})
    run_exchange(client, server)
    assert server.done


class CollidesOnce:
    """known_key_ids that reports the first key id it sees as taken."""

    def __init__(self, times: int = 1) -> None:
        self.times = times
        self.asked: list[int] = []

    def __call__(self, key_id: int) -> bool:
        self.asked.append(key_id)
        return len(self.asked) <= self.times


@pytest.mark.parametrize("seed", range(3))
def test_dh_gen_retry_then_ok(seed: int) -> None:
    known = CollidesOnce()
    client, server = new_pair(f"retry-{seed}", server_kwargs={"known_key_ids": known})
    assert run_exchange(client, server) == 4
    assert client.result is not None and server.result is not None
    assert client.result.auth_key == server.result.auth_key
    assert len(known.asked) == 2 and known.asked[0] != known.asked[1]
    assert known.asked[1] == client.result.auth_key.id
    # the salt depends on the nonces only, not on the retry
    assert client.result.server_salt == server.result.server_salt


def test_retries_past_the_client_bound() -> None:
    client, server = new_pair("retries", max_retries=2,
                              server_kwargs={"known_key_ids": CollidesOnce(times=10)})
    with pytest.raises(SecurityError) as caught:
        run_exchange(client, server)
    assert caught.value.check == "retries"
    assert client.state is ClientState.FAILED


def test_server_refuses_after_its_bound_with_dh_gen_fail() -> None:
    client, server = new_pair("refused", max_retries=5,
                              server_kwargs={"known_key_ids": CollidesOnce(times=10),
                                             "max_retries": 1})
    with pytest.raises(SecurityError) as caught:
        run_exchange(client, server)
    assert caught.value.check == "dh_gen_fail"
    assert server.state is ServerState.REFUSED and server.result is None


@pytest.mark.parametrize("kind", ["plain", "temp", "dc", "temp_dc"])
@pytest.mark.parametrize("legacy", [False, True], ids=["rsa_pad", "legacy_rsa"])
def test_server_takes_every_inner_data_under_both_schemes(kind: str, legacy: bool) -> None:
    server = ServerHandshake(private_key=private_key(), dc_id=2,
                             random=SeededRandom(f"{kind}{legacy}"), now=NOW)
    client = ForgedClient(server)
    client.req_pq(legacy=kind == "plain")
    (answer,) = client.req_dh_params(inner=client.inner(kind), legacy=legacy)
    ok = answer_of([answer])
    assert ok.TL_NAME == "server_DH_params_ok"
    key, iv = client.tmp
    client.dh_inner, _ = read_object(ige256_decrypt(ok.encrypted_answer, key, iv), 20)
    dh_gen = answer_of(client.set_client_dh())
    assert dh_gen.TL_NAME == "dh_gen_ok"
    assert server.result is not None
    assert server.result.auth_key == client.key()
    assert server.result.rsa_scheme == ("legacy" if legacy else "rsa_pad")
    assert server.result.temporary == ("temp" in kind)
    assert server.result.dc == (2 if "dc" in kind else None)
    assert server.result.server_salt == initial_server_salt_int(
        client.new_nonce, client.res_pq.server_nonce)


def test_repeated_request_gets_the_same_answer() -> None:
    client, server = new_pair("repeat")
    (req_pq,) = client.data_to_send()
    server.receive(req_pq, now=NOW)
    first = server.data_to_send()
    server.receive(req_pq, now=NOW + 1)
    again = server.data_to_send()
    assert unpack_plain(first[0])[1] == unpack_plain(again[0])[1]
    assert unpack_plain(again[0])[0] > unpack_plain(first[0])[0]
    client.receive(again[0], now=NOW)
    (req_dh,) = client.data_to_send()
    server.receive(req_dh, now=NOW)
    answer = server.data_to_send()
    client.retransmit()
    assert client.data_to_send() == [req_dh]
    server.receive(req_dh, now=NOW)
    assert unpack_plain(server.data_to_send()[0])[1] == unpack_plain(answer[0])[1]
    client.receive(answer[0], now=NOW)
    run_exchange(client, server)
    assert client.result is not None and server.result is not None
    assert client.result.auth_key == server.result.auth_key


def test_a_new_req_pq_multi_starts_over() -> None:
    first, server = new_pair("restart")
    server.receive(first.data_to_send()[0], now=NOW)
    first.receive(server.data_to_send()[0], now=NOW)
    first.data_to_send()
    second = ClientHandshake(dc_id=2, keys=REFERENCE_CLUSTER_KEYS,
                             random=SeededRandom("second"), now=NOW)
    run_exchange(second, server)
    assert second.result is not None and server.result is not None
    assert second.result.auth_key == server.result.auth_key
    # and after a finished exchange, a new one on the same connection makes a new key
    third = ClientHandshake(dc_id=2, keys=REFERENCE_CLUSTER_KEYS,
                            random=SeededRandom("third"), now=NOW)
    (req,) = third.data_to_send()
    server.receive(req, now=NOW)
    assert not server.done and server.result is None
    third.receive(server.data_to_send()[0], now=NOW)
    run_exchange(third, server)
    assert third.result is not None and server.result is not None
    assert third.result.auth_key == server.result.auth_key != second.result.auth_key


def test_client_msg_ids_follow_server_time() -> None:
    client, server = new_pair("ids")
    ids = []
    for _ in range(3):
        for payload in client.data_to_send():
            ids.append(unpack_plain(payload)[0])
            server.receive(payload, now=NOW)
        for payload in server.data_to_send():
            client.receive(payload, now=NOW)
    assert all(i % 4 == 0 for i in ids)
    assert ids[0] < ids[1] and abs(ids[0] / 2**32 - NOW) < 1e-3
    # after server_DH_params, ids follow the server's clock (server_time = int(NOW), a quarter
    # second behind ours), as the session's MsgIdClock does once its offset is known
    assert abs(ids[2] / 2**32 - int(NOW)) < 1e-3


def test_server_msg_ids_are_odd_answers_and_increase() -> None:
    client, server = new_pair("server-ids")
    ids = []
    for _ in range(3):
        for payload in client.data_to_send():
            server.receive(payload, now=NOW)
        for payload in server.data_to_send():
            ids.append(unpack_plain(payload)[0])
            client.receive(payload, now=NOW)
    assert all(i % 4 == 1 for i in ids)
    assert ids == sorted(set(ids))


def test_usage_errors_leave_the_machine_as_it_was() -> None:
    client, server = new_pair("usage")
    with pytest.raises(UsageError):
        client.receive(b"", now=float("nan"))
    with pytest.raises(UsageError):
        client.receive(b"", now=-1)
    assert client.state is ClientState.AWAITING_RES_PQ
    run_exchange(client, server)
    with pytest.raises(UsageError):
        client.receive(b"x" * 40, now=NOW)
    with pytest.raises(UsageError):
        client.retransmit()


@pytest.mark.parametrize("kwargs", [
    {"dc_id": 0}, {"dc_id": True}, {"dc_id": 1 << 31}, {"temp_expires_in": 0},
    {"temp_expires_in": -5}, {"max_retries": -1}, {"now": float("inf")}, {"keys": object()},
    {"random": b"not callable"},
])
def test_client_arguments(kwargs: dict[str, Any]) -> None:
    args: dict[str, Any] = dict(dc_id=2, keys=REFERENCE_CLUSTER_KEYS, random=SeededRandom(0),
                                now=NOW)
    args.update(kwargs)
    with pytest.raises(UsageError):
        ClientHandshake(**args)


def test_a_random_source_of_the_wrong_size_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        ClientHandshake(dc_id=2, keys=REFERENCE_CLUSTER_KEYS, random=lambda n: b"short",
                        now=NOW)


@pytest.mark.parametrize("kwargs", [
    {"dc_id": 0}, {"dc_id": -2}, {"g": 2}, {"dh_prime": (1 << 2047) + 1}, {"max_retries": -1},
    {"private_key": "key"}, {"known_key_ids": 5},
])
def test_server_arguments(kwargs: dict[str, Any]) -> None:
    args: dict[str, Any] = dict(private_key=private_key(), dc_id=2, random=SeededRandom(0),
                                now=NOW)
    args.update(kwargs)
    with pytest.raises(UsageError):
        ServerHandshake(**args)


def test_repeated_answers_after_a_retransmission_are_ignored() -> None:
    client, server = new_pair("twice")
    for _ in range(3):
        client.retransmit()  # every request goes out twice, so every answer comes twice
        for payload in client.data_to_send():
            server.receive(payload, now=NOW)
        answers = server.data_to_send()
        assert len(answers) == 2 and unpack_plain(answers[0])[1] == unpack_plain(answers[1])[1]
        for payload in answers:
            client.receive(payload, now=NOW)
    assert client.done and server.done
    assert client.result is not None and server.result is not None
    assert client.result.auth_key == server.result.auth_key
    # once done, only a repeat of the last answer is ignored; anything else is misuse
    with pytest.raises(UsageError):
        client.receive(answers[0][:-1] + bytes([answers[0][-1] ^ 1]), now=NOW)
    client.receive(answers[0], now=NOW)
    assert client.done
