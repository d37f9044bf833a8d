"""detect_codec: every transport's opening bytes, fed one byte more at a time."""

from __future__ import annotations

import pytest

from sansio_mtdc.errors import FramingError
from sansio_mtdc.transport import (
    Abridged,
    Full,
    Intermediate,
    Obfuscated,
    PaddedIntermediate,
    detect_codec,
)

from .streams import client_codec, seeded

OPENINGS = [
    ("abridged", Abridged, 1),
    ("intermediate", Intermediate, 4),
    ("padded", PaddedIntermediate, 4),
    ("full", Full, 8),
    ("obfuscated-abridged", Obfuscated, 64),
    ("obfuscated-intermediate", Obfuscated, 64),
    ("obfuscated-padded", Obfuscated, 64),
]


@pytest.mark.parametrize(("kind", "codec_type", "needed"), OPENINGS)
def test_detect_byte_by_byte(kind: str, codec_type: type, needed: int) -> None:
    client = client_codec(kind)
    opening = client.header() + client.encode(b"\x01\x02\x03\x04" * 20)
    for k in range(needed):
        assert detect_codec(opening[:k], random=seeded()) is None, k
    for k in (needed, needed + 1, len(opening)):
        found = detect_codec(opening[:k], random=seeded())
        assert found is not None
        codec, used = found
        assert type(codec) is codec_type
        assert codec.side == "server"
        assert used == len(client.header())
    if codec_type is Obfuscated:
        assert type(codec.inner) is type(client.inner)  # type: ignore[attr-defined]
    got = codec.feed(opening[used:])
    assert len(got) == 1
    assert got[0][:80] == b"\x01\x02\x03\x04" * 20  # type: ignore[index]
    assert len(got[0]) - 80 <= (15 if kind.endswith("padded") else 0)  # type: ignore[arg-type]


@pytest.mark.parametrize("as_type", [bytearray, memoryview])
def test_detect_takes_any_buffer(as_type: type) -> None:
    client = client_codec("obfuscated-intermediate")
    found = detect_codec(as_type(client.header()), random=seeded())
    assert found is not None
    assert type(found[0]) is Obfuscated


@pytest.mark.parametrize("opening", [
    b"GET / HTTP/1.1\r\n", b"POST /api HTTP/1.1\r\n", b"HEAD / HTTP/1.1\r\n",
    b"OPTIONS * HTTP/1.1\r\n", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
])
def test_http_and_tls_are_refused(opening: bytes) -> None:
    with pytest.raises(FramingError) as caught:
        detect_codec(opening, random=seeded())
    assert caught.value.reason == "unknown_transport"
    assert detect_codec(opening[:3], random=seeded()) is None


def test_random_bytes_with_no_tag_are_refused() -> None:
    opening = bytes(range(100, 164))
    assert detect_codec(opening[:63], random=seeded()) is None
    with pytest.raises(FramingError) as caught:
        detect_codec(opening, random=seeded())
    assert caught.value.reason == "bad_obfuscation"


def test_max_packet_reaches_the_detected_codec() -> None:
    for kind, _, _ in OPENINGS:
        client = client_codec(kind)
        opening = client.header() + client.encode(b"\x00" * 1024)
        found = detect_codec(opening, random=seeded(), max_packet=512)
        assert found is not None
        assert found[0].max_packet == 512
        with pytest.raises(FramingError) as caught:
            found[0].feed(opening[found[1]:])
        assert caught.value.reason == "oversized"


@pytest.mark.parametrize("second_word", [b"\x00\x00\x00\x01", b"\x01\x00\x00\x00",
                                         b"\x00\x01\x00\x00", b"\x00\x00\x01\x00"])
def test_only_an_all_zero_second_word_means_full(second_word: bytes) -> None:
    preamble = bytes(range(1, 5)) + second_word + bytes(range(9, 65))
    client = Obfuscated(Intermediate("client"), random=lambda n: preamble[:n], dc_id=2)
    found = detect_codec(client.header(), random=seeded())
    assert found is not None
    assert type(found[0]) is Obfuscated
