"""Each framing decodes ordinary packets in an inlined loop and hands anything unusual to its
complete one-packet decoder.  Both must agree on every stream: packets, errors and leftovers."""

from __future__ import annotations

import random as stdlib_random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sansio_mtdc.errors import FramingError
from sansio_mtdc.transport import Abridged, FramingCodec, Full, Intermediate, PaddedIntermediate

from .streams import seeded, split

TYPES = {"abridged": Abridged, "intermediate": Intermediate, "padded": PaddedIntermediate,
         "full": Full}


def make(name: str, side: str, reference: bool) -> FramingCodec:
    base = TYPES[name]
    cls = type(f"Reference{base.__name__}", (base,), {"_decode": FramingCodec._decode}) \
        if reference else base
    if base is PaddedIntermediate:
        return cls(side, seeded(), max_packet=2048)  # type: ignore[call-arg, no-any-return]
    return cls(side, max_packet=2048)  # type: ignore[call-arg, no-any-return]


def outcome(codec: FramingCodec, chunks: list[bytes]) -> tuple[list[object], str | None, int]:
    got: list[object] = []
    try:
        for chunk in chunks:
            got += codec.feed(chunk)
    except FramingError as exc:
        return got, exc.reason, -1
    return got, None, codec.buffered


def stream_for(name: str, side: str, recipe: list[tuple[int, int]], seed: int) -> bytes:
    """Well-formed packets from the other side, with some bytes damaged by the recipe."""
    rng = stdlib_random.Random(seed)
    peer = make(name, "server" if side == "client" else "client", False)
    parts = []
    for kind, size in recipe:
        if kind == 0:
            parts.append(peer.encode(rng.randbytes(4 * size)))
        elif kind == 1 and side == "client":
            parts.append(peer.encode_error(-rng.choice([404, 429, 444])))
        elif kind == 2 and side == "client" and name != "full":
            parts.append(peer.encode_quick_ack(rng.getrandbits(32)))
        elif kind == 3 and side == "server" and name != "full":
            parts.append(peer.encode(rng.randbytes(4 * size), quick_ack=True))
        else:
            parts.append(rng.randbytes(size % 9))
    stream = bytearray(b"".join(parts))
    if stream and rng.random() < 0.3:
        stream[rng.randrange(len(stream))] ^= 1 << rng.randrange(8)
    return bytes(stream)


@pytest.mark.parametrize("side", ["client", "server"])
@pytest.mark.parametrize("name", list(TYPES))
@settings(max_examples=120, deadline=None)
@given(recipe=st.lists(st.tuples(st.integers(0, 4), st.integers(1, 300)), max_size=10),
       seed=st.integers(0, 2**32), cuts=st.lists(st.integers(0, 5000), max_size=12))
def test_fast_loop_agrees_with_the_reference_decoder(
        name: str, side: str, recipe: list[tuple[int, int]], seed: int, cuts: list[int]) -> None:
    stream = stream_for(name, side, recipe, seed)
    chunks = list(split(stream, cuts))
    fast = outcome(make(name, side, False), chunks)
    reference = outcome(make(name, side, True), chunks)
    assert fast == reference
