"""The unencrypted envelope."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sansio_mtdc.errors import TLDecodeError, UsageError
from sansio_mtdc.handshake import pack_plain, unpack_plain

from .peers import load_samples, sample_bytes


def test_sample_envelopes() -> None:
    samples = load_samples()
    for step in ("1_req_pq_multi", "2_resPQ", "5_req_DH_params", "6_server_DH_params_ok",
                 "7b_set_client_DH_params", "9_dh_gen_ok"):
        payload = sample_bytes(samples, step)
        msg_id, body = unpack_plain(payload)
        assert msg_id == int(samples["steps"][step]["message_id"])
        assert body.hex().upper() == samples["steps"][step]["body_hex"]
        assert pack_plain(msg_id, body) == payload


def test_layout() -> None:
    assert pack_plain(0x0102030405060708, b"abcd") == (
        bytes(8) + bytes.fromhex("0807060504030201") + b"\x04\x00\x00\x00" + b"abcd")


@pytest.mark.parametrize("trailing", range(16))
def test_padding_after_the_message_is_tolerated(trailing: int) -> None:
    payload = pack_plain(5, b"body" * 3) + b"\xaa" * trailing
    assert unpack_plain(payload) == (5, b"body" * 3)


def test_sixteen_trailing_bytes_are_too_many() -> None:
    with pytest.raises(TLDecodeError) as caught:
        unpack_plain(pack_plain(5, b"body") + bytes(16))
    assert caught.value.reason == "bad_length"


@pytest.mark.parametrize(("payload", "reason"), [
    (b"", "truncated"),
    (bytes(19), "truncated"),
    (struct.pack("<qqi", 1, 5, 4) + b"body", "encrypted"),
    (struct.pack("<qqi", -1, 5, 4) + b"body", "encrypted"),
    (struct.pack("<qqi", 0, 5, 0), "bad_length"),
    (struct.pack("<qqi", 0, 5, -4) + b"body", "bad_length"),
    (struct.pack("<qqi", 0, 5, 6) + b"body..", "bad_length"),
    (struct.pack("<qqi", 0, 5, 8) + b"body", "truncated"),
    (struct.pack("<qqi", 0, 5, 1 << 30) + b"body", "truncated"),
])
def test_bad_envelopes(payload: bytes, reason: str) -> None:
    with pytest.raises(TLDecodeError) as caught:
        unpack_plain(payload)
    assert caught.value.reason == reason


@pytest.mark.parametrize(("msg_id", "body"), [(0, b"body"), (1 << 63, b"body"), (5, b""),
                                              (5, b"abc")])
def test_pack_misuse(msg_id: int, body: bytes) -> None:
    with pytest.raises(UsageError):
        pack_plain(msg_id, body)


def test_unpack_takes_buffers_and_refuses_other_things() -> None:
    payload = pack_plain(9, b"body")
    assert unpack_plain(bytearray(payload)) == (9, b"body")
    assert unpack_plain(memoryview(payload)) == (9, b"body")
    with pytest.raises(UsageError):
        unpack_plain("text")  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_raise_only_tl_decode_error(data: bytes) -> None:
    try:
        _msg_id, body = unpack_plain(data)
    except TLDecodeError:
        return
    assert len(body) % 4 == 0 and 0 < len(body) <= len(data) - 20


@settings(max_examples=200, deadline=None)
@given(st.integers(-(1 << 63), (1 << 63) - 1).filter(bool),
       st.binary(min_size=1, max_size=40).map(lambda b: b + bytes(-len(b) & 3)),
       st.binary(max_size=15))
def test_round_trip(msg_id: int, body: bytes, trailing: bytes) -> None:
    assert unpack_plain(pack_plain(msg_id, body) + trailing) == (msg_id, body)
