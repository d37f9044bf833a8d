"""Fuzz ClientSession.receive: it never raises, and only documented events come out.

Half of the inputs are encrypted with the session's real key (x = 8), so that they pass the
msg_key check and reach the parsers: a fuzzed body behind a valid header, a fuzzed header and
body, or a body that starts like a container, an rpc_result for a pending request, gzip_packed
or a service message.
"""

from __future__ import annotations

import struct
import sys

import atheris

with atheris.instrument_imports():
    from sansio_mtdc.crypto import AuthKey, padding_length
    from sansio_mtdc.errors import RemoteProtocolError, RequestError, RPCError
    from sansio_mtdc.session import (
        Acked,
        Answer,
        ClientSession,
        ClockCorrected,
        ConnectionFailed,
        Failed,
        SaltChanged,
        SessionLimits,
        SessionReset,
        Update,
        wire,
    )
    from sansio_mtdc.session.msgid import MsgIdClock
    from sansio_mtdc.tl import api

KEY = AuthKey(bytes((i * 7 + 3) % 256 for i in range(256)))
SALT = 5
SESSION = 77
T0 = 1_700_000_000.0
LIMITS = SessionLimits(container_max_messages=64)
EVENTS = (Answer, Failed, Acked, Update, SaltChanged, ClockCorrected, SessionReset,
          ConnectionFailed)
PREFIXES = (wire.MSG_CONTAINER, wire.RPC_RESULT, wire.GZIP_PACKED, wire.MSGS_ACK,
            wire.BAD_MSG_NOTIFICATION, wire.BAD_SERVER_SALT, wire.NEW_SESSION_CREATED,
            wire.PONG, wire.MSGS_STATE_REQ, wire.MSGS_STATE_INFO, wire.MSGS_ALL_INFO,
            wire.MSG_DETAILED_INFO, wire.MSG_NEW_DETAILED_INFO, wire.MSG_RESEND_REQ,
            wire.FUTURE_SALTS, wire.DESTROY_SESSION_OK)


def _counter() -> object:
    state = [0]

    def random(n: int) -> bytes:
        state[0] += 1
        return (state[0].to_bytes(4, "little") * (n // 4 + 1))[:n]

    return random


def _session() -> tuple[ClientSession, list[int]]:
    client = ClientSession(KEY, salt=SALT, session_id=SESSION,
                           random=_counter(), limits=LIMITS)  # type: ignore[arg-type]
    client.connection_made(now=T0)
    client.invoke(api.functions.help.GetNearestDc(), token="a", now=T0)
    client.invoke(api.functions.messages.ReceivedQueue(max_qts=1), token="b", now=T0)
    client.data_to_send(now=T0)
    return client, sorted(client._by_msg_id)


def _seal(plain: bytes) -> bytes:
    from sansio_mtdc.crypto import ige256_encrypt, kdf2, msg_key

    plain += bytes(-len(plain) % 16 or 16)
    key_of_msg = msg_key(KEY.key, plain, 8)
    aes_key, aes_iv = kdf2(KEY.key, key_of_msg, 8)
    return KEY.key_id + key_of_msg + ige256_encrypt(plain, aes_key, aes_iv)


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    client, pending = _session()
    mode, rest = data[0] % 5, data[1:]
    msg_id = MsgIdClock(server=True).next(T0, answer=bool(data[0] & 8))
    if mode == 0:
        payload = rest
    elif mode == 1:  # fuzzed header and body behind a valid msg_key
        payload = _seal(rest)
    else:
        body = rest
        if mode == 3 and len(rest) >= 1:
            body = struct.pack("<I", PREFIXES[rest[0] % len(PREFIXES)]) + rest[1:]
        elif mode == 4 and pending:
            body = wire.pack_rpc_result(pending[len(rest) % len(pending)], rest)
        body += bytes(-len(body) % 4)
        seqno = data[0] >> 5
        plain = struct.pack("<qqqii", SALT, SESSION, msg_id, seqno, len(body)) + body
        payload = KEY.encrypt(plain, bytes(padding_length(len(plain))), 8)
    client.receive(payload, now=T0)
    client.data_to_send(now=T0)
    client.handle_timer(now=T0 + 1)
    client.data_to_send(now=T0 + 1)
    while (event := client.next_event()) is not None:
        assert isinstance(event, EVENTS), event
        if isinstance(event, ConnectionFailed):
            assert isinstance(event.error, RemoteProtocolError), event.error
        if isinstance(event, Failed):
            assert isinstance(event.error, (RPCError, RequestError)), event.error
    assert client.pending() <= 2


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
