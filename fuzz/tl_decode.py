"""Fuzz the TL decoder: arbitrary bytes may only raise TLDecodeError, and whatever decodes must
re-encode to bytes that decode to an equal value (and re-encode to the same bytes)."""

from __future__ import annotations

import math
import sys

import atheris

with atheris.instrument_imports():
    from sansio_mtdc.errors import TLDecodeError
    from sansio_mtdc.tl import TLObject, decode, read_object
    from sansio_mtdc.tl.codec import GZIP_PACKED_ID, VECTOR_ID

# Constructor numbers worth starting from: containers, results, vectors, gzip, common API types.
_SEEDS = (0x73F1F8DC, 0xF35C6D01, VECTOR_ID, GZIP_PACKED_ID, 0xCC1A241E, 0x18B7A10D,
          0x096A18D5, 0x05162463, 0x78D4DEC1, 0xDA9B0D0D, 0xC1CD5EA9, 0x2144CA19)


def _has_nan(value: object) -> bool:
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, TLObject):
        return any(_has_nan(getattr(value, a)) for a in value._TL_ATTRS)
    if isinstance(value, list):
        return any(_has_nan(v) for v in value)
    return False


def TestOneInput(data: bytes) -> None:
    if data and data[0] < len(_SEEDS):
        # half the time, put a known constructor number in front to get deeper quickly
        data = _SEEDS[data[0]].to_bytes(4, "little") + data[1:]
    try:
        value = decode(data)
    except TLDecodeError:
        try:
            read_object(data, 0)
        except TLDecodeError:
            pass
        return
    again = bytes(value) if isinstance(value, TLObject) else None
    if again is None:
        return  # a bool or a list: no object of ours to re-encode
    second = decode(again)
    if not _has_nan(value):
        assert second == value, (value, second)
    assert bytes(second) == again


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
