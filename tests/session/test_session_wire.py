"""The hand-written encodings: round trips, agreement with the TL classes, and bad bytes giving
only the documented errors."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sansio_mtdc.errors import RPCError, SecurityError, TLDecodeError, UsageError
from sansio_mtdc.session import wire
from sansio_mtdc.tl import decode, mtproto

longs = st.integers(-(1 << 63), (1 << 63) - 1)
ints = st.integers(-(1 << 31), (1 << 31) - 1)
bodies = st.binary(min_size=1, max_size=64).map(lambda b: b + bytes(-len(b) % 4))


@settings(max_examples=50, deadline=None)
@given(longs, longs, longs, ints, bodies, st.integers(12, 1024))
def test_envelope_round_trip(salt: int, session_id: int, msg_id: int, seqno: int,
                             body: bytes, padding: int) -> None:
    plain = wire.pack_envelope(salt, session_id, msg_id, seqno, body)
    env = wire.unpack_envelope(plain + bytes(padding))
    assert env == (salt, session_id, msg_id, seqno, body)


@pytest.mark.parametrize(("length", "padding", "check"), [
    (-4, 16, "length"), (6, 16, "length"), (64, 16, "length"),
    (8, 8, "padding"), (8, 1028, "padding"), (8, 11, "padding"),
])
def test_envelope_length_and_padding_checks(length: int, padding: int, check: str) -> None:
    plain = struct.pack("<qqqii", 1, 2, 5, 1, length) + bytes(8) + bytes(padding)
    with pytest.raises(SecurityError) as info:
        wire.unpack_envelope(plain)
    assert info.value.check == check


def test_envelope_bounds_are_inclusive() -> None:
    for padding in (12, 1024):
        plain = struct.pack("<qqqii", 1, 2, 5, 1, 4) + b"abcd" + bytes(padding)
        assert wire.unpack_envelope(plain).body == b"abcd"


def test_pack_envelope_refuses_out_of_range_values() -> None:
    with pytest.raises(UsageError):
        wire.pack_envelope(1 << 63, 0, 0, 0, b"")


messages = st.lists(st.tuples(longs, ints, bodies), max_size=20)


@settings(max_examples=50, deadline=None)
@given(messages)
def test_container_round_trip_and_tl_agreement(items: list[tuple[int, int, bytes]]) -> None:
    body = wire.pack_container(items)
    assert [tuple(m) for m in wire.unpack_container(body)] == items
    # the same bytes as the TL class builds (bodies given as raw bytes)
    message = mtproto.types.Message
    tl = mtproto.types.MsgContainer(messages=[
        message(msg_id=m, seqno=s, body=b) for m, s, b in items])
    assert bytes(tl) == body


def test_container_limits_and_shapes() -> None:
    one = (5, 1, b"\x01\x02\x03\x04")
    with pytest.raises(TLDecodeError) as info:
        wire.unpack_container(wire.pack_container([one] * 3), max_messages=2)
    assert info.value.reason == "container_count"
    nested = wire.pack_container([(5, 0, wire.pack_container([one]))])
    with pytest.raises(TLDecodeError) as info:
        wire.unpack_container(nested)
    assert info.value.reason == "nested_container"
    with pytest.raises(TLDecodeError) as info:
        wire.unpack_container(wire.pack_container([one]) + b"\0\0\0\0")
    assert info.value.reason == "trailing_bytes"
    bad_length = struct.pack("<IIqii", wire.MSG_CONTAINER, 1, 5, 1, 3) + b"abc\0"
    with pytest.raises(TLDecodeError) as info:
        wire.unpack_container(bad_length)
    assert info.value.reason == "bad_length"
    huge_count = struct.pack("<II", wire.MSG_CONTAINER, 1000)
    with pytest.raises(TLDecodeError):
        wire.unpack_container(huge_count)
    assert wire.unpack_container(wire.pack_container([])) == []


def test_container_truncated_at_every_byte() -> None:
    body = wire.pack_container([(5, 1, b"abcdefgh"), (9, 2, b"ijkl")])
    for cut in range(len(body)):
        with pytest.raises(TLDecodeError):
            wire.unpack_container(body[:cut])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_decoders_raise_only_their_errors(data: bytes) -> None:
    container = struct.pack("<I", wire.MSG_CONTAINER) + data
    for decoder in (wire.unpack_container, wire.unpack_id_vector, wire.unpack_rpc_result,
                    wire.unpack_rpc_error, lambda d: wire.unpack_gzip_packed(d, 1 << 16)):
        for sample in (data, container):
            try:
                decoder(sample)
            except TLDecodeError:
                pass
    try:
        wire.unpack_envelope(data)
    except SecurityError:
        pass


@settings(max_examples=50, deadline=None)
@given(st.lists(longs, max_size=50))
def test_id_vectors_match_tl(ids: list[int]) -> None:
    for number, cls in ((wire.MSGS_ACK, mtproto.types.MsgsAck),
                        (wire.MSGS_STATE_REQ, mtproto.types.MsgsStateReq),
                        (wire.MSG_RESEND_REQ, mtproto.types.MsgResendReq)):
        body = wire.pack_id_vector(number, ids)
        assert body == bytes(cls(msg_ids=ids))
        assert wire.unpack_id_vector(body) == (ids, len(body))


def test_id_vector_limit() -> None:
    with pytest.raises(UsageError):
        wire.pack_id_vector(wire.MSGS_ACK, [1] * 8193)
    assert len(wire.pack_id_vector(wire.MSGS_ACK, [1] * 8192)) == 12 + 8192 * 8


@settings(max_examples=50, deadline=None)
@given(ints, st.text(max_size=300))
def test_rpc_error_round_trip(code: int, message: str) -> None:
    data = wire.pack_rpc_error(code, message)
    assert data == bytes(mtproto.types.RpcError(error_code=code, error_message=message))
    assert wire.unpack_rpc_error(data) == RPCError(code, message)


def test_rpc_error_fields() -> None:
    error = wire.unpack_rpc_error(wire.pack_rpc_error(303, "FILE_MIGRATE_4"))
    assert (error.code, error.name, error.value) == (303, "FILE_MIGRATE_X", 4)
    with pytest.raises(TLDecodeError):
        wire.unpack_rpc_error(wire.pack_rpc_error(400, "X") + b"\0\0\0\0")


def test_rpc_result_round_trip() -> None:
    inner = bytes(mtproto.types.Pong(msg_id=1, ping_id=2))
    body = wire.pack_rpc_result(-77, inner)
    assert wire.unpack_rpc_result(body) == (-77, inner)
    value = decode(body)
    assert value.req_msg_id == -77 and value.result == mtproto.types.Pong(msg_id=1, ping_id=2)


def test_gzip_packed_round_trip_is_deterministic() -> None:
    data = b"hello " * 500
    packed = wire.gzip_packed(data)
    assert packed == wire.gzip_packed(data)
    assert len(packed) < len(data)
    assert wire.unpack_gzip_packed(packed, 1 << 20) == data
    assert decode(wire.gzip_packed(bytes(mtproto.types.Pong(msg_id=1, ping_id=2)))) == (
        mtproto.types.Pong(msg_id=1, ping_id=2))
    with pytest.raises(TLDecodeError) as info:
        wire.unpack_gzip_packed(packed, 100)
    assert info.value.reason == "gzip"


def test_query_header_length() -> None:
    query = struct.pack("<I", 0xC4F9186B)  # help.getConfig
    after = struct.pack("<Iq", wire.INVOKE_AFTER_MSG, 44)
    afters = struct.pack("<IIIqq", wire.INVOKE_AFTER_MSGS, 0x1CB5C415, 2, 4, 8)
    assert wire.query_header_length(query) == 0
    assert wire.query_header_length(after + query) == 12
    assert wire.query_header_length(after + afters + query) == 12 + 28
    assert wire.query_header_length(after[:6]) == 6


def test_trim_transport_padding() -> None:
    packet = bytes(24 + 32)
    for extra in range(16):
        assert wire.trim_transport_padding(packet + bytes(extra)) == packet
    assert wire.trim_transport_padding(b"short") == b"short"
