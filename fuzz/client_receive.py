"""Fuzz Client.receive_data on a ready connection: only typed closes and events come out, never
an exception, and every pending request still ends exactly once once the client is closed.

The client is resumed from a state made once through the simulated cluster (a signed-in user
with a key on DC 2), with two requests in flight on its main connection.  The input is fed as
raw bytes, as intermediate-framed payloads, or as messages encrypted with the real key for the
client's own session: a fuzzed body, an rpc_result for one of its requests, or a container.
"""

from __future__ import annotations

import struct
import sys

import atheris

with atheris.instrument_imports():
    from sansio_mtdc.client.actions import Connect, Send
    from sansio_mtdc.client.events import (
        AuthKeyCreated,
        AuthorizationImported,
        ConnectionStateChanged,
        ExportingAuthorization,
        Failed,
        HomeDcChanged,
        LoggedOut,
        Result,
        Retrying,
        StateChanged,
        Update,
    )
    from sansio_mtdc.client.machine import Client
    from sansio_mtdc.crypto import AuthKey, padding_length
    from sansio_mtdc.errors import MTDCError
    from sansio_mtdc.session import decrypt_client_packet, session_id_of, wire
    from sansio_mtdc.session.msgid import MsgIdClock
    from sansio_mtdc.sim.scenarios import World, phone_of, seeded, self_request
    from sansio_mtdc.tl import api

EVENTS = (Result, Failed, Update, HomeDcChanged, AuthKeyCreated, ExportingAuthorization,
          AuthorizationImported, Retrying, StateChanged, ConnectionStateChanged, LoggedOut)


def _prepare() -> tuple[World, object]:
    world = World.make(seed="fuzz")
    world.sign_in(phone_of(2))
    return world, world.saved_state()


WORLD, STATE = _prepare()
CONFIG = WORLD.net.client_config(**WORLD.options)
KEY = AuthKey(STATE.dc(2).auth_key)  # type: ignore[attr-defined]
NOW = WORLD.now + 10


def _ready_client() -> tuple[Client, int, list[int], int, list[int]]:
    """A resumed client with two requests sent: (client, conn_id, rids, session_id, the
    msg_ids it sent)."""
    client = Client(CONFIG, state=STATE, random=seeded("fuzz client"))  # type: ignore[arg-type]
    rids = [client.invoke(self_request(), now=NOW),
            client.invoke(api.functions.help.GetNearestDc(), now=NOW)]
    connect = client.next_action()
    assert isinstance(connect, Connect)
    client.connection_made(connect.conn_id, now=NOW, address=connect.candidates[0])
    sent = client.next_action()
    assert isinstance(sent, Send)
    plain = decrypt_client_packet(KEY, sent.data[8:])  # intermediate: its tag, the length
    body = plain[32:32 + struct.unpack_from("<i", plain, 28)[0]]
    msg_ids = [struct.unpack_from("<q", plain, 16)[0]]
    if body[:4] == struct.pack("<I", wire.MSG_CONTAINER):
        msg_ids += [item.msg_id for item in wire.unpack_container(body, max_messages=1024)]
    return client, connect.conn_id, rids, session_id_of(plain), msg_ids


def _frame(payload: bytes) -> bytes:
    payload += bytes(-len(payload) % 4)
    return struct.pack("<I", len(payload)) + payload


def _encrypted(session_id: int, body: bytes, seqno: int, answer: bool) -> bytes:
    body += bytes(-len(body) % 4)
    msg_id = MsgIdClock(server=True).next(NOW, answer=answer)
    plain = struct.pack("<qqqii", STATE.dc(2).salt, session_id, msg_id,  # type: ignore[attr-defined]
                        seqno, len(body)) + body
    return KEY.encrypt(plain, bytes(padding_length(len(plain))), 8)


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    client, conn_id, rids, session_id, msg_ids = _ready_client()
    mode, rest = data[0] % 5, data[1:]
    if mode == 0:
        chunk = rest
    elif mode == 1:
        chunk = _frame(rest)
    else:
        body = rest
        if mode == 3:
            body = wire.pack_rpc_result(msg_ids[len(rest) % len(msg_ids)], rest)
        elif mode == 4 and rest:
            body = struct.pack("<I", wire.MSG_CONTAINER) + rest
        chunk = _frame(_encrypted(session_id, body, data[0] >> 5, bool(data[0] & 8)))
    cut = len(chunk) // 2 if data[0] & 16 else len(chunk)
    client.receive_data(conn_id, chunk[:cut], now=NOW)
    if cut < len(chunk):
        client.receive_data(conn_id, chunk[cut:], now=NOW)
    client.handle_timer(now=NOW + 5)
    client.close(now=NOW + 6)
    endings: dict[int, int] = {}
    while (event := client.next_event()) is not None:
        assert isinstance(event, EVENTS), event
        if isinstance(event, Failed):
            assert isinstance(event.error, MTDCError), event.error
        if isinstance(event, Result | Failed):
            endings[event.rid] = endings.get(event.rid, 0) + 1
    assert endings == dict.fromkeys(rids, 1), endings
    while client.next_action() is not None:
        pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
