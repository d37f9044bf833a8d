"""Shared pieces of the session tests: a fixed key, seeded randomness, a scripted server that
talks to a ClientSession byte by byte, and an in-memory client/server pair."""

from __future__ import annotations

import random as _random
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sansio_mtdc.crypto import AuthKey, ige256_encrypt, kdf2, msg_key
from sansio_mtdc.session import (
    ClientSession,
    IncomingRequest,
    InitConnectionParams,
    ServerLimits,
    ServerSession,
    SessionLimits,
    wire,
)
from sansio_mtdc.session.msgid import MsgIdClock
from sansio_mtdc.tl import decode

KEY = AuthKey(bytes((i * 7 + 3) % 256 for i in range(256)))
OTHER_KEY = AuthKey(bytes((i * 11 + 5) % 256 for i in range(256)))
SALT = 0x1122334455667788
SESSION = 0x0102030405060708
T0 = 1_700_000_000.0
INIT = InitConnectionParams(api_id=12345, device_model="pytest", system_version="1",
                            app_version="0.1", system_lang_code="en", lang_pack="",
                            lang_code="en")
#: no keep-alive pings, so that tests see only what they cause
QUIET = SessionLimits(ping_interval=None)


def seeded(seed: int = 0) -> Callable[[int], bytes]:
    rng = _random.Random(seed)
    return rng.randbytes


def make_client(*, limits: SessionLimits = QUIET, init: InitConnectionParams | None = None,
                seed: int = 1, connect: bool = True, now: float = T0,
                **kwargs: Any) -> ClientSession:
    kwargs.setdefault("salt", SALT)
    kwargs.setdefault("session_id", SESSION)
    client = ClientSession(KEY, random=seeded(seed), init=init, limits=limits, **kwargs)
    if connect:
        client.connection_made(now=now)
    return client


def events(session: Any) -> list[Any]:
    out = []
    while (event := session.next_event()) is not None:
        out.append(event)
    return out


@dataclass
class Seen:
    """One message the client sent, as the scripted server sees it."""

    msg_id: int
    seqno: int
    body: bytes
    container: int | None = None  # msg_id of the container it came in
    salt: int = 0
    session_id: int = 0

    @property
    def constructor(self) -> int:
        return int(struct.unpack_from("<I", self.body)[0])

    def decoded(self) -> Any:
        return decode(self.body)


@dataclass
class Packet:
    """One decrypted client packet: its own header, and its messages (containers opened)."""

    msg_id: int
    seqno: int
    salt: int
    session_id: int
    is_container: bool
    messages: list[Seen] = field(default_factory=list)


class Peer:
    """A scripted server: decrypts what a ClientSession sends and makes server packets by hand,
    so that a test can send any message, right or wrong."""

    def __init__(self, key: AuthKey = KEY, session_id: int = SESSION, salt: int = SALT) -> None:
        self.key = key
        self.session_id = session_id
        self.salt = salt
        self.clock = MsgIdClock(server=True)
        self.random = seeded(99)

    # client -> server
    def open(self, payload: bytes) -> Packet:
        plain = self.key.decrypt(wire.trim_transport_padding(payload), 0)
        env = wire.unpack_envelope(plain)
        packet = Packet(env.msg_id, env.seqno, env.salt, env.session_id,
                        env.body[:4] == struct.pack("<I", wire.MSG_CONTAINER))
        if packet.is_container:
            for item in wire.unpack_container(env.body):
                packet.messages.append(Seen(item.msg_id, item.seqno, item.body, env.msg_id,
                                            env.salt, env.session_id))
        else:
            packet.messages.append(Seen(env.msg_id, env.seqno, env.body, None, env.salt,
                                        env.session_id))
        return packet

    def take(self, client: ClientSession, now: float = T0) -> list[Packet]:
        return [self.open(p) for p in client.data_to_send(now=now)]

    def messages(self, client: ClientSession, now: float = T0) -> list[Seen]:
        return [m for packet in self.take(client, now) for m in packet.messages]

    # server -> client
    def msg_id(self, now: float = T0, *, answer: bool = True) -> int:
        return self.clock.next(now, answer=answer)

    def packet(self, body: bytes | Any, *, now: float = T0, msg_id: int | None = None,
               seqno: int = 1, session_id: int | None = None, salt: int | None = None,
               padding: int | None = None, length: int | None = None,
               key: AuthKey | None = None, x: int = 8) -> bytes:
        if not isinstance(body, bytes):
            body = bytes(body)
        if msg_id is None:
            msg_id = self.msg_id(now)
        plain = struct.pack("<qqqii", self.salt if salt is None else salt,
                            self.session_id if session_id is None else session_id, msg_id, seqno,
                            len(body) if length is None else length) + body
        if padding is None:
            padding = 12 + (-(len(plain) + 12) & 15)
        return seal(key or self.key, plain + self.random(padding), x)

    def container(self, items: Iterable[tuple[int, int, bytes]], *, now: float = T0,
                  msg_id: int | None = None, **kwargs: Any) -> bytes:
        items = list(items)
        if msg_id is None:
            msg_id = self.msg_id(now, answer=False)
        return self.packet(wire.pack_container(items), now=now, msg_id=msg_id, seqno=0,
                           **kwargs)

    def result(self, req_msg_id: int, result: bytes | Any, **kwargs: Any) -> bytes:
        if not isinstance(result, bytes):
            result = bytes(result)
        return self.packet(wire.pack_rpc_result(req_msg_id, result), **kwargs)


def seal(key: AuthKey, data: bytes, x: int) -> bytes:
    """MTProto 2.0 encryption of already padded ``data``, with no check of the padding (so that
    tests can make packets a real sender never would)."""
    assert len(data) % 16 == 0, "the padded plaintext must fill whole blocks"
    key_of_msg = msg_key(key.key, data, x)
    aes_key, aes_iv = kdf2(key.key, key_of_msg, x)
    return key.key_id + key_of_msg + ige256_encrypt(data, aes_key, aes_iv)


Responder = Callable[[IncomingRequest], object]


class Pair:
    """A ClientSession and a ServerSession joined in memory; the server answers each request
    with ``responder(request)`` (an object, or None to leave it executing)."""

    def __init__(self, *, limits: SessionLimits = QUIET, server_limits: ServerLimits | None = None,
                 init: InitConnectionParams | None = None, responder: Responder | None = None,
                 now: float = T0, seed: int = 1) -> None:
        self.now = now
        self.client = make_client(limits=limits, init=init, seed=seed, connect=False)
        self.server = ServerSession(KEY, SESSION, salts=SALT, random=seeded(seed + 1000),
                                    now=now, limits=server_limits)
        self.responder = responder
        self.executed: list[IncomingRequest] = []
        self.client_events: list[Any] = []
        self.server_events: list[Any] = []
        self.connect()

    def connect(self) -> None:
        self.client.connection_made(now=self.now)
        self.server.connection_made(now=self.now)

    def disconnect(self) -> None:
        self.client.connection_lost(now=self.now)
        self.server.connection_lost(now=self.now)

    def to_server(self) -> int:
        packets = self.client.data_to_send(now=self.now)
        for payload in packets:
            self.server.receive(payload, now=self.now)
        self.serve()
        return len(packets)

    def serve(self) -> None:
        while (event := self.server.next_event()) is not None:
            self.server_events.append(event)
            if isinstance(event, IncomingRequest):
                self.executed.append(event)
                if self.responder is not None:
                    result = self.responder(event)
                    if result is not None:
                        self.server.reply(event.msg_id, result, now=self.now)

    def to_client(self) -> int:
        packets = self.server.data_to_send(now=self.now)
        for payload in packets:
            self.client.receive(payload, now=self.now)
        self.client_events.extend(events(self.client))
        return len(packets)

    def run(self, rounds: int = 10) -> None:
        """Exchange until nothing moves."""
        for _ in range(rounds):
            if not self.to_server() + self.to_client():
                return

    def take_events(self) -> list[Any]:
        out, self.client_events = self.client_events, []
        return out


class ClientPeer:
    """A scripted client for ServerSession tests: hand-made client packets, server packets
    opened."""

    def __init__(self, key: AuthKey = KEY, session_id: int = SESSION, salt: int = SALT) -> None:
        self.key = key
        self.session_id = session_id
        self.salt = salt
        self.clock = MsgIdClock()
        self.seq = 0
        self.random = seeded(77)

    def msg_id(self, now: float = T0) -> int:
        return self.clock.next(now)

    def seqno(self, content: bool = True) -> int:
        if content:
            self.seq += 1
            return self.seq * 2 - 1
        return self.seq * 2

    def packet(self, body: bytes | Any, *, now: float = T0, msg_id: int | None = None,
               seqno: int | None = None, content: bool = True, salt: int | None = None,
               session_id: int | None = None) -> bytes:
        if not isinstance(body, bytes):
            body = bytes(body)
        if msg_id is None:
            msg_id = self.msg_id(now)
        if seqno is None:
            seqno = self.seqno(content)
        plain = struct.pack("<qqqii", self.salt if salt is None else salt,
                            self.session_id if session_id is None else session_id, msg_id,
                            seqno, len(body)) + body
        return seal(self.key, plain + self.random(12 + (-(len(plain) + 12) & 15)), 0)

    def container(self, items: Iterable[tuple[int, int, bytes]], *, now: float = T0,
                  msg_id: int | None = None, seqno: int | None = None, **kwargs: Any) -> bytes:
        items = list(items)
        return self.packet(wire.pack_container(items), now=now,
                           msg_id=self.msg_id(now) if msg_id is None else msg_id,
                           seqno=self.seq * 2 if seqno is None else seqno, **kwargs)

    def item(self, body: bytes | Any, *, now: float = T0, content: bool = True
             ) -> tuple[int, int, bytes]:
        return (self.msg_id(now), self.seqno(content),
                body if isinstance(body, bytes) else bytes(body))

    def open(self, payload: bytes) -> Packet:
        plain = self.key.decrypt(payload, 8)
        env = wire.unpack_envelope(plain)
        packet = Packet(env.msg_id, env.seqno, env.salt, env.session_id,
                        env.body[:4] == struct.pack("<I", wire.MSG_CONTAINER))
        if packet.is_container:
            for item in wire.unpack_container(env.body):
                packet.messages.append(Seen(item.msg_id, item.seqno, item.body, env.msg_id,
                                            env.salt, env.session_id))
        else:
            packet.messages.append(Seen(env.msg_id, env.seqno, env.body, None, env.salt,
                                        env.session_id))
        return packet

    def take(self, server: ServerSession, now: float = T0) -> list[Packet]:
        return [self.open(p) for p in server.data_to_send(now=now)]

    def messages(self, server: ServerSession, now: float = T0) -> list[Seen]:
        return [m for packet in self.take(server, now) for m in packet.messages]


def make_server(*, limits: ServerLimits | None = None, salts: Any = SALT,
                now: float = T0) -> ServerSession:
    server = ServerSession(KEY, SESSION, salts=salts, random=seeded(5), now=now, limits=limits)
    server.connection_made(now=now)
    return server
