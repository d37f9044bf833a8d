"""ServerSession against a scripted client: what a server checks and answers."""

from __future__ import annotations

import struct

import pytest

from sansio_mtdc.errors import RPCError, SecurityError, UsageError
from sansio_mtdc.session import (
    ConnectionFailed,
    IncomingRequest,
    PingTimeout,
    SaltSchedule,
    ServerLimits,
    auth_key_id_of,
    decrypt_client_packet,
    session_id_of,
    wire,
)
from sansio_mtdc.tl import api, decode, mtproto

from .helpers import KEY, OTHER_KEY, SALT, SESSION, T0, ClientPeer, events, make_server, seeded

NEAREST = api.types.NearestDc(country="NL", this_dc=2, nearest_dc=2)
GET_NEAREST = api.functions.help.GetNearestDc()
t = mtproto.types


def bodies(messages: list) -> list:
    return [decode(m.body) for m in messages]


def started() -> tuple:
    """A server session past its first request (new_session_created already out)."""
    server, peer = make_server(), ClientPeer()
    server.receive(peer.packet(GET_NEAREST), now=T0)
    [request] = events(server)
    server.reply(request.msg_id, NEAREST, now=T0)
    peer.take(server)
    return server, peer


def test_first_request_gets_new_session_created_then_its_answer() -> None:
    server, peer = make_server(), ClientPeer()
    msg_id = peer.msg_id()
    server.receive(peer.packet(GET_NEAREST, msg_id=msg_id), now=T0)
    [request] = events(server)
    assert isinstance(request, IncomingRequest)
    assert request.msg_id == msg_id and request.request == GET_NEAREST
    server.reply(msg_id, NEAREST, now=T0)
    [packet] = peer.take(server)
    assert packet.is_container and packet.msg_id % 2 == 1
    created, answer = packet.messages
    note = decode(created.body)
    assert isinstance(note, t.NewSessionCreated)
    assert note.first_msg_id == msg_id and note.server_salt == SALT
    assert created.msg_id % 4 == 3 and created.seqno == 1
    result = decode(answer.body)
    assert result.req_msg_id == msg_id and result.result == NEAREST
    assert answer.msg_id % 4 == 1 and answer.seqno == 3
    assert packet.salt == SALT and packet.session_id == SESSION


def test_first_msg_id_is_the_lowest_of_the_first_container() -> None:
    server, peer = make_server(), ClientPeer()
    first, second = peer.item(GET_NEAREST), peer.item(GET_NEAREST)
    server.receive(peer.container([first, second]), now=T0)
    assert len(events(server)) == 2
    note = decode(peer.messages(server)[0].body)
    assert note.first_msg_id == first[0]


def test_a_lower_msg_id_later_gets_another_new_session_created() -> None:
    server, peer = make_server(), ClientPeer()
    low, high = peer.msg_id(), peer.msg_id()
    server.receive(peer.packet(GET_NEAREST, msg_id=high, seqno=3), now=T0)
    server.receive(peer.packet(GET_NEAREST, msg_id=low, seqno=1), now=T0)
    notes = [b for b in bodies(peer.messages(server)) if isinstance(b, t.NewSessionCreated)]
    assert [n.first_msg_id for n in notes] == [high, low]


def notifications(server: object, peer: ClientPeer) -> list:
    return [b for b in bodies(peer.messages(server))  # type: ignore[arg-type]
            if isinstance(b, (t.BadMsgNotification, t.BadServerSalt))]


def test_msg_id_parity_is_code_18() -> None:
    server, peer = make_server(), ClientPeer()
    bad = peer.msg_id() + 2
    server.receive(peer.packet(GET_NEAREST, msg_id=bad), now=T0)
    assert events(server) == []
    [note] = notifications(server, peer)
    assert (note.bad_msg_id, note.error_code) == (bad, 18)


@pytest.mark.parametrize(("skew", "code"), [(-301.0, 16), (31.0, 17)])
def test_msg_id_time_is_code_16_or_17(skew: float, code: int) -> None:
    server, peer = make_server(), ClientPeer()
    msg_id = peer.msg_id(T0 + skew)
    server.receive(peer.packet(GET_NEAREST, msg_id=msg_id), now=T0)
    assert events(server) == []
    [packet] = peer.take(server)
    [seen] = packet.messages
    note = decode(seen.body)
    assert (note.bad_msg_id, note.error_code) == (msg_id, code)
    assert abs(seen.msg_id / 2**32 - T0) < 1, "the notification's msg_id carries server time"
    assert seen.seqno % 2 == 0


@pytest.mark.parametrize("salt", [0, SALT + 1])
def test_a_wrong_salt_gets_bad_server_salt_with_the_current_one(salt: int) -> None:
    server, peer = make_server(), ClientPeer()
    msg_id = peer.msg_id()
    server.receive(peer.packet(GET_NEAREST, msg_id=msg_id, salt=salt), now=T0)
    assert events(server) == []
    [note] = notifications(server, peer)
    assert isinstance(note, t.BadServerSalt)
    assert (note.bad_msg_id, note.error_code, note.new_server_salt) == (msg_id, 48, SALT)


def test_salt_schedule_accepts_the_previous_salt_for_the_overlap() -> None:
    schedule = SaltSchedule(seeded(3), start=T0, period=3600, overlap=1800)
    first = schedule.current(T0)
    second = schedule.current(T0 + 3600)
    assert first != second
    assert schedule.accepts(first, T0 + 3600 + 1799)
    assert not schedule.accepts(first, T0 + 3600 + 1801)
    assert not schedule.accepts(0, T0)
    future = schedule.future(T0 + 10, 3)
    assert [s[2] for s in future[:2]] == [first, second]
    assert future[0][0] == int(T0) and future[0][1] == int(T0) + 3600 + 1800
    server = make_server(salts=schedule)
    peer = ClientPeer(salt=first)
    server.receive(peer.packet(GET_NEAREST, now=T0 + 4000), now=T0 + 4000)
    assert len(events(server)) == 1


def test_seqno_codes() -> None:
    server, peer = started()
    ack = bytes(t.MsgsAck(msg_ids=[1]))
    odd_ack = peer.msg_id()
    server.receive(peer.packet(ack, msg_id=odd_ack, seqno=peer.seq * 2 + 1), now=T0)
    even_request = peer.msg_id()
    server.receive(peer.packet(GET_NEAREST, msg_id=even_request, seqno=peer.seq * 2), now=T0)
    # a later msg_id with a lower seqno, and an earlier msg_id with a higher one
    early, middle, late = peer.msg_id(), peer.msg_id(), peer.msg_id()
    server.receive(peer.packet(GET_NEAREST, msg_id=middle, seqno=41), now=T0)
    assert len(events(server)) == 1
    server.receive(peer.packet(GET_NEAREST, msg_id=late, seqno=39), now=T0)
    server.receive(peer.packet(GET_NEAREST, msg_id=early, seqno=45), now=T0)
    server.receive(peer.packet(GET_NEAREST, msg_id=peer.msg_id(), seqno=41), now=T0)
    assert events(server) == []
    notes = notifications(server, peer)
    assert [(n.bad_msg_id, n.error_code) for n in notes] == [
        (odd_ack, 34), (even_request, 35), (late, 32), (early, 33), (notes[-1].bad_msg_id, 32)]


def test_service_functions_may_be_either_content_related_or_not() -> None:
    server, peer = started()
    server.receive(peer.packet(mtproto.functions.Ping(ping_id=1), content=False), now=T0)
    server.receive(peer.packet(mtproto.functions.Ping(ping_id=2), content=True), now=T0)
    assert [b.ping_id for b in bodies(peer.messages(server)) if isinstance(b, t.Pong)] == [1, 2]


@pytest.mark.parametrize("shape", ["nested", "inner_id_too_high", "odd_seqno", "reused_id"])
def test_bad_containers(shape: str) -> None:
    server, peer = started()
    inner = [peer.item(GET_NEAREST)]
    container_id = peer.msg_id()
    seqno = None
    expected = 64
    if shape == "nested":
        inner = [(peer.msg_id(), 0, wire.pack_container(inner))]
        container_id = peer.msg_id()
    elif shape == "inner_id_too_high":
        inner.append((container_id + 4, peer.seqno(), bytes(GET_NEAREST)))
    elif shape == "odd_seqno":
        seqno, expected = 7, 34
    else:  # the container's msg_id was already used by a message
        server.receive(peer.packet(GET_NEAREST, msg_id=container_id, seqno=inner[0][1] + 2),
                       now=T0)
        events(server)
        peer.messages(server)
        expected = 19
    server.receive(peer.container(inner, msg_id=container_id, seqno=seqno), now=T0)
    assert events(server) == []
    [note] = notifications(server, peer)
    assert (note.bad_msg_id, note.error_code) == (container_id, expected)


def test_a_repeated_request_is_never_executed_twice() -> None:
    server, peer = make_server(), ClientPeer()
    msg_id, seqno = peer.msg_id(), peer.seqno()
    payload = peer.packet(GET_NEAREST, msg_id=msg_id, seqno=seqno)
    server.receive(payload, now=T0)
    [_request] = events(server)
    server.receive(payload, now=T0)  # still executing: only acknowledged
    assert events(server) == []
    first = peer.messages(server)
    assert [decode(m.body).msg_ids for m in first if m.constructor == wire.MSGS_ACK] == [[msg_id]]
    server.reply(msg_id, NEAREST, now=T0)
    [answer] = [m for m in peer.messages(server) if m.constructor == wire.RPC_RESULT]
    # the client sends it again, inside a container with its msg_id (after a reconnect)
    server.receive(peer.container([(msg_id, seqno, bytes(GET_NEAREST))]), now=T0)
    assert events(server) == []
    [packet] = peer.take(server)
    assert packet.is_container, "a message sent again with its msg_id goes in a container"
    [again] = packet.messages
    assert (again.msg_id, again.seqno, again.body) == (answer.msg_id, answer.seqno, answer.body)
    assert server.dropped["duplicate"] == 2


def test_a_repeat_of_a_big_answer_gets_msg_detailed_info() -> None:
    server, peer = make_server(limits=ServerLimits(resend_answer_max=100)), ClientPeer()
    msg_id, seqno = peer.msg_id(), peer.seqno()
    server.receive(peer.packet(GET_NEAREST, msg_id=msg_id, seqno=seqno), now=T0)
    [_request] = events(server)
    big = api.types.help.Support(phone_number="1" * 300, user=api.types.UserEmpty(id=1))
    server.reply(msg_id, big, now=T0)
    [answer] = [m for m in peer.messages(server) if m.constructor == wire.RPC_RESULT]
    server.receive(peer.container([(msg_id, seqno, bytes(GET_NEAREST))]), now=T0)
    [info] = bodies(peer.messages(server))
    assert info == t.MsgDetailedInfo(msg_id=msg_id, answer_msg_id=answer.msg_id,
                                     bytes=len(answer.body), status=0)
    server.receive(peer.packet(t.MsgResendReq(msg_ids=[answer.msg_id]), content=False), now=T0)
    [packet] = peer.take(server)
    assert packet.is_container and packet.messages[0].body == answer.body


def test_ids_below_the_window_get_code_20() -> None:
    server, peer = make_server(limits=ServerLimits(dedup_window=3)), ClientPeer()
    ids = [peer.msg_id() for _ in range(6)]
    seqnos = [peer.seqno() for _ in range(6)]
    for msg_id, seqno in zip(ids[2:], seqnos[2:]):
        server.receive(peer.packet(mtproto.functions.Ping(ping_id=msg_id), msg_id=msg_id,
                                   seqno=seqno), now=T0)
    peer.messages(server)
    server.receive(peer.packet(GET_NEAREST, msg_id=ids[0], seqno=seqnos[0]), now=T0)
    assert events(server) == []
    assert [n.error_code for n in notifications(server, peer)] == [20]


def test_an_old_unknown_message_in_a_container_gets_code_20() -> None:
    server, peer = make_server(), ClientPeer()
    old = (peer.msg_id(T0 - 400), peer.seqno(), bytes(GET_NEAREST))
    server.receive(peer.container([old]), now=T0)
    assert events(server) == []
    assert [(n.bad_msg_id, n.error_code) for n in notifications(server, peer)] == [(old[0], 20)]


@pytest.mark.parametrize(("body", "message"), [
    (struct.pack("<I", 0x12345678), "INPUT_METHOD_INVALID"),
    (struct.pack("<II", 0x1FB33026, 0) , "INPUT_FETCH_FAIL"),  # a method with stray bytes
    (bytes(api.functions.users.GetUsers(id=[api.types.InputUserSelf()]))[:12]
     + struct.pack("<I", 0x0BADF00D), "INPUT_CONSTRUCTOR_INVALID"),
    (bytes(api.types.NearestDc(country="x", this_dc=1, nearest_dc=1)), "INPUT_METHOD_INVALID"),
])
def test_undecodable_requests_get_rpc_error_400(body: bytes, message: str) -> None:
    server, peer = started()
    msg_id = peer.msg_id()
    server.receive(peer.packet(body, msg_id=msg_id), now=T0)
    assert events(server) == []
    [answer] = bodies(peer.messages(server))
    assert answer.req_msg_id == msg_id
    assert wire.unpack_rpc_error(bytes(answer.result)) == RPCError(400, message)


def test_wrappers_are_taken_off_and_described() -> None:
    server, peer = started()
    init = api.functions.InitConnection(
        api_id=1, device_model="m", system_version="s", app_version="a", system_lang_code="en",
        lang_pack="", lang_code="en", query=api.functions.InvokeWithoutUpdates(query=GET_NEAREST))
    query = api.functions.InvokeAfterMsg(msg_id=88, query=api.functions.InvokeWithLayer(
        layer=228, query=init))
    server.receive(peer.packet(wire.gzip_packed(bytes(query))), now=T0)
    [request] = events(server)
    assert request.query == query and request.request == GET_NEAREST
    assert request.after == (88,) and request.layer == 228 and request.init == init
    assert request.without_updates
    assert [type(w).__name__ for w in request.wrappers] == [
        "InvokeAfterMsg", "InvokeWithLayer", "InitConnection", "InvokeWithoutUpdates"]


def test_rpc_drop_answer_cases() -> None:
    server, peer = started()
    running, answered = peer.msg_id(), peer.msg_id()
    server.receive(peer.packet(GET_NEAREST, msg_id=running), now=T0)
    server.receive(peer.packet(GET_NEAREST, msg_id=answered), now=T0)
    first, second = events(server)
    server.reply(answered, NEAREST, now=T0)  # queued, not sent yet
    drops = [peer.item(mtproto.functions.RpcDropAnswer(req_msg_id=i))
             for i in (running, answered, 12345)]
    server.receive(peer.container(drops), now=T0)
    server.reply(running, NEAREST, now=T0)
    results = {b.req_msg_id: b.result for b in bodies(peer.messages(server))
               if isinstance(b, t.RpcResult)}
    assert answered not in results, "a dropped answer is not sent"
    assert results[running] == t.RpcAnswerDroppedRunning()
    assert results[drops[0][0]] == t.RpcAnswerDroppedRunning()
    assert isinstance(results[drops[1][0]], t.RpcAnswerDropped)
    assert results[drops[2][0]] == t.RpcAnswerUnknown()
    _ = first, second


def test_ping_and_ping_delay_disconnect() -> None:
    server, peer = started()
    ping_msg = peer.msg_id()
    server.receive(peer.packet(mtproto.functions.Ping(ping_id=7), msg_id=ping_msg), now=T0)
    [pong] = peer.messages(server)
    assert decode(pong.body) == t.Pong(msg_id=ping_msg, ping_id=7) and pong.msg_id % 4 == 1
    assert server.get_timer() is None
    server.receive(peer.packet(mtproto.functions.PingDelayDisconnect(
        ping_id=8, disconnect_delay=75)), now=T0)
    assert server.get_timer() == T0 + 75
    server.receive(peer.packet(mtproto.functions.PingDelayDisconnect(
        ping_id=9, disconnect_delay=75), now=T0 + 60), now=T0 + 60)
    server.handle_timer(now=T0 + 80)
    assert events(server) == []
    server.handle_timer(now=T0 + 135)
    [event] = events(server)
    assert isinstance(event, ConnectionFailed) and isinstance(event.error, PingTimeout)


def test_get_future_salts() -> None:
    schedule = SaltSchedule(seeded(4), start=T0, period=3600, overlap=1800)
    server = make_server(salts=schedule)
    peer = ClientPeer(salt=schedule.current(T0))
    msg_id = peer.msg_id()
    server.receive(peer.packet(mtproto.functions.GetFutureSalts(num=3), msg_id=msg_id), now=T0)
    salts = [b for b in bodies(peer.messages(server)) if isinstance(b, t.FutureSalts)]
    [answer] = salts
    assert answer.req_msg_id == msg_id and answer.now == int(T0)
    assert [s.salt for s in answer.salts] == [s for _, _, s in schedule.future(T0, 3)]


def test_msgs_state_req_and_resend_req() -> None:
    server, peer = make_server(), ClientPeer()
    known = peer.msg_id()
    server.receive(peer.packet(GET_NEAREST, msg_id=known), now=T0)
    [_request] = events(server)
    gap = peer.msg_id()
    later = peer.msg_id()
    server.receive(peer.packet(mtproto.functions.Ping(ping_id=1), msg_id=later), now=T0)
    peer.messages(server)
    ask = peer.msg_id()
    future = peer.msg_id() + 1000
    server.receive(peer.packet(t.MsgsStateReq(msg_ids=[known, gap, future]), msg_id=ask,
                               content=False), now=T0)
    [info] = bodies(peer.messages(server))
    assert info.req_msg_id == ask
    assert [s & 7 for s in info.info] == [4, 2, 3] and info.info[0] & 32
    server.receive(peer.packet(t.MsgResendReq(msg_ids=[12]), content=False), now=T0)
    [info] = bodies(peer.messages(server))
    assert isinstance(info, t.MsgsStateInfo) and list(info.info) == [1]


def test_big_results_are_gzipped() -> None:
    server, peer = started()
    msg_id = peer.msg_id()
    server.receive(peer.packet(GET_NEAREST, msg_id=msg_id), now=T0)
    [_request] = events(server)
    big = api.types.help.Support(phone_number="12" * 2000, user=api.types.UserEmpty(id=1))
    server.reply(msg_id, big, now=T0)
    [answer] = peer.messages(server)
    assert answer.body[12:16] == struct.pack("<I", wire.GZIP_PACKED)
    assert decode(answer.body).result == big


def test_unacknowledged_messages_go_again_on_a_new_connection() -> None:
    server, peer = make_server(), ClientPeer()
    server.receive(peer.packet(GET_NEAREST), now=T0)
    [request] = events(server)
    server.reply(request.msg_id, NEAREST, now=T0)
    update = server.push(api.types.UpdatesTooLong(), now=T0)
    sent = peer.messages(server)
    assert update % 4 == 3 and [m.seqno % 2 for m in sent] == [1, 1, 1]
    server.receive(peer.packet(t.MsgsAck(msg_ids=[sent[0].msg_id]), content=False), now=T0)
    server.connection_lost(now=T0)
    server.connection_made(now=T0 + 1)
    [packet] = peer.take(server, now=T0 + 1)
    assert packet.is_container
    assert [(m.msg_id, m.body) for m in packet.messages] == [(m.msg_id, m.body) for m in sent[1:]]
    assert server.unacknowledged() == 2


def test_busy_server_answers_at_once() -> None:
    server, peer = make_server(limits=ServerLimits(max_executing=1)), ClientPeer()
    server.receive(peer.packet(GET_NEAREST), now=T0)
    second = peer.msg_id()
    server.receive(peer.packet(GET_NEAREST, msg_id=second), now=T0)
    assert len(events(server)) == 1
    [error] = [b for b in bodies(peer.messages(server)) if isinstance(b, t.RpcResult)]
    assert error.req_msg_id == second
    assert wire.unpack_rpc_error(bytes(error.result)).message == "WORKER_BUSY_TOO_LONG_RETRY"


def test_reply_misuse_is_a_usage_error() -> None:
    server, peer = make_server(), ClientPeer()
    with pytest.raises(UsageError):
        server.reply(1234, NEAREST, now=T0)
    server.receive(peer.packet(GET_NEAREST), now=T0)
    [request] = events(server)
    with pytest.raises(UsageError):
        server.reply(request.msg_id, object(), now=T0)
    server.reply(request.msg_id, RPCError(400, "BAD"), now=T0)
    [answer] = [b for b in bodies(peer.messages(server)) if isinstance(b, t.RpcResult)]
    assert wire.unpack_rpc_error(bytes(answer.result)) == RPCError(400, "BAD")


def test_routing_helpers_and_packet_checks() -> None:
    peer = ClientPeer()
    payload = peer.packet(GET_NEAREST)
    assert auth_key_id_of(payload) == KEY.id
    plain = decrypt_client_packet(KEY, payload + b"\0" * 7)
    assert session_id_of(plain) == SESSION
    with pytest.raises(SecurityError):
        decrypt_client_packet(OTHER_KEY, payload)
    with pytest.raises(SecurityError):
        auth_key_id_of(b"1234")
    server = make_server()
    server.receive(ClientPeer(session_id=SESSION + 1).packet(GET_NEAREST), now=T0)
    [event] = events(server)
    assert isinstance(event, ConnectionFailed) and event.error.check == "session_id"


def test_server_receive_never_raises() -> None:
    import random

    rng = random.Random(8)
    server = make_server()
    for size in [*range(70), 300]:
        server.receive(rng.randbytes(size), now=T0)
    assert all(isinstance(e, ConnectionFailed) for e in events(server))


def test_a_replayed_packet_is_recognised_before_time_and_salt_checks() -> None:
    schedule = SaltSchedule(seeded(6), start=T0, period=100, overlap=10)
    server = make_server(salts=schedule)
    peer = ClientPeer(salt=schedule.current(T0))
    item = peer.item(GET_NEAREST)
    container = peer.container([item])
    server.receive(container, now=T0)
    [request] = events(server)
    server.reply(request.msg_id, NEAREST, now=T0)
    [answer] = [m for m in peer.messages(server) if m.constructor == wire.RPC_RESULT]
    later = T0 + 400  # the salt has expired and the msg_ids are too old by now
    server.receive(container, now=later)
    bare = peer.packet(GET_NEAREST, now=T0)
    server.receive(bare, now=T0)
    [_second] = events(server)
    server.receive(bare, now=later)
    assert events(server) == []
    again = peer.messages(server, now=later)
    assert not any(isinstance(b, (t.BadMsgNotification, t.BadServerSalt)) for b in bodies(again))
    assert answer.msg_id in [m.msg_id for m in again]
