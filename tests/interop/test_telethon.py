"""Telethon 1.45 against ``python -m sansio_mtdc serve``: it starts on DC 1, is sent to DC 2 by
PHONE_MIGRATE, signs in with a test number, then downloads the file that lives on DC 4, which
takes an authorization export on DC 2 and an import on DC 4.  Once per transport Telethon has."""

from __future__ import annotations

import hashlib

import pytest

from .conftest import Served, has_ipv6

pytest.importorskip(
    "telethon", reason="Telethon is not installed (it comes with the 'test' extra)")

from telethon import TelegramClient, types
from telethon.crypto import rsa
from telethon.network import connection
from telethon.sessions import MemorySession

PHONE, HOME_DC, FILE_DC = "+9996621234", 2, 4

#: Telethon connection class -> what the server should detect
TRANSPORTS = {
    "ConnectionTcpFull": "Full",
    "ConnectionTcpIntermediate": "Intermediate",
    "ConnectionTcpAbridged": "Abridged",
    "ConnectionTcpObfuscated": "Obfuscated",
}


@pytest.fixture
def trust_cluster_key(serve: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    # Telethon caches help.getConfig on the class and keeps its RSA keys in a module dict
    monkeypatch.setattr(TelegramClient, "_config", None)
    monkeypatch.setattr(rsa, "_server_keys", dict(rsa._server_keys))
    rsa.add_key(serve.config["rsa_public_pem"], old=False)


async def migrate_sign_in_and_download(serve: Served, connection_class: type, *,
                                       ipv6: bool = False) -> None:
    session = MemorySession()
    session.set_dc(1, *serve.address(1, ipv6=ipv6))
    client = TelegramClient(session, 12345, "hash", connection=connection_class,
                            use_ipv6=ipv6, receive_updates=False)
    await client.connect()
    try:
        await client.send_code_request(PHONE)
        assert client.session.dc_id == HOME_DC  # PHONE_MIGRATE_2 followed
        me = await client.sign_in(PHONE, code=str(HOME_DC) * 5)
        assert me.phone == PHONE.lstrip("+")
        entry = serve.file_on(FILE_DC)
        document = types.Document(
            id=entry["id"], access_hash=entry["access_hash"],
            file_reference=bytes.fromhex(entry["file_reference_hex"]), date=None,
            mime_type=entry["mime_type"], size=entry["size"], dc_id=entry["dc"],
            attributes=[types.DocumentAttributeFilename(entry["name"])])
        data = await client.download_media(types.MessageMediaDocument(document=document),
                                           bytes)
    finally:
        await client.disconnect()
    assert len(data) == entry["size"] > 1024 * 1024
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    events = serve.events()
    for step in ["DC 1: ran auth.sendCode", "DC 2: ran auth.sendCode", "DC 2: ran auth.signIn",
                 "DC 2: authorization exported", "DC 4: authorization imported"]:
        assert step in events, serve.log()
    assert events.index("DC 2: authorization exported") \
        < events.index("DC 4: authorization imported")


@pytest.mark.usefixtures("trust_cluster_key")
@pytest.mark.parametrize("name", list(TRANSPORTS))
async def test_telethon_migrates_signs_in_and_downloads_from_another_dc(
        serve: Served, name: str) -> None:
    await migrate_sign_in_and_download(serve, getattr(connection, name))
    assert serve.transports() == {TRANSPORTS[name]}


@pytest.mark.skipif(not has_ipv6(), reason="no IPv6 loopback on this machine")
@pytest.mark.usefixtures("trust_cluster_key")
async def test_telethon_over_ipv6_follows_the_advertised_ipv6_addresses(serve: Served) -> None:
    await migrate_sign_in_and_download(serve, connection.ConnectionTcpIntermediate, ipv6=True)
    assert all(peer.startswith("[::1]:") for peer in serve.peers()), serve.log()

