"""Clients nobody on this project wrote, Telethon and Pyrogram, against the cluster on loopback
sockets: PHONE_MIGRATE then sign-in with a test number, then a download from another DC through
export/import.  The sockets are a few lines of test glue here, not an adapter."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from sansio_mtdc.crypto import reference_cluster_key
from sansio_mtdc.server import Cluster, ClusterConfig, DcAddress, ServerConnection, sample_data

from .wiring import seeded

FILE_SIZE = 1_300_000


class Loopback:
    """The cluster served on 127.0.0.1, one listening socket per DC."""

    def __init__(self) -> None:
        self.cluster: Cluster | None = None
        self.writers: dict[ServerConnection, asyncio.StreamWriter] = {}
        self.ports: dict[int, int] = {}
        self.documents: dict[int, Any] = {}

    async def serve(self, dc_count: int = 5) -> list[asyncio.Server]:
        servers = []
        for dc_id in range(1, dc_count + 1):
            server = await asyncio.start_server(
                lambda r, w, dc_id=dc_id: self._serve(dc_id, r, w), "127.0.0.1", 0)
            self.ports[dc_id] = server.sockets[0].getsockname()[1]
            servers.append(server)
        config = ClusterConfig(dc_count=dc_count, addresses=tuple(
            DcAddress(dc_id, "127.0.0.1", port) for dc_id, port in self.ports.items()))
        self.cluster = Cluster(config, random=seeded("loopback"))
        for dc_id in self.ports:
            self.documents[dc_id] = self.cluster.put_file(
                dc_id, sample_data(dc_id, FILE_SIZE), name=f"dc{dc_id}.bin",
                mime="application/octet-stream", now=time.time())
        return servers

    async def _serve(self, dc_id: int, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
        assert self.cluster is not None
        conn = self.cluster.connect(dc_id, now=time.time())
        self.writers[conn] = writer
        try:
            while not conn.closed:
                data = await reader.read(1 << 16)
                if not data:
                    conn.connection_lost(now=time.time())
                    break
                conn.receive_data(data, now=time.time())
                writer.write(conn.data_to_send())
                await writer.drain()
            writer.write(conn.data_to_send())
        except (ConnectionError, asyncio.CancelledError):
            conn.connection_lost(now=time.time())
        finally:
            self.writers.pop(conn, None)
            writer.close()

    async def tick(self) -> None:
        """The cluster's timers (none are set in these scenarios, but an adapter has this)."""
        while True:
            await asyncio.sleep(0.05)
            assert self.cluster is not None
            timer = self.cluster.get_timer()
            if timer is not None and timer <= time.time():
                self.cluster.handle_timer(time.time())
                for conn, writer in list(self.writers.items()):
                    writer.write(conn.data_to_send())


@contextlib.asynccontextmanager
async def loopback() -> AsyncIterator[Loopback]:
    served = Loopback()
    servers = await served.serve()
    ticker = asyncio.create_task(served.tick())
    try:
        yield served
    finally:
        ticker.cancel()
        for server in servers:
            server.close()
        for writer in list(served.writers.values()):
            writer.close()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker


async def test_telethon_migrates_signs_in_and_downloads_from_another_dc(
        monkeypatch: pytest.MonkeyPatch) -> None:
    telethon = pytest.importorskip("telethon")
    from telethon import TelegramClient, types
    from telethon.crypto import rsa
    from telethon.extensions import BinaryReader
    from telethon.sessions import MemorySession

    monkeypatch.setattr(TelegramClient, "_config", None)  # a class-wide cache of help.getConfig
    monkeypatch.setattr(rsa, "_server_keys", dict(rsa._server_keys))
    rsa.add_key(reference_cluster_key().public.to_pem(), old=False)
    async with loopback() as served:
        session = MemorySession()
        session.set_dc(1, "127.0.0.1", served.ports[1])
        client = TelegramClient(session, 12345, "hash", receive_updates=False)
        await client.connect()
        try:
            assert not await client.is_user_authorized()
            await client.send_code_request("+9996621234")
            assert client.session.dc_id == 2  # PHONE_MIGRATE_2 followed
            me = await client.sign_in("+9996621234", code="22222")
            assert me.id == 9996621234
            document = BinaryReader(bytes(served.documents[3])).tgread_object()
            data = await client.download_media(types.MessageMediaDocument(document=document),
                                               bytes)
            assert data == sample_data(3, FILE_SIZE)
        finally:
            await client.disconnect()
        assert served.cluster is not None
        counters = served.cluster.counters
        assert counters.executions("auth.sendCode", 1) == 1
        assert counters.executions("auth.signIn", 2) == 1
        assert (counters.exports[2], counters.imports[3]) == (1, 1)
        assert telethon.__version__.startswith("1.")


async def test_pyrogram_migrates_signs_in_and_downloads_from_another_dc(
        monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyrogram")
    from pyrogram import Client
    from pyrogram.connection import connection
    from pyrogram.crypto import rsa
    from pyrogram.file_id import FileId, FileType

    public = reference_cluster_key().public
    monkeypatch.setitem(rsa.server_public_keys, public.fingerprint,
                        rsa.PublicKey(public.n, public.e))
    async with loopback() as served:
        original = connection.Connection.__init__

        def to_loopback(self: Any, dc_id: int, server_address: str, port: int, *args: Any,
                        **kwargs: Any) -> None:  # Pyrogram dials Telegram's own addresses
            original(self, dc_id, "127.0.0.1", served.ports[dc_id], *args, **kwargs)

        monkeypatch.setattr(connection.Connection, "__init__", to_loopback)
        app = Client("reference", api_id=12345, api_hash="hash", in_memory=True,
                     no_updates=True)
        await app.connect()
        try:
            sent = await app.send_code("+9996631234")
            assert await app.storage.dc_id() == 3  # PHONE_MIGRATE_3 followed
            user = await app.sign_in("+9996631234", sent.phone_code_hash, "33333")
            assert user.id == 9996631234
            assert (await app.get_me()).id == user.id
            document = served.documents[5]
            file_id = FileId(file_type=FileType.DOCUMENT, dc_id=5, media_id=document.id,
                             access_hash=document.access_hash,
                             file_reference=document.file_reference)
            data = b"".join([chunk async for chunk in app.stream_media(file_id.encode())])
            assert data == sample_data(5, FILE_SIZE)
        finally:
            await app.disconnect()
        assert served.cluster is not None
        counters = served.cluster.counters
        assert counters.executions("auth.signIn", 3) == 1
        assert counters.imports[5] >= 1
