"""What a ClientSession does with what the server sends: answers, errors, updates, acks, every
service message and bad_msg_notification code, and every incoming check."""

from __future__ import annotations

import struct

import pytest

from sansio_mtdc.errors import RPCError, SecurityError, TLDecodeError
from sansio_mtdc.session import (
    Acked,
    Answer,
    ClockCorrected,
    ConnectionFailed,
    Failed,
    MessageRejected,
    ResultUndecodable,
    SaltChanged,
    SessionLimits,
    SessionReset,
    TooManyResends,
    Update,
    wire,
)
from sansio_mtdc.tl import api, decode, mtproto

from .helpers import KEY, OTHER_KEY, SALT, SESSION, T0, Peer, events, make_client, seal

NEAREST = api.types.NearestDc(country="NL", this_dc=2, nearest_dc=2)
UPDATE = api.types.UpdatesTooLong()
t = mtproto.types


def sent_one(request: object | None = None, **kwargs: object) -> tuple:
    client, peer = make_client(**kwargs), Peer()
    client.invoke(request or api.functions.help.GetNearestDc(), token="q", now=T0)
    [seen] = peer.messages(client)
    return client, peer, seen


def requests(messages: list) -> list:
    return [m for m in messages if m.constructor != wire.MSGS_ACK]


# --- answers -----------------------------------------------------------------------------------

def test_rpc_result_answers_its_request_with_the_request_type() -> None:
    client, peer, seen = sent_one()
    client.receive(peer.result(seen.msg_id, NEAREST), now=T0)
    assert events(client) == [Answer("q", NEAREST)]
    assert client.pending() == 0


def test_bare_vector_result_is_decoded_by_the_request() -> None:
    request = api.functions.messages.ReceivedQueue(max_qts=5)  # Vector<long>
    client, peer, seen = sent_one(request)
    client.receive(peer.result(seen.msg_id, struct.pack("<IIqq", 0x1CB5C415, 2, 7, -8)),
                   now=T0)
    assert events(client) == [Answer("q", [7, -8])]


def test_wrapped_request_is_answered_with_the_inner_type() -> None:
    from .helpers import INIT

    client, peer, seen = sent_one(api.functions.messages.ReceivedQueue(max_qts=5), init=INIT)
    assert isinstance(seen.decoded(), api.functions.InvokeWithLayer)
    client.receive(peer.result(seen.msg_id, struct.pack("<IIq", 0x1CB5C415, 1, 9)), now=T0)
    assert events(client) == [Answer("q", [9])]


def test_rpc_error_fails_the_request_with_its_values() -> None:
    client, peer, seen = sent_one()
    client.receive(peer.result(seen.msg_id, wire.pack_rpc_error(420, "FLOOD_WAIT_31")), now=T0)
    [event] = events(client)
    assert isinstance(event, Failed) and event.error == RPCError(420, "FLOOD_WAIT_31")
    assert (event.error.name, event.error.value) == ("FLOOD_WAIT_X", 31)


def test_gzipped_result_and_gzipped_error() -> None:
    client, peer, seen = sent_one()
    client.receive(peer.result(seen.msg_id, wire.gzip_packed(bytes(NEAREST))), now=T0)
    assert events(client) == [Answer("q", NEAREST)]
    client.invoke(api.functions.help.GetNearestDc(), token="r", now=T0)
    [again] = requests(peer.messages(client))
    client.receive(peer.result(again.msg_id, wire.gzip_packed(
        wire.pack_rpc_error(500, "INTERNAL"))), now=T0)
    [event] = events(client)
    assert event.error == RPCError(500, "INTERNAL")


def test_an_undecodable_result_fails_that_request_only() -> None:
    client, peer = make_client(), Peer()
    client.invoke(api.functions.help.GetNearestDc(), token="bad", now=T0)
    client.invoke(api.functions.help.GetNearestDc(), token="good", now=T0)
    first, second = peer.messages(client)
    items = [(peer.msg_id(), 1, wire.pack_rpc_result(first.msg_id, bytes(UPDATE))),
             (peer.msg_id(), 1, wire.pack_rpc_result(second.msg_id, bytes(NEAREST)))]
    client.receive(peer.container(items), now=T0)
    got = events(client)
    assert got[1] == Answer("good", NEAREST)
    assert isinstance(got[0].error, ResultUndecodable) and got[0].error.reason == "wrong_type"
    assert got[0].error.data == bytes(UPDATE)
    assert not any(isinstance(e, ConnectionFailed) for e in got)


def test_a_bad_gzip_result_fails_only_that_request() -> None:
    client, peer, seen = sent_one()
    bad = struct.pack("<I", wire.GZIP_PACKED) + bytes([8]) + b"notgzip!" + bytes(3)
    client.receive(peer.result(seen.msg_id, bad), now=T0)
    [event] = events(client)
    assert isinstance(event.error, ResultUndecodable) and event.error.reason == "gzip"


def test_answers_for_unknown_requests_are_dropped_but_acked() -> None:
    client, peer = make_client(), Peer()
    msg_id = peer.msg_id()
    client.receive(peer.result(123456, NEAREST, msg_id=msg_id), now=T0)
    assert events(client) == []
    assert client.dropped["unknown_answer"] == 1
    [ack] = peer.messages(client, now=T0 + 1)
    assert decode(ack.body).msg_ids == [msg_id]


def test_server_initiated_messages_are_updates() -> None:
    client, peer = make_client(), Peer()
    client.receive(peer.packet(UPDATE, msg_id=peer.msg_id(answer=False)), now=T0)
    client.receive(peer.packet(wire.gzip_packed(bytes(UPDATE)),
                               msg_id=peer.msg_id(answer=False)), now=T0)
    assert events(client) == [Update(UPDATE), Update(UPDATE)]


def test_an_undecodable_update_is_acked_and_fails_the_connection() -> None:
    client, peer = make_client(), Peer()
    msg_id = peer.msg_id(answer=False)
    client.receive(peer.packet(b"\x01\x02\x03\x04", msg_id=msg_id), now=T0)
    [event] = events(client)
    assert isinstance(event, ConnectionFailed) and isinstance(event.error, TLDecodeError)
    client.connection_lost(now=T0)
    client.connection_made(now=T0)
    [ack] = peer.messages(client, now=T0 + 1)
    assert decode(ack.body).msg_ids == [msg_id]


# --- acks --------------------------------------------------------------------------------------

def test_content_related_messages_are_acked_after_a_delay_others_not() -> None:
    client, peer = make_client(), Peer()
    content = peer.msg_id(answer=False)
    client.receive(peer.packet(UPDATE, msg_id=content, seqno=1), now=T0)
    client.receive(peer.packet(UPDATE, msg_id=peer.msg_id(answer=False), seqno=2), now=T0)
    events(client)
    assert client.data_to_send(now=T0) == [], "a lone ack waits a little"
    assert client.get_timer() == T0 + client.limits.ack_delay
    client.handle_timer(now=T0 + 0.5)
    [ack] = peer.messages(client, now=T0 + 0.5)
    assert ack.constructor == wire.MSGS_ACK and ack.seqno % 2 == 0
    assert decode(ack.body).msg_ids == [content]
    assert client.get_timer() is None


def test_sixteen_pending_acks_go_at_once() -> None:
    client, peer = make_client(), Peer()
    for _ in range(15):
        client.receive(peer.packet(UPDATE, msg_id=peer.msg_id(answer=False)), now=T0)
    assert client.data_to_send(now=T0) == []
    client.receive(peer.packet(UPDATE, msg_id=peer.msg_id(answer=False)), now=T0)
    [ack] = peer.messages(client)
    assert len(decode(ack.body).msg_ids) == 16


def test_acks_ride_with_the_next_request() -> None:
    client, peer = make_client(), Peer()
    msg_id = peer.msg_id(answer=False)
    client.receive(peer.packet(UPDATE, msg_id=msg_id), now=T0)
    client.invoke(api.functions.help.GetNearestDc(), token=1, now=T0)
    [packet] = peer.take(client)
    assert packet.is_container
    assert [m.constructor for m in packet.messages] == [0x1FB33026, wire.MSGS_ACK]


def test_at_most_8192_ids_per_msgs_ack_and_a_bounded_queue() -> None:
    limits = SessionLimits(ping_interval=None, max_pending_acks=9000, ack_batch=8192)
    client, peer = make_client(limits=limits), Peer()
    ids: list[int] = []
    for _ in range(10):
        chunk = [peer.msg_id(answer=False) for _ in range(910)]
        ids += chunk
        client.receive(peer.container([(i, 1, bytes(UPDATE)) for i in chunk]), now=T0)
        client.connection_lost(now=T0)  # nothing is sent: the acks pile up
        client.connection_made(now=T0)
    assert len(events(client)) == 9100
    assert client.dropped["ack_overflow"] == 100
    acks = [decode(m.body).msg_ids for m in peer.messages(client)]
    assert [len(a) for a in acks] == [8192, 808]
    assert acks[0] + acks[1] == ids[100:]


def test_msgs_ack_gives_acked_once() -> None:
    client, peer, seen = sent_one()
    ack = bytes(t.MsgsAck(msg_ids=[seen.msg_id]))
    client.receive(peer.packet(ack, seqno=0), now=T0)
    client.receive(peer.packet(ack, seqno=0), now=T0)
    assert events(client) == [Acked("q")]
    client.receive(peer.result(seen.msg_id, NEAREST), now=T0)
    assert events(client) == [Answer("q", NEAREST)]


# --- containers in -----------------------------------------------------------------------------

def test_incoming_container_messages_are_each_handled_and_acked() -> None:
    client, peer, seen = sent_one()
    items = [(peer.msg_id(), 1, wire.pack_rpc_result(seen.msg_id, bytes(NEAREST))),
             (peer.msg_id(answer=False), 1, bytes(UPDATE)),
             (peer.msg_id(), 0, bytes(t.MsgsAck(msg_ids=[seen.msg_id])))]
    client.receive(peer.container(items), now=T0)
    assert events(client) == [Answer("q", NEAREST), Update(UPDATE)]
    client.handle_timer(now=T0 + 1)
    [ack] = peer.messages(client, now=T0 + 1)
    assert decode(ack.body).msg_ids == [items[0][0], items[1][0]]


@pytest.mark.parametrize("shape", ["nested", "inner_id_too_high", "inner_even_id", "count"])
def test_bad_incoming_containers_fail_the_connection(shape: str) -> None:
    client, peer = make_client(limits=SessionLimits(ping_interval=None,
                                                    container_max_messages=4)), Peer()
    inner = [(peer.msg_id(answer=False), 1, bytes(UPDATE))]
    container_id = peer.msg_id(answer=False)
    if shape == "nested":
        inner.append((peer.msg_id(answer=False), 0, wire.pack_container(inner)))
        container_id = peer.msg_id(answer=False)
    elif shape == "inner_id_too_high":
        inner.append((container_id + 2, 1, bytes(UPDATE)))
    elif shape == "inner_even_id":
        inner.append((container_id - 3, 1, bytes(UPDATE)))
    else:
        inner = [(peer.msg_id(answer=False), 1, bytes(UPDATE)) for _ in range(5)]
        container_id = peer.msg_id(answer=False)
    client.receive(peer.container(inner, msg_id=container_id), now=T0)
    got = events(client)
    assert [type(e) for e in got] == [ConnectionFailed]
    assert client.data_to_send(now=T0) == []
    client.receive(peer.packet(UPDATE), now=T0)
    assert client.dropped["not_connected"] == 1, "nothing more is read until reconnected"


# --- incoming checks ---------------------------------------------------------------------------

@pytest.mark.parametrize(("how", "check"), [
    ("other_key", "auth_key_id"),
    ("tampered", "msg_key"),
    ("wrong_direction", "msg_key"),
    ("session", "session_id"),
    ("even_msg_id", "msg_id"),
    ("length_negative", "length"),
    ("length_past_end", "length"),
    ("length_unaligned", "length"),
    ("padding_small", "padding"),
    ("padding_large", "padding"),
    ("short", "length"),
])
def test_failed_checks_fail_the_connection(how: str, check: str) -> None:
    client, peer = make_client(), Peer()
    body = bytes(UPDATE)
    kwargs: dict = {}
    if how == "other_key":
        kwargs["key"] = OTHER_KEY
    elif how == "wrong_direction":
        kwargs["x"] = 0
    elif how == "session":
        kwargs["session_id"] = SESSION + 1
    elif how == "even_msg_id":
        kwargs["msg_id"] = peer.msg_id() + 1
    elif how == "length_negative":
        kwargs["length"] = -4
    elif how == "length_past_end":
        kwargs["length"] = 400
    elif how == "length_unaligned":
        kwargs["length"] = 2
    elif how == "padding_small":
        body += bytes(4)
        kwargs["padding"] = 8
    elif how == "padding_large":
        body += bytes(8)
        kwargs["padding"] = 1028
    payload = peer.packet(body, **kwargs)
    if how == "tampered":
        payload = payload[:-1] + bytes([payload[-1] ^ 1])
    if how == "short":  # a valid msg_key over a plaintext shorter than the header
        payload = seal(KEY, bytes(32), 8)
    client.receive(payload, now=T0)
    [event] = events(client)
    assert isinstance(event, ConnectionFailed)
    assert isinstance(event.error, SecurityError) and event.error.check == check


def test_transport_padding_after_a_packet_is_ignored() -> None:
    client, peer = make_client(), Peer()
    for extra in range(16):
        payload = peer.packet(UPDATE, msg_id=peer.msg_id(answer=False)) + bytes(extra)
        client.receive(payload, now=T0)
    assert events(client) == [Update(UPDATE)] * 16


def test_messages_of_the_previous_session_are_dropped_quietly() -> None:
    client, peer, seen = sent_one()
    for _ in range(3):  # three seqno errors in a row: a new session
        bad = peer.packet(t.BadMsgNotification(bad_msg_id=seen.msg_id, bad_msg_seqno=1,
                                               error_code=33), seqno=0)
        client.receive(bad, now=T0)
        [seen] = requests(peer.messages(client))
    assert client.session_id != SESSION
    client.receive(peer.packet(UPDATE, session_id=SESSION), now=T0)
    assert client.dropped["old_session"] == 1
    assert not any(isinstance(e, ConnectionFailed) for e in events(client))


def test_msg_ids_outside_the_time_window_are_ignored() -> None:
    client, peer = make_client(), Peer()
    old = peer.clock.next(T0 - 301, answer=False)
    peer.clock = type(peer.clock)(server=True)
    future = peer.clock.next(T0 + 31, answer=False)
    recent = type(peer.clock)(server=True).next(T0 - 299, answer=False)
    soon = type(peer.clock)(server=True).next(T0 + 29, answer=False)
    for msg_id in (old, future, recent, soon):
        client.receive(peer.packet(UPDATE, msg_id=msg_id), now=T0)
    assert events(client) == [Update(UPDATE), Update(UPDATE)]
    assert client.dropped["msg_id_time"] == 2


def test_the_time_window_follows_the_corrected_clock() -> None:
    client, peer = make_client(time_offset=1000.0), Peer()
    msg_id = peer.clock.next(T0 + 1000, answer=False)
    client.receive(peer.packet(UPDATE, msg_id=msg_id), now=T0)
    assert events(client) == [Update(UPDATE)]


def test_duplicates_are_ignored_and_acked_again() -> None:
    client, peer = make_client(), Peer()
    msg_id = peer.msg_id(answer=False)
    payload = peer.packet(UPDATE, msg_id=msg_id)
    client.receive(payload, now=T0)
    client.handle_timer(now=T0 + 1)
    peer.take(client, now=T0 + 1)
    client.receive(payload, now=T0 + 1)
    client.receive(peer.packet(UPDATE, msg_id=msg_id), now=T0 + 1)
    assert events(client) == [Update(UPDATE)]
    assert client.dropped["duplicate"] == 2
    client.handle_timer(now=T0 + 2)
    [ack] = peer.messages(client, now=T0 + 2)
    assert decode(ack.body).msg_ids == [msg_id, msg_id]


def test_ids_below_a_full_dedup_window_are_too_old() -> None:
    client, peer = make_client(limits=SessionLimits(ping_interval=None, dedup_window=4)), Peer()
    ids = [peer.msg_id(answer=False) for _ in range(6)]
    for msg_id in ids[1:]:
        client.receive(peer.packet(UPDATE, msg_id=msg_id), now=T0)
    client.receive(peer.packet(UPDATE, msg_id=ids[0]), now=T0)
    assert len(events(client)) == 5
    assert client.dropped["msg_id_too_old"] == 1


def test_lower_ids_are_new_while_the_window_has_room() -> None:
    client, peer = make_client(), Peer()
    first, second = peer.msg_id(answer=False), peer.msg_id(answer=False)
    client.receive(peer.packet(UPDATE, msg_id=second), now=T0)
    client.receive(peer.packet(UPDATE, msg_id=first), now=T0)
    assert events(client) == [Update(UPDATE), Update(UPDATE)]


# --- bad_msg_notification -----------------------------------------------------------------------

def notify(peer: Peer, seen: object, code: int, *, now: float = T0,
           msg_id: int | None = None) -> bytes:
    body = t.BadMsgNotification(bad_msg_id=seen.msg_id, bad_msg_seqno=seen.seqno,  # type: ignore
                                error_code=code)
    return peer.packet(body, seqno=0, now=now, msg_id=msg_id)


@pytest.mark.parametrize("code", [16, 17])
def test_time_codes_correct_the_clock_and_resend_with_a_new_msg_id(code: int) -> None:
    skew = 500.0 if code == 16 else -500.0  # our clock is behind / ahead of the server's
    client, peer = make_client(), Peer()
    client.invoke(api.functions.help.GetNearestDc(), token="q", now=T0 - skew)
    [seen] = peer.messages(client, now=T0 - skew)
    # the server's msg_id carries its own time, far from ours: still believed, because it is
    # about a message we just sent
    client.receive(notify(peer, seen, code), now=T0 - skew)
    got = events(client)
    assert isinstance(got[0], ClockCorrected) and got[0].offset == pytest.approx(skew, abs=1)
    assert client.time_offset == pytest.approx(skew, abs=1)
    [again] = peer.messages(client, now=T0 - skew)
    assert again.msg_id != seen.msg_id and again.body == seen.body
    assert abs(again.msg_id / 2**32 - T0) < 2
    assert again.seqno > seen.seqno
    client.receive(peer.result(again.msg_id, NEAREST), now=T0 - skew)
    assert events(client) == [Answer("q", NEAREST)]


def test_notifications_about_messages_we_did_not_send_are_ignored() -> None:
    client, peer, seen = sent_one()
    far = type(peer.clock)(server=True).next(T0 + 5000)
    stranger = t.BadMsgNotification(bad_msg_id=seen.msg_id + 4, bad_msg_seqno=1, error_code=16)
    client.receive(peer.packet(stranger, seqno=0, msg_id=far), now=T0)
    client.receive(peer.packet(stranger, seqno=0), now=T0)
    assert events(client) == []
    assert client.time_offset == 0.0
    assert client.dropped["msg_id_time"] == 1 and client.dropped["bad_msg_unknown_id"] == 1


@pytest.mark.parametrize("code", [18, 19, 34, 35, 64, 99])
def test_local_bug_codes_fail_the_request(code: int) -> None:
    client, peer, seen = sent_one()
    client.receive(notify(peer, seen, code), now=T0)
    [event] = events(client)
    assert isinstance(event.error, MessageRejected) and event.error.code == code
    assert requests(peer.messages(client)) == [], "no resend loop"


def test_code_20_resends_with_a_new_msg_id() -> None:
    client, peer, seen = sent_one()
    client.receive(notify(peer, seen, 20), now=T0)
    assert events(client) == []
    [again] = peer.messages(client)
    assert again.msg_id > seen.msg_id and again.body == seen.body


@pytest.mark.parametrize("code", [32, 33])
def test_seqno_codes_resend_then_start_a_new_session(code: int) -> None:
    client, peer, seen = sent_one()
    client.receive(notify(peer, seen, code), now=T0)
    [again] = peer.messages(client)
    assert again.msg_id > seen.msg_id and again.seqno > seen.seqno
    assert again.session_id == SESSION
    client.receive(notify(peer, again, code), now=T0)
    [third] = peer.messages(client)
    client.receive(notify(peer, third, code), now=T0)
    [fresh] = peer.messages(client)
    assert fresh.session_id != SESSION and fresh.session_id == client.session_id
    assert fresh.seqno == 1, "a new session counts from zero"
    client.receive(peer.result(fresh.msg_id, NEAREST, session_id=client.session_id), now=T0)
    assert events(client) == [Answer("q", NEAREST)]


def test_bad_server_salt_adopts_the_salt_and_resends() -> None:
    client, peer, seen = sent_one()
    bad = t.BadServerSalt(bad_msg_id=seen.msg_id, bad_msg_seqno=seen.seqno, error_code=48,
                          new_server_salt=777)
    far = type(peer.clock)(server=True).next(T0 + 1000)  # even with a wrong clock
    client.receive(peer.packet(bad, seqno=0, msg_id=far), now=T0)
    assert events(client) == [SaltChanged(777)]
    assert client.salt == 777
    [again] = peer.messages(client)
    assert again.salt == 777 and again.msg_id != seen.msg_id


def test_a_notification_about_a_container_applies_to_all_its_messages() -> None:
    client, peer = make_client(), Peer()
    client.invoke(api.functions.help.GetNearestDc(), token=1, now=T0)
    client.invoke(api.functions.help.GetConfig(), token=2, now=T0)
    [packet] = peer.take(client)
    bad = t.BadServerSalt(bad_msg_id=packet.msg_id, bad_msg_seqno=packet.seqno, error_code=48,
                          new_server_salt=5)
    client.receive(peer.packet(bad, seqno=0), now=T0)
    [again] = peer.take(client)
    assert [m.body for m in again.messages] == [m.body for m in packet.messages]
    assert again.salt == 5


def test_resends_are_bounded() -> None:
    client, peer, seen = sent_one(limits=SessionLimits(ping_interval=None, max_resends=2))
    for _ in range(3):
        client.receive(notify(peer, seen, 20), now=T0)
        resent = peer.messages(client)
        if resent:
            [seen] = resent
    [event] = events(client)
    assert isinstance(event.error, TooManyResends) and event.error.last_code == 20
    assert client.pending() == 0


def test_a_stale_notification_about_an_old_msg_id_is_ignored() -> None:
    client, peer, seen = sent_one()
    client.receive(notify(peer, seen, 20), now=T0)
    [again] = peer.messages(client)
    client.receive(notify(peer, seen, 20), now=T0)
    assert peer.messages(client) == []
    assert again.msg_id != seen.msg_id


# --- other service messages -----------------------------------------------------------------

def test_new_session_created_resends_what_came_before_it_with_the_same_msg_id() -> None:
    client, peer = make_client(), Peer()
    client.invoke(api.functions.help.GetNearestDc(), token="old", now=T0)
    [old] = peer.messages(client)
    client.invoke(api.functions.help.GetConfig(), token="new", now=T0)
    [new] = peer.messages(client)
    note = t.NewSessionCreated(first_msg_id=new.msg_id, unique_id=42, server_salt=99)
    client.receive(peer.packet(note, msg_id=peer.msg_id(answer=False)), now=T0)
    assert events(client) == [SaltChanged(99), SessionReset(new.msg_id, 42)]
    # the server forgot it, or it is still on its way: the same msg_id covers both
    [packet] = peer.take(client)
    assert packet.is_container
    again = requests(packet.messages)
    assert [(m.msg_id, m.seqno, m.body) for m in again] == [(old.msg_id, old.seqno, old.body)]
    assert again[0].salt == 99


def test_an_unsure_request_rejected_in_a_container_goes_again_with_its_msg_id() -> None:
    client, peer, seen = sent_one()
    client.connection_lost(now=T0)
    client.connection_made(now=T0)
    [packet] = peer.take(client)  # the same msg_id in a container: it may have arrived before
    bad = t.BadServerSalt(bad_msg_id=packet.msg_id, bad_msg_seqno=packet.seqno, error_code=48,
                          new_server_salt=3)
    client.receive(peer.packet(bad, seqno=0), now=T0)
    [again] = peer.take(client)
    assert again.is_container and again.salt == 3
    assert [m.msg_id for m in requests(again.messages)] == [seen.msg_id]
    # a first transmission the server ignored goes with a new msg_id
    client.invoke(api.functions.help.GetConfig(), token="r", now=T0)
    [fresh] = requests(peer.messages(client))
    client.receive(peer.packet(t.BadServerSalt(bad_msg_id=fresh.msg_id, bad_msg_seqno=1,
                                               error_code=48, new_server_salt=4), seqno=0),
                   now=T0)
    [renewed] = requests(peer.messages(client))
    assert renewed.msg_id != fresh.msg_id


def test_msg_detailed_info_asks_for_a_missing_answer() -> None:
    client, peer, seen = sent_one()
    answer_id = peer.msg_id()
    info = t.MsgDetailedInfo(msg_id=seen.msg_id, answer_msg_id=answer_id, bytes=100, status=0)
    client.receive(peer.packet(info, seqno=0), now=T0)
    assert events(client) == [Acked("q")]
    [resend] = peer.messages(client)
    assert resend.constructor == wire.MSG_RESEND_REQ and resend.seqno % 2 == 0
    assert decode(resend.body).msg_ids == [answer_id]


def test_msg_new_detailed_info_about_a_received_message_is_just_acked() -> None:
    client, peer = make_client(), Peer()
    msg_id = peer.msg_id(answer=False)
    client.receive(peer.packet(UPDATE, msg_id=msg_id), now=T0)
    client.handle_timer(now=T0 + 1)
    peer.take(client, now=T0 + 1)
    info = t.MsgNewDetailedInfo(answer_msg_id=msg_id, bytes=10, status=0)
    client.receive(peer.packet(info, seqno=0), now=T0 + 1)
    client.handle_timer(now=T0 + 2)
    [ack] = peer.messages(client, now=T0 + 2)
    assert ack.constructor == wire.MSGS_ACK and decode(ack.body).msg_ids == [msg_id]
    other = peer.msg_id()
    client.receive(peer.packet(t.MsgNewDetailedInfo(answer_msg_id=other, bytes=1, status=0),
                               seqno=0), now=T0 + 2)
    [resend] = peer.messages(client, now=T0 + 2)
    assert decode(resend.body) == t.MsgResendReq(msg_ids=[other])


def test_msgs_state_req_is_answered_with_msgs_state_info() -> None:
    client, peer = make_client(), Peer()
    received = peer.msg_id(answer=False)
    client.receive(peer.packet(UPDATE, msg_id=received), now=T0)
    gap = peer.msg_id(answer=False)
    later = peer.msg_id(answer=False)
    client.receive(peer.packet(UPDATE, msg_id=later), now=T0)
    client.handle_timer(now=T0 + 1)
    peer.take(client, now=T0 + 1)
    events(client)
    future = peer.msg_id(answer=False) + 1000
    ask = peer.msg_id()
    request = t.MsgsStateReq(msg_ids=[received, gap, future, 12])
    client.receive(peer.packet(request, seqno=0, msg_id=ask), now=T0 + 1)
    [info] = peer.messages(client, now=T0 + 1)
    state = decode(info.body)
    assert isinstance(state, t.MsgsStateInfo) and state.req_msg_id == ask
    assert list(state.info) == [4 + 8, 2, 3, 1]


def test_msg_resend_req_resends_with_the_same_msg_id_in_a_container() -> None:
    client, peer, seen = sent_one()
    ask = peer.msg_id()
    client.receive(peer.packet(t.MsgResendReq(msg_ids=[seen.msg_id]), seqno=0, msg_id=ask),
                   now=T0)
    [packet] = peer.take(client)
    assert packet.is_container
    [again] = packet.messages
    assert (again.msg_id, again.seqno, again.body) == (seen.msg_id, seen.seqno, seen.body)
    client.receive(peer.packet(t.MsgResendReq(msg_ids=[seen.msg_id + 4]), seqno=0, msg_id=ask + 4),
                   now=T0)
    [info] = peer.messages(client)
    assert decode(info.body) == t.MsgsStateInfo(req_msg_id=ask + 4, info=b"\x01")


def test_msgs_all_info_acknowledges_received_requests() -> None:
    client, peer, seen = sent_one()
    info = t.MsgsAllInfo(msg_ids=[seen.msg_id], info=bytes([4]))
    client.receive(peer.packet(info, seqno=0), now=T0)
    assert events(client) == [Acked("q")]


def test_future_salts_answer_and_are_switched_to_when_valid() -> None:
    client, peer = make_client(), Peer()
    client.invoke(mtproto.functions.GetFutureSalts(num=2), token="salts", now=T0)
    [seen] = peer.messages(client)
    salts = t.FutureSalts(req_msg_id=seen.msg_id, now=int(T0), salts=[
        t.FutureSalt(valid_since=int(T0) - 10, valid_until=int(T0) + 100, salt=SALT),
        t.FutureSalt(valid_since=int(T0) + 100, valid_until=int(T0) + 200, salt=31337)])
    client.receive(peer.packet(salts, seqno=0), now=T0)  # bare, as Telegram sends it
    assert events(client) == [Answer("salts", salts)]
    client.invoke(api.functions.help.GetNearestDc(), token=1, now=T0 + 150)
    [sent] = peer.messages(client, now=T0 + 150)
    assert sent.salt == 31337
    assert events(client) == [SaltChanged(31337)]


def test_destroy_session_answers_bare_or_in_rpc_result() -> None:
    client, peer = make_client(), Peer()
    client.destroy_session(555, token="d1", now=T0)
    client.destroy_session(666, token="d2", now=T0)
    first, second = peer.messages(client)
    assert decode(first.body) == mtproto.functions.DestroySession(session_id=555)
    client.receive(peer.packet(t.DestroySessionOk(session_id=555), seqno=0), now=T0)
    client.receive(peer.result(second.msg_id, t.DestroySessionNone(session_id=666)), now=T0)
    assert events(client) == [Answer("d1", t.DestroySessionOk(session_id=555)),
                              Answer("d2", t.DestroySessionNone(session_id=666))]


def test_pong_answers_a_ping() -> None:
    client, peer = make_client(), Peer()
    client.invoke(mtproto.functions.Ping(ping_id=5), token="p", now=T0)
    [seen] = peer.messages(client)
    client.receive(peer.packet(t.Pong(msg_id=seen.msg_id, ping_id=5), seqno=0), now=T0)
    assert events(client) == [Answer("p", t.Pong(msg_id=seen.msg_id, ping_id=5))]


def test_receive_never_raises_on_random_payloads() -> None:
    import random

    rng = random.Random(3)
    client, peer = make_client(), Peer()
    for size in [*range(80), 200, 1000]:
        client.connection_lost(now=T0)
        client.connection_made(now=T0)
        client.receive(rng.randbytes(size), now=T0)
        got = events(client)
        assert all(isinstance(e, ConnectionFailed) for e in got)
    client.connection_lost(now=T0)
    client.connection_made(now=T0)
    client.receive(bytearray(peer.packet(UPDATE)), now=T0)  # any bytes-like is fine
    assert events(client) == [Update(UPDATE)]


def test_salt_of_a_valid_answer_is_not_adopted() -> None:
    client, peer, seen = sent_one()
    client.receive(peer.result(seen.msg_id, NEAREST, salt=SALT + 1), now=T0)
    assert events(client) == [Answer("q", NEAREST)]
    assert client.salt == SALT
