"""ClientSession and ServerSession against each other in memory, and each against Telethon's and
Pyrogram's own MTProto code as oracles."""

from __future__ import annotations

import importlib.util
import struct
import time
from typing import Any

import pytest

from sansio_mtdc.errors import RPCError
from sansio_mtdc.session import (
    Acked,
    Answer,
    ClientSession,
    ClockCorrected,
    Failed,
    IncomingRequest,
    RequestCancelled,
    SaltChanged,
    SaltSchedule,
    ServerLimits,
    ServerSession,
    SessionLimits,
    SessionReset,
    wire,
)
from sansio_mtdc.tl import api, mtproto

from .helpers import INIT, KEY, SALT, SESSION, T0, Pair, events, seeded

NEAREST = api.types.NearestDc(country="NL", this_dc=2, nearest_dc=2)
GET_NEAREST = api.functions.help.GetNearestDc()


def nearest(request: IncomingRequest) -> object:
    return NEAREST


def answers(got: list[Any]) -> dict[object, Any]:
    out: dict[object, Any] = {}
    for event in got:
        if isinstance(event, (Answer, Failed)):
            assert event.token not in out, f"{event.token} ended twice"
            out[event.token] = event
    return out


def test_requests_and_answers() -> None:
    pair = Pair(responder=nearest, init=INIT)
    for n in range(20):
        pair.client.invoke(GET_NEAREST, token=n, now=T0)
    pair.run()
    got = answers(pair.take_events())
    assert got == {n: Answer(n, NEAREST) for n in range(20)}
    assert len(pair.executed) == 20
    assert pair.executed[0].layer == INIT.layer and pair.executed[0].init is not None
    assert all(e.init is None for e in pair.executed[1:])
    assert pair.client.pending() == 0 and pair.server.executing() == 0


def test_first_contact_reports_the_new_session_and_resends_nothing() -> None:
    pair = Pair(responder=nearest)
    pair.client.invoke(GET_NEAREST, token=1, now=T0)
    pair.run()
    got = pair.take_events()
    assert isinstance(got[0], SessionReset)
    assert got[1:] == [Answer(1, NEAREST)]
    assert len(pair.executed) == 1


def test_invoke_after_msg_goes_in_one_round_trip() -> None:
    pair = Pair(responder=nearest, init=INIT)
    pair.client.invoke(api.functions.auth.ImportAuthorization(id=1, bytes=b"k"), token="imp",
                       now=T0)
    pair.client.invoke(GET_NEAREST, token="req", now=T0, after="imp")
    assert pair.to_server() == 1
    first, second = pair.executed
    assert second.after == (first.msg_id,)
    assert second.request == GET_NEAREST and first.layer == INIT.layer


def test_gzip_both_ways() -> None:
    big_text = "lorem ipsum dolor sit amet " * 200
    support = api.types.help.Support(phone_number="5" * 5000, user=api.types.UserEmpty(id=1))
    sent = api.types.UpdateShortSentMessage(id=1, pts=2, pts_count=1, date=3)

    def respond(request: IncomingRequest) -> object:
        return support if isinstance(request.request, api.functions.help.GetSupport) else sent

    pair = Pair(responder=respond)
    pair.client.invoke(api.functions.messages.SendMessage(
        peer=api.types.InputPeerSelf(), message=big_text, random_id=7), token=1, now=T0)
    pair.client.invoke(api.functions.help.GetSupport(), token=2, now=T0)
    packets = pair.client.data_to_send(now=T0)
    assert sum(map(len, packets)) < len(big_text), "the request went compressed"
    for payload in packets:
        pair.server.receive(payload, now=T0)
    pair.serve()
    replies = pair.server.data_to_send(now=T0)
    assert sum(map(len, replies)) < 5000, "the result went compressed"
    for payload in replies:
        pair.client.receive(payload, now=T0)
    assert pair.executed[0].request.message == big_text
    assert answers(events(pair.client)) == {1: Answer(1, sent), 2: Answer(2, support)}


def test_reconnect_before_the_answer_resends_and_executes_once() -> None:
    pair = Pair(responder=nearest)
    pair.client.invoke(GET_NEAREST, token=1, now=T0)
    pair.to_server()
    pair.server.data_to_send(now=T0)  # the answer is lost with the connection
    pair.disconnect()
    pair.connect()
    pair.run()
    assert answers(pair.take_events()) == {1: Answer(1, NEAREST)}
    assert len(pair.executed) == 1, "the server recognised the repeated msg_id"


def test_reconnect_before_the_request_arrived_executes_it_once() -> None:
    pair = Pair(responder=nearest)
    pair.client.invoke(GET_NEAREST, token=1, now=T0)
    pair.client.data_to_send(now=T0)  # lost on the way
    pair.disconnect()
    pair.connect()
    pair.run()
    assert answers(pair.take_events()) == {1: Answer(1, NEAREST)}
    assert len(pair.executed) == 1


def test_an_old_request_is_checked_before_it_is_sent_again() -> None:
    pair = Pair(responder=None)
    pair.client.invoke(GET_NEAREST, token=1, now=T0)
    pair.to_server()
    pair.to_client()  # new_session_created and the server's ack
    [request] = pair.executed
    assert Acked(1) in pair.take_events()
    pair.disconnect()
    pair.now = T0 + 250
    pair.connect()
    pair.run()
    assert len(pair.executed) == 1, "acknowledged: not sent again"
    pair.server.reply(request.msg_id, NEAREST, now=pair.now)
    pair.run()
    assert answers(pair.take_events()) == {1: Answer(1, NEAREST)}


def test_unacked_old_request_goes_through_msgs_state_req() -> None:
    pair = Pair(responder=None)
    pair.client.invoke(GET_NEAREST, token=1, now=T0)
    pair.client.data_to_send(now=T0)  # lost
    pair.disconnect()
    pair.now = T0 + 250
    pair.connect()
    pair.run()
    assert len(pair.executed) == 1, "not received: sent again with a new msg_id"
    pair.server.reply(pair.executed[0].msg_id, NEAREST, now=pair.now)
    pair.run()
    assert answers(pair.take_events()) == {1: Answer(1, NEAREST)}


def test_wrong_salt_is_fixed_in_one_round_trip() -> None:
    schedule = SaltSchedule(seeded(9), start=T0)
    pair = Pair(responder=nearest)
    pair.server = ServerSession(KEY, SESSION, salts=schedule, random=seeded(3), now=T0)
    pair.client.invoke(GET_NEAREST, token=1, now=T0)
    pair.run()
    got = pair.take_events()
    assert SaltChanged(schedule.current(T0)) in got
    assert answers(got) == {1: Answer(1, NEAREST)}
    assert pair.client.salt == schedule.current(T0)


def test_wrong_clock_is_fixed_in_one_round_trip() -> None:
    pair = Pair(responder=nearest)
    pair.client = ClientSession(KEY, salt=SALT, session_id=SESSION, random=seeded(4),
                                time_offset=-1000.0, limits=SessionLimits(ping_interval=None))
    pair.client.connection_made(now=T0)
    pair.client.invoke(GET_NEAREST, token=1, now=T0)
    pair.run()
    got = pair.take_events()
    [corrected] = [e for e in got if isinstance(e, ClockCorrected)]
    assert corrected.offset == pytest.approx(0, abs=1)
    assert answers(got) == {1: Answer(1, NEAREST)}


def test_containers_at_the_limits() -> None:
    pair = Pair(responder=nearest,
                limits=SessionLimits(ping_interval=None, max_pending=1500),
                server_limits=ServerLimits(max_executing=2000))
    for n in range(1100):
        pair.client.invoke(GET_NEAREST, token=n, now=T0)
    assert pair.to_server() == 2
    pair.run()
    assert len(answers(pair.take_events())) == 1100
    assert len(pair.executed) == 1100


def test_cancel_after_sending_drops_the_answer() -> None:
    pair = Pair(responder=None)
    pair.client.invoke(GET_NEAREST, token=1, now=T0)
    pair.to_server()
    assert pair.client.cancel(1, now=T0)
    pair.to_server()
    [request] = pair.executed
    pair.server.reply(request.msg_id, NEAREST, now=T0)
    pair.run()
    got = [e for e in pair.take_events() if isinstance(e, (Answer, Failed))]
    assert len(got) == 1 and isinstance(got[0].error, RequestCancelled)
    assert pair.client.pending() == 0


def test_a_lost_big_answer_comes_back_through_msg_detailed_info() -> None:
    support = api.types.help.Support(phone_number="7" * 3000, user=api.types.UserEmpty(id=1))
    pair = Pair(responder=lambda request: support,
                server_limits=ServerLimits(resend_answer_max=100, gzip_min_size=1 << 20))
    pair.client.invoke(api.functions.help.GetSupport(), token=1, now=T0)
    pair.to_server()
    pair.server.data_to_send(now=T0)  # the answer is lost
    pair.client.connection_lost(now=T0)
    pair.client.connection_made(now=T0)  # the server session stays on its connection
    pair.run()
    assert answers(pair.take_events()) == {1: Answer(1, support)}
    assert len(pair.executed) == 1
    assert pair.server.dropped["duplicate"] == 1


def test_rpc_errors_pass_through() -> None:
    pair = Pair(responder=lambda request: RPCError(303, "USER_MIGRATE_4"))
    pair.client.invoke(GET_NEAREST, token=1, now=T0)
    pair.run()
    [failed] = answers(pair.take_events()).values()
    assert failed.error == RPCError(303, "USER_MIGRATE_4") and failed.error.value == 4


def test_future_salts_through_the_pair() -> None:
    schedule = SaltSchedule(seeded(2), start=T0 - 10, period=100, overlap=50)
    pair = Pair(responder=None)
    pair.server = ServerSession(KEY, SESSION, salts=schedule, random=seeded(3), now=T0)
    pair.client.invoke(mtproto.functions.GetFutureSalts(num=3), token="s", now=T0)
    pair.run()
    [answer] = answers(pair.take_events()).values()
    assert [s.salt for s in answer.value.salts] == [s for _, _, s in schedule.future(T0, 3)]
    pair.now = T0 + 95
    pair.client.invoke(GET_NEAREST, token=1, now=pair.now)
    pair.run()
    assert pair.client.salt == schedule.current(T0 + 95)
    assert pair.server.dropped["bad_msg_48"] == 1  # only the very first message


def test_updates_pushed_by_the_server_are_acknowledged() -> None:
    pair = Pair(responder=nearest)
    pair.client.invoke(GET_NEAREST, token=1, now=T0)
    pair.run()
    pair.server.push(api.types.UpdatesTooLong(), now=T0)
    pair.to_client()
    assert pair.server.unacknowledged() == 3  # new_session_created, the answer, the update
    pair.client.handle_timer(now=T0 + 1)
    pair.now = T0 + 1
    pair.to_server()
    assert pair.server.unacknowledged() == 0


# --- oracles -------------------------------------------------------------------------------------

needs_telethon = pytest.mark.skipif(importlib.util.find_spec("telethon") is None,
                                    reason="telethon is not installed")
needs_pyrogram = pytest.mark.skipif(importlib.util.find_spec("pyrogram") is None,
                                    reason="pyrogram is not installed")


def _telethon_state() -> Any:
    import logging

    from telethon.crypto import AuthKey as TelethonKey
    from telethon.network.mtprotostate import MTProtoState

    class Loggers(dict):  # type: ignore[type-arg]
        def __missing__(self, key: str) -> logging.Logger:
            return logging.getLogger(key)

    state = MTProtoState(TelethonKey(KEY.key), Loggers())
    state.id = SESSION
    state.salt = SALT
    return state


@needs_telethon
def test_telethon_reads_what_our_server_session_writes() -> None:
    now = time.time()  # Telethon checks the msg_id against its own clock
    server = ServerSession(KEY, SESSION, salts=SALT, random=seeded(1), now=now)
    update = api.types.UpdatesTooLong()
    server.push(update, now=now)
    [payload] = server.data_to_send(now=now)
    message = _telethon_state().decrypt_message_data(payload)
    assert message.msg_id % 4 == 3 and message.seq_no == 1
    assert bytes(message.obj) == bytes(update)


@needs_telethon
def test_our_server_session_reads_what_telethon_writes() -> None:
    from io import BytesIO

    from telethon.tl.functions.help import GetNearestDcRequest

    now = time.time()
    state = _telethon_state()
    buffer = BytesIO()
    msg_id = state.write_data_as_message(buffer, bytes(GetNearestDcRequest()), True)
    payload = state.encrypt_message_data(buffer.getvalue())
    server = ServerSession(KEY, SESSION, salts=SALT, random=seeded(1), now=now)
    server.receive(payload, now=time.time())
    [request] = events(server)
    assert request.msg_id == msg_id and request.request == GET_NEAREST


@needs_pyrogram
def test_pyrogram_reads_what_our_server_session_writes_and_back() -> None:
    from io import BytesIO

    from pyrogram.crypto import mtproto as pyrogram_mtproto
    from pyrogram.raw.core import Message
    from pyrogram.raw.functions.help import GetNearestDc

    server = ServerSession(KEY, SESSION, salts=SALT, random=seeded(1), now=T0)
    server.push(api.types.UpdatesTooLong(), now=T0)
    [payload] = server.data_to_send(now=T0)
    session_bytes = struct.pack("<q", SESSION)
    message = pyrogram_mtproto.unpack(BytesIO(payload), session_bytes, KEY.key, KEY.key_id)
    assert message.seq_no == 1 and type(message.body).__name__ == "UpdatesTooLong"
    msg_id = ClientSession(KEY, salt=SALT, random=seeded(2))._clock.next(T0)
    packed = pyrogram_mtproto.pack(Message(GetNearestDc(), msg_id, 1, 4), SALT, session_bytes,
                                   KEY.key, KEY.key_id)
    server.receive(packed, now=T0)
    [request] = events(server)
    assert request.msg_id == msg_id and request.request == GET_NEAREST


@needs_telethon
def test_our_client_session_reads_telethon_style_server_packets() -> None:
    """Telethon's encryption with x=8 (its code computes both directions) as the server."""
    from telethon.network.mtprotostate import MTProtoState

    from sansio_mtdc.session.msgid import MsgIdClock

    client = ClientSession(KEY, salt=SALT, session_id=SESSION, random=seeded(6),
                           limits=SessionLimits(ping_interval=None))
    client.connection_made(now=T0)
    msg_id = MsgIdClock(server=True).next(T0, answer=False)
    body = bytes(api.types.UpdatesTooLong())
    plain = struct.pack("<qqqii", SALT, SESSION, msg_id, 1, len(body)) + body
    plain += bytes(12 + (-(len(plain) + 12) & 15))
    from hashlib import sha256

    from telethon.crypto import AES

    msg_key = sha256(KEY.key[96:128] + plain).digest()[8:24]
    aes_key, aes_iv = MTProtoState._calc_key(KEY.key, msg_key, False)
    payload = KEY.key_id + msg_key + AES.encrypt_ige(plain, aes_key, aes_iv)
    client.receive(payload, now=T0)
    assert [type(e).__name__ for e in events(client)] == ["Update"]
    assert wire.ENVELOPE_SIZE == 32
