"""A ClientSession across connections: what is sent again and how, state checks for old
messages, keep-alive pings and timers."""

from __future__ import annotations

from sansio_mtdc.session import (
    Acked,
    Answer,
    ConnectionFailed,
    PingTimeout,
    SessionLimits,
    wire,
)
from sansio_mtdc.tl import api, decode, mtproto

from .helpers import QUIET, T0, Peer, events, make_client

NEAREST = api.types.NearestDc(country="NL", this_dc=2, nearest_dc=2)
t = mtproto.types


def reconnect(client: object, now: float = T0) -> None:
    client.connection_lost(now=now)  # type: ignore[attr-defined]
    client.connection_made(now=now)  # type: ignore[attr-defined]


def test_unacknowledged_request_is_resent_with_its_msg_id_in_a_container() -> None:
    client, peer = make_client(), Peer()
    client.invoke(api.functions.help.GetNearestDc(), token="q", now=T0)
    [seen] = peer.messages(client)
    reconnect(client, T0 + 5)
    [packet] = peer.take(client, now=T0 + 5)
    assert packet.is_container, "a message re-sent with its msg_id must travel in a container"
    [again] = packet.messages
    assert (again.msg_id, again.seqno, again.body) == (seen.msg_id, seen.seqno, seen.body)
    assert packet.msg_id > seen.msg_id
    client.receive(peer.result(seen.msg_id, NEAREST, now=T0 + 5), now=T0 + 5)
    assert events(client) == [Answer("q", NEAREST)]


def test_acknowledged_request_is_not_resent() -> None:
    client, peer = make_client(), Peer()
    client.invoke(api.functions.help.GetNearestDc(), token="q", now=T0)
    [seen] = peer.messages(client)
    client.receive(peer.packet(t.MsgsAck(msg_ids=[seen.msg_id]), seqno=0), now=T0)
    assert events(client) == [Acked("q")]
    reconnect(client)
    # not sent again; a ping tells the server at once that this connection carries the
    # session, so that it sends the answer it holds here
    [ping] = peer.messages(client)
    assert isinstance(decode(ping.body), mtproto.functions.PingDelayDisconnect)
    assert ping.msg_id != seen.msg_id
    # the server sends the answer again on the new connection
    client.receive(peer.result(seen.msg_id, NEAREST), now=T0)
    assert events(client) == [Answer("q", NEAREST)]


def test_old_unacknowledged_request_is_checked_with_msgs_state_req() -> None:
    client, peer = make_client(), Peer()
    client.invoke(api.functions.help.GetNearestDc(), token="a", now=T0)
    client.invoke(api.functions.help.GetConfig(), token="b", now=T0)
    first, second = peer.messages(client)
    later = T0 + 250  # older than resend_max_age (240 s)
    reconnect(client, later)
    [ask] = peer.messages(client, now=later)
    assert ask.constructor == wire.MSGS_STATE_REQ and ask.seqno % 2 == 0
    assert decode(ask.body).msg_ids == [first.msg_id, second.msg_id]
    # the server has the first, never got the second
    info = t.MsgsStateInfo(req_msg_id=ask.msg_id, info=bytes([4 | 32, 2]))
    client.receive(peer.packet(info, seqno=0, now=later), now=later)
    assert events(client) == [Acked("a")]
    [again] = peer.messages(client, now=later)
    assert again.body == second.body and again.msg_id > ask.msg_id
    assert peer.take(client, now=later) == []


def test_state_check_is_asked_again_after_another_drop() -> None:
    client, peer = make_client(), Peer()
    client.invoke(api.functions.help.GetNearestDc(), token="a", now=T0)
    [first] = peer.messages(client)
    reconnect(client, T0 + 250)
    [ask] = peer.messages(client, now=T0 + 250)
    reconnect(client, T0 + 260)
    [ask_again] = peer.messages(client, now=T0 + 260)
    assert decode(ask_again.body).msg_ids == [first.msg_id]
    stale = t.MsgsStateInfo(req_msg_id=ask.msg_id, info=bytes([2]))
    client.receive(peer.packet(stale, seqno=0, now=T0 + 260), now=T0 + 260)
    assert client.dropped["unknown_state_info"] == 1
    assert peer.take(client, now=T0 + 260) == []


def test_requests_not_yet_sent_wait_for_the_next_connection() -> None:
    client, peer = make_client(), Peer()
    client.connection_lost(now=T0)
    client.invoke(api.functions.help.GetNearestDc(), token="q", now=T0)
    assert client.data_to_send(now=T0) == []
    client.connection_made(now=T0 + 1)
    [packet] = peer.take(client, now=T0 + 1)
    assert not packet.is_container


def test_exactly_once_across_a_reconnect_with_a_duplicate_answer() -> None:
    client, peer = make_client(), Peer()
    client.invoke(api.functions.help.GetNearestDc(), token="q", now=T0)
    [seen] = peer.messages(client)
    answer = peer.result(seen.msg_id, NEAREST)
    reconnect(client)
    peer.take(client)
    client.receive(answer, now=T0)
    client.receive(peer.result(seen.msg_id, NEAREST), now=T0)  # a second answer, new msg_id
    assert events(client) == [Answer("q", NEAREST)]


def test_keep_alive_ping_delay_disconnect() -> None:
    limits = SessionLimits(ping_interval=60.0, ping_disconnect_delay=75, ping_timeout=10.0)
    client, peer = make_client(limits=limits), Peer()
    assert client.get_timer() == T0 + 60
    assert peer.take(client, now=T0 + 30) == []
    client.handle_timer(now=T0 + 60)
    [ping] = peer.messages(client, now=T0 + 60)
    body = decode(ping.body)
    assert isinstance(body, mtproto.functions.PingDelayDisconnect)
    assert body.disconnect_delay == 75 and ping.seqno % 2 == 1
    assert client.get_timer() == T0 + 70
    client.receive(peer.packet(t.Pong(msg_id=ping.msg_id, ping_id=body.ping_id), seqno=0,
                               now=T0 + 61), now=T0 + 61)
    assert events(client) == [], "keep-alive pings are the session's own business"
    assert client.get_timer() == T0 + 120
    client.handle_timer(now=T0 + 120)
    [second] = peer.messages(client, now=T0 + 120)
    assert decode(second.body).ping_id != body.ping_id
    client.handle_timer(now=T0 + 130)
    [event] = events(client)
    assert isinstance(event, ConnectionFailed) and isinstance(event.error, PingTimeout)
    assert client.get_timer() is None


def test_any_message_after_a_ping_keeps_the_connection_alive() -> None:
    limits = SessionLimits(ping_interval=60.0, ping_timeout=10.0)
    client, peer = make_client(limits=limits), Peer()
    client.handle_timer(now=T0 + 60)
    peer.take(client, now=T0 + 60)
    client.receive(peer.packet(api.types.UpdatesTooLong(), now=T0 + 65), now=T0 + 65)
    client.handle_timer(now=T0 + 71)
    assert not any(isinstance(e, ConnectionFailed) for e in events(client))


def test_keep_alive_pings_are_not_resent_after_a_reconnect() -> None:
    limits = SessionLimits(ping_interval=60.0)
    client, peer = make_client(limits=limits), Peer()
    client.handle_timer(now=T0 + 60)
    peer.take(client, now=T0 + 60)
    reconnect(client, T0 + 61)
    assert peer.take(client, now=T0 + 61) == []
    assert client.get_timer() == T0 + 121


def test_no_timer_without_a_connection() -> None:
    client = make_client(limits=SessionLimits())
    client.connection_lost(now=T0)
    assert client.get_timer() is None
    client.handle_timer(now=T0 + 1000)
    assert events(client) == []
    assert make_client(limits=QUIET).get_timer() is None


def test_after_connection_failed_nothing_moves_until_reconnected() -> None:
    client, peer = make_client(), Peer()
    client.invoke(api.functions.help.GetNearestDc(), token="q", now=T0)
    [seen] = peer.messages(client)
    client.receive(b"\0" * 64, now=T0)
    assert isinstance(events(client)[0], ConnectionFailed)
    client.invoke(api.functions.help.GetConfig(), token="r", now=T0)
    assert client.data_to_send(now=T0) == []
    reconnect(client)
    [packet] = peer.take(client)
    assert packet.messages[0].msg_id == seen.msg_id
    assert len(packet.messages) == 2
