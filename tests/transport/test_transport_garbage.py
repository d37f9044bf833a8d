"""Whatever bytes a peer sends, a decoder returns packets or raises FramingError, nothing else."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sansio_mtdc.errors import FramingError
from sansio_mtdc.transport import detect_codec

from .streams import FRAMINGS, framing, seeded, split

SETTINGS = settings(max_examples=150, deadline=None)
garbage = st.one_of(
    st.binary(max_size=300),
    # plausible starts: small lengths, then anything
    st.tuples(st.sampled_from([b"\x01", b"\x7f\x02\x00\x00", b"\x08\x00\x00\x00",
                               b"\x10\x00\x00\x00\x00\x00\x00\x00", b"\x81\x00\x00\x00",
                               b"\x08\x00\x00\x00\xff\xff\xff\xff"]),
              st.binary(max_size=64)).map(lambda t: t[0] + t[1]),
)


@pytest.mark.parametrize("side", ["client", "server"])
@pytest.mark.parametrize("name", FRAMINGS)
@SETTINGS
@given(data=garbage, cuts=st.lists(st.integers(0, 300), max_size=8))
def test_framings_raise_only_framing_errors(name: str, side: str, data: bytes,
                                            cuts: list[int]) -> None:
    codec = framing(name, side, seeded(), max_packet=256)
    try:
        for chunk in split(data, cuts):
            for packet in codec.feed(chunk):
                assert packet is not None
    except FramingError as exc:
        assert exc.reason in {"oversized", "bad_length", "bad_crc", "bad_seqno"}
    assert codec.buffered <= len(data)


@SETTINGS
@given(data=st.binary(min_size=0, max_size=200),
       secrets=st.sampled_from([(), (b"",), (b"\x01" * 16,), (b"\xdd" + b"\x02" * 16, b"")]))
def test_detection_and_obfuscated_decoding_raise_only_framing_errors(
        data: bytes, secrets: tuple[bytes, ...]) -> None:
    try:
        found = detect_codec(data, secrets=secrets, random=seeded(), max_packet=256)
        if found is not None:
            codec, used = found
            codec.feed(data[used:])
    except FramingError:
        pass
