"""One client stack wired to one ServerConnection, in memory: our client transport codec,
ClientHandshake and ClientSession against the reference cluster.

This is test glue, not a client: it pumps bytes both ways until nothing moves, and gives back
what a request ended with.
"""

from __future__ import annotations

import random as stdlib_random
from collections.abc import Callable, Hashable
from typing import Any

from sansio_mtdc.crypto import REFERENCE_CLUSTER_KEYS
from sansio_mtdc.crypto.mtproto2 import AuthKey
from sansio_mtdc.errors import RPCError
from sansio_mtdc.handshake import ClientHandshake, HandshakeResult
from sansio_mtdc.server import Cluster, ClusterConfig, KeyRecord, ServerConnection
from sansio_mtdc.session import (
    Answer,
    ClientSession,
    Failed,
    InitConnectionParams,
    SessionEvent,
    SessionLimits,
)
from sansio_mtdc.transport import (
    Abridged,
    Full,
    Intermediate,
    Obfuscated,
    PaddedIntermediate,
    QuickAck,
    TransportErrorCode,
)
from sansio_mtdc.transport.codec import Codec, FramingCodec

NOW = 1_700_000_000.0
TRANSPORTS = ["abridged", "intermediate", "padded", "full", "obfuscated-abridged",
              "obfuscated-intermediate", "obfuscated-padded"]
INIT = InitConnectionParams(api_id=1, device_model="tests", system_version="1",
                            app_version="1", system_lang_code="en", lang_pack="",
                            lang_code="en", layer=229)
#: no keep-alive pings: tests move time by hand
LIMITS = SessionLimits(ping_interval=None)


def seeded(seed: int | str = 0) -> Callable[[int], bytes]:
    return stdlib_random.Random(seed).randbytes


def framing(kind: str, random: Callable[[int], bytes]) -> FramingCodec:
    if kind == "abridged":
        return Abridged("client")
    if kind == "intermediate":
        return Intermediate("client")
    if kind == "padded":
        return PaddedIntermediate("client", random)
    if kind == "full":
        return Full("client")
    raise AssertionError(kind)


def client_codec(kind: str, random: Callable[[int], bytes], *, dc_id: int = 2,
                 secret: bytes | None = None) -> Codec:
    if kind.startswith("obfuscated-"):
        inner = framing(kind.removeprefix("obfuscated-"), random)
        return Obfuscated(inner, random=random, dc_id=dc_id, secret=secret)
    return framing(kind, random)


def cluster(seed: int = 0, **config: Any) -> Cluster:
    return Cluster(ClusterConfig(**config), random=seeded(f"cluster {seed}"))


class Client:
    """A client stack on one fresh connection to DC ``dc_id``."""

    def __init__(self, cluster: Cluster, dc_id: int, *, transport: str = "intermediate",
                 seed: int | str = 1, now: float = NOW, media: bool = False,
                 secret: bytes | None = None) -> None:
        self.cluster = cluster
        self.dc_id = dc_id
        self.transport = transport
        self.random = seeded(f"client {seed}")
        self.now = now
        self.secret = secret
        self.media = media
        self.session: ClientSession | None = None
        self.handshake: ClientHandshake | None = None
        self.events: list[SessionEvent] = []
        self.transport_errors: list[int] = []
        self.quick_acks: list[int] = []
        self.plain: list[bytes] = []
        self.encrypted: list[bytes] = []
        self.conn: ServerConnection = self._open()

    def _open(self) -> ServerConnection:
        self.codec = client_codec(self.transport, self.random, dc_id=self.dc_id,
                                  secret=self.secret)
        self._header = self.codec.header()
        return self.cluster.connect(self.dc_id, now=self.now, media=self.media)

    # --- bytes -----------------------------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        """Bytes straight onto the connection (after the transport header, if still due)."""
        header, self._header = self._header, b""
        self.conn.receive_data(header + data, now=self.now)
        self.pump()

    def send_payload(self, payload: bytes, *, quick_ack: bool = False) -> None:
        self.send_raw(self.codec.encode(payload, quick_ack=quick_ack))

    def pump(self) -> None:
        """Move bytes both ways until nothing moves."""
        while True:
            moved = False
            data = self.conn.data_to_send()
            if data:
                moved = True
                for packet in self.codec.feed(data):
                    if type(packet) is bytes:
                        self._on_payload(packet)
                    elif isinstance(packet, TransportErrorCode):
                        self.transport_errors.append(packet.code)
                    elif isinstance(packet, QuickAck):
                        self.quick_acks.append(packet.token)
            if self.session is not None and not self.conn.closed:
                for payload in self.session.data_to_send(now=self.now):
                    moved = True
                    header, self._header = self._header, b""
                    self.conn.receive_data(header + self.codec.encode(payload), now=self.now)
            if not moved:
                return

    def _on_payload(self, payload: bytes) -> None:
        if payload[:8] == bytes(8):
            self.plain.append(payload)
            if self.handshake is not None and not self.handshake.done:
                self.handshake.receive(payload, now=self.now)
                for answer in self.handshake.data_to_send():
                    self.send_payload(answer)
        elif self.session is not None:
            self.encrypted.append(payload)
            self.session.receive(payload, now=self.now)
            while (event := self.session.next_event()) is not None:
                self.events.append(event)

    # --- handshake and session -------------------------------------------------------------

    def make_key(self, *, temp_expires_in: int | None = None,
                 dc_id: int | None = None) -> HandshakeResult:
        """Run the auth-key exchange on this connection."""
        self.handshake = ClientHandshake(
            dc_id=self.dc_id if dc_id is None else dc_id, keys=REFERENCE_CLUSTER_KEYS,
            random=self.random, now=self.now, temp_expires_in=temp_expires_in)
        for payload in self.handshake.data_to_send():
            self.send_payload(payload)
        assert self.handshake.done, (self.handshake.state, self.conn.close_reason)
        assert self.handshake.result is not None
        return self.handshake.result

    def use_key(self, auth_key: AuthKey, salt: int, *, time_offset: float = 0.0,
                init: InitConnectionParams | None = INIT,
                session_id: int | None = None) -> ClientSession:
        """Start an MTProto session with ``auth_key`` on this connection."""
        self.session = ClientSession(auth_key, salt=salt, time_offset=time_offset,
                                     random=self.random, init=init, limits=LIMITS,
                                     session_id=session_id)
        self.session.connection_made(now=self.now)
        return self.session

    def login_key(self, **kw: Any) -> ClientSession:
        """A new key by handshake, and a session with it."""
        result = self.make_key()
        return self.use_key(result.auth_key, result.server_salt, time_offset=result.time_offset,
                            **kw)

    def invoke(self, request: Any, *, token: Hashable | None = None,
               after: Hashable | None = None) -> Any:
        """Send ``request``; its result, or the RPCError / request error it ended with."""
        assert self.session is not None
        token = object() if token is None else token
        self.session.invoke(request, token=token, now=self.now, after=after)
        self.pump()
        return self.outcome(token)

    def outcome(self, token: Hashable) -> Any:
        for event in self.events:
            if isinstance(event, Answer) and event.token == token:
                return event.value
            if isinstance(event, Failed) and event.token == token:
                return event.error
        return None

    def reconnect(self, *, transport: str | None = None) -> ServerConnection:
        """A new connection to the same DC, carrying the same session."""
        if not self.conn.closed:
            self.conn.connection_lost(now=self.now)
        if transport is not None:
            self.transport = transport
        self.conn = self._open()
        if self.session is not None:
            self.session.connection_lost(now=self.now)
            self.session.connection_made(now=self.now)
        self.pump()
        return self.conn

    def advance(self, seconds: float) -> None:
        """Move time on, and let the cluster's timers run."""
        self.now += seconds
        timer = self.cluster.get_timer()
        if timer is not None and timer <= self.now:
            self.cluster.handle_timer(self.now)
        self.pump()


def installed_key(cluster: Cluster, dc_id: int, seed: int | str = 0) -> tuple[AuthKey, int]:
    """An auth key put on DC ``dc_id`` without a handshake (fast), and its salt."""
    random = seeded(f"key {seed}")
    key = AuthKey(random(256))
    salt = int.from_bytes(random(8), "little", signed=True)
    cluster.state.dc(dc_id).add_key(KeyRecord(key, created_at=NOW, salt=salt))
    return key, salt


def sign_in(client: Client, phone: str) -> Any:
    """auth.sendCode + auth.signIn with the test code."""
    from sansio_mtdc.tl import api

    sent = client.invoke(api.functions.auth.SendCode(
        phone_number=phone, api_id=1, api_hash="hash", settings=api.types.CodeSettings()))
    if isinstance(sent, RPCError):
        return sent
    return client.invoke(api.functions.auth.SignIn(
        phone_number=phone, phone_code_hash=sent.phone_code_hash, phone_code=phone[5] * 5))
