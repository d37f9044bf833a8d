"""Fuzz the padded intermediate framing's decoder, either side, fed in chunks: it may only return
packets or raise FramingError."""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from sansio_mtdc.errors import FramingError
    from sansio_mtdc.transport import PaddedIntermediate


def _padding(n: int) -> bytes:
    return bytes(n)


def TestOneInput(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    side = "client" if fdp.ConsumeBool() else "server"
    chunk = fdp.ConsumeIntInRange(1, 64)
    stream = fdp.ConsumeBytes(fdp.remaining_bytes())
    codec = PaddedIntermediate(side, _padding, max_packet=4096)
    try:
        for start in range(0, len(stream), chunk):
            codec.feed(stream[start : start + chunk])
    except FramingError:
        return
    assert codec.buffered <= len(stream)


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
