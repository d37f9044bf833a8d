"""Fuzz the padded intermediate framing's decoder, either side, fed in chunks: it may only return
packets or raise FramingError."""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from _framing import fuzz_framing

    from sansio_mtdc.transport import PaddedIntermediate


def TestOneInput(data: bytes) -> None:
    fuzz_framing(data, lambda side: PaddedIntermediate(side, bytes, max_packet=4096))


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
