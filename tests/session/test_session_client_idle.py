"""What a ClientSession keeps small while idle behaves as before: events in order however they
are taken, the padding pool, the last session_ids, the shared service-message table."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sansio_mtdc.errors import UsageError
from sansio_mtdc.session import Answer, ClientSession, ConnectionFailed, SessionLimits, Update
from sansio_mtdc.tl import api, mtproto

from .helpers import KEY, QUIET, SALT, SESSION, T0, Peer, events, make_client, seeded

NEAREST = api.types.NearestDc(country="NL", this_dc=2, nearest_dc=2)
t = mtproto.types


def test_events_come_out_in_order_when_taken_while_more_arrive() -> None:
    client, peer = make_client(), Peer()
    for n in range(6):
        client.invoke(api.functions.help.GetNearestDc(), token=n, now=T0)
    sent = peer.messages(client)
    assert len(sent) == 6
    taken = []
    for seen in sent[:3]:
        client.receive(peer.result(seen.msg_id, NEAREST), now=T0)
    taken.append(client.next_event())  # three waited: the rest are now taken from the end
    for seen in sent[3:5]:
        client.receive(peer.result(seen.msg_id, NEAREST), now=T0)
    taken.append(client.next_event())
    client.receive(peer.result(sent[5].msg_id, NEAREST), now=T0)
    taken += events(client)
    assert taken == [Answer(n, NEAREST) for n in range(6)]
    assert client.next_event() is None


def test_a_single_event_between_calls() -> None:
    client, peer = make_client(), Peer()
    for _ in range(3):
        client.receive(peer.packet(api.types.UpdatesTooLong(), msg_id=peer.msg_id(answer=False)),
                       now=T0)
        assert events(client) == [Update(api.types.UpdatesTooLong())]


def session_with(random: Callable[[int], bytes]) -> ClientSession:
    client = ClientSession(KEY, salt=SALT, session_id=SESSION, random=random, limits=QUIET)
    client.connection_made(now=T0)
    return client


def recording(sizes: list[int]) -> Callable[[int], bytes]:
    source = seeded(5)

    def draw(n: int) -> bytes:
        sizes.append(n)
        return source(n)

    return draw


def test_the_padding_pool_starts_small_and_doubles_up_to_4_kib() -> None:
    sizes: list[int] = []
    client = session_with(recording(sizes))
    peer = Peer()
    for n in range(700):
        client.invoke(api.functions.help.GetNearestDc(), token=n, now=T0)
        [seen] = peer.messages(client)  # every message decrypts: its padding is whole
        assert seen.body == bytes(api.functions.help.GetNearestDc())
    assert sizes[:5] == [256, 512, 1024, 2048, 4096]
    assert set(sizes[5:]) == {4096}


def test_a_random_source_giving_too_few_bytes_is_a_usage_error() -> None:
    client = session_with(lambda n: bytes(n - 1))
    client.invoke(api.functions.help.GetNearestDc(), token=1, now=T0)
    with pytest.raises(UsageError, match="random"):
        client.data_to_send(now=T0)


def test_messages_of_the_last_four_sessions_are_dropped_and_older_ones_fail() -> None:
    limits = SessionLimits(ping_interval=None, seqno_reset_after=1)
    client, peer = make_client(limits=limits), Peer()
    client.invoke(api.functions.help.GetNearestDc(), token="q", now=T0)
    [seen] = peer.messages(client)
    ids = [client.session_id]
    for _ in range(5):
        bad = t.BadMsgNotification(bad_msg_id=seen.msg_id, bad_msg_seqno=seen.seqno,
                                   error_code=32)
        client.receive(peer.packet(bad, seqno=0, session_id=client.session_id), now=T0)
        [seen] = peer.messages(client)
        assert seen.session_id == client.session_id != ids[-1]
        ids.append(client.session_id)
    for old in ids[-5:-1]:
        client.receive(peer.packet(api.types.UpdatesTooLong(), session_id=old), now=T0)
    assert client.dropped["old_session"] == 4
    assert events(client) == []
    client.receive(peer.packet(api.types.UpdatesTooLong(), session_id=ids[0]), now=T0)
    [failed] = events(client)
    assert isinstance(failed, ConnectionFailed)


def test_sessions_share_their_service_table_and_keep_no_instance_dict() -> None:
    one, two = make_client(limits=QUIET), make_client(limits=QUIET, seed=2)
    assert not hasattr(one, "__dict__") and not hasattr(two, "__dict__")
    for client in (one, two):  # a service message still reaches its handler
        peer = Peer()
        client.invoke(api.functions.help.GetNearestDc(), token=1, now=T0)
        [seen] = peer.messages(client)
        client.receive(peer.packet(t.MsgsAck(msg_ids=[seen.msg_id]), seqno=0), now=T0)
        assert [type(e).__name__ for e in events(client)] == ["Acked"]
