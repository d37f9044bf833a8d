"""Pyrogram (kurigram 2.2) against ``python -m sansio_mtdc serve``: it starts on DC 2, is sent to
DC 3 by PHONE_MIGRATE, signs in with a test number, then downloads the file that lives on DC 5,
which takes an authorization export on DC 3 and an import on DC 5.  Once per transport Pyrogram
offers.

Pyrogram dials one hard-coded address first (Telegram's test DC 2); only that one is pointed at
the cluster.  Every other address comes from the cluster's help.getConfig."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from .conftest import Served, has_ipv6

pytest.importorskip(
    "pyrogram", reason="Pyrogram (kurigram) is not installed (it comes with the 'test' extra)")

import pyrogram
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from pyrogram import Client
from pyrogram.connection import Connection
from pyrogram.connection.transport import tcp
from pyrogram.crypto import rsa
from pyrogram.file_id import FileId, FileType

PHONE, FIRST_DC, HOME_DC, FILE_DC = "+9996631234", 2, 3, 5
#: where Pyrogram in test mode opens its first connection (client.py, load_session)
FIRST_ADDRESS = {False: ("149.154.167.40", 80), True: ("2001:67c:4e8:f002::e", 80)}

#: Pyrogram transport class -> what the server should detect
TRANSPORTS = {
    "TCPAbridged": "Abridged",
    "TCPIntermediate": "Intermediate",
    "TCPIntermediatePadded": "PaddedIntermediate",
    "TCPFull": "Full",
    "TCPAbridgedO": "Obfuscated",
    "TCPIntermediateO": "Obfuscated",
}


@pytest.fixture
def trust_cluster_key(serve: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    key = load_pem_public_key(serve.config["rsa_public_pem"].encode())
    assert isinstance(key, RSAPublicKey)
    numbers = key.public_numbers()
    monkeypatch.setitem(rsa.server_public_keys, serve.config["rsa_fingerprint"],
                        rsa.PublicKey(numbers.n, numbers.e))


def first_dial_to(address: tuple[str, int], ipv6: bool,
                  dialed: list[tuple[str, int]]) -> type[Connection]:
    """A Connection that points Pyrogram's built-in first address at ``address``."""
    class ToCluster(Connection):
        def __init__(self, dc_id: int, server_address: str, port: int, *args: Any,
                     **kwargs: Any) -> None:
            if (server_address, port) == FIRST_ADDRESS[ipv6]:
                server_address, port = address
            dialed.append((server_address, port))
            super().__init__(dc_id, server_address, port, *args, **kwargs)

    return ToCluster


async def migrate_sign_in_and_download(serve: Served, protocol: type, *,
                                       ipv6: bool = False) -> None:
    dialed: list[tuple[str, int]] = []
    app = Client("reference", api_id=12345, api_hash="hash", in_memory=True, no_updates=True,
                 test_mode=serve.config["test_mode"], ipv6=ipv6, protocol_factory=protocol,
                 connection_factory=first_dial_to(serve.address(FIRST_DC, ipv6=ipv6), ipv6,
                                                  dialed))
    await app.connect()
    try:
        sent = await app.send_code(PHONE)
        assert await app.storage.dc_id() == HOME_DC  # PHONE_MIGRATE_3 followed
        user = await app.sign_in(PHONE, sent.phone_code_hash, str(HOME_DC) * 5)
        assert isinstance(user, pyrogram.types.User)
        assert user.phone_number == PHONE.lstrip("+")
        entry = serve.file_on(FILE_DC)
        file_id = FileId(file_type=FileType.DOCUMENT, dc_id=entry["dc"], media_id=entry["id"],
                         access_hash=entry["access_hash"],
                         file_reference=bytes.fromhex(entry["file_reference_hex"]))
        data = b"".join([chunk async for chunk in app.stream_media(file_id.encode())])
    finally:
        await app.disconnect()
    assert len(data) == entry["size"] > 1024 * 1024
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    served = {serve.address(dc, ipv6=ipv6) for dc in range(1, 6)}
    assert set(dialed) <= served and serve.address(FILE_DC, ipv6=ipv6) in dialed
    events = serve.events()
    for step in ["DC 2: ran auth.sendCode", "DC 3: ran auth.sendCode", "DC 3: ran auth.signIn",
                 "DC 3: authorization exported", "DC 5: authorization imported"]:
        assert step in events, serve.log()
    assert events.index("DC 3: authorization exported") \
        < events.index("DC 5: authorization imported")


@pytest.mark.usefixtures("trust_cluster_key")
@pytest.mark.parametrize("name", list(TRANSPORTS))
async def test_pyrogram_migrates_signs_in_and_downloads_from_another_dc(
        serve: Served, name: str) -> None:
    await migrate_sign_in_and_download(serve, getattr(tcp, name))
    assert serve.transports() == {TRANSPORTS[name]}


@pytest.mark.skipif(not has_ipv6(), reason="no IPv6 loopback on this machine")
@pytest.mark.usefixtures("trust_cluster_key")
async def test_pyrogram_over_ipv6_follows_the_advertised_ipv6_addresses(serve: Served) -> None:
    await migrate_sign_in_and_download(serve, tcp.TCPAbridged, ipv6=True)
    assert all(peer.startswith("[::1]:") for peer in serve.peers()), serve.log()
