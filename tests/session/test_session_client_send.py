"""What a ClientSession sends: msg_ids and seqnos, initConnection, invokeAfterMsg, containers,
gzip, acks, limits, misuse."""

from __future__ import annotations

import struct
from itertools import pairwise

import pytest

from sansio_mtdc.errors import UsageError
from sansio_mtdc.session import (
    LimitExceeded,
    SessionLimits,
    wire,
)
from sansio_mtdc.session.errors import ChainBroken, RequestCancelled
from sansio_mtdc.tl import api, decode, mtproto

from .helpers import INIT, SALT, SESSION, T0, Peer, events, make_client

GET_CONFIG = api.functions.help.GetConfig()


def nearest() -> object:
    return api.functions.help.GetNearestDc()


def test_one_request_goes_alone_with_an_odd_seqno() -> None:
    client, peer = make_client(), Peer()
    client.invoke(GET_CONFIG, token=1, now=T0)
    [packet] = peer.take(client)
    assert not packet.is_container
    [seen] = packet.messages
    assert (seen.salt, seen.session_id) == (SALT, SESSION)
    assert seen.msg_id % 4 == 0 and seen.seqno == 1
    assert seen.body == bytes(GET_CONFIG)
    assert abs(seen.msg_id / 2**32 - T0) < 1
    assert peer.take(client) == []


def test_seqnos_count_content_related_messages_and_ids_increase() -> None:
    client, peer = make_client(), Peer()
    seen = []
    for n in range(5):
        client.invoke(nearest(), token=n, now=T0)
        seen += peer.messages(client)
    assert [m.seqno for m in seen] == [1, 3, 5, 7, 9]
    assert all(b.msg_id > a.msg_id for a, b in pairwise(seen))


def test_container_ids_and_seqnos() -> None:
    client, peer = make_client(), Peer()
    for n in range(3):
        client.invoke(nearest(), token=n, now=T0)
    [packet] = peer.take(client)
    assert packet.is_container
    inner = packet.messages
    assert [m.seqno for m in inner] == [1, 3, 5]
    assert packet.seqno == 6 and packet.seqno % 2 == 0, "a container is not content-related"
    assert all(m.msg_id < packet.msg_id for m in inner)
    assert packet.msg_id % 4 == 0
    assert all(b.msg_id > a.msg_id for a, b in pairwise(inner))


def test_first_request_of_each_connection_carries_init_connection() -> None:
    client, peer = make_client(init=INIT), Peer()
    client.invoke(GET_CONFIG, token=1, now=T0)
    client.invoke(nearest(), token=2, now=T0)
    first, second = peer.messages(client)
    wrapped = first.decoded()
    assert isinstance(wrapped, api.functions.InvokeWithLayer)
    assert wrapped.layer == INIT.layer
    assert isinstance(wrapped.query, api.functions.InitConnection)
    assert wrapped.query.api_id == 12345 and wrapped.query.query == GET_CONFIG
    assert second.body == bytes(nearest())
    client.invoke(nearest(), token=3, now=T0)
    assert peer.messages(client)[0].body == bytes(nearest())
    client.connection_lost(now=T0)
    client.connection_made(now=T0)
    client.invoke(nearest(), token=4, now=T0)
    again = [m for m in peer.messages(client) if m.constructor != wire.MSGS_STATE_REQ]
    assert any(isinstance(m.decoded(), api.functions.InvokeWithLayer) for m in again)


def test_service_functions_are_never_wrapped() -> None:
    client, peer = make_client(init=INIT), Peer()
    client.invoke(mtproto.functions.GetFutureSalts(num=2), token=1, now=T0)
    [seen] = peer.messages(client)
    assert seen.body == bytes(mtproto.functions.GetFutureSalts(num=2))
    client.invoke(GET_CONFIG, token=2, now=T0)
    assert isinstance(peer.messages(client)[0].decoded(), api.functions.InvokeWithLayer)


def test_a_request_wrapped_by_the_caller_is_not_wrapped_again() -> None:
    client, peer = make_client(init=INIT), Peer()
    own = api.functions.InvokeWithLayer(layer=100, query=GET_CONFIG)
    client.invoke(own, token=1, now=T0)
    assert peer.messages(client)[0].body == bytes(own)


def test_after_chains_with_invoke_after_msg_in_the_same_container() -> None:
    client, peer = make_client(init=INIT), Peer()
    importing = api.functions.auth.ImportAuthorization(id=7, bytes=b"secret")
    client.invoke(importing, token="import", now=T0)
    client.invoke(GET_CONFIG, token="config", now=T0, after="import")
    [packet] = peer.take(client)
    assert packet.is_container, "both must leave in one container (one round trip)"
    first, second = packet.messages
    chained = second.decoded()
    assert isinstance(chained, api.functions.InvokeAfterMsg)
    assert chained.msg_id == first.msg_id
    assert chained.query == GET_CONFIG
    # initConnection went on the first; invokeAfterMsg is always the outermost wrapper
    assert isinstance(first.decoded(), api.functions.InvokeWithLayer)


def test_after_the_first_request_of_a_connection_keeps_invoke_after_msg_outermost() -> None:
    client, peer = make_client(init=INIT), Peer()
    client.invoke(nearest(), token="a", now=T0)
    peer.take(client)
    client.connection_lost(now=T0)
    client.connection_made(now=T0)
    client.invoke(GET_CONFIG, token="b", now=T0, after="a")
    chained = [m for m in peer.messages(client) if m.constructor == wire.INVOKE_AFTER_MSG]
    [message] = chained
    outer = message.decoded()
    assert isinstance(outer.query, api.functions.InvokeWithLayer)
    assert outer.query.query.query == GET_CONFIG


def test_after_an_answered_request_uses_its_msg_id() -> None:
    client, peer = make_client(), Peer()
    client.invoke(nearest(), token="a", now=T0)
    [first] = peer.messages(client)
    client.receive(peer.result(first.msg_id, api.types.NearestDc(
        country="NL", this_dc=2, nearest_dc=2)), now=T0)
    events(client)
    client.invoke(GET_CONFIG, token="b", now=T0, after="a")
    second, ack = peer.messages(client)
    assert ack.constructor == wire.MSGS_ACK, "the answer's ack rides along"
    assert second.decoded().msg_id == first.msg_id


def test_after_a_request_cancelled_before_sending_breaks_the_chain() -> None:
    client, peer = make_client(), Peer()
    client.invoke(nearest(), token="a", now=T0)
    client.invoke(GET_CONFIG, token="b", now=T0, after="a")
    assert client.cancel("a", now=T0)
    assert peer.take(client) == []
    got = events(client)
    assert [(e.token, type(e.error)) for e in got] == [("a", RequestCancelled),
                                                       ("b", ChainBroken)]
    assert client.pending() == 0


def test_after_unknown_token_is_a_usage_error() -> None:
    client = make_client()
    with pytest.raises(UsageError):
        client.invoke(GET_CONFIG, token=1, now=T0, after="nobody")
    assert client.pending() == 0


def test_usage_errors_change_nothing() -> None:
    client, peer = make_client(), Peer()
    client.invoke(GET_CONFIG, token=1, now=T0)
    with pytest.raises(UsageError):
        client.invoke(GET_CONFIG, token=1, now=T0)
    with pytest.raises(UsageError):
        client.invoke(GET_CONFIG, token=[1], now=T0)  # type: ignore[arg-type]
    with pytest.raises(UsageError):
        client.invoke(object(), token=2, now=T0)
    with pytest.raises(UsageError):
        client.invoke(mtproto.types.MsgsAck(msg_ids=[1]), token=3, now=T0)
    with pytest.raises(UsageError):
        client.invoke(api.functions.help.GetConfig.__new__(api.functions.InvokeWithLayer),
                      token=4, now=T0)
    assert client.pending() == 1
    assert len(peer.messages(client)) == 1


def test_raw_bytes_requests() -> None:
    class Raw:
        def __bytes__(self) -> bytes:
            return bytes(GET_CONFIG)

    client, peer = make_client(init=INIT), Peer()
    client.invoke(Raw(), token=1, now=T0)
    [seen] = peer.messages(client)
    assert seen.decoded().query.query == GET_CONFIG


def test_container_message_limit() -> None:
    client, peer = make_client(limits=SessionLimits(ping_interval=None, max_pending=2000)), Peer()
    for n in range(1100):
        client.invoke(nearest(), token=n, now=T0)
    packets = peer.take(client)
    assert [len(p.messages) for p in packets] == [1024, 76]
    assert all(p.is_container for p in packets)
    seqnos = [m.seqno for p in packets for m in p.messages]
    assert seqnos == list(range(1, 2200, 2))
    # the second container's messages come after the first container
    assert packets[1].messages[0].msg_id > packets[0].msg_id
    assert packets[1].messages[0].seqno > packets[0].seqno


def upload(size: int, part: int = 0) -> object:
    return api.functions.upload.SaveFilePart(file_id=1, file_part=part, bytes=bytes(size))


def test_container_byte_limit_and_a_message_too_big_goes_alone() -> None:
    client, peer = make_client(), Peer()
    for n in range(3):
        client.invoke(upload(400_000, n), token=n, now=T0)
    client.invoke(upload((1 << 20) + 10), token="big", now=T0)
    client.invoke(nearest(), token="small", now=T0)
    packets = peer.take(client)
    shapes = [(p.is_container, len(p.messages)) for p in packets]
    assert shapes == [(True, 2), (False, 1), (False, 1), (False, 1)]
    assert all(sum(len(m.body) + 16 for m in p.messages) + 8 <= 1 << 20
               for p in packets if p.is_container)
    assert len(packets[2].messages[0].body) > 1 << 20
    ids = [m.msg_id for p in packets for m in p.messages]
    assert ids == sorted(ids)


def test_gzip_only_when_big_enough_and_smaller() -> None:
    client, peer = make_client(), Peer()
    text = api.functions.messages.SendMessage(
        peer=api.types.InputPeerSelf(), message="hello world " * 200, random_id=1)
    small = api.functions.messages.SendMessage(
        peer=api.types.InputPeerSelf(), message="hi", random_id=2)
    random_bytes = bytes((i * 7919 + 13) % 251 for i in range(4000))
    noisy = api.functions.messages.SendMessage(
        peer=api.types.InputPeerSelf(), message=random_bytes.hex()[:10] , random_id=3)
    for n, request in enumerate((text, small, upload(5000), noisy)):
        client.invoke(request, token=n, now=T0)
    bodies = [m.body for m in peer.messages(client)]
    assert struct.unpack_from("<I", bodies[0])[0] == wire.GZIP_PACKED
    assert decode(bodies[0]) == text and len(bodies[0]) < len(bytes(text))
    assert bodies[1] == bytes(small)
    assert bodies[2] == bytes(upload(5000)), "file parts are never compressed"
    assert bodies[3] == bytes(noisy)


def test_gzip_skipped_when_it_does_not_help() -> None:
    import random

    rng = random.Random(5)
    data = rng.randbytes(3000)
    request = api.functions.help.SaveAppLog(events=[api.types.InputAppEvent(
        time=1.0, type="x", peer=1, data=api.types.JsonString(value=data.hex()))])
    client, peer = make_client(limits=SessionLimits(ping_interval=None, gzip_min_size=100)), Peer()
    client.invoke(request, token=1, now=T0)
    body = peer.messages(client)[0].body
    packed = wire.gzip_packed(bytes(request))
    assert (body == packed) == (len(packed) < len(bytes(request)))


def test_pending_limit_and_message_size_limit_fail_the_request() -> None:
    limits = SessionLimits(ping_interval=None, max_pending=2, max_message_bytes=1000)
    client = make_client(limits=limits)
    client.invoke(nearest(), token=1, now=T0)
    client.invoke(nearest(), token=2, now=T0)
    client.invoke(nearest(), token=3, now=T0)
    client.invoke(upload(2000), token=4, now=T0)
    got = events(client)
    assert [(e.token, type(e.error)) for e in got] == [(3, LimitExceeded), (4, LimitExceeded)]
    assert got[0].error.what == "pending requests"
    assert client.pending() == 2


def test_nothing_is_sent_before_connection_made() -> None:
    client = make_client(connect=False)
    client.invoke(nearest(), token=1, now=T0)
    assert client.data_to_send(now=T0) == []
    client.connection_made(now=T0)
    assert len(client.data_to_send(now=T0)) == 1


def test_cancel_unsent_sends_nothing_and_fails_once() -> None:
    client, peer = make_client(), Peer()
    client.invoke(nearest(), token=1, now=T0)
    assert client.cancel(1, now=T0)
    assert not client.cancel(1, now=T0)
    assert peer.take(client) == []
    [event] = events(client)
    assert event.token == 1 and isinstance(event.error, RequestCancelled)
    assert client.pending() == 0


def test_cancel_sent_asks_the_server_to_drop_the_answer_and_ignores_it() -> None:
    client, peer = make_client(), Peer()
    client.invoke(nearest(), token=1, now=T0)
    [sent] = peer.messages(client)
    assert client.cancel(1, now=T0)
    [drop] = peer.messages(client)
    assert decode(drop.body) == mtproto.functions.RpcDropAnswer(req_msg_id=sent.msg_id)
    assert drop.seqno % 2 == 1
    client.receive(peer.result(sent.msg_id, api.types.NearestDc(
        country="NL", this_dc=2, nearest_dc=2)), now=T0)
    client.receive(peer.result(drop.msg_id, mtproto.types.RpcAnswerDroppedRunning()), now=T0)
    got = events(client)
    assert len(got) == 1 and isinstance(got[0].error, RequestCancelled)
    assert client.dropped["unknown_answer"] == 1


def test_ids_never_repeat_after_the_clock_is_set_back() -> None:
    client, peer = make_client(time_offset=40.0), Peer()
    client.invoke(nearest(), token=1, now=T0)
    [first] = peer.messages(client)
    # the server says the clock is ahead: ids go back, yet never reuse one already sent
    bad = peer.packet(bytes(mtproto.types.BadMsgNotification(
        bad_msg_id=first.msg_id, bad_msg_seqno=first.seqno, error_code=17)), seqno=0,
        now=T0)
    client.receive(bad, now=T0)
    resent = peer.messages(client, now=T0 + 40)
    assert resent[0].msg_id != first.msg_id
