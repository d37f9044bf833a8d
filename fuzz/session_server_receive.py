"""Fuzz ServerSession.receive: it never raises, and only documented events come out.

Half of the inputs are encrypted with the real key (x = 0) so that they reach the parsers: a
fuzzed header and body, a fuzzed body behind a valid header (salt, session, a fresh msg_id), or
a body that starts like a container, gzip_packed, a request or a service message.  Requests
that come out are answered, so the answer cache, containers and acks are exercised too.
"""

from __future__ import annotations

import struct
import sys

import atheris

with atheris.instrument_imports():
    from sansio_mtdc.crypto import AuthKey, ige256_encrypt, kdf2, msg_key, padding_length
    from sansio_mtdc.errors import RemoteProtocolError
    from sansio_mtdc.session import (
        ConnectionFailed,
        IncomingRequest,
        ServerLimits,
        ServerSession,
        wire,
    )
    from sansio_mtdc.session.msgid import MsgIdClock
    from sansio_mtdc.tl import api

KEY = AuthKey(bytes((i * 7 + 3) % 256 for i in range(256)))
SALT = 5
SESSION = 77
T0 = 1_700_000_000.0
LIMITS = ServerLimits(container_max_messages=64, dedup_window=64, answer_cache=16)
PREFIXES = (wire.MSG_CONTAINER, wire.GZIP_PACKED, wire.MSGS_ACK, wire.PING,
            wire.PING_DELAY_DISCONNECT, wire.GET_FUTURE_SALTS, wire.RPC_DROP_ANSWER,
            wire.MSGS_STATE_REQ, wire.MSG_RESEND_REQ, wire.INVOKE_AFTER_MSG,
            wire.INVOKE_WITH_LAYER, wire.INIT_CONNECTION, 0x1FB33026, wire.DESTROY_SESSION)
NEAREST = api.types.NearestDc(country="NL", this_dc=2, nearest_dc=2)


def _random(n: int) -> bytes:
    return (bytes(range(256)) * (n // 256 + 1))[:n]


def _seal(plain: bytes) -> bytes:
    plain += bytes(-len(plain) % 16 or 16)
    key_of_msg = msg_key(KEY.key, plain, 0)
    aes_key, aes_iv = kdf2(KEY.key, key_of_msg, 0)
    return KEY.key_id + key_of_msg + ige256_encrypt(plain, aes_key, aes_iv)


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    server = ServerSession(KEY, SESSION, salts=SALT, random=_random, now=T0, limits=LIMITS)
    server.connection_made(now=T0)
    mode, rest = data[0] % 4, data[1:]
    if mode == 0:
        payload = rest
    elif mode == 1:
        payload = _seal(rest)
    else:
        body = rest
        if mode == 3 and rest:
            body = struct.pack("<I", PREFIXES[rest[0] % len(PREFIXES)]) + rest[1:]
        body += bytes(-len(body) % 4)
        msg_id = MsgIdClock().next(T0)
        plain = struct.pack("<qqqii", SALT, SESSION, msg_id, data[0] >> 4, len(body)) + body
        payload = KEY.encrypt(plain, bytes(padding_length(len(plain))), 0)
    for _ in range(2):  # the second time it is a repeat
        server.receive(payload, now=T0)
        while (event := server.next_event()) is not None:
            if isinstance(event, IncomingRequest):
                server.reply(event.msg_id, NEAREST, now=T0)
            else:
                assert isinstance(event, ConnectionFailed), event
                assert isinstance(event.error, RemoteProtocolError), event.error
        for packet in server.data_to_send(now=T0):
            KEY.decrypt(packet, 8)
    server.handle_timer(now=T0 + 100)
    server.connection_made(now=T0 + 1)
    server.data_to_send(now=T0 + 1)


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
