"""``serve_cluster`` and ``ClusterThread`` on real loopback sockets.

The client side is the library's own codecs, handshake and session driven over an asyncio
stream (``Wire`` below: test glue, not an adapter), so these tests need no foreign client.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import json
import os
import random as stdlib_random
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from sansio_mtdc.adapters.serve import (
    SAMPLE_FILE_SIZE,
    ClusterThread,
    RunningCluster,
    serve_cluster,
)
from sansio_mtdc.crypto import REFERENCE_CLUSTER_KEYS
from sansio_mtdc.crypto.rsa import RSAPublicKey
from sansio_mtdc.errors import RPCError, UsageError
from sansio_mtdc.handshake import ClientHandshake, HandshakeResult
from sansio_mtdc.handshake.client import ClientState
from sansio_mtdc.server import ClusterConfig, sample_data
from sansio_mtdc.server.config import TEST_DC_OFFSET
from sansio_mtdc.session import (
    Answer,
    ClientSession,
    Failed,
    InitConnectionParams,
    SessionLimits,
)
from sansio_mtdc.tl import api
from sansio_mtdc.transport import (
    Abridged,
    Full,
    Intermediate,
    Obfuscated,
    PaddedIntermediate,
    TransportErrorCode,
)
from sansio_mtdc.transport.codec import Codec, FramingCodec

from .support import blocking_key

#: client framing -> the class name the server reports once it detected it
TRANSPORTS = {
    "abridged": "Abridged",
    "intermediate": "Intermediate",
    "padded": "PaddedIntermediate",
    "full": "Full",
    "obfuscated-abridged": "Obfuscated",
    "obfuscated-intermediate": "Obfuscated",
    "obfuscated-padded": "Obfuscated",
}
INIT = InitConnectionParams(api_id=1, device_model="tests", system_version="1",
                            app_version="1", system_lang_code="en", lang_pack="",
                            lang_code="en", layer=api.LAYER)
PART = 512 * 1024
#: how long a test waits for something the server must do before calling it a failure
PATIENCE = 20.0


def seeded(seed: str) -> Callable[[int], bytes]:
    return stdlib_random.Random(seed).randbytes


def client_codec(kind: str, random: Callable[[int], bytes], dc_id: int) -> Codec:
    framings: dict[str, Callable[[], FramingCodec]] = {
        "abridged": lambda: Abridged("client"),
        "intermediate": lambda: Intermediate("client"),
        "padded": lambda: PaddedIntermediate("client", random),
        "full": lambda: Full("client"),
    }
    if kind.startswith("obfuscated-"):
        return Obfuscated(framings[kind.removeprefix("obfuscated-")](), random=random,
                          dc_id=dc_id)
    return framings[kind]()


class Wire:
    """The library's client pieces on one loopback socket to one DC of a test-mode cluster."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 dc_id: int, transport: str, seed: str) -> None:
        self.reader, self.writer, self.dc_id = reader, writer, dc_id
        self.random = seeded(seed)
        self.codec = client_codec(transport, self.random, dc_id + TEST_DC_OFFSET)
        self._header = self.codec.header()
        self._packets: list[Any] = []
        self.session: ClientSession | None = None
        self.transport_errors: list[int] = []

    @classmethod
    async def open(cls, address: tuple[str, int], dc_id: int, *,
                   transport: str = "intermediate", seed: str = "wire") -> Wire:
        reader, writer = await asyncio.open_connection(*address)
        return cls(reader, writer, dc_id, transport, seed)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()

    def send(self, payloads: list[bytes]) -> None:
        header, self._header = self._header, b""
        self.writer.write(header + b"".join(self.codec.encode(p) for p in payloads))

    async def packet(self) -> Any:
        """The next packet from the server (a payload, a transport error or a quick ack)."""
        while not self._packets:
            data = await asyncio.wait_for(self.reader.read(1 << 16), PATIENCE)
            if not data:
                raise ConnectionError("the server closed the connection")
            self._packets.extend(self.codec.feed(data))
        return self._packets.pop(0)

    async def start_handshake(self) -> ClientHandshake:
        handshake = ClientHandshake(dc_id=self.dc_id + TEST_DC_OFFSET,
                                    keys=REFERENCE_CLUSTER_KEYS, random=self.random,
                                    now=time.time())
        self.send(handshake.data_to_send())
        return handshake

    async def make_key(self) -> HandshakeResult:
        handshake = await self.start_handshake()
        while not handshake.done:
            handshake.receive(await self.packet(), now=time.time())
            self.send(handshake.data_to_send())
        assert handshake.result is not None
        return handshake.result

    async def log_in(self) -> None:
        """A new key, a session with it, and sign-in with the test number of this DC."""
        key = await self.make_key()
        self.session = ClientSession(key.auth_key, salt=key.server_salt,
                                     time_offset=key.time_offset, random=self.random,
                                     init=INIT, limits=SessionLimits(ping_interval=None))
        self.session.connection_made(now=time.time())
        phone = f"99966{self.dc_id}1234"
        sent = await self.invoke(api.functions.auth.SendCode(
            phone_number=phone, api_id=1, api_hash="hash", settings=api.types.CodeSettings()))
        await self.invoke(api.functions.auth.SignIn(
            phone_number=phone, phone_code_hash=sent.phone_code_hash,
            phone_code=str(self.dc_id) * 5))

    async def invoke(self, request: Any) -> Any:
        session = self.session
        assert session is not None
        token = object()
        session.invoke(request, token=token, now=time.time())
        while True:
            self.send(session.data_to_send(now=time.time()))
            packet = await self.packet()
            if isinstance(packet, TransportErrorCode):
                raise ConnectionError(f"transport error {packet.code}")
            if type(packet) is not bytes:
                continue
            session.receive(packet, now=time.time())
            while (event := session.next_event()) is not None:
                if isinstance(event, Answer) and event.token is token:
                    return event.value
                if isinstance(event, Failed) and event.token is token:
                    raise event.error

    async def download(self, running: RunningCluster, between_parts: Callable[[], Any]) -> bytes:
        """The sample file of this DC, in 512 KiB parts; ``between_parts`` is awaited after
        the first part arrives."""
        stored = running.files[self.dc_id]
        location = api.types.InputDocumentFileLocation(
            id=stored.id, access_hash=stored.access_hash, file_reference=stored.file_reference,
            thumb_size="")
        parts = []
        for offset in range(0, stored.size, PART):
            got = await self.invoke(api.functions.upload.GetFile(location=location,
                                                                 offset=offset, limit=PART))
            parts.append(bytes(got.bytes))
            if offset == 0:
                await between_parts()
        return b"".join(parts)


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@contextlib.asynccontextmanager
async def small_cluster(**kwargs: Any) -> AsyncIterator[RunningCluster]:
    config = ClusterConfig(dc_count=kwargs.pop("dc_count", 2), test_mode=True)
    async with serve_cluster(config, sample_size=kwargs.pop("sample_size", None),
                             **kwargs) as running:
        yield running


# --- transports ------------------------------------------------------------------------------

async def test_every_port_takes_every_transport() -> None:
    async with serve_cluster() as running:
        for dc_id, address in running.addresses.items():
            for kind, detected in TRANSPORTS.items():
                wire = await Wire.open(address, dc_id, transport=kind, seed=f"{dc_id} {kind}")
                handshake = await wire.start_handshake()
                handshake.receive(await wire.packet(), now=time.time())  # resPQ
                assert handshake.state is ClientState.AWAITING_DH_PARAMS
                [conn] = running.cluster.connections()
                assert (conn.dc_id, conn.transport) == (dc_id, detected)
                await wire.close()
                await until(lambda: running.open_connections == 0)


async def until(condition: Callable[[], bool]) -> None:
    """Let the event loop run until ``condition`` holds (a stuck server fails the test)."""
    async with asyncio.timeout(PATIENCE):
        while not condition():
            await asyncio.sleep(0.005)


# --- isolation -------------------------------------------------------------------------------

def garbage(victim_key_id: bytes) -> dict[str, bytes]:
    """Bad first bytes of a connection, by the close kind the cluster should give them."""
    random = seeded("garbage")
    bad_crc = (16).to_bytes(4, "little") + bytes(4) + random(4) + b"\x00\x00\x00\x00"
    return {
        "http": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "abridged, impossible length": b"\xef\x7f\xff\xff\xff" + random(64),
        "intermediate, impossible length": Intermediate.HEADER + b"\xff\xff\xff\x7f" + random(8),
        "full, bad crc": bad_crc,
        "obfuscation without a protocol tag": b"\x01" + random(63),
        "intermediate, short payload": Intermediate.HEADER + (4).to_bytes(4, "little") + b"1234",
        "a stranger's auth key id": Intermediate.HEADER + (56).to_bytes(4, "little")
        + victim_key_id + random(48),
    }


async def test_bad_bytes_on_other_connections_leave_a_download_alone() -> None:
    async with small_cluster(sample_size=SAMPLE_FILE_SIZE) as running:
        address = running.addresses[2]
        wire = await Wire.open(address, 2)
        await wire.log_in()
        assert wire.session is not None
        victim_key_id = running.cluster.auth_keys(2)[0].auth_key.id.to_bytes(8, "little",
                                                                             signed=True)
        kinds = garbage(victim_key_id)
        closed: dict[str, bytes] = {}

        async def attack() -> None:
            opened = [await asyncio.open_connection(*address) for _ in kinds]
            for (_, writer), data in zip(opened, kinds.values()):
                writer.write(data)
            for name, (reader, writer) in zip(kinds, opened):
                closed[name] = await asyncio.wait_for(reader.read(), PATIENCE)  # until EOF
                writer.close()
                await writer.wait_closed()

        data = await wire.download(running, attack)
        assert hashlib.sha256(data).hexdigest() == running.files[2].sha256
        assert data == sample_data(2, SAMPLE_FILE_SIZE)
        assert set(closed) == set(kinds)  # every bad connection was closed by the server
        closes = running.cluster.counters.closes
        assert closes["framing"] == 6 and closes["security"] == 1, closes
        assert running.open_connections == 1
        assert await wire.invoke(api.functions.help.GetNearestDc()) is not None
        await wire.close()


async def test_an_unknown_auth_key_gets_minus_404_and_the_connection_stays() -> None:
    async with small_cluster() as running:
        wire = await Wire.open(running.addresses[1], 1)
        wire.send([bytes(range(1, 9)) + bytes(48)])
        packet = await wire.packet()
        assert isinstance(packet, TransportErrorCode) and packet.code == -404
        assert running.open_connections == 1
        assert (await wire.make_key()).auth_key is not None  # the same connection goes on
        await wire.close()


# --- time ------------------------------------------------------------------------------------

async def test_delayed_answers_come_from_the_event_loops_timer() -> None:
    async with small_cluster() as running:
        wire = await Wire.open(running.addresses[1], 1)
        await wire.log_in()
        running.cluster.delay_answers(0.05, method="help.getNearestDc")
        running.wake()
        nearest = await wire.invoke(api.functions.help.GetNearestDc())
        assert nearest.this_dc == 1
        assert running.cluster.get_timer() is None
        await wire.close()


# --- what serve_cluster says about itself ----------------------------------------------------

async def test_config_json_names_the_bound_ports_the_key_and_the_files() -> None:
    async with serve_cluster(ClusterConfig(dc_count=3, test_mode=True)) as running:
        config = json.loads(json.dumps(running.config_json()))
        for dc_id in (1, 2, 3):
            host, port = config["dcs"][str(dc_id)]
            with socket.create_connection((host, port)):
                pass
        assert set(config["dcs"]) == {"1", "2", "3"} and "dcs_ipv6" not in config
        advertised = {(a.dc_id, a.ip_address, a.port) for a in running.cluster.config.addresses}
        assert advertised == {(int(dc), h, p) for dc, (h, p) in config["dcs"].items()}
        key = RSAPublicKey.from_pem(config["rsa_public_pem"])
        assert key.fingerprint == config["rsa_fingerprint"] in REFERENCE_CLUSTER_KEYS
        assert config["test_mode"] is True
        assert [f["dc"] for f in config["files"]] == [1, 2, 3]
        for entry in config["files"]:
            content = sample_data(entry["dc"], SAMPLE_FILE_SIZE)
            assert entry["size"] == len(content) > 1024 * 1024
            assert entry["sha256"] == hashlib.sha256(content).hexdigest()
            [stored] = running.cluster.files(entry["dc"])
            assert (stored.id, stored.access_hash, stored.file_reference.hex()) == \
                (entry["id"], entry["access_hash"], entry["file_reference_hex"])


async def test_port_base_puts_dc_n_on_port_base_plus_n() -> None:
    draw = stdlib_random.Random()
    for _ in range(20):
        base = draw.randrange(20000, 60000)
        try:
            async with small_cluster(port_base=base) as running:
                assert running.addresses == {1: ("127.0.0.1", base + 1),
                                             2: ("127.0.0.1", base + 2)}
                return
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
    pytest.fail("no free pair of ports found")


async def test_a_port_base_that_runs_past_65535_is_refused() -> None:
    with pytest.raises(UsageError):
        async with small_cluster(port_base=65534):
            pass


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback on this machine")
async def test_ipv6_host_listens_and_is_advertised() -> None:
    async with small_cluster(ipv6_host="::1") as running:
        config = running.config_json()
        for dc_id, (host, port) in running.ipv6_addresses.items():
            assert (host, port) == ("::1", running.addresses[dc_id][1])
            assert config["dcs_ipv6"][str(dc_id)] == ["::1", port]
            wire = await Wire.open((host, port), dc_id, seed=f"v6 {dc_id}")
            await wire.make_key()
            await wire.close()
        assert {a.ip_address for a in running.cluster.config.addresses} == {"127.0.0.1", "::1"}
        assert running.cluster.counters.handshakes == {1: 1, 2: 1}


# --- shutdown --------------------------------------------------------------------------------

async def test_shutdown_closes_clients_and_leaks_no_socket_or_task() -> None:
    fds, tasks = open_fds(), asyncio.all_tasks()
    async with small_cluster(ipv6_host="::1" if ipv6_loopback() else None) as running:
        idle = await Wire.open(running.addresses[1], 1, seed="idle")
        halfway = await Wire.open(running.addresses[2], 2, seed="halfway")
        handshake = await halfway.start_handshake()
        handshake.receive(await halfway.packet(), now=time.time())
        await until(lambda: running.open_connections == 2)
    for wire in (idle, halfway):
        assert await asyncio.wait_for(wire.reader.read(), PATIENCE) == b""  # EOF from server
        await wire.close()
    assert running.open_connections == 0
    assert running.cluster.counters.closes["local"] == 2  # closed by the server, not cut
    assert asyncio.all_tasks() == tasks
    assert open_fds() == fds


# --- ClusterThread ---------------------------------------------------------------------------

def test_cluster_thread_serves_synchronous_callers() -> None:
    fds, threads = open_fds(), threading.active_count()
    served = ClusterThread(ClusterConfig(dc_count=2, test_mode=True), sample_size=None)
    with served as running:
        result = blocking_key(running.addresses[2], 2, random=seeded("blocking 2"),
                              patience=PATIENCE)
        # the cluster lives on its thread: ask it there
        ids = served.call(lambda cluster: [r.auth_key.id for r in cluster.auth_keys(2)])
        assert ids == [result.auth_key.id]
    assert threading.active_count() == threads
    assert open_fds() == fds


def test_cluster_thread_call_runs_knobs_on_the_clusters_thread() -> None:
    served = ClusterThread(ClusterConfig(dc_count=2, test_mode=True), sample_size=None)
    running = served.start()
    try:
        where = served.call(lambda cluster: threading.current_thread().name)
        assert where == "sansio_mtdc cluster"
        served.call(lambda cluster: cluster.refuse_connections(2))
        with socket.create_connection(running.addresses[2], timeout=PATIENCE) as sock:
            assert sock.recv(1) == b""  # refused: closed at once
        with pytest.raises(UsageError):
            served.call(lambda cluster: cluster.refuse_connections(7))
        blocking_key(running.addresses[1], 1, random=seeded("blocking 1"), patience=PATIENCE)
        assert served.call(lambda cluster: cluster.counters.closes["refused"]) == 1
    finally:
        served.stop()
    with pytest.raises(UsageError):
        served.call(lambda cluster: None)


def test_cluster_thread_reports_a_port_it_cannot_bind() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        served = ClusterThread(ClusterConfig(dc_count=1, test_mode=True), port_base=port - 1,
                               sample_size=None)
        with pytest.raises(OSError):
            served.start()
    assert not any(t.name == "sansio_mtdc cluster" for t in threading.enumerate())


def test_rpc_errors_reach_the_wire_client() -> None:
    """The glue above raises what the server answered (so the tests above can fail)."""
    async def run() -> None:
        async with small_cluster() as running:
            wire = await Wire.open(running.addresses[1], 1)
            await wire.log_in()
            with pytest.raises(RPCError) as raised:
                await wire.invoke(api.functions.auth.SendCode(
                    phone_number="9996621234", api_id=1, api_hash="hash",
                    settings=api.types.CodeSettings()))
            assert raised.value.message == "PHONE_MIGRATE_2"
            await wire.close()

    asyncio.run(run())
