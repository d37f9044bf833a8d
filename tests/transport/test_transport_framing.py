"""Exact bytes of each framing, its limits, its errors and the poisoned state."""

from __future__ import annotations

import struct
import zlib

import pytest

from sansio_mtdc.errors import FramingError, UsageError
from sansio_mtdc.transport import (
    Abridged,
    Full,
    Intermediate,
    PaddedIntermediate,
    QuickAck,
    QuickAckRequest,
    TransportErrorCode,
)

from .streams import FRAMINGS, framing, seeded

WORDS_126 = b"\x01\x02\x03\x04" * 126
WORDS_127 = b"\x05\x06\x07\x08" * 127


def full_packet(payload: bytes, seq: int, *, total: int | None = None,
                crc: int | None = None) -> bytes:
    head = struct.pack("<II", len(payload) + 12 if total is None else total, seq)
    if crc is None:
        crc = zlib.crc32(head + payload)
    return head + payload + struct.pack("<I", crc)


# -- headers ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "header"), [
    ("abridged", b"\xef"), ("intermediate", b"\xee" * 4), ("padded", b"\xdd" * 4), ("full", b""),
])
def test_client_header_and_none_on_the_server(name: str, header: bytes) -> None:
    assert framing(name, "client", seeded()).header() == header
    assert framing(name, "server", seeded()).header() == b""


# -- abridged -----------------------------------------------------------------------------------

def test_abridged_short_and_long_length_at_the_boundary() -> None:
    client = Abridged("client")
    assert client.encode(WORDS_126) == b"\x7e" + WORDS_126
    assert client.encode(WORDS_127) == b"\x7f\x7f\x00\x00" + WORDS_127
    big = b"\x00" * (0x123456 * 4)
    assert client.encode(big)[:4] == b"\x7f\x56\x34\x12"
    server = Abridged("server")
    assert server.feed(client.encode(WORDS_126) + client.encode(WORDS_127)) == [
        WORDS_126, WORDS_127]


def test_abridged_quick_ack_request_sets_the_top_bit() -> None:
    client = Abridged("client")
    assert client.encode(WORDS_126, quick_ack=True) == b"\xfe" + WORDS_126
    assert client.encode(WORDS_127, quick_ack=True) == b"\xff\x7f\x00\x00" + WORDS_127
    server = Abridged("server")
    assert server.feed(b"\xfe" + WORDS_126 + b"\xff\x7f\x00\x00" + WORDS_127) == [
        QuickAckRequest(WORDS_126), QuickAckRequest(WORDS_127)]


def test_abridged_accepts_a_long_form_for_a_short_length() -> None:
    assert Abridged("server").feed(b"\x7f\x01\x00\x00abcd") == [b"abcd"]


def test_abridged_quick_ack_answer_is_byte_swapped() -> None:
    server = Abridged("server")
    assert server.encode_quick_ack(0x01020304) == b"\x81\x02\x03\x04"
    assert server.encode_quick_ack(0x81020304) == b"\x81\x02\x03\x04"
    client = Abridged("client")
    assert client.feed(b"\x81\x02\x03\x04" + b"\x01abcd") == [QuickAck(0x01020304), b"abcd"]


# -- intermediate and padded --------------------------------------------------------------------

def test_intermediate_bytes_and_quick_ack() -> None:
    client = Intermediate("client")
    assert client.encode(b"abcdefgh") == b"\x08\x00\x00\x00abcdefgh"
    assert client.encode(b"abcdefgh", quick_ack=True) == b"\x08\x00\x00\x80abcdefgh"
    server = Intermediate("server")
    assert server.feed(b"\x08\x00\x00\x80abcdefgh\x04\x00\x00\x00wxyz") == [
        QuickAckRequest(b"abcdefgh"), b"wxyz"]
    assert server.encode_quick_ack(0x11223344) == b"\x44\x33\x22\x91"
    assert Intermediate("client").feed(b"\x44\x33\x22\x91") == [QuickAck(0x11223344)]


def test_padded_layout_padding_and_quick_ack() -> None:
    draws: list[int] = []

    def random(n: int) -> bytes:
        draws.append(n)
        return bytes([7]) + b"\xaa" * (n - 1)

    client = PaddedIntermediate("client", random)
    packet = client.encode(b"x" * 30, quick_ack=True)
    assert packet == struct.pack("<I", 37 | 0x80000000) + b"x" * 30 + b"\xaa" * 7
    assert PaddedIntermediate("server", seeded()).feed(packet) == [
        QuickAckRequest(b"x" * 30 + b"\xaa" * 7)]
    server = PaddedIntermediate("server", random)
    answer = server.encode_quick_ack(0x01020304)
    assert answer == struct.pack("<I", 15) + b"\xff" * 4 + b"\x04\x03\x02\x81" + b"\xaa" * 7
    assert client.feed(answer) == [QuickAck(0x01020304)]
    assert draws == [16, 9]


@pytest.mark.parametrize("pad", range(16))
def test_padded_accepts_every_padding_length_and_unaligned_payloads(pad: int) -> None:
    client = PaddedIntermediate("client", lambda n: bytes([pad]) + b"\x00" * (n - 1))
    packet = client.encode(b"y" * 33)
    assert len(packet) == 4 + 33 + pad
    assert PaddedIntermediate("server", seeded()).feed(packet) == [b"y" * 33 + b"\x00" * pad]


def test_padded_client_reads_short_packets() -> None:
    client = PaddedIntermediate("client", seeded())
    assert client.feed(b"\x04\x00\x00\x00" + struct.pack("<i", -404)) == [TransportErrorCode(-404)]
    with_padding = b"\x07\x00\x00\x00" + struct.pack("<i", -429) + b"abc"
    assert client.feed(with_padding) == [TransportErrorCode(-429)]
    assert client.feed(b"\x08\x00\x00\x00\xff\xff\xff\xff\x01\x00\x00\x80") == [QuickAck(1)]
    assert client.feed(b"\x05\x00\x00\x80") == [QuickAck(5)]  # bare token, as in intermediate
    assert client.feed(b"\x04\x00\x00\x00abcd") == [b"abcd"]
    assert client.feed(b"\x05\x00\x00\x00\xff\xff\xff\xffz") == [b"\xff\xff\xff\xffz"]


# -- full ---------------------------------------------------------------------------------------

def test_full_bytes_seqno_and_crc() -> None:
    client = Full("client")
    assert client.encode(b"abcd") == full_packet(b"abcd", 0)
    assert client.encode(b"efgh") == full_packet(b"efgh", 1)
    server = Full("server")
    assert server.feed(full_packet(b"abcd", 0) + full_packet(b"efgh", 1)) == [b"abcd", b"efgh"]
    assert server.encode_error(-404) == full_packet(struct.pack("<i", -404), 0)
    assert server.encode(b"ijkl") == full_packet(b"ijkl", 1)


def test_full_has_no_quick_ack() -> None:
    with pytest.raises(UsageError, match="no quick ack"):
        Full("client").encode(b"abcd", quick_ack=True)
    with pytest.raises(UsageError, match="no quick ack"):
        Full("server").encode_quick_ack(1)


def test_full_client_reads_bare_negative_words_as_error_codes() -> None:
    minus_429 = struct.pack("<i", -429)
    assert Full("client").feed(minus_429 * 3) == [TransportErrorCode(-429)] * 3
    with pytest.raises(FramingError) as caught:
        Full("server").feed(minus_429 * 3)
    assert caught.value.reason == "oversized"


# -- transport error codes ----------------------------------------------------------------------

@pytest.mark.parametrize("name", FRAMINGS)
@pytest.mark.parametrize("code", [-404, -429, -444])
def test_transport_error_codes(name: str, code: int) -> None:
    server = framing(name, "server", seeded())
    packet = server.encode_error(code)
    client = framing(name, "client", seeded())
    assert client.feed(packet) == [TransportErrorCode(code)]
    assert struct.pack("<i", code) in packet


@pytest.mark.parametrize("name", FRAMINGS)
def test_the_server_side_reads_a_negative_word_as_a_payload(name: str) -> None:
    packet = framing(name, "client", seeded()).encode(struct.pack("<i", -404))
    got = framing(name, "server", seeded()).feed(packet)
    assert type(got[0]) is bytes
    assert got[0][:4] == struct.pack("<i", -404)


# -- framing errors -----------------------------------------------------------------------------

BAD_STREAMS = [
    ("abridged", "server", b"\x00", "bad_length"),
    ("abridged", "server", b"\x80", "bad_length"),
    ("abridged", "server", b"\x7f\x00\x00\x00", "bad_length"),
    ("abridged", "client", b"\x00", "bad_length"),
    ("abridged", "server", b"\x7f\x01\x00\x40", "oversized"),
    ("intermediate", "server", b"\x00\x00\x00\x00", "bad_length"),
    ("intermediate", "server", b"\x06\x00\x00\x00", "bad_length"),
    ("intermediate", "server", b"\x06\x00\x00\x00abcdef", "bad_length"),
    ("intermediate", "client", b"\x0a\x00\x00\x00" + b"x" * 10, "bad_length"),
    ("intermediate", "client", b"\x05\x00\x00\x00", "bad_length"),
    ("intermediate", "server", b"\x04\x00\x00\x81", "oversized"),
    ("intermediate", "client", b"\x04\x00\x00\x01", "oversized"),
    ("padded", "server", b"\x00\x00\x00\x80", "bad_length"),
    ("padded", "server", b"\x01\x00\x00\x02", "oversized"),
    ("padded", "server", b"\x10\x00\x00\x01", "oversized"),
    ("full", "server", b"\x0c\x00\x00\x00\x00\x00\x00\x00", "bad_length"),
    ("full", "server", b"\x08\x00\x00\x00\x00\x00\x00\x00", "bad_length"),
    ("full", "server", b"\x00\x00\x00\x00", "bad_length"),
    ("full", "client", b"\x11\x00\x00\x00", "bad_length"),
    ("full", "server", full_packet(b"abcdef", 0), "bad_length"),
    ("full", "client", full_packet(b"abcdefghijklm", 0), "bad_length"),
    ("full", "client", b"\x10\x00\x00\x7f", "oversized"),
    ("full", "server", full_packet(b"abcd", 1), "bad_seqno"),
    ("full", "server", full_packet(b"abcd", 0, crc=0), "bad_crc"),
    ("full", "server", full_packet(b"abcd", 0) + full_packet(b"abcd", 0), "bad_seqno"),
]


@pytest.mark.parametrize(("name", "side", "stream", "reason"), BAD_STREAMS)
def test_every_framing_error_reason(name: str, side: str, stream: bytes, reason: str) -> None:
    codec = framing(name, side, seeded())
    with pytest.raises(FramingError) as caught:
        codec.feed(stream)
    assert caught.value.reason == reason


def test_bad_crc_anywhere_in_the_packet() -> None:
    good = full_packet(b"abcdefgh", 0)
    for i in range(8, len(good)):
        damaged = bytearray(good)
        damaged[i] ^= 0x10
        with pytest.raises(FramingError) as caught:
            Full("server").feed(bytes(damaged))
        assert caught.value.reason == "bad_crc"


@pytest.mark.parametrize(("name", "side", "stream", "reason"), BAD_STREAMS[::3])
def test_poisoned_after_a_framing_error(name: str, side: str, stream: bytes, reason: str) -> None:
    codec = framing(name, side, seeded())
    good = framing(name, "client" if side == "server" else "server", seeded()).encode(b"abcd")
    with pytest.raises(FramingError) as first:
        codec.feed(stream)
    for later in (b"", good, bytearray(good)):
        with pytest.raises(FramingError) as again:
            codec.feed(later)
        assert again.value is first.value
        assert again.value.reason == reason
    assert codec.buffered == 0
    assert "poisoned" in repr(codec)


@pytest.mark.parametrize("name", FRAMINGS)
def test_oversized_length_is_rejected_before_the_bytes_arrive(name: str) -> None:
    big = framing(name, "client", seeded()).encode(b"\x00" * 4096)
    server = framing(name, "server", seeded(), max_packet=1024)
    cut = 8 if name == "full" else 4
    with pytest.raises(FramingError) as caught:
        server.feed(big[:cut])
    assert caught.value.reason == "oversized"


@pytest.mark.parametrize("name", FRAMINGS)
def test_max_packet_is_inclusive(name: str) -> None:
    client = framing(name, "client", seeded(), max_packet=1024)
    server = framing(name, "server", seeded(), max_packet=1024)
    assert len(server.feed(client.encode(b"\x01" * 1024))[0]) >= 1024  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="above max_packet"):
        client.encode(b"\x01" * 1028)


def test_partial_header_waits_for_more() -> None:
    server = Full("server")
    packet = full_packet(b"abcd" * 10, 0)
    assert server.feed(packet[:3]) == []
    assert server.feed(packet[3:10]) == []
    assert server.buffered == 10
    assert server.feed(packet[10:]) == [b"abcd" * 10]
    assert server.buffered == 0


# -- local misuse -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", FRAMINGS)
def test_usage_errors(name: str) -> None:
    client = framing(name, "client", seeded())
    server = framing(name, "server", seeded())
    with pytest.raises(UsageError, match="empty"):
        client.encode(b"")
    with pytest.raises(UsageError, match="server side"):
        client.encode_error(-404)
    with pytest.raises(UsageError, match="server side"):
        client.encode_quick_ack(1)
    with pytest.raises(UsageError):
        server.encode(b"abcd", quick_ack=True)
    for code in (404, -1, 0, -(2**31) - 1, "x"):
        with pytest.raises(UsageError, match="negative int32"):
            server.encode_error(code)  # type: ignore[arg-type]
    if name != "full":
        for token in (-1, 2**32, 1.0):
            with pytest.raises(UsageError, match="uint32"):
                server.encode_quick_ack(token)  # type: ignore[arg-type]
    if name != "padded":
        with pytest.raises(UsageError, match="multiple of 4"):
            client.encode(b"abc")
    with pytest.raises(UsageError, match="side"):
        framing(name, "middle", seeded())
    for bad in (0, 3, -1, 2**40, 1.5, True):
        with pytest.raises(UsageError, match="max_packet"):
            framing(name, "client", seeded(), max_packet=bad)  # type: ignore[arg-type]


def test_padded_needs_a_random_source() -> None:
    with pytest.raises(UsageError, match="random"):
        PaddedIntermediate("client", None)  # type: ignore[arg-type]


def test_packet_records_are_frozen_values() -> None:
    assert TransportErrorCode(-404) == TransportErrorCode(-404)
    assert QuickAck(1) != QuickAck(2)
    with pytest.raises(AttributeError):
        QuickAck(1).token = 2  # type: ignore[misc]
    assert not hasattr(QuickAckRequest(b""), "__dict__")


@pytest.mark.parametrize("first", range(256))
def test_padded_quick_ack_answers_are_8_to_16_bytes(first: int) -> None:
    server = PaddedIntermediate("server", lambda n: bytes([first]) + b"\x00" * (n - 1))
    answer = server.encode_quick_ack(7)
    assert 8 <= struct.unpack("<I", answer[:4])[0] == len(answer) - 4 <= 16


def test_padded_allows_max_packet_plus_the_padding() -> None:
    client = PaddedIntermediate("client", lambda n: b"\x0f" * n, max_packet=1024)
    server = PaddedIntermediate("server", seeded(), max_packet=1024)
    assert len(server.feed(client.encode(b"\x01" * 1024))[0]) == 1024 + 15  # type: ignore[arg-type]
    with pytest.raises(FramingError) as caught:
        server.feed(struct.pack("<I", 1024 + 16))
    assert caught.value.reason == "oversized"
