"""Obfuscated2: the preamble, the key derivation (against a plain transcription of the spec's
pseudocode), forbidden first words, MTProxy secrets and the DC id."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from sansio_mtdc.errors import FramingError, UsageError
from sansio_mtdc.transport import (
    Abridged,
    Full,
    Intermediate,
    Obfuscated,
    PaddedIntermediate,
    QuickAck,
    TransportErrorCode,
    detect_codec,
    obfuscation_dc_id,
)

from .streams import seeded

FIXED = bytes(range(1, 65))  # first word 01020304, second word 05060708: an allowed preamble
SECRET = bytes.fromhex("99" * 16)


def fixed_random(*values: bytes) -> Callable[[int], bytes]:
    """Returns the given 64-byte values in turn, then a seeded stream (padding and so on)."""
    queue = list(values)
    rest = seeded(5)

    def random(n: int) -> bytes:
        if n == 64 and queue:
            return queue.pop(0)
        return rest(n)

    return random


def ctr(key: bytes, iv: bytes):  # type: ignore[no-untyped-def]
    return Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()


def spec_transcription(random56: bytes, tail2: bytes, protocol: bytes, dc: bytes,
                       secret: bytes | None):  # type: ignore[no-untyped-def]
    """The pseudocode of mtproto-transports.txt, line by line."""
    init = random56 + protocol + dc + tail2
    init_rev = init[::-1]
    encrypt_key = init[8 : 8 + 32]
    encrypt_iv = init[40 : 40 + 16]
    decrypt_key = init_rev[8 : 8 + 32]
    decrypt_iv = init_rev[40 : 40 + 16]
    if secret is not None:
        encrypt_key = hashlib.sha256(encrypt_key + secret).digest()
        decrypt_key = hashlib.sha256(decrypt_key + secret).digest()
    encryptor = ctr(encrypt_key, encrypt_iv)
    encrypted_init = encryptor.update(init)
    final_init = init[0:56] + encrypted_init[56 : 56 + 8]
    return final_init, encryptor, ctr(decrypt_key, decrypt_iv)


@pytest.mark.parametrize("secret", [None, SECRET, b"\xdd" + SECRET])
def test_known_answer_key_derivation(secret: bytes | None) -> None:
    inner = PaddedIntermediate("client", lambda n: b"\x00" * n)
    codec = Obfuscated(inner, random=fixed_random(FIXED), dc_id=-4, secret=secret)
    key = None if secret is None else secret[-16:]
    final_init, encryptor, decryptor = spec_transcription(
        FIXED[:56], FIXED[62:], b"\xdd\xdd\xdd\xdd", b"\xfc\xff", key)
    assert codec.header() == final_init
    assert codec.header()[:56] == FIXED[:56]
    payload = b"\x42" * 40
    assert codec.encode(payload) == encryptor.update(b"\x28\x00\x00\x00" + payload)
    assert codec.encode(payload) == encryptor.update(b"\x28\x00\x00\x00" + payload)
    answer = decryptor.update(b"\x24\x00\x00\x00" + b"\x17" * 36)
    assert codec.feed(answer) == [b"\x17" * 36]


def test_known_answer_literal() -> None:
    """Pinned bytes (from the transcription above, with AES from ``cryptography``), so that a
    change in the derivation shows even if both sides drifted together."""
    codec = Obfuscated(Abridged("client"), random=fixed_random(FIXED), dc_id=2)
    assert codec.header() == FIXED[:56] + bytes.fromhex("32bc9585f1fb4e3a")
    assert codec.encode(b"abcd") == bytes.fromhex("dc612f49f9")


FORBIDDEN = [
    b"\xef" + FIXED[1:],
    b"HEAD" + FIXED[4:],
    b"POST" + FIXED[4:],
    b"GET " + FIXED[4:],
    b"OPTI" + FIXED[4:],
    b"\x16\x03\x01\x02" + FIXED[4:],
    b"\xdd\xdd\xdd\xdd" + FIXED[4:],
    b"\xee\xee\xee\xee" + FIXED[4:],
    FIXED[:4] + b"\x00\x00\x00\x00" + FIXED[8:],
]


def test_forbidden_preambles_are_skipped() -> None:
    draws = []
    source = fixed_random(*FORBIDDEN, FIXED)

    def random(n: int) -> bytes:
        value = source(n)
        draws.append(value)
        return value

    codec = Obfuscated(Intermediate("client"), random=random, dc_id=1)
    assert draws == [*FORBIDDEN, FIXED]
    assert codec.header()[:56] == FIXED[:56]


@pytest.mark.parametrize("bad", FORBIDDEN)
def test_a_source_stuck_on_a_forbidden_value_is_a_usage_error(bad: bytes) -> None:
    with pytest.raises(UsageError, match="forbidden"):
        Obfuscated(Intermediate("client"), random=lambda n: bad, dc_id=1)


def test_a_short_random_source_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="64 bytes"):
        Obfuscated(Intermediate("client"), random=lambda n: b"\x01" * 63, dc_id=1)


def test_every_header_the_client_draws_is_detected_as_obfuscated() -> None:
    for seed in range(200):
        codec = Obfuscated(Abridged("client"), random=seeded(seed), dc_id=3)
        found = detect_codec(codec.header(), random=seeded())
        assert found is not None
        assert type(found[0]) is Obfuscated
        assert found[1] == 64


@pytest.mark.parametrize("dc_id", [1, -4, 10002, -10003, 32767, -32768, 0])
def test_the_server_sees_the_dc_id(dc_id: int) -> None:
    codec = Obfuscated(Intermediate("client"), random=seeded(dc_id), dc_id=dc_id)
    found = detect_codec(codec.header(), random=seeded())
    assert found is not None
    server = found[0]
    assert isinstance(server, Obfuscated)
    assert server.dc_id == dc_id
    assert codec.dc_id == dc_id
    assert server.side == "server"
    assert server.header() == b""
    assert type(server.inner) is Intermediate


def test_obfuscation_dc_id() -> None:
    assert obfuscation_dc_id(2) == 2
    assert obfuscation_dc_id(2, test=True) == 10002
    assert obfuscation_dc_id(4, media=True) == -4
    assert obfuscation_dc_id(3, test=True, media=True) == -10003
    for bad in (0, -1, 40000, "2"):
        with pytest.raises(UsageError):
            obfuscation_dc_id(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("dc_id", [32768, -32769, 1.0, True])
def test_dc_id_must_be_an_int16(dc_id: object) -> None:
    with pytest.raises(UsageError, match="int16"):
        Obfuscated(Intermediate("client"), random=seeded(), dc_id=dc_id)  # type: ignore[arg-type]


def test_only_client_codecs_with_a_tag_can_be_wrapped() -> None:
    with pytest.raises(UsageError, match="no obfuscation tag"):
        Obfuscated(Full("client"), random=seeded(), dc_id=2)
    with pytest.raises(UsageError, match="client-side"):
        Obfuscated(Intermediate("server"), random=seeded(), dc_id=2)
    with pytest.raises(UsageError, match="random"):
        Obfuscated(Intermediate("client"), random=None, dc_id=2)  # type: ignore[arg-type]


# -- secrets ------------------------------------------------------------------------------------

def exchange(client: Obfuscated, server: object) -> None:
    assert isinstance(server, Obfuscated)
    assert server.feed(client.encode(b"ping" * 10, quick_ack=True))[0].payload[:40] == b"ping" * 10  # type: ignore[union-attr]
    got = client.feed(server.encode(b"pong" * 10) + server.encode_quick_ack(9)
                      + server.encode_error(-444))
    assert got[0][:40] == b"pong" * 10  # type: ignore[index]
    assert got[1:] == [QuickAck(9), TransportErrorCode(-444)]


def test_plain_secret() -> None:
    client = Obfuscated(Intermediate("client"), random=seeded(1), dc_id=2, secret=SECRET)
    found = detect_codec(client.header(), secrets=[SECRET], random=seeded())
    assert found is not None
    exchange(client, found[0])


def test_dd_secret_forces_padded_intermediate() -> None:
    client = Obfuscated(Abridged("client"), random=seeded(1), dc_id=2, secret=b"\xdd" + SECRET)
    assert type(client.inner) is PaddedIntermediate
    found = detect_codec(client.header(), secrets=[b"\xdd" + SECRET], random=seeded())
    assert found is not None
    assert type(found[0].inner) is PaddedIntermediate  # type: ignore[attr-defined]
    exchange(client, found[0])
    # the same 16 bytes configured as a plain secret accept it too
    client = Obfuscated(Abridged("client"), random=seeded(2), dc_id=2, secret=b"\xdd" + SECRET)
    assert detect_codec(client.header(), secrets=[SECRET], random=seeded()) is not None


def test_a_dd_secret_on_the_server_refuses_other_framings() -> None:
    client = Obfuscated(Intermediate("client"), random=seeded(1), dc_id=2, secret=SECRET)
    with pytest.raises(FramingError) as caught:
        detect_codec(client.header(), secrets=[b"\xdd" + SECRET], random=seeded())
    assert caught.value.reason == "bad_obfuscation"


def test_fake_tls_secrets_are_refused() -> None:
    fake_tls = b"\xee" + SECRET + b"example.com"
    with pytest.raises(UsageError, match="fake-TLS MTProxy secrets are not supported"):
        Obfuscated(Intermediate("client"), random=seeded(), dc_id=2, secret=fake_tls)
    with pytest.raises(UsageError, match="fake-TLS MTProxy secrets are not supported"):
        Obfuscated(Intermediate("client"), random=seeded(), dc_id=2, secret=fake_tls[:17])
    client = Obfuscated(Intermediate("client"), random=seeded(1), dc_id=2)
    with pytest.raises(UsageError, match="fake-TLS"):
        detect_codec(client.header(), secrets=[fake_tls], random=seeded())


@pytest.mark.parametrize("secret", [b"\x01" * 15, b"\x01" * 18, "99" * 16])
def test_malformed_secrets_are_usage_errors(secret: object) -> None:
    with pytest.raises(UsageError, match="secret"):
        Obfuscated(Intermediate("client"), random=seeded(), dc_id=2, secret=secret)  # type: ignore[arg-type]


def test_a_wrong_secret_is_refused_by_the_server() -> None:
    client = Obfuscated(Intermediate("client"), random=seeded(1), dc_id=2, secret=SECRET)
    for secrets in ([], [b""], [b"\x98" * 16], [b"\x98" * 16, b"\xdd" + b"\x97" * 16]):
        with pytest.raises(FramingError) as caught:
            detect_codec(client.header(), secrets=secrets, random=seeded())
        assert caught.value.reason == "bad_obfuscation"


def test_a_server_may_accept_several_secrets_and_none() -> None:
    secrets = [b"\x98" * 16, b"", SECRET]
    for secret in (None, SECRET):
        client = Obfuscated(Intermediate("client"), random=seeded(1), dc_id=2, secret=secret)
        found = detect_codec(client.header(), secrets=secrets, random=seeded())
        assert found is not None
        exchange(client, found[0])


def test_a_secret_less_client_is_refused_by_a_proxy() -> None:
    client = Obfuscated(Intermediate("client"), random=seeded(1), dc_id=2)
    with pytest.raises(FramingError):
        detect_codec(client.header(), secrets=[SECRET], random=seeded())


def test_accept_needs_a_whole_preamble() -> None:
    with pytest.raises(UsageError):
        Obfuscated.accept(b"\x01" * 63, random=seeded())


def test_poisoned_obfuscated_codec() -> None:
    client = Obfuscated(Intermediate("client"), random=seeded(1), dc_id=2)
    found = detect_codec(client.header(), random=seeded())
    assert found is not None
    server = found[0]
    garbage = client.encode(b"abcd")
    garbage = bytes([garbage[0] ^ 0x02]) + garbage[1:]  # length 6: not a multiple of 4
    with pytest.raises(FramingError) as first:
        server.feed(garbage)
    with pytest.raises(FramingError) as again:
        server.feed(client.encode(b"abcd"))
    assert again.value is first.value
