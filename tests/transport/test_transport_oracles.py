"""Interoperability with independent implementations (Telethon's codecs and obfuscation, used
as test oracles only): their clients' bytes decode here, our server's bytes decode there."""

from __future__ import annotations

import struct
import zlib

import pytest

from sansio_mtdc.transport import Full, Obfuscated, PaddedIntermediate, detect_codec

from .streams import seeded

connection = pytest.importorskip("telethon.network.connection")
from telethon.network.connection.tcpabridged import AbridgedPacketCodec  # noqa: E402
from telethon.network.connection.tcpfull import FullPacketCodec  # noqa: E402
from telethon.network.connection.tcpintermediate import (  # noqa: E402
    IntermediatePacketCodec,
    RandomizedIntermediatePacketCodec,
)
from telethon.network.connection.tcpmtproxy import MTProxyIO  # noqa: E402
from telethon.network.connection.tcpobfuscated import ObfuscatedIO  # noqa: E402

PAYLOADS = [b"\x01\x02\x03\x04" * w for w in (2, 126, 127, 128, 700)]
CODECS = [AbridgedPacketCodec, IntermediatePacketCodec, RandomizedIntermediatePacketCodec,
          FullPacketCodec]
#: Telethon sends its randomized intermediate only inside obfuscation: it has no plain header
WITH_A_HEADER = [AbridgedPacketCodec, IntermediatePacketCodec, FullPacketCodec]


@pytest.mark.parametrize("their_codec", WITH_A_HEADER, ids=lambda c: c.__name__)
def test_their_client_bytes_decode_here(their_codec: type) -> None:
    theirs = their_codec(None)
    opening = (theirs.tag or b"") + b"".join(theirs.encode_packet(p) for p in PAYLOADS)
    found = detect_codec(opening, random=seeded())
    assert found is not None
    codec, used = found
    assert codec.feed(opening[used:]) == PAYLOADS


def test_our_full_server_bytes_match_theirs() -> None:
    ours = Full("client")
    theirs = FullPacketCodec(None)
    for p in PAYLOADS:
        assert ours.encode(p) == theirs.encode_packet(p)
    packet = ours.encode(b"abcd")
    assert zlib.crc32(packet[:-4]) == struct.unpack("<I", packet[-4:])[0]


@pytest.mark.parametrize("their_codec", CODECS[:3], ids=lambda c: c.__name__)
def test_their_obfuscated_client_talks_to_our_server(their_codec: type) -> None:
    header, encryptor, decryptor = ObfuscatedIO.init_header(their_codec)
    found = detect_codec(bytes(header), random=seeded())
    assert found is not None
    server, used = found
    assert isinstance(server, Obfuscated)
    assert used == 64
    theirs = their_codec(None)
    got = server.feed(encryptor.encrypt(b"".join(theirs.encode_packet(p) for p in PAYLOADS)))
    # Telethon pads its randomized intermediate with 0..3 bytes, which come back with the payload
    assert [g[: len(p)] for g, p in zip(got, PAYLOADS)] == PAYLOADS  # type: ignore[index]
    assert len(got) == len(PAYLOADS)
    answer = decryptor.encrypt(server.encode(b"pong" * 9))
    assert answer[answer.index(b"pong") :][:36] == b"pong" * 9


@pytest.mark.parametrize("secret", [b"\x11" * 16, b"\xdd" + b"\x11" * 16])
@pytest.mark.parametrize("dc_id", [2, -4, 10003])
def test_their_mtproxy_client_talks_to_our_server(secret: bytes, dc_id: int) -> None:
    header, encryptor, _ = MTProxyIO.init_header(secret, dc_id, RandomizedIntermediatePacketCodec)
    found = detect_codec(bytes(header), secrets=[secret], random=seeded())
    assert found is not None
    server = found[0]
    assert isinstance(server, Obfuscated)
    assert server.dc_id == dc_id
    assert type(server.inner) is PaddedIntermediate
    theirs = RandomizedIntermediatePacketCodec(None)
    got = server.feed(encryptor.encrypt(theirs.encode_packet(PAYLOADS[1])))
    assert got[0][: len(PAYLOADS[1])] == PAYLOADS[1]  # type: ignore[index]


def test_our_obfuscated_header_decrypts_with_their_derivation() -> None:
    """Our client's preamble, read back with Telethon's key layout (reversed bytes 8..56)."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    client = Obfuscated(PaddedIntermediate("client", seeded(3)), random=seeded(4), dc_id=-2)
    header = bytearray(client.header())
    reverse = header[55:7:-1]
    decrypt_for_server = Cipher(algorithms.AES(bytes(header[8:40])),
                                modes.CTR(bytes(header[40:56]))).encryptor()
    plain = decrypt_for_server.update(bytes(header))
    assert plain[56:60] == b"\xdd" * 4
    assert plain[60:62] == (-2).to_bytes(2, "little", signed=True)
    server_encrypt = Cipher(algorithms.AES(bytes(reverse[:32])),
                            modes.CTR(bytes(reverse[32:48]))).encryptor()
    assert client.feed(server_encrypt.update(b"\x08\x00\x00\x00" + b"z" * 8)) == [b"z" * 8]
