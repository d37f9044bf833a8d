"""Every constructor and function of both schemas: values drawn from the schema encode and
decode back to an equal object, and re-encode to the same bytes; cut or damaged copies of those
bytes raise TLDecodeError or decode to something that re-encodes stably."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tl_strategies import SPECIAL, min_depth, object_of, round_trippable

from sansio_mtdc.errors import TLDecodeError
from sansio_mtdc.tl import TLObject, decode, registry

CHUNK = 100
RPC_RESULT = (0xF35C6D01).to_bytes(4, "little")
ALL = [(name, c) for name in registry.SCHEMA_NAMES for c in round_trippable(name)]
CHUNKS = [ALL[i:i + CHUNK] for i in range(0, len(ALL), CHUNK)]
SETTINGS = settings(max_examples=3, deadline=None, database=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


def test_every_combinator_is_covered() -> None:
    covered = {(name, c.name, c.is_function) for name, c in ALL}
    for name in registry.SCHEMA_NAMES:
        schema = registry.schema(name)
        left_out = {c.name for c in schema if (name, c.name, c.is_function) not in covered}
        shadowed = {c.name for c in schema if schema.by_id(c.id) is not c}
        assert left_out == (SPECIAL & {c.name for c in schema}) | shadowed, name
    assert len(ALL) > 2400


@pytest.mark.parametrize("chunk", CHUNKS, ids=[f"{c[0][1].name}.." for c in CHUNKS])
def test_round_trip(chunk: list) -> None:
    @SETTINGS
    @given(st.data())
    def check(data: st.DataObject) -> None:
        for schema_name, combinator in chunk:
            depth = max(2, min_depth(schema_name, combinator))
            obj = data.draw(object_of(schema_name, combinator, depth), label=combinator.name)
            encoded = bytes(obj)
            assert int.from_bytes(encoded[:4], "little") == combinator.id
            decoded = decode(encoded)
            assert decoded == obj
            assert type(decoded) is type(obj)
            assert bytes(decoded) == encoded
            _damaged_copies_only_raise_decode_errors(data, encoded)

    check()


def _damaged_copies_only_raise_decode_errors(data: st.DataObject, encoded: bytes) -> None:
    cut = data.draw(st.integers(0, len(encoded) - 1), label="cut")
    if encoded[:4] != RPC_RESULT or cut < 12:  # a result runs to the end: any cut decodes
        with pytest.raises(TLDecodeError):
            decode(encoded[:cut])
    flipped = bytearray(encoded)
    for _ in range(2):
        pos = data.draw(st.integers(0, len(encoded) - 1), label="pos")
        flipped[pos] ^= data.draw(st.integers(1, 255), label="xor")
    try:
        value = decode(bytes(flipped))
    except TLDecodeError:
        return
    if isinstance(value, TLObject):
        again = bytes(value)
        assert bytes(decode(again)) == again
