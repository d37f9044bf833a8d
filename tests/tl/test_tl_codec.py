"""The primitives of sansio_mtdc.tl.codec."""

from __future__ import annotations

import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sansio_mtdc.errors import TLDecodeError, UsageError
from sansio_mtdc.tl import codec
from sansio_mtdc.tl.codec import (
    pack_bool,
    pack_bytes,
    pack_double,
    pack_gzip,
    pack_int,
    pack_int128,
    pack_int256,
    pack_long,
    pack_string,
    pack_uint,
    pack_vector_header,
    read_bool,
    read_bytes,
    read_double,
    read_int,
    read_int128,
    read_int256,
    read_long,
    read_string,
    read_uint,
)

FAST = settings(max_examples=60, deadline=None)


def test_fixed_size_values() -> None:
    assert pack_int(-2) == b"\xfe\xff\xff\xff"
    assert pack_uint(0x1CB5C415) == b"\x15\xc4\xb5\x1c"
    assert pack_long(-1) == b"\xff" * 8
    assert pack_double(1.5) == struct.pack("<d", 1.5)
    assert pack_int128(bytes(range(16))) == bytes(range(16))
    assert pack_int256(bytes(range(32))) == bytes(range(32))
    assert pack_bool(True) == b"\xb5\x75\x72\x99" and pack_bool(False) == b"\x37\x97\x79\xbc"
    assert pack_vector_header(3) == b"\x15\xc4\xb5\x1c\x03\x00\x00\x00"


@pytest.mark.parametrize(("call", "value"), [
    (pack_int, 1 << 31), (pack_int, -(1 << 31) - 1), (pack_int, 1.0), (pack_int, "1"),
    (pack_uint, -1), (pack_uint, 1 << 32), (pack_long, 1 << 63), (pack_long, None),
    (pack_double, "x"), (pack_double, 10 ** 400), (pack_double, True),
    (pack_int128, bytes(15)), (pack_int128, 5), (pack_int256, bytes(31)),
    (pack_bool, 1), (pack_bool, None), (pack_bytes, "text"), (pack_string, b"bytes"),
    (pack_string, "\ud800"), (pack_vector_header, -1), (pack_gzip, "text"),
], ids=lambda v: getattr(v, "__name__", type(v).__name__))
def test_values_without_an_encoding_are_usage_errors(call: object, value: object) -> None:
    with pytest.raises(UsageError):
        call(value)  # type: ignore[operator]


@pytest.mark.parametrize(("length", "prefix", "total"), [
    (0, b"\x00", 4), (1, b"\x01", 4), (3, b"\x03", 4), (4, b"\x04", 8), (253, b"\xfd", 256),
    (254, b"\xfe\xfe\x00\x00", 260), (255, b"\xfe\xff\x00\x00", 260),
    (1000, b"\xfe\xe8\x03\x00", 1004), (1001, b"\xfe\xe9\x03\x00", 1008),
])
def test_bytes_length_prefix_and_padding(length: int, prefix: bytes, total: int) -> None:
    data = bytes(range(256)) * 4
    packed = pack_bytes(data[:length])
    assert packed.startswith(prefix) and len(packed) == total
    assert packed[len(prefix):len(prefix) + length] == data[:length]
    assert packed[len(prefix) + length:] == bytes(total - len(prefix) - length)
    assert read_bytes(packed, 0) == (data[:length], total)


def test_longest_bytes_value() -> None:
    assert codec.MAX_BYTES_LENGTH == (1 << 24) - 1
    with pytest.raises(UsageError):
        pack_bytes(bytes(1 << 24))


@FAST
@given(st.binary(max_size=600))
def test_bytes_round_trip_and_match_telethon(data: bytes) -> None:
    from telethon.tl.tlobject import TLObject as TelethonObject

    packed = pack_bytes(data)
    assert packed == TelethonObject.serialize_bytes(data)
    assert read_bytes(b"xx" + packed, 2) == (data, 2 + len(packed))


@FAST
@given(st.binary(max_size=40))
def test_strings_keep_any_bytes_through_surrogateescape(raw: bytes) -> None:
    text, end = read_string(pack_bytes(raw), 0)
    assert pack_string(text) == pack_bytes(raw)
    assert end == len(pack_bytes(raw))


@FAST
@given(st.text(max_size=40))
def test_text_round_trip(text: str) -> None:
    assert read_string(pack_string(text), 0)[0] == text
    assert pack_string(text) == pack_bytes(text.encode())


@FAST
@given(st.integers(-(1 << 31), (1 << 31) - 1), st.integers(-(1 << 63), (1 << 63) - 1),
       st.integers(0, (1 << 32) - 1), st.floats(allow_nan=False), st.booleans(),
       st.binary(min_size=16, max_size=16), st.binary(min_size=32, max_size=32))
def test_fixed_round_trip(i: int, q: int, u: int, d: float, b: bool, x: bytes, y: bytes) -> None:
    data = (pack_int(i) + pack_long(q) + pack_uint(u) + pack_double(d) + pack_bool(b)
            + pack_int128(x) + pack_int256(y))
    pos = 0
    for reader, expected in ((read_int, i), (read_long, q), (read_uint, u), (read_double, d),
                             (read_bool, b), (read_int128, x), (read_int256, y)):
        value, pos = reader(data, pos)
        assert value == expected
    assert pos == len(data)


@pytest.mark.parametrize("reader", [read_int, read_uint, read_long, read_double, read_bool,
                                    read_int128, read_int256, read_bytes, read_string])
def test_reads_past_the_end_are_truncated(reader: object) -> None:
    data = pack_bytes(b"0123456789" * 4)  # 44 bytes
    for cut in range(len(data)):
        for pos in (0, cut):
            try:
                reader(data[:cut], pos)  # type: ignore[operator]
            except TLDecodeError as exc:
                assert exc.reason in ("truncated", "bad_bool")
    with pytest.raises(UsageError):
        reader(data, -1)  # type: ignore[operator]


def test_reads_accept_bytearray_and_memoryview() -> None:
    data = pack_int(7) + pack_bytes(b"abc")
    for view in (bytearray(data), memoryview(data)):
        assert read_int(view, 0) == (7, 4)
        assert read_bytes(view, 4) == (b"abc", 8)


def test_bad_bool_and_bad_length_prefix() -> None:
    with pytest.raises(TLDecodeError) as bad:
        read_bool(pack_uint(0x12345678), 0)
    assert bad.value.reason == "bad_bool"
    with pytest.raises(TLDecodeError) as ff:
        read_bytes(b"\xff" + bytes(7), 0)
    assert ff.value.reason == "bad_length"
    with pytest.raises(TLDecodeError) as short:
        read_bytes(b"\x05abc", 0)
    assert short.value.reason == "truncated"


def test_gzip_is_deterministic_and_inflates_back() -> None:
    payload = bytes(range(256)) * 10
    packed = pack_gzip(payload)
    assert packed == pack_gzip(payload)
    assert packed[:4] == struct.pack("<I", codec.GZIP_PACKED_ID)
    inner, end = read_bytes(packed, 4)
    assert end == len(packed) and inner[:2] == b"\x1f\x8b"  # a gzip stream
    assert codec.inflate(inner) == payload


def test_inflate_rejects_bombs_garbage_and_cut_streams() -> None:
    bomb = zlib.compress(bytes(codec.GZIP_MAX_SIZE + 1), 9)
    assert len(bomb) < 64 * 1024
    for bad in (bomb, b"not gzip at all", zlib.compress(b"x" * 100)[:-3],
                zlib.compress(b"x") + b"junk"):
        with pytest.raises(TLDecodeError) as exc:
            codec.inflate(bad)
        assert exc.value.reason == "gzip"
    assert codec.inflate(zlib.compress(b"zlib streams are accepted too")) == (
        b"zlib streams are accepted too")
    with pytest.raises(TLDecodeError):
        codec.inflate(zlib.compress(bytes(1001)), limit=1000)
